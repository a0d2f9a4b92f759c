"""Every seed statement's primary-source verdict follows SEED_MAP.md.

The table below is transcribed from SEED_MAP.md by hand (verdict and the section it rests on),
not from the data: "yes" -> supported (with nuance where SEED_MAP qualifies it), "no" -> not
supported as worded, "not stated" -> not stated; §6 lists the statements the primary sources
do not support. A statement SEED_MAP has no row for is "not_assessed".
"""

from __future__ import annotations

import json
from importlib import resources

import pytest

from kb import KnowledgeBase
from kb.claims import COMPARATORS, COMPARISON_RESULTS, KINDS, VERDICTS

SEED_MAP_VERDICTS: dict[str, tuple[str, str]] = {
    # §0: seed [1] traces to the Dieckmann 2017 corneal-pain table (start 1.5, max 4.5 mg;
    # headache, tachycardia, vivid dreams).
    "seed-start-dose": ("supported", "§0"),
    "seed-max-dose": ("supported", "§0"),
    "seed-titration-schedule": ("not_stated", "§0"),  # increment only on a summary page
    "seed-ae-headache": ("supported", "§0"),
    "seed-ae-tachycardia": ("supported", "§0"),
    # listed in §0 and §2, but "most commonly reported" is in no primary text seen
    "seed-ae-vivid-dreams": ("not_stated", "§2"),
    # §1: [5] Praxis -> McKenzie-Brown 2023
    "seed-neuropathic-64pct-response": ("not_supported_as_worded", "§6 item 1"),
    "seed-spondylosis-poor-candidate": ("supported", "§1"),
    "seed-mechanical-back-pain-poor-candidate": ("not_stated", "§6 item 4"),
    "seed-back-pain-less-likely-than-neuropathic": ("not_stated", "§6 item 4"),
    "seed-onset-3-4-weeks": ("not_stated", "§6 item 2"),
    "seed-never-fill-44pct": ("supported_with_nuance", "§1"),
    "seed-stop-no-response-6-8-weeks": ("not_stated", "§6 item 3"),
    # §2: Spargo 2025
    "seed-duration-123-days": ("supported", "§2"),
    "seed-pain-change-0-83": ("supported", "§2"),
    "seed-half-continue": ("supported", "§2"),
    "seed-adverse-effect-rate-32pct": ("supported", "§2"),
    "seed-ae-drowsiness": ("supported", "§2"),
    "seed-ae-dizziness": ("supported", "§2"),
    "seed-ae-nausea": ("supported", "§2"),
    # §3: Bostick 2019
    "seed-no-drug-interactions": ("not_supported_as_worded", "§6 item 7"),
    "seed-inexpensive": ("supported", "§3"),
    "seed-compounding-required": ("not_stated", "§6 item 6"),
    "seed-off-label-fda-50mg": ("not_stated", "§6 item 6"),
    # §4: Toljan & Vrooman 2018
    "seed-dose-range-3-5-mg": ("not_supported_as_worded", "§6 item 5"),
    "seed-mechanism-endogenous-opioid": ("supported", "§4"),
    "seed-mechanism-tlr4": ("supported_with_nuance", "§4"),  # proposed mechanism only
    # §5: [6] HIVMA/IDSA 2017, [7] Rassi-Mariani 2024
    "seed-gabapentin-first-line": ("supported", "§5"),
    "seed-capsaicin-8-patch": ("supported", "§5"),
    "seed-systematic-review-2024-no-effect": ("supported", "§5"),
}
# The primary source SEED_MAP names for a verdict, where that matters.
SEED_MAP_PRIMARY = {
    "seed-mechanism-tlr4": "toljan2018",  # §4 row TLR4: Toljan says it; Hutchinson is the rat work
    "seed-no-drug-interactions": "bostick2019",
    "seed-back-pain-less-likely-than-neuropathic": "mckenziebrown2023",
}


def _seed(kb: KnowledgeBase) -> list[str]:
    return sorted(cid for cid, c in kb.claims.items() if c.origin == "seed")


def test_every_seed_claim_verdict_follows_seed_map(real_kb: KnowledgeBase) -> None:
    wrong = {}
    for cid in _seed(real_kb):
        expected = SEED_MAP_VERDICTS.get(cid, ("not_assessed", ""))[0]
        got = real_kb.claims[cid].primary["verdict"]
        if got != expected:
            wrong[cid] = (got, expected)
    assert wrong == {}


def test_the_table_names_only_seed_claims(real_kb: KnowledgeBase) -> None:
    assert set(SEED_MAP_VERDICTS) <= set(_seed(real_kb))
    assert {v for v, _ in SEED_MAP_VERDICTS.values()} <= set(VERDICTS)


@pytest.mark.parametrize("claim_id", sorted(SEED_MAP_VERDICTS))
def test_verdict_basis_names_its_section(real_kb: KnowledgeBase, claim_id: str) -> None:
    section = SEED_MAP_VERDICTS[claim_id][1]
    primary = real_kb.claims[claim_id].primary
    assert primary["basis"].startswith("SEED_MAP")
    assert section.split()[0] in primary["basis"], (claim_id, primary["basis"])
    if claim_id in SEED_MAP_PRIMARY:
        assert primary["ref"] == SEED_MAP_PRIMARY[claim_id]


def test_every_verdict_has_a_basis_and_a_note(real_kb: KnowledgeBase) -> None:
    for cid in _seed(real_kb):
        primary = real_kb.claims[cid].primary
        assert primary["basis"].startswith("SEED_MAP") and primary["note"], cid


def test_precautions_are_claims_of_their_own(real_kb: KnowledgeBase) -> None:
    """SEED_MAP §3 / §6 item 7: the precautions that contradict "no drug interactions"."""
    transplant = real_kb.claim("dieckmann2017-f3-precaution")
    assert transplant.kind == "precaution" and transplant.cited_refs == ["dieckmann2017"]
    assert "transplant" in transplant.text and "immunosuppress" in transplant.text
    antagonist = real_kb.claim("toljan2018-f2-opioid-antagonist")
    assert antagonist.kind == "precaution" and antagonist.cited_refs == ["toljan2018"]
    assert all(c.role for c in (transplant, antagonist))


def test_allowed_values_match_the_schema() -> None:
    schema = json.loads(
        resources.files("kb.schemas").joinpath("claims.schema.json").read_text("utf-8")
    )
    props = schema["items"]["properties"]
    assert tuple(props["kind"]["enum"]) == KINDS
    comparison = props["comparisons"]["items"]["properties"]
    assert tuple(comparison["versus"]["enum"]) == COMPARATORS
    assert tuple(comparison["result"]["enum"]) == COMPARISON_RESULTS
