"""Ask: a direct answer first, built only from claims; honest study counts; refusals that say
what is missing. The clinician question set is in test_ask_quality.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kb import InvalidQuery, KnowledgeBase, summary
from kb.answer import ask
from kb.ask.vocab import parse_classes, parse_intents
from kb.editorial import Editor, claim_reference_marks
from kb.errors import InvalidData

DATA = Path(__file__).resolve().parent.parent / "data"
CONDUCT = {"younger2009-f5", "younger2013-f5", "bested2023-f2", "srinivasan2021-f4"}


@pytest.fixture(scope="module")
def akb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The bundled data with a private search index (read-only use)."""
    return KnowledgeBase.load(DATA, index_dir=tmp_path_factory.mktemp("ask") / "index")


def _ids(answer: dict) -> set[str]:
    return {c["id"] for s in answer["sections"] for c in s["claims"]}


def test_direct_answer_comes_from_claims_with_grades(akb: KnowledgeBase) -> None:
    a = ask(akb, "What is the starting dose of low-dose naltrexone?")
    direct = a["answer"]
    assert direct["claims"][0] == "seed-start-dose"
    assert "1.5 mg" in direct["text"] and direct["certainty"] == akb.grade("seed-start-dose").grade
    for s in direct["sentences"]:
        assert s["claims"] and s["grade"]
    # Every number in the answer is written in one of its claims (nothing invented).
    said = " ".join(akb.claims[c].text + " " + str(akb.claims[c].value) for c in direct["claims"])
    for number in re.findall(r"\d+(?:\.\d+)?", direct["text"]):
        assert number in said
    assert a["bottom_line"]["article_id"] == "ldn-chronic-pain"


def test_sources_that_differ_are_said_in_the_answer(akb: KnowledgeBase) -> None:
    # The article caps LDN at 4.5 mg; the FINAL trial titrated up to 6 mg (dossier).
    text = ask(akb, "What is the maximum dose of LDN?")["answer"]["text"]
    assert "Sources differ on the maximum dose" in text
    assert "4.5 mg" in text and "6 mg" in text


def test_fibromyalgia_meter_counts_studies_not_claims(akb: KnowledgeBase) -> None:
    a = ask(akb, "Does LDN work for fibromyalgia?")
    meter = a["meter"]
    refs = [s["ref"] for g in meter["groups"] for s in g["studies"]]
    assert len(refs) == len(set(refs)) == meter["studies"] == sum(meter["counts"].values())
    # The negative trials are counted against, not hidden in conflict one-liners.
    sides = {s["ref"]: s["side"] for g in meter["groups"] for s in g["studies"]}
    assert sides["bruun2024_final"] == "against" and sides["bested2023"] == "against"
    assert sides["vatvani2024"] == "for"
    # Systematic reviews and trials first, the best evidence named first in the answer.
    assert [g["id"] for g in meter["groups"]][:2] == ["reviews", "trials"]
    assert a["answer"]["text"].index("Vatvani") < a["answer"]["text"].index("Bruun")
    assert any(c["type"] == "opposite_direction" for c in a["contested"])


def test_crps_rests_on_weak_designs_and_says_so(akb: KnowledgeBase) -> None:
    a = ask(akb, "Does LDN help CRPS?")
    assert "only on weaker designs" in a["answer"]["text"]
    assert "case report (2 patients)" in a["answer"]["text"]
    assert {g["id"] for g in a["meter"]["groups"]} <= {"observational", "case-reports", "other"}


def test_adverse_effects_never_say_for_or_against(akb: KnowledgeBase) -> None:
    for q in ("What are the side effects of LDN?", "How common are side effects of LDN?"):
        a = ask(akb, q)
        assert a["meter"] is None
        assert not re.search(r"\b\d+ (for|against)\b", a["answer"]["text"])


def test_study_conduct_never_answers_time_to_effect(akb: KnowledgeBase) -> None:
    a = ask(akb, "How long before LDN starts working?")
    assert "seed-onset-3-4-weeks" in a["answer"]["claims"]
    assert not CONDUCT & (set(a["answer"]["claims"]) | _ids(a))


@pytest.mark.parametrize("drug", ["hydromorphone", "fentanyl", "oxycodone"])
def test_named_opioid_is_answered_for_the_class(akb: KnowledgeBase, drug: str) -> None:
    a = ask(akb, f"Can a patient on {drug} take LDN?")
    assert a["relevant"]
    assert "bostick2019-f3" in a["answer"]["claims"]  # naltrexone is an opioid antagonist
    assert "answered for the class opioids" in a["answer"]["note"]
    assert a["understood"]["classes"][0]["drug"] == drug


@pytest.mark.parametrize(
    "question",
    ["How quickly does LDN work?", "How rapidly does LDN relieve pain?", "LDN dose, roughly?"],
)
def test_adverbs_and_filler_never_cause_a_refusal(akb: KnowledgeBase, question: str) -> None:
    assert ask(akb, question)["relevant"]


def test_misspelt_condition_is_corrected_and_said(akb: KnowledgeBase) -> None:
    a = ask(akb, "LDN dose for fibromialgia?")
    assert a["relevant"] and a["understood"]["conditions"] == ["fibromyalgia"]
    assert "Showing results for “LDN dose for fibromyalgia?”" in a["message"]


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        ("metformin dose in type 2 diabetes", "metformin"),
        ("sumatriptan for migraine", "sumatriptan"),
        ("Is LDN safe in pregnancy?", "pregnancy"),
        ("Can children take LDN?", "children"),
    ],
)
def test_out_of_scope_is_refused_naming_what_is_missing(
    akb: KnowledgeBase, question: str, missing: str
) -> None:
    a = ask(akb, question)
    assert a["relevant"] is False
    assert a["sections"] == [] and a["answer"] is None and a["contested"] == []
    assert "no evidence on" in a["message"] and f"“{missing}”" in a["message"]


def test_bad_vocabularies_are_clear_errors() -> None:
    with pytest.raises(InvalidData, match=r"record 'x'.*targets"):
        parse_intents({"intents": [{"id": "x", "label": "X", "priority": 1, "targets": []}]})
    with pytest.raises(InvalidData, match="unknown kind 'dosage'"):
        parse_intents(
            {"intents": [{"id": "x", "label": "X", "priority": 1, "targets": [["dosage", "*"]]}]}
        )
    with pytest.raises(InvalidData, match=r"record 'opioids'.*members"):
        parse_classes({"classes": {"opioids": {"label": "o", "term": "o", "members": "x"}}})


@pytest.mark.parametrize("question", ["", "   ", "x" * 501, "\x00\x01"])
def test_unusable_questions_are_refused(akb: KnowledgeBase, question: str) -> None:
    with pytest.raises(InvalidQuery):
        ask(akb, question)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gets_an_answer_or_a_clear_refusal(akb: KnowledgeBase, text: str) -> None:
    try:
        a = ask(akb, text)
    except InvalidQuery:
        return
    assert isinstance(a["relevant"], bool) and a["message"]


def test_a_condition_without_its_own_claims_says_so(akb: KnowledgeBase) -> None:
    # No claim is filed under HIV neuropathy for LDN: the general claims stand in, and say so.
    a = ask(akb, "LDN in HIV neuropathy?")
    assert a["understood"]["conditions"] == ["hiv-neuropathy"]
    assert "No claim is specific to HIV-associated neuropathic pain" in a["answer"]["note"]


def test_the_most_specific_condition_named_is_kept(akb: KnowledgeBase) -> None:
    a = ask(akb, "Does LDN work for diabetic nerve pain?")
    assert a["understood"]["conditions"] == ["painful-diabetic-neuropathy"]
    assert a["meter"]["studies"] == 1  # Srinivasan 2021, the one trial in this condition
    assert "srinivasan2021-f1" in a["answer"]["claims"]


def test_another_named_drug_puts_interactions_first(akb: KnowledgeBase) -> None:
    a = ask(akb, "Can LDN be used with tramadol?")
    assert a["understood"]["intents"][0] == "interactions"
    assert "bostick2019-f3" in a["answer"]["claims"]
    # A comparison is not an interaction question.
    b = ask(akb, "Is LDN better than amitriptyline for diabetic neuropathy?")
    assert "srinivasan2021-f1" in b["answer"]["claims"]


def test_filler_words_in_an_understood_question_are_not_subjects(akb: KnowledgeBase) -> None:
    for q in ("Does LDN cause liver damage?", "How long do I need to wait before increasing?"):
        assert ask(akb, q)["relevant"], q


# -- certainty from the body of evidence (GRADE rates a body, not a sentence) ---------------
def test_does_it_work_leads_with_the_body_of_evidence_and_its_certainty(
    akb: KnowledgeBase,
) -> None:
    # GRADE-NOTES: certainty belongs to a body of evidence per outcome. For fibromyalgia pain
    # the trials disagree (FINAL 2024 and Bested 2023 null, Younger 2013 positive): the answer
    # leads with that body's plain-language statement and takes its certainty, not one
    # review's "High".
    body = next(
        b
        for b in summary.summary(akb, condition="fibromyalgia", intervention="low-dose naltrexone")
        if b["condition"] == "fibromyalgia" and b["outcome"] == "pain"
    )
    a = ask(akb, "Does LDN help fibromyalgia pain?")["answer"]
    assert a["text"].startswith(body["statement"])
    assert a["certainty"] == body["certainty"]
    assert a["sentences"][0]["grade"] == body["certainty"]
    assert set(body["claims"]) <= set(a["sentences"][0]["claims"])
    # Per-sentence grades stay: the best study's sentence keeps its own grade.
    best = next(s for s in a["sentences"] if s["text"].startswith("Best evidence"))
    assert best["grade"] == akb.grade(best["claims"][0]).grade


def test_chronic_pain_states_the_broad_body_then_the_sub_conditions(akb: KnowledgeBase) -> None:
    broad = akb.summaries["low-dose-naltrexone--chronic-pain--pain"]
    a = ask(akb, "Does LDN work for chronic pain?")["answer"]
    # The studies disagree (Rassi-Mariani 2024 and Hegde 2025 null, Vatvani 2024 positive):
    # the certainty is the chronic-pain body's, never a single review's "High".
    assert a["certainty"] == broad["certainty"] != "High"
    assert a["text"].startswith(broad["statement"])
    subs = a["sentences"][1]["text"]
    fm = akb.summaries["low-dose-naltrexone--fibromyalgia--pain"]
    pdn = akb.summaries["low-dose-naltrexone--painful-diabetic-neuropathy--pain"]
    assert f"fibromyalgia {fm['certainty']}" in subs
    assert f"painful diabetic neuropathy {pdn['certainty']}" in subs


def test_a_condition_without_a_body_takes_the_broader_body(akb: KnowledgeBase) -> None:
    a = ask(akb, "Does LDN work in HIV neuropathy?")["answer"]
    broad = akb.summaries["low-dose-naltrexone--chronic-pain--pain"]
    assert a["certainty"] == broad["certainty"]
    assert "No body of evidence is specific to HIV-associated neuropathic pain" in a["text"]


# -- retraction and expression of concern ------------------------------------------------------
def test_a_retracted_study_is_never_best_evidence(kb: KnowledgeBase, instance_dir: Path) -> None:
    before = ask(kb, "Does LDN work for chronic pain?")
    assert "Best evidence (against): Rassi-Mariani 2024" in before["answer"]["text"]
    editor = Editor.open(kb, instance_dir)
    editor.record(
        "eve",
        "editor",
        "mark_reference",
        "reference:rassimariani2024",
        reason="hypothetical retraction, for this test only",
        after={"status": "retracted"},
    )
    a = ask(kb, "Does LDN work for chronic pain?")
    text = a["answer"]["text"]
    assert "Best evidence (against): Rassi-Mariani" not in text
    assert "Best evidence" in text  # another study leads
    # Every sentence resting on it says it is retracted.
    for s in a["answer"]["sentences"]:
        refs = {m["ref"] for c in s["claims"] for m in claim_reference_marks(kb, c)}
        if "rassimariani2024" in refs:
            assert "Rassi-Mariani 2024 is retracted" in s["text"], s["text"]
    # Not counted in the meter, and the totals still add up.
    meter = a["meter"]
    refs = [st["ref"] for g in meter["groups"] for st in g["studies"]]
    assert "rassimariani2024" not in refs
    assert meter["excluded"] == [
        {"ref": "rassimariani2024", "label": "Rassi-Mariani 2024", "status": "retracted"}
    ]
    assert meter["studies"] == len(refs) == sum(meter["counts"].values())
    assert meter["studies"] == before["meter"]["studies"] - 1


def test_an_answer_shows_a_grade_an_editor_just_changed(
    kb: KnowledgeBase, instance_dir: Path
) -> None:
    """Ask keeps its vocabulary across verdicts (built once per version of the records), but
    never a grade: the next answer carries the new one."""
    question = "Does LDN reduce fibromyalgia pain?"
    before = ask(kb, question)["answer"]["text"]
    old = kb.grade("vatvani2024-f1").grade
    assert f"(MD -0.86, 95% CI -1.20 to -0.51; P <0.001; I2 33%) [{old}]" in before
    Editor.open(kb, instance_dir).record(
        "eve",
        "editor",
        "set_verdict",
        "claim:vatvani2024-f1",
        after={"verdict": "not_supported_as_worded", "note": "editor check"},
    )
    new = kb.grade("vatvani2024-f1").grade
    assert new != old
    after = ask(kb, question)["answer"]["text"]
    assert f"(MD -0.86, 95% CI -1.20 to -0.51; P <0.001; I2 33%) [{new}]" in after


def test_a_long_meter_lists_the_strongest_studies_and_counts_the_rest(
    akb: KnowledgeBase,
    real_client,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """Thousands of studies answer a broad question in a large knowledge base: each design
    group lists its strongest few and says how many more it counted."""
    import kb.ask

    question = "Does LDN work for fibromyalgia?"
    full = ask(akb, question)["meter"]
    monkeypatch.setattr(kb.ask, "METER_LISTED", 1)
    short = ask(akb, question)["meter"]
    assert short["studies"] == full["studies"] and short["counts"] == full["counts"]
    for whole, cut in zip(full["groups"], short["groups"], strict=True):
        assert cut["studies"] == whole["studies"][:1]  # the strongest one
        assert cut["not_listed"] == len(whole["studies"]) - 1
        assert cut["participants"] == whole["participants"]
    crowded = next(g for g in short["groups"] if g["not_listed"])
    page = real_client.get("/ask", query_string={"q": question}).get_data(as_text=True)
    assert f"and {crowded['not_listed']} more {crowded['label'].lower()} not listed" in page


def test_after_edits_an_answer_equals_that_of_a_fresh_load(
    kb: KnowledgeBase, instance_dir: Path
) -> None:
    """Ask keeps what it derives from grades across edits, moving only the re-graded claims;
    its answers (meter, best evidence, sections) are those of a fresh load of the same data
    and journal."""
    question = "Does LDN work for fibromyalgia?"
    ask(kb, question)  # derived state built before the edits
    editor = Editor.open(kb, instance_dir)
    for cid, verdict in [
        ("vatvani2024-f1", "not_supported_as_worded"),
        ("younger2013-f1", "not_stated"),
        ("vatvani2024-f1", "supported"),
    ]:
        editor.record(
            "eve", "editor", "set_verdict", f"claim:{cid}", after={"verdict": verdict, "note": "t"}
        )
        fresh = KnowledgeBase.load(kb.data_dir)
        Editor.open(fresh, instance_dir)
        assert ask(kb, question) == ask(fresh, question), (cid, verdict)


def test_a_study_under_concern_is_said_so(kb: KnowledgeBase, instance_dir: Path) -> None:
    editor = Editor.open(kb, instance_dir)
    editor.record(
        "eve",
        "editor",
        "mark_reference",
        "reference:vatvani2024",
        reason="hypothetical concern, for this test only",
        after={"status": "concern"},
    )
    a = ask(kb, "Does LDN work for fibromyalgia?")
    said = [s for s in a["answer"]["sentences"] if "vatvani2024-f1" in s["claims"]]
    assert said and all("Vatvani 2024 is under an expression of concern" in s["text"] for s in said)


# -- the meter counts studies only -------------------------------------------------------------
STUDY_GROUPS = {"reviews", "trials", "observational", "case-reports"}
NOT_STUDIES = {"droracle2025_overview", "praxis2025_regimen", "droracle2026_ldn_answer"}


@pytest.mark.parametrize(
    "question",
    [
        "Does LDN work for chronic pain?",
        "Does LDN work for fibromyalgia?",
        "Is LDN effective for CRPS?",
        "Does LDN work for diabetic nerve pain?",
        "Does LDN help multiple sclerosis pain?",
    ],
)
def test_the_meter_counts_only_studies_and_adds_up(akb: KnowledgeBase, question: str) -> None:
    meter = ask(akb, question)["meter"]
    studies = [st for g in meter["groups"] for st in g["studies"]]
    refs = [st["ref"] for st in studies]
    # Guidelines, narrative reviews and secondary aggregators (Dr.Oracle, Praxis) report
    # others' studies: never counted as studies for or against.
    assert {g["id"] for g in meter["groups"]} <= STUDY_GROUPS
    assert not NOT_STUDIES & set(refs)
    for ref in refs:
        design = akb.references[ref].design
        assert design not in ("guideline", "narrative-review", "secondary-summary"), ref
    assert len(refs) == len(set(refs)) == meter["studies"] == sum(meter["counts"].values())


# -- the /ask page shows the evidence map of a "does it work?" answer ---------------------------
def test_ask_page_shows_the_evidence_map(real_client, akb: KnowledgeBase) -> None:  # type: ignore[no-untyped-def]
    doc = real_client.get("/api/ask", query_string={"q": "Does LDN work for fibromyalgia?"})
    emap = doc.get_json()["evidence_map"]
    assert emap and emap["marks"]
    # Every study counted by the meter is drawn on the map.
    meter = doc.get_json()["meter"]
    drawn = {mk["ref"] for mk in emap["marks"]}
    assert {st["ref"] for g in meter["groups"] for st in g["studies"]} <= drawn
    html = real_client.get("/ask", query_string={"q": "Does LDN work for fibromyalgia?"}).text
    assert 'id="answer-map"' in html and 'class="evidence-map"' in html
    # A dosing question is not a "does it work?" question: no map.
    dose = real_client.get("/api/ask", query_string={"q": "What is the starting dose of LDN?"})
    assert dose.get_json()["evidence_map"] is None
    assert 'id="answer-map"' not in real_client.get("/ask", query_string={"q": "LDN dose?"}).text


def test_other_effect_questions_take_the_certainty_of_their_body(akb: KnowledgeBase) -> None:
    # A response-rate question in fibromyalgia: one trial's "High" responder claim is a single
    # sentence's grade, the body of evidence on responders is what a methodologist rates.
    body = akb.summaries["low-dose-naltrexone--fibromyalgia--responder-rate"]
    a = ask(akb, "How many fibromyalgia patients respond to LDN?")["answer"]
    assert a["text"].startswith(body["statement"]) and a["certainty"] == body["certainty"]
    # Unstated condition: the chronic-pain responder body (observational only) leads.
    broad = akb.summaries["low-dose-naltrexone--chronic-pain--responder-rate"]
    b = ask(akb, "What percentage of patients respond to LDN?")["answer"]
    assert b["certainty"] == broad["certainty"] == "Very low"
    # A dosing answer has no body of evidence: its certainty stays its claim's grade.
    c = ask(akb, "What is the starting dose of LDN?")["answer"]
    assert c["certainty"] == akb.grade(c["claims"][0]).grade
