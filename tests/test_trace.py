"""Tracing a claim to its primary study, and a reference to everything that depends on it."""

from __future__ import annotations

from kb import KnowledgeBase
from kb.trace import dependents, trace


def test_64_percent_claim_ends_at_mckenzie_brown_not_supported(real_kb: KnowledgeBase) -> None:
    t = trace(real_kb, "seed-neuropathic-64pct-response")
    step = t["steps"][0]
    assert step["number"] == 5 and step["cited"]["id"] == "praxis2025_regimen"
    assert [r["id"] for r in step["traces_to"]] == ["mckenziebrown2023"]
    assert t["primary"]["ref"]["id"] == "mckenziebrown2023"
    assert t["primary"]["verdict"] == "not_supported_as_worded"
    assert t["primary"]["ref"]["url"] == "https://doi.org/10.2147/JPR.S389957"


def test_unresolved_citation_shows_proposed_resolution(real_kb: KnowledgeBase) -> None:
    t = trace(real_kb, "seed-gabapentin-first-line")
    six = next(s for s in t["steps"] if s["number"] == 6)
    assert six["unresolved"] and six["cited"] is None
    res = six["proposed_resolution"]
    assert res["ref"]["id"] == "hivma_idsa2017" and res["confidence"] == "probable"
    assert res["status"] == "proposed"


def test_dossier_claim_traces_to_its_own_study(real_kb: KnowledgeBase) -> None:
    t = trace(real_kb, "bested2023-f1")
    assert t["primary"]["ref"]["id"] == "bested2023" and t["primary"]["verdict"] is None


def test_dependents_reach_through_secondary_summaries(real_kb: KnowledgeBase) -> None:
    deps = dependents(real_kb, "mckenziebrown2023")
    ids = {c["id"] for c in deps["claims"]}
    assert "mckenziebrown2023-f2" in ids
    assert "seed-neuropathic-64pct-response" in ids  # via [5] Praxis and tracing
    assert "seed-onset-3-4-weeks" in ids  # cites [5], whose numbers trace to McKenzie-Brown
    assert [a["id"] for a in deps["articles"]] == ["ldn-chronic-pain"]


def test_dependents_include_proposed_resolutions(real_kb: KnowledgeBase) -> None:
    deps = dependents(real_kb, "hivma_idsa2017")
    ids = {c["id"] for c in deps["claims"]}
    assert {"seed-gabapentin-first-line", "seed-capsaicin-8-patch"} <= ids
    art = deps["articles"][0]
    assert "proposed resolution of [6]" in art["how"]


def test_unused_reference_has_no_dependents(real_kb: KnowledgeBase) -> None:
    deps = dependents(real_kb, "patten2018")
    assert {c["id"] for c in deps["claims"]} == {"patten2018-f1"}
    assert deps["articles"] == []
