"""Evidence grades are computed from statement role, design, bias, scope, reporting, verdict
and conflicts (kb.evidence)."""

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


def test_no_per_study_sample_size_cliff(real_kb: KnowledgeBase) -> None:
    """Imprecision is judged on the body (kb.summary), never per study: a 31-patient crossover
    trial's finding keeps its design's start, and FINAL (n=99) is not treated like a pilot."""
    assert "Imprecision" not in _reasons(real_kb, "younger2013-f1")
    assert real_kb.grades["younger2013-f1"].cebm_level == 2
    assert "Imprecision" not in _reasons(real_kb, "bruun2024_final-f1")


def test_chart_review_does_not_outrank_matched_cohort(real_kb: KnowledgeBase) -> None:
    """Driver 2023 (n=115, no control group, perceived benefit; dossier note) never outranks
    Martin 2022 (n=78, matched retrospective cohort) because of its size."""
    driver, martin = real_kb.grades["driver2023-f2"], real_kb.grades["martin2022-f1"]
    assert GRADE_ORDER.index(driver.grade) >= GRADE_ORDER.index(martin.grade)
    assert driver.cebm_level == 4 and martin.cebm_level == 3
    assert "no control group" in _reasons(real_kb, "driver2023-f2")


def test_case_series_is_very_low(real_kb: KnowledgeBase) -> None:
    g = real_kb.grades["mckenziebrown2023-f2"]
    assert (g.grade, g.cebm_level) == ("Very low", 4)
    assert "Risk of bias" in _reasons(real_kb, "mckenziebrown2023-f2")


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
    """NeuPSIG's capsaicin NNT was read on an NHS summary (its seen_at), its drug NNTs on the
    review's own pages: one step apart, and the reason says where it was read."""
    review, nhs = (
        real_kb.grades["finnerup2015_neupsig-f3"],
        real_kb.grades["finnerup2015_neupsig-f4"],
    )
    assert GRADE_ORDER.index(nhs.grade) == GRADE_ORDER.index(review.grade) + 1
    assert "NHS Medicines Resources summary" in _reasons(real_kb, "finnerup2015_neupsig-f4")


@pytest.mark.parametrize(
    "cid",
    [
        "bruun2024_final-f3",  # a news page (MIMS)
        "nice_cg173-f1-gabapentin",  # NHS pages quoting CG173
        "partridge2023-f2",  # a forum reproduction of the highlights
        "finnerup2015_neupsig-f4",  # an NHS summary
    ],
)
def test_findings_read_on_secondary_pages_are_marked_so(real_kb: KnowledgeBase, cid: str) -> None:
    assert real_kb.claims[cid].reported_in == "secondary"


def test_uncited_statement_rests_on_nothing(real_kb: KnowledgeBase) -> None:
    g = real_kb.grades["seed-stop-worsening"]
    assert g.grade == "Very low" and g.basis_ref is None


def test_every_grade_has_a_reason_and_a_valid_level(real_kb: KnowledgeBase) -> None:
    for cid, g in real_kb.grades.items():
        assert g.grade in GRADE_ORDER, cid
        if g.grade == "Not graded":
            assert (g.level, g.cebm_level) == (0, 0) and g.body is None, cid
            assert g.reasons[0].startswith("Not graded"), cid
            continue
        assert 1 <= g.level <= 4 and 1 <= g.cebm_level <= 5, cid
        assert (g.reasons and g.reasons[0].startswith("Starts")) or g.basis_ref is None, cid


# -- the new rules, on labelled examples from the dossier -----------------------------------
@pytest.mark.parametrize(
    "cid,grade,cebm,why",
    [
        # Kim 2020: "treat as narrative-style" (dossier note) -> expert opinion
        ("kim2020-f1", "Very low", 5, "narrative review"),
        # Hegde 2025: "stated as background rather than tested" -> opinion, not High
        ("hegde2025-f5", "Very low", 5, "expert opinion"),
        # Younger 2013: phase lengths are study conduct -> not graded
        ("younger2013-f5", "Not graded", 0, "how the study was run"),
        # Younger 2009: single-blind, placebo always first, not randomised -> observational start
        ("younger2009-f1", "Very low", 3, "non-randomised"),
        # Bruun-Plesner 2020: single-blind dose-finding without placebo -> uncontrolled
        ("bruunplesner2020-f4", "Very low", 4, "no placebo"),
        # NeuPSIG: a GRADE-based SR/MA of 229 trials, not a Low "guideline"; its own
        # publication-bias analysis (f5) lowers its NNTs one step
        ("finnerup2015_neupsig-f3", "Moderate", 1, "Publication bias"),
        # ... while its recommendations stay recommendations: expert opinion, strength apart
        ("finnerup2015_neupsig-f1-snri", "Very low", 5, "strong"),
        # the seed's "evidence is contradictory": no primary source checked -> its cited page
        ("seed-evidence-contradictory", "Very low", 5, "not assessed"),
        # Cree 2010: 60 of 80 completed (dossier finding f3) -> risk of bias
        ("cree2010-f1", "Moderate", 2, "60 of 80"),
    ],
)
def test_labelled_grades(real_kb: KnowledgeBase, cid: str, grade: str, cebm: int, why: str) -> None:
    g = real_kb.grades[cid]
    assert (g.grade, g.cebm_level) == (grade, cebm)
    assert why in _reasons(real_kb, cid)


def test_design_corrections_quote_the_dossier_note(real_kb: KnowledgeBase) -> None:
    from kb.evidence import appraisal, design_of

    cases = {
        "kim2020": ("narrative-review", "treat as narrative-style"),
        "younger2009": ("non-randomised-controlled", "not randomized per abstract"),
        "bruunplesner2020": ("uncontrolled-trial", "Single-blinded dose-finding"),
        "finnerup2015_neupsig": ("systematic-review-meta-analysis", "Systematic review/meta"),
        "driver2023": ("case-series", "no control group"),
    }
    for rid, (design, quote) in cases.items():
        ref = real_kb.references[rid]
        assert design_of(ref) == design, rid
        note = appraisal(ref)["dossier_note"]
        assert quote in note and note in ref.custom["dossier_notes"], rid


def test_study_conduct_is_never_evidence(real_kb: KnowledgeBase) -> None:
    conduct = [cid for cid, c in real_kb.claims.items() if c.role == "study-conduct"]
    assert conduct
    for cid in conduct:
        assert real_kb.grades[cid].grade == "Not graded" and not real_kb.grades[cid].graded
        assert real_kb.grades[cid].body is None


def test_a_subgroup_or_a_broader_review_never_makes_a_claim_inconsistent(
    real_kb: KnowledgeBase,
) -> None:
    # Hegde 2025's overall null result is not contradicted by its own fibromyalgia subgroup, and
    # Vatvani 2024 (fibromyalgia) is not made inconsistent by Rassi-Mariani 2024 (mixed pain).
    assert "Inconsistency" not in _reasons(real_kb, "hegde2025-f1")
    assert "Rassi-Mariani" not in _reasons(real_kb, "vatvani2024-f1")


def test_a_bad_appraisal_is_reported_naming_the_record(data_dir: Path) -> None:
    from kb.errors import InvalidData

    path = data_dir / "references.json"
    refs = json.loads(path.read_text("utf-8"))
    for ref in refs:
        if ref["id"] == "kim2020":
            ref["custom"]["appraisal"]["design"] = "anecdote"
    path.write_text(json.dumps(refs), "utf-8")
    with pytest.raises(InvalidData) as err:
        _ = KnowledgeBase.load(data_dir).grades
    assert "kim2020" in str(err.value) and "custom.appraisal.design" in str(err.value)


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
