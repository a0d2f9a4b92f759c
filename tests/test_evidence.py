"""Evidence grades are computed from design, size, scope, reporting, verdict and conflicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.evidence import GRADE_ORDER


def _reasons(kb: KnowledgeBase, cid: str) -> str:
    return " ".join(kb.grades[cid].reasons)


def test_meta_analysis_starts_high_and_mixed_reviews_are_only_context(
    real_kb: KnowledgeBase,
) -> None:
    # A fibromyalgia meta-analysis beside mixed-condition reviews is indirect context, which
    # never lowers a grade (GRADE-NOTES "What is a conflict"); the null fibromyalgia trials it
    # does conflict with are graded lower, so it keeps its grade.
    g = real_kb.grades["vatvani2024-f1"]
    assert g.start == "High" and g.cebm_level == 1
    assert "Rassi-Mariani" not in _reasons(real_kb, "vatvani2024-f1")
    assert "Inconsistency" in _reasons(real_kb, "martin2022-f1")


def test_small_crossover_trial_is_imprecise(real_kb: KnowledgeBase) -> None:
    assert "Imprecision: only 31 participants" in _reasons(real_kb, "younger2013-f1")
    assert real_kb.grades["younger2013-f1"].cebm_level == 2


def test_case_series_is_very_low(real_kb: KnowledgeBase) -> None:
    g = real_kb.grades["mckenziebrown2023-f2"]
    assert (g.grade, g.cebm_level) == ("Very low", 4)


def test_seed_64_percent_is_downgraded_for_its_verdict(real_kb: KnowledgeBase) -> None:
    reasons = _reasons(real_kb, "seed-neuropathic-64pct-response")
    assert "McKenzie-Brown 2023" in reasons
    assert "does not support the statement as worded" in reasons


def test_corneal_and_hiv_guidance_is_indirect_for_chronic_pain(real_kb: KnowledgeBase) -> None:
    assert "Neuropathic corneal pain" in _reasons(real_kb, "seed-start-dose")
    assert "HIV-associated neuropathic pain" in _reasons(real_kb, "seed-gabapentin-first-line")
    # The same corneal-pain guidance is direct for corneal pain itself.
    assert "Indirectness" not in _reasons(real_kb, "dieckmann2017-f2")


def test_animal_data_is_indirect(real_kb: KnowledgeBase) -> None:
    assert "animal or laboratory" in _reasons(real_kb, "hutchinson2008-f1")
    assert real_kb.grades["hutchinson2008-f1"].grade == "Very low"


def test_news_page_numbers_are_downgraded(real_kb: KnowledgeBase) -> None:
    abstract, news = real_kb.grades["younger2009-f1"], real_kb.grades["younger2009-f6"]
    assert GRADE_ORDER.index(news.grade) == GRADE_ORDER.index(abstract.grade) + 1
    assert "secondary page" in _reasons(real_kb, "younger2009-f6")


def test_uncited_statement_rests_on_nothing(real_kb: KnowledgeBase) -> None:
    g = real_kb.grades["seed-stop-worsening"]
    assert g.grade == "Very low" and g.basis_ref is None


def test_every_grade_has_a_reason_and_a_valid_level(real_kb: KnowledgeBase) -> None:
    for cid, g in real_kb.grades.items():
        assert g.grade in GRADE_ORDER and 1 <= g.cebm_level <= 5, cid
        assert (g.reasons and g.reasons[0].startswith("Starts")) or g.basis_ref is None, cid


@pytest.mark.parametrize(
    "design,expected",
    [
        ("randomized-controlled-trial", "High"),
        ("retrospective-cohort", "Low"),
        ("case-report", "Very low"),
    ],
)
def test_grade_follows_the_design_in_the_data(data_dir: Path, design: str, expected: str) -> None:
    """Relabel Hegde 2025's design: the grade of its claims moves with it (nothing is typed in)."""
    path = data_dir / "references.json"
    refs = json.loads(path.read_text("utf-8"))
    for ref in refs:
        if ref["id"] == "hegde2025":
            ref["custom"]["design"] = design
    path.write_text(json.dumps(refs), "utf-8")
    g = KnowledgeBase.load(data_dir).grades["hegde2025-f3"]
    assert g.start == expected


# -- statement roles ------------------------------------------------------------------------
# Expected role per claim, written down from the dossier (ldn_evidence.json findings and notes)
# and SEED_MAP.md, not from the data file. The comment says which note decides.
EXPECTED_ROLES = {
    # measured results of the cited study
    "bruun2024_final-f1": "finding",  # FINAL primary outcome, between-group difference
    "vatvani2024-f1": "finding",  # pooled MD of 4 RCTs
    "hegde2025-f2": "finding",  # fibromyalgia subgroup SMD
    "martin2022-f1": "finding",  # matched cohort, -37.8% vs -4.3%
    "driver2023-f2": "finding",  # 65% perceived benefit (chart review)
    "younger2009-f6": "finding",  # a result, read on a news page
    "hutchinson2008-f1": "finding",  # measured in rats (indirect, but measured)
    "seed-neuropathic-64pct-response": "finding",  # the seed reports a case-series rate
    "seed-adverse-effect-rate-32pct": "finding",  # Spargo 2025, 13/41
    # the authors' reading of their own results
    "bested2023-f3": "conclusion",  # "the authors concluded ... no clinically relevant effect"
    "rassimariani2024-f3": "conclusion",  # "the review concluded LDN did not effectively relieve"
    "kim2020-f1": "conclusion",  # "looks promising" (a narrative-style review: expert opinion)
    "seed-evidence-contradictory": "conclusion",  # the seed's reading of the evidence
    # asserted, not tested in the source
    "hegde2025-f5": "background",  # dossier: "stated as background rather than tested"
    "martin2022-f4": "background",  # dossier: "attribute the effect to TLR-4, without testing it"
    "chopra2013-f3": "background",  # the authors' justification for trying LDN
    "toljan2018-f2": "background",  # proposed mechanisms in a narrative review
    "seed-no-drug-interactions": "background",  # Bostick's assertion (SEED_MAP section 3)
    "seed-mechanism-tlr4": "background",  # proposed mechanism (SEED_MAP section 4)
    # guideline or expert advice
    "finnerup2015_neupsig-f1-snri": "recommendation",  # NeuPSIG strong first-line
    "hivma_idsa2017-f4": "recommendation",  # capsaicin 8% strongly recommended (HIV neuropathy)
    "dieckmann2017-f2": "recommendation",  # corneal-pain dosing table
    "spargo2025-f4": "recommendation",  # "an option only after several other therapies failed"
    "seed-start-dose": "recommendation",  # the seed's dosing advice
    "seed-snri-tca-second-line": "recommendation",  # the seed's treatment line
    "seed-stop-no-response-6-8-weeks": "recommendation",  # a stopping rule
    # how the study was run: not evidence about an effect
    "younger2013-f5": "study-conduct",  # phase lengths (from a news summary)
    "younger2009-f5": "study-conduct",  # the fixed placebo-then-drug sequence
    "bested2023-f2": "study-conduct",  # period lengths
    "bruun2024_final-f2": "study-conduct",  # 49/50 randomised of 158 screened
    "srinivasan2021-f4": "study-conduct",  # run-in, periods, washout
}


@pytest.mark.parametrize("cid,role", sorted(EXPECTED_ROLES.items()))
def test_statement_role_matches_the_dossier(real_kb: KnowledgeBase, cid: str, role: str) -> None:
    assert real_kb.claims[cid].role == role


def test_every_claim_has_a_role(real_kb: KnowledgeBase) -> None:
    from kb.claims import ROLES

    missing = [cid for cid, c in real_kb.claims.items() if c.role not in ROLES]
    assert missing == []


def test_a_claim_without_a_role_is_rejected_naming_the_field(data_dir: Path) -> None:
    from kb.errors import InvalidData

    path = data_dir / "claims.json"
    claims = json.loads(path.read_text("utf-8"))
    del claims[0]["role"]
    path.write_text(json.dumps(claims), "utf-8")
    with pytest.raises(InvalidData) as err:
        KnowledgeBase.load(data_dir)
    assert "role" in str(err.value) and claims[0]["id"] in str(err.value)
