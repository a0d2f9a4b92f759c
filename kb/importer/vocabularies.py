"""The import rules and cue vocabularies, loaded once and compiled into patterns."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any


@cache
def vocab(name: str) -> dict[str, Any]:
    """One vocabulary file of ``kb/vocab`` (parsed once)."""
    data: dict[str, Any] = json.loads(resources.files("kb.vocab").joinpath(name).read_text("utf-8"))
    return data


def rules() -> dict[str, Any]:
    """The import rules (``kb/vocab/import_rules.json``): data, not code."""
    return vocab("import_rules.json")


@cache
def compiled() -> dict[str, Any]:
    """The import rules compiled into patterns (once per process)."""
    r = rules()
    units = r["units"]
    unit_alt = "|".join(
        re.escape(u)
        for u in sorted(
            ["%", *units["dose"], *units["time"], *units["count"]], key=len, reverse=True
        )
    )
    words = "|".join(sorted(r["number_words"], key=len, reverse=True))
    quals = "|".join(f"(?P<q{i}>{pat})" for i, pat in enumerate(r["qualifiers"].values()))
    num = r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?"
    per = "|".join(f"(?P<p{i}>{pat})" for i, pat in enumerate(r["per"].values()))
    value = re.compile(
        rf"(?:(?<![\w])(?:{quals})\s*)?(?<![\w.])(?P<lo>{num})(?:\s*(?:-|–|—|to)\s*(?P<hi>{num}))?"
        rf"\s*(?P<unit>{unit_alt})(?![\w])(?:{per})?"
        rf"(?:\s*every\s+(?P<ivn>\d+|{words})?\s*(?P<ivu>day|week|month)s?\b)?",
        re.I,
    )
    interval = re.compile(
        rf"every\s+(?P<ivn>\d+|{words})?\s*(?P<ivu>day|week|month)s?\b"
        rf"|(?P<ivn2>\d+)-(?P<ivu2>day|week|month)\s+intervals?",
        re.I,
    )
    return {
        "value": value,
        "interval": interval,
        "qualifiers": list(r["qualifiers"]),
        "per": list(r["per"]),
        "statement_rules": [(re.compile(x["pattern"], re.I), x) for x in r["statement_rules"]],
        "direction_rules": [(re.compile(x["pattern"], re.I), x) for x in r["direction_rules"]],
        "lines": [(re.compile(p, re.I), line) for line, p in r["recommendation_lines"].items()],
        "comparison": re.compile(r["comparison_cues"], re.I),
        "last_updated": re.compile(r["furniture"]["last_updated"], re.I),
        "kind_cues": [
            (phrase_pattern(w), kind)
            for kind, ws in vocab("ask_cues.json")["kinds"].items()
            for w in ws
        ],
    }


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    # Short all-capital abbreviations (MS, FM, OA) must match in capitals: "ms" is a unit.
    flags = 0 if (phrase.isupper() and len(phrase) <= 4) else re.IGNORECASE
    return re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", flags)
