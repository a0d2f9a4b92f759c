"""Claims: one clinical statement each, with its kind, scope, value and citations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NotRequired, TypedDict

KINDS: tuple[str, ...] = (
    "dose",
    "titration",
    "response_rate",
    "efficacy",
    "adverse_effect",
    "timeline",
    "discontinuation",
    "adherence",
    "mechanism",
    "treatment_line",
    "regulatory",
    "cost_access",
    "evidence_quality",
    "patient_selection",
    "contraindication",
    "precaution",
)
DIRECTIONS: tuple[str, ...] = ("benefit", "no-benefit", "mixed", "neutral")
# Statement role (GRADE-NOTES.md): what a claim is in its source. Only findings and conclusions
# are evidence about an effect; background and recommendations are opinion; study conduct is
# context and never evidence.
ROLES: tuple[str, ...] = ("finding", "conclusion", "background", "recommendation", "study-conduct")
# A comparative result as the source states it (``comparisons`` of a claim): what the claim's
# intervention was compared with, and whether the outcome was more, similarly or less frequent.
COMPARATORS: tuple[str, ...] = ("placebo", "active", "non-users")
COMPARISON_RESULTS: tuple[str, ...] = ("more", "similar", "fewer")
VERDICTS: tuple[str, ...] = (
    "supported",
    "supported_with_nuance",
    "not_supported_as_worded",
    "not_stated",
    "not_assessed",
)
VERDICT_LABELS: dict[str, str] = dict(
    zip(
        VERDICTS,
        (
            "supported",
            "supported, with nuance",
            "not supported as worded",
            "not stated in the primary source",
            "not assessed",
        ),
        strict=True,
    )
)


def _num(x: float) -> str:
    return f"{x:g}"


def format_value(value: dict[str, Any] | None) -> str | None:
    """Human-readable form of a structured value: "4.5 mg", "3–5 mg", "64%", "6/10 patients"."""
    if not value:
        return None
    q = value.get("qualifier", "")
    q = f"{q} " if q in ("<", ">", "<=", ">=") else ("about " if q == "~" else "")
    unit = value.get("unit", "")
    t = value["type"]
    if t == "range":
        body = f"{_num(value['low'])}–{_num(value['high'])}"
    elif t == "ratio":
        body = f"{_num(value['numerator'])}/{_num(value['denominator'])}"
    else:
        body = _num(value["value"])
    text = f"{q}{body}{unit}" if unit == "%" else f"{q}{body} {unit}"
    if value.get("per"):
        text += f"/{value['per']}"
    if value.get("interval"):
        iv = value["interval"]
        iv_unit = iv["unit"] if iv["value"] == 1 or iv["unit"].endswith("s") else iv["unit"] + "s"
        text += f" every {_num(iv['value'])} {iv_unit}"
    return text


class ClaimRecord(TypedDict):
    """One record of ``claims.json`` as stored (``kb/schemas/claims.schema.json``)."""

    id: str
    origin: str
    kind: str
    text: str
    plain_text: NotRequired[str | None]
    intervention: str
    conditions: list[str]
    outcome: str
    value: dict[str, Any] | None
    reported_numbers: dict[str, Any]
    direction: str
    citations: list[dict[str, Any]]
    reported_in: str
    seen_at: str
    recommendation: dict[str, Any] | None
    primary: dict[str, Any] | None
    role: str
    comparisons: NotRequired[list[dict[str, str]]]


@dataclass(frozen=True, eq=False)
class Claim:
    """A claim wraps its stored record unchanged, so saving reproduces the file byte for byte."""

    record: ClaimRecord

    @property
    def id(self) -> str:
        return self.record["id"]

    @property
    def origin(self) -> str:
        return self.record["origin"]

    @property
    def kind(self) -> str:
        return self.record["kind"]

    @property
    def text(self) -> str:
        return self.record["text"]

    @property
    def plain_text(self) -> str | None:
        return self.record.get("plain_text")

    @property
    def intervention(self) -> str:
        return self.record["intervention"]

    @property
    def conditions(self) -> list[str]:
        return self.record["conditions"]

    @property
    def outcome(self) -> str:
        return self.record["outcome"]

    @property
    def value(self) -> dict[str, Any] | None:
        return self.record["value"]

    @property
    def direction(self) -> str:
        return self.record["direction"]

    @property
    def citations(self) -> list[dict[str, Any]]:
        return self.record["citations"]

    @property
    def cited_refs(self) -> list[str]:
        return [c["ref"] for c in self.citations if c.get("ref")]

    @property
    def reported_in(self) -> str:
        return self.record["reported_in"]

    @property
    def recommendation(self) -> dict[str, Any] | None:
        return self.record["recommendation"]

    @property
    def role(self) -> str | None:
        """The statement role (one of :data:`ROLES`), or None where the data does not say."""
        return self.record.get("role")

    @property
    def comparisons(self) -> list[dict[str, str]]:
        """Comparative results as stated (``{"versus", "result"}``), empty where none is."""
        return list(self.record.get("comparisons") or [])

    @property
    def primary(self) -> dict[str, Any] | None:
        return self.record["primary"]

    @property
    def value_text(self) -> str | None:
        return format_value(self.value)

    def percentage(self) -> float | None:
        """The value as a percentage, where it is one (a ratio counts: 6/10 is 60%)."""
        v = self.value
        if not v:
            return None
        if v["type"] == "percentage":
            return float(v["value"])
        if v["type"] == "ratio" and v["denominator"]:
            return 100.0 * float(v["numerator"]) / float(v["denominator"])
        return None

    def dose_bounds_mg(self) -> tuple[float, float] | None:
        """(low, high) in mg for a dose-like value, else None. µg are converted."""
        v = self.value
        if not v:
            return None
        unit = v.get("unit", "").lower().replace("µ", "u")
        scale = {"mg": 1.0, "ug": 0.001, "mcg": 0.001}.get(unit.split("/")[0].strip())
        if scale is None:
            return None
        if v["type"] == "range":
            return v["low"] * scale, v["high"] * scale
        if v["type"] == "quantity":
            return v["value"] * scale, v["value"] * scale
        return None
