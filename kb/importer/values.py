"""Numbers with units in a statement (quantities, ranges, percentages, counts, intervals)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .vocabularies import compiled, rules


@dataclass
class Value:
    start: int
    end: int
    record: dict[str, Any]

    @property
    def unit_class(self) -> str:
        units = rules()["units"]
        unit = self.record["unit"]
        if unit == "%":
            return "percentage"
        for cls in ("dose", "time"):
            if unit.lower() in {u.lower() for u in units[cls]}:
                return cls
        return "count"


def _number(text: str) -> float | int:
    x = float(text.replace(",", ""))
    return int(x) if x.is_integer() and "." not in text else x


def _interval(n: str | None, unit: str) -> dict[str, Any]:
    words = rules()["number_words"]
    value = 1 if not n else (words[n.lower()] if n.lower() in words else _number(n))
    return {"value": value, "unit": unit.lower()}


def extract_values(text: str) -> list[Value]:
    """Every number with a unit in ``text``, as structured values (data-model ``value``).

    Quantities ("4.5 mg", "123 days"), percentages ("32%"), ranges ("3-5 mg", "3 to 5 mg"),
    counts ("7 RCTs"); with ``qualifier`` (about, at least …), ``per`` (daily, nightly) and
    ``interval`` ("every 2 weeks") where stated, and ``as_stated`` always.
    """
    c = compiled()
    out = []
    for m in c["value"].finditer(text):
        unit = m["unit"]
        time_units = {u.lower() for u in rules()["units"]["time"]}
        if unit.lower() in time_units:
            unit = unit.lower() if unit.lower().endswith("s") else unit.lower() + "s"
        elif unit.lower() in ("mg", "g"):
            unit = unit.lower()
        elif unit.lower() in ("ug", "mcg"):
            unit = "µg"
        rec: dict[str, Any]
        if m["hi"] is not None:
            rec = {"type": "range", "low": _number(m["lo"]), "high": _number(m["hi"]), "unit": unit}
        elif unit == "%":
            rec = {"type": "percentage", "value": _number(m["lo"]), "unit": "%"}
        elif unit in rules()["units"]["count"] and unit != "points":
            rec = {"type": "count", "value": _number(m["lo"]), "unit": unit}
        else:
            rec = {"type": "quantity", "value": _number(m["lo"]), "unit": unit}
        for i, q in enumerate(c["qualifiers"]):
            if m[f"q{i}"]:
                rec["qualifier"] = q
        for i, p in enumerate(c["per"]):
            if m[f"p{i}"]:
                rec["per"] = p
        if m["ivu"]:
            rec["interval"] = _interval(m["ivn"], m["ivu"])
        rec["as_stated"] = m.group().strip()
        out.append(Value(m.start(), m.end(), rec))
    return out


_FIRST_DOSE = ("starting-dose", "typical-dose", "effective-dose")
_DURATIONS = ("time-to-response", "treatment-duration", "stopping-rule")


def headline(values: list[Value], outcome: str, text: str) -> dict[str, Any] | None:
    """The claim's headline value among those found, chosen by what the claim is about."""
    if not values:
        return None
    pick = _pick(values, outcome, text)
    if pick is not None and outcome != "titration-schedule":
        pick = _with_schedule_word(pick, text)
    return dict((pick or values[0]).record)


def _pick(values: list[Value], outcome: str, text: str) -> Value | None:
    doses = [v for v in values if v.unit_class == "dose"]
    if outcome == "titration-schedule":
        return _titration_step(doses, text) if doses else None
    if outcome == "maximum-dose":
        return _maximum(doses, text) if doses else None
    if outcome == "dose-range":
        return next((v for v in doses if v.record["type"] == "range"), None)
    if outcome in _FIRST_DOSE:
        return doses[0] if doses else None
    if outcome.endswith("-rate") or outcome == "prescription-fill":
        return next((v for v in values if v.unit_class == "percentage"), None)
    if outcome in _DURATIONS:
        return next((v for v in values if v.unit_class == "time"), None)
    return None


def _titration_step(doses: list[Value], text: str) -> Value:
    pick = next((v for v in doses if "interval" in v.record), doses[0])
    if "interval" in pick.record:
        return pick
    iv = compiled()["interval"].search(text)  # "… 0.5 mg at 2-week intervals"
    if not iv:
        return pick
    interval = _interval(iv["ivn"] or iv["ivn2"], iv["ivu"] or iv["ivu2"])
    return Value(pick.start, pick.end, {**pick.record, "interval": interval})


def _maximum(doses: list[Value], text: str) -> Value:
    cue = re.search(r"maxim|\bmax\b|ceiling|up to|exceed|target", text, re.I)
    after = [v for v in doses if cue and v.start >= cue.start()]
    if after:
        return after[0]
    return max(doses, key=lambda v: v.record.get("high", v.record.get("value", 0)))


def _with_schedule_word(pick: Value, text: str) -> Value:
    """A dose without a schedule takes one named anywhere in the statement: in "Begin at
    1.5 mg taken at bedtime" the schedule word need not follow the unit."""
    if pick.unit_class != "dose" or {"per", "interval"} & pick.record.keys():
        return pick
    for name, pattern in rules()["per"].items():
        if re.search(pattern.replace("\\s*", "", 1), text, re.I):
            return Value(pick.start, pick.end, {**pick.record, "per": name})
    return pick
