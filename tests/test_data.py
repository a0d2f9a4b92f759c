"""The bundled data: complete, traceable to the dossier and the seed, and honest about gaps."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.schema import validate_records

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
DOSSIER = SHARED / "evidence" / "ldn_evidence.json"
needs_dossier = pytest.mark.skipif(not DOSSIER.exists(), reason="../shared/evidence not present")


def test_references_are_valid_csl_json() -> None:
    records = json.loads((REPO / "data" / "references.json").read_text("utf-8"))
    validate_records("references.json", "csl-data.json", records)  # raises on any error


@needs_dossier
def test_every_dossier_source_is_a_reference_with_its_identifiers_verbatim(
    real_kb: KnowledgeBase,
) -> None:
    dossier = json.loads(DOSSIER.read_text("utf-8"))
    assert len(dossier) == 30
    for source in dossier:
        ref = real_kb.reference(source["key"])
        for field, value in source["csl"].items():
            assert ref.csl.get(field) == value, (source["key"], field)
        for field in ("DOI", "PMID", "PMCID"):
            if field not in source["csl"]:
                assert field not in ref.csl, f"{source['key']}: {field} not in the dossier"
        assert ref.design == source["design"]


@needs_dossier
def test_every_dossier_finding_is_a_claim_citing_its_study(real_kb: KnowledgeBase) -> None:
    dossier = json.loads(DOSSIER.read_text("utf-8"))
    for source in dossier:
        for n, finding in enumerate(source["findings"], start=1):
            prefix = f"{source['key']}-f{n}"
            claims = [
                c
                for cid, c in real_kb.claims.items()
                if cid == prefix or cid.startswith(prefix + "-")
            ]
            assert claims, f"finding {prefix} has no claim"
            for claim in claims:
                assert claim.cited_refs == [source["key"]]
                # A precaution the finding states becomes its own claim (kind "precaution").
                assert claim.kind in (finding["kind"], "precaution")
                assert claim.direction == finding["direction"]
                assert claim.record["reported_numbers"] == finding["numbers"]
                assert claim.record["seen_at"] == finding["seen_at"]


@needs_dossier
def test_claim_text_is_in_our_own_words(real_kb: KnowledgeBase) -> None:
    import difflib

    dossier = json.loads(DOSSIER.read_text("utf-8"))
    seed_lines = [
        ln.strip()
        for ln in (SHARED / "seed" / "ldn-chronic-pain-answer.txt").read_text("utf-8").splitlines()
        if len(ln.strip()) > 30
    ]
    statements = {
        f"{s['key']}-f{n}": f["statement"]
        for s in dossier
        for n, f in enumerate(s["findings"], start=1)
    }
    for claim in real_kb.claims.values():
        if claim.origin == "dossier":
            original = statements[
                claim.id.split("-f")[0] + "-f" + claim.id.split("-f")[1].split("-")[0]
            ]
            assert difflib.SequenceMatcher(None, claim.text, original).ratio() < 0.85, claim.id
        else:
            for line in seed_lines:
                ratio = difflib.SequenceMatcher(None, claim.text, line).ratio()
                assert ratio < 0.85, (claim.id, line)


def test_seed_article_keeps_its_structure_and_status(real_kb: KnowledgeBase) -> None:
    art = real_kb.article("ldn-chronic-pain")
    assert art.review_status == "under_review"
    assert art.last_updated == "2026-01-14"
    headings = [path[-1] for path, _ in art.walk_sections()]
    assert headings[:2] == ["Dosing Algorithm", "Initial Dosing"]
    assert "Critical Caveats" in headings and "When to Discontinue" in headings
    seed_claims = [c for c in real_kb.claims.values() if c.origin == "seed"]
    assert 40 <= len(seed_claims) <= 55
    assert set(art.claim_ids()) == {c.id for c in seed_claims}
    assert art.bottom_line[0] == "seed-start-dose"


def test_seed_citation_numbers_resolve_against_the_seeds_own_list(real_kb: KnowledgeBase) -> None:
    art = real_kb.article("ldn-chronic-pain")
    numbers = Counter()
    for cid in art.claim_ids():
        for cit in real_kb.claims[cid].citations:
            numbers[cit["number"]] += 1
            assert cit["ref"] == art.reference_for(cit["number"])
    assert set(numbers) == {1, 2, 3, 4, 5, 6, 7}
    assert art.reference_for(6) is None and art.reference_for(7) is None
    six, seven = art.resolution_for(6), art.resolution_for(7)
    assert (six["ref"], six["confidence"]) == ("hivma_idsa2017", "probable")
    assert (seven["ref"], seven["confidence"]) == ("rassimariani2024", "match")


def test_seed_secondary_sources_have_no_invented_identifiers(real_kb: KnowledgeBase) -> None:
    for rid in ("droracle2025_overview", "praxis2025_regimen", "droracle2026_ldn_answer"):
        ref = real_kb.reference(rid)
        assert ref.role == "secondary-summary"
        assert not any(ref.csl.get(k) for k in ("DOI", "PMID", "PMCID", "URL"))


def test_every_seed_claim_carries_a_verdict_and_dossier_claims_none(real_kb: KnowledgeBase) -> None:
    for claim in real_kb.claims.values():
        if claim.origin == "seed":
            assert claim.primary is not None and claim.primary["note"]
        else:
            assert claim.primary is None


@pytest.mark.parametrize(
    "claim_id,verdict",
    [
        ("seed-neuropathic-64pct-response", "not_supported_as_worded"),
        ("seed-dose-range-3-5-mg", "not_supported_as_worded"),
        ("seed-onset-3-4-weeks", "not_stated"),
        ("seed-stop-no-response-6-8-weeks", "not_stated"),
        ("seed-mechanical-back-pain-poor-candidate", "not_stated"),
        ("seed-spondylosis-poor-candidate", "supported"),
        ("seed-never-fill-44pct", "supported_with_nuance"),
        ("seed-duration-123-days", "supported"),
    ],
)
def test_seed_map_verdicts_are_carried(real_kb: KnowledgeBase, claim_id: str, verdict: str) -> None:
    assert real_kb.claim(claim_id).primary["verdict"] == verdict


def test_values_are_structured_with_units(real_kb: KnowledgeBase) -> None:
    start = real_kb.claim("seed-start-dose")
    assert start.value["type"] == "quantity" and start.value["value"] == 1.5
    assert start.value["unit"] == "mg"
    assert real_kb.claim("seed-dose-range-3-5-mg").value_text == "3–5 mg/day"
    assert real_kb.claim("seed-titration-schedule").value_text == "1.5 mg every 2 weeks"
    for claim in real_kb.claims.values():
        if claim.value is not None:
            assert claim.value["unit"]
