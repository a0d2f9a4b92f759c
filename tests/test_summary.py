"""Summary of findings: GRADE certainty of a body of evidence per outcome (kb.summary).

The expectations are written from the dossier (ldn_evidence.json findings and notes) and
GRADE-NOTES.md, not read back from the code.
"""

from __future__ import annotations

import re

import pytest

from kb import KnowledgeBase
from kb.errors import ConditionNotFound
from kb.summary import CERTAINTIES, OIS_CONTINUOUS, body_of, summary

FM_PAIN = "low-dose-naltrexone--fibromyalgia--pain"
CP_PAIN = "low-dose-naltrexone--chronic-pain--pain"


def _domains(body: dict) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in body["reasons"]:
        out[r["domain"]] = min(out.get(r["domain"], 0), r["change"])
    return out


def test_fibromyalgia_pain(real_kb: KnowledgeBase) -> None:
    """FINAL 2024 (n=99, null, nobody lost) and Bested 2023 (n=58, null) against Younger 2013 and
    the 2024 meta-analysis (Vatvani: 4 RCTs, 222 patients, benefit). The trials hold most of the
    participants and are null: little or no difference. Same question, different directions:
    inconsistency. 222 participants at most (the review may pool the same trials, so they are not
    added): fewer than about 400, imprecise. High - 2 = Low."""
    body = real_kb.summaries[FM_PAIN]
    assert {"bruun2024_final", "bested2023", "vatvani2024", "younger2013"} <= set(body["studies"])
    assert body["direction"] == "little or no difference"
    assert body["certainty"] == "Low"
    assert body["participants"] == 222
    domains = _domains(body)
    assert domains["inconsistency"] == -1 and domains["imprecision"] == -1
    assert domains.get("risk of bias", 0) == 0
    assert body["statement"] == (
        "Low-dose naltrexone may make little or no difference to pain in fibromyalgia."
    )
    # The mixed-condition review is indirect context here, never a study of this body.
    assert "rassimariani2024" not in body["studies"]
    assert any(
        r["domain"] == "context" and "Rassi-Mariani 2024" in r["text"] and r["change"] == 0
        for r in body["reasons"]
    )


def test_chronic_pain_in_general(real_kb: KnowledgeBase) -> None:
    """Rassi-Mariani 2024 (7 RCTs, 406 patients, not effective) and Hegde 2025 overall (SMD -0.11,
    95% CI -0.96 to 0.74): the interval spans appreciable benefit and harm even though 406 reach
    the information size. Observational cohorts are shown, not pooled; Hegde's comparison with
    active drugs is not counted."""
    body = real_kb.summaries[CP_PAIN]
    assert body["certainty"] == "Moderate"
    assert body["direction"] == "little or no difference"
    assert body["participants"] == 406 >= OIS_CONTINUOUS
    texts = " ".join(r["text"] for r in body["reasons"])
    assert "-0.96 to 0.74" in texts and "Martin 2022" in texts and "active drugs" in texts
    assert body["statement"].startswith("Low-dose naltrexone probably makes little or no")


def test_expert_opinion_is_shown_not_pooled(real_kb: KnowledgeBase) -> None:
    """kim2020-f1 ("sees promise") is a narrative-style review's opinion: it sits in the body of
    fibromyalgia symptom severity but the body starts from Younger 2009 (observational)."""
    body = body_of(real_kb, "kim2020-f1")
    assert body is not None and body["id"] == "low-dose-naltrexone--fibromyalgia--symptom-severity"
    start = body["reasons"][0]
    assert start["domain"] == "start" and "Younger 2009" in start["text"]
    assert "Kim 2020" not in start["text"]
    assert body["certainty"] == "Very low"


@pytest.mark.parametrize("cid", ["hegde2025-f5", "younger2013-f5", "bested2023-f2"])
def test_background_and_study_conduct_belong_to_no_body(real_kb: KnowledgeBase, cid: str) -> None:
    assert body_of(real_kb, cid) is None
    assert real_kb.grade(cid).body is None
    assert all(cid not in b["claims"] for b in real_kb.summaries.values())


def test_a_claims_badge_links_to_its_body(real_kb: KnowledgeBase) -> None:
    assert real_kb.grade("bruun2024_final-f1").body == FM_PAIN
    assert real_kb.grade("vatvani2024-f1").body == FM_PAIN
    # A statement of the seed page links to the body of its question, without being counted.
    assert real_kb.grade("seed-pain-change-0-83").body == CP_PAIN
    assert "seed-pain-change-0-83" not in real_kb.summaries[CP_PAIN]["claims"]


def test_answer_page_statements_are_never_counted(real_kb: KnowledgeBase) -> None:
    for body in real_kb.summaries.values():
        assert all(real_kb.claims[c].origin == "dossier" for c in body["claims"]), body["id"]


def test_a_noted_contradicting_trial_is_inconsistency(real_kb: KnowledgeBase) -> None:
    """Cree 2010's dossier note: a 96-patient MS trial found no difference in pain."""
    body = real_kb.summaries["low-dose-naltrexone--multiple-sclerosis--pain"]
    assert _domains(body)["inconsistency"] == -1
    assert _domains(body)["risk of bias"] == -1  # 60 of 80 completed
    assert body["certainty"] == "Very low"


def test_an_active_comparator_is_named_in_the_statement(real_kb: KnowledgeBase) -> None:
    body = real_kb.summaries["low-dose-naltrexone--painful-diabetic-neuropathy--pain"]
    assert body["statement"].endswith("compared with amitriptyline.")


def test_case_report_evidence_is_very_uncertain(real_kb: KnowledgeBase) -> None:
    body = real_kb.summaries["low-dose-naltrexone--crps--clinical-features"]
    assert body["participants"] == 2 and body["certainty"] == "Very low"
    assert body["statement"].startswith("The evidence is very uncertain")


def test_statements_follow_santesso(real_kb: KnowledgeBase) -> None:
    words = {"High": None, "Moderate": "probably", "Low": "may", "Very low": "very uncertain"}
    for body in real_kb.summaries.values():
        assert body["certainty"] in CERTAINTIES
        word = words[body["certainty"]]
        if word is None:
            assert " probably " not in body["statement"] and " may " not in body["statement"]
        else:
            assert word in body["statement"], body["id"]


def test_every_step_has_a_reason(real_kb: KnowledgeBase) -> None:
    order = {"High": 4, "Moderate": 3, "Low": 2, "Very low": 1}
    for body in real_kb.summaries.values():
        start = body["reasons"][0]
        assert start["domain"] == "start"
        level = order[start["text"].split(":")[0].removeprefix("Starts ")]
        level += sum(r["change"] for r in body["reasons"])
        assert order[body["certainty"]] == max(level, 1), body["id"]
        assert all(r["text"] for r in body["reasons"])


def test_only_numbers_present_in_claims_are_shown(real_kb: KnowledgeBase) -> None:
    for body in real_kb.summaries.values():
        if body["effect"] == "not reported":
            continue
        source = " ".join(
            f"{k} {v}"
            for c in body["claims"]
            for k, v in real_kb.claims[c].record["reported_numbers"].items()
        )
        source += " " + " ".join(real_kb.references[r].label for r in body["studies"])
        for number in re.findall(r"\d+(?:\.\d+)?", body["effect"]):
            assert number in source, (body["id"], number)


def test_summary_filters_by_condition_and_below(real_kb: KnowledgeBase) -> None:
    fm = summary(real_kb, condition="fibromyalgia")
    assert fm and {b["condition"] for b in fm} == {"fibromyalgia"}
    neuro = {b["condition"] for b in summary(real_kb, condition="neuropathic-pain")}
    assert {"crps", "painful-diabetic-neuropathy", "neuropathic-corneal-pain"} <= neuro
    only = summary(real_kb, intervention="capsaicin 8% patch")
    assert [b["intervention"] for b in only] == ["capsaicin 8% patch"]
    with pytest.raises(ConditionNotFound):
        summary(real_kb, condition="no-such-condition")


def test_summaries_are_cached_on_the_knowledge_base(real_kb: KnowledgeBase) -> None:
    assert real_kb.summaries is real_kb.summaries


def test_summaries_after_edits_equal_a_fresh_load(data_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Verdicts and board decisions re-rate only the bodies they touch; a reference mark
    rates every body again. Either way the bodies are those of a fresh load of the same
    data and journal."""
    from kb.editorial import Editor

    instance = tmp_path / "instance"
    kb = KnowledgeBase.load(data_dir)
    editor = Editor.open(kb, instance)
    kb.summaries  # noqa: B018 - rated once before the edits

    def fresh() -> dict:
        other = KnowledgeBase.load(data_dir)
        Editor.open(other, instance)
        return other.summaries

    conflict = next(iter(kb.conflicts))
    steps = [
        ("set_verdict", "claim:vatvani2024-f1", {"after": {"verdict": "not_stated", "note": "t"}}),
        # a chronic-pain body: the fibromyalgia bodies under it take it as context
        ("set_verdict", "claim:irwin2024-f1", {"after": {"verdict": "not_stated", "note": "t"}}),
        ("mark_reference", "reference:bruun2024_final", {"after": {"status": "concern"}}),
        (
            "set_verdict",
            "claim:bruun2024_final-f1",
            {"after": {"verdict": "supported_with_nuance", "note": "t"}},
        ),
        ("dismiss_conflict", f"conflict:{conflict}", {}),
    ]
    for action, target, extra in steps:
        if action == "dismiss_conflict":
            extra = {"base_version": editor.version(target)}
        editor.record("eve", "editor", action, target, reason="test", **extra)
        assert kb.summaries == fresh(), (action, target)
    # the mark is still shown after the edits that followed it
    concern = [r["text"] for r in kb.summaries[FM_PAIN]["reasons"] if r["domain"] == "risk of bias"]
    assert any("expression of concern" in t for t in concern)


# -- surfaces: CLI, pages and their JSON twins ------------------------------------------------
def test_cli_summary_text_and_json(data_dir) -> None:  # type: ignore[no-untyped-def]
    import json

    from click.testing import CliRunner

    from kb.cli import cli

    runner = CliRunner()
    text = runner.invoke(
        cli, ["--data-dir", str(data_dir), "summary", "--condition", "fibromyalgia"]
    )
    assert text.exit_code == 0, text.output
    assert "may make little or no difference to pain in fibromyalgia" in text.output
    assert "-1 imprecision" in text.output
    as_json = runner.invoke(cli, ["--data-dir", str(data_dir), "summary", "--json"])
    data = json.loads(as_json.output)
    assert FM_PAIN in {b["id"] for b in data["bodies"]}
    bad = runner.invoke(cli, ["--data-dir", str(data_dir), "summary", "--condition", "nope"])
    assert bad.exit_code == 1 and "nope" in bad.output and "Traceback" not in bad.output


@pytest.mark.parametrize(
    ("page", "api"),
    [
        ("/summary", "/api/summary"),
        ("/summary?condition=fibromyalgia", "/api/summary?condition=fibromyalgia"),
        ("/conditions/neuropathic-pain", "/api/conditions/neuropathic-pain"),
    ],
)
def test_pages_show_what_their_json_twins_hold(real_client, page: str, api: str) -> None:  # type: ignore[no-untyped-def]
    html = real_client.get(page)
    data = real_client.get(api)
    assert html.status_code == data.status_code == 200
    text = html.text
    assert len(re.findall(r"<h1[ >]", text)) == 1 and "<script" not in text
    ids = re.findall(r' id="([^"]+)"', text)
    assert len(ids) == len(set(ids))
    for body in data.get_json()["bodies"]:
        assert f'id="body-{body["id"]}"' in text
        assert body["statement"] in text.replace("&#39;", "'")


def test_twins_match_the_openapi_schema(real_client) -> None:  # type: ignore[no-untyped-def]
    from jsonschema import Draft202012Validator

    spec = real_client.get("/api/openapi.json").get_json()
    for path, url in [
        ("/api/summary", "/api/summary"),
        ("/api/conditions/{condition_id}", "/api/conditions/fibromyalgia"),
        ("/api/claims/{claim_id}", "/api/claims/bruun2024_final-f1"),
        ("/api/articles/{article_id}", "/api/articles/ldn-chronic-pain"),
    ]:
        ok = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        schema = {**ok["schema"], "components": spec["components"]}
        Draft202012Validator(schema).validate(real_client.get(url).get_json())


@pytest.mark.parametrize(
    "url", ["/conditions/nope", "/api/conditions/nope", "/api/summary?condition=nope"]
)
def test_an_unknown_condition_is_a_404(real_client, url: str) -> None:  # type: ignore[no-untyped-def]
    r = real_client.get(url)
    assert r.status_code == 404 and b"Traceback" not in r.data


def test_a_claim_page_links_its_badge_to_its_body(real_client) -> None:  # type: ignore[no-untyped-def]
    data = real_client.get("/api/claims/bruun2024_final-f1").get_json()
    assert data["body"]["id"] == data["claim"]["evidence"]["body"] == FM_PAIN
    html = real_client.get("/claims/bruun2024_final-f1").text
    assert f"/summary#body-{FM_PAIN}" in html
    conduct = real_client.get("/api/claims/younger2013-f5").get_json()
    assert conduct["body"] is None and conduct["claim"]["evidence"]["grade"] == "Not graded"


def test_the_article_page_has_a_summary_of_findings_section(real_client) -> None:  # type: ignore[no-untyped-def]
    data = real_client.get("/api/articles/ldn-chronic-pain").get_json()
    ids = {b["id"] for b in data["summary_of_findings"]}
    assert FM_PAIN in ids and CP_PAIN in ids
    assert all(b["intervention"] == "low-dose naltrexone" for b in data["summary_of_findings"])
    html = real_client.get("/articles/ldn-chronic-pain").text
    assert 'id="sof-title"' in html
    assert "may make little or no difference to pain in fibromyalgia" in html


def test_a_long_summary_on_an_article_page_shows_the_first_rows_and_links_the_rest(
    real_client,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """Thousands of bodies of evidence (large knowledge bases) would be megabytes per page."""
    import kb.pages

    full = real_client.get("/api/articles/ldn-chronic-pain").get_json()
    assert full["summary_not_shown"] == 0
    monkeypatch.setattr(kb.pages, "ARTICLE_SOF_ROWS", 5)
    short = real_client.get("/api/articles/ldn-chronic-pain").get_json()
    assert short["summary_of_findings"] == full["summary_of_findings"][:5]
    assert short["summary_not_shown"] == len(full["summary_of_findings"]) - 5
    html = real_client.get("/articles/ldn-chronic-pain").text
    assert f"{short['summary_not_shown']} more bodies of evidence not shown here" in html
    assert 'href="/summary">the full summary of findings</a>' in html


# -- editorial marks (issue 12): a retraction takes a study out of its bodies -----------------
RETRACTED = "rassimariani2024"  # the chronic-pain pain body's review (7 RCTs, 406 patients)
CONCERNED = "vatvani2024"  # the fibromyalgia pain body's meta-analysis (4 RCTs, 222 patients)


def _mark(editor, ref: str, status: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    editor.record(
        "eve", "editor", "mark_reference", f"reference:{ref}", reason=reason,
        after={"status": status}, base_version=editor.version(f"reference:{ref}"),
    )  # fmt: skip


def _clear(editor, ref: str) -> None:  # type: ignore[no-untyped-def]
    editor.record(
        "eve", "editor", "clear_reference", f"reference:{ref}", reason="mistaken",
        base_version=editor.version(f"reference:{ref}"),
    )  # fmt: skip


def test_a_retracted_study_leaves_every_body_it_fed(data_dir, instance_dir) -> None:  # type: ignore[no-untyped-def]
    """Labelled from the dossier: Rassi-Mariani 2024 is the only source of the 406 participants
    of chronic-pain pain (Hegde 2025's n is not stated). Once it is retracted the body keeps
    Hegde 2025 (SMD -0.11, 95% CI -0.96 to 0.74: still imprecise), its participants are no longer
    406, and it says why in words. Clearing the mark brings the body back unchanged."""
    from kb.editorial import Editor

    kb = KnowledgeBase.load(data_dir)
    editor = Editor.open(kb, instance_dir)
    before = {k: dict(b) for k, b in kb.summaries.items()}
    fed = [k for k, b in before.items() if RETRACTED in b["studies"]]
    assert CP_PAIN in fed
    reason = "hypothetical retraction, for this test only"
    _mark(editor, RETRACTED, "retracted", reason)
    for key in fed:
        body = kb.summaries[key]
        assert RETRACTED not in body["studies"]
        assert not {c for c in body["claims"] if c.startswith(RETRACTED)}
        shown = [r["text"] for r in body["reasons"] if r["domain"] == "excluded"]
        assert shown and shown[0].startswith(
            f"Excluded: Rassi-Mariani 2024 was retracted ({reason})"
        )
    body = kb.summaries[CP_PAIN]
    assert body["participants"] != 406
    assert "hegde2025" in body["studies"] and body["direction"] == "little or no difference"
    assert "-0.96 to 0.74" in " ".join(r["text"] for r in body["reasons"])
    _clear(editor, RETRACTED)
    assert kb.summaries == before


def test_a_body_whose_every_study_is_retracted_has_nothing_left(data_dir, instance_dir) -> None:  # type: ignore[no-untyped-def]
    from kb.editorial import Editor

    kb = KnowledgeBase.load(data_dir)
    editor = Editor.open(kb, instance_dir)
    only = next(b for b in kb.summaries.values() if len(b["studies"]) == 1)
    (ref,) = only["studies"]
    _mark(editor, ref, "retracted", "hypothetical")
    body = kb.summaries[only["id"]]
    assert body["claims"] == [] and body["studies"] == [] and body["participants"] is None
    assert body["certainty"] == "Very low" and body["direction"] == "not estimable"
    assert body["reasons"][0]["domain"] == "start"
    assert any(r["text"].startswith("Excluded: ") for r in body["reasons"])


def test_an_expression_of_concern_keeps_the_study_and_rates_down(data_dir, instance_dir) -> None:  # type: ignore[no-untyped-def]
    """Fibromyalgia pain is Low (High - inconsistency - imprecision, see above) with no risk of
    bias. A concern on Vatvani 2024 keeps it in the body but costs one level for risk of bias,
    with the board's reason: Very low."""
    from kb.editorial import Editor

    kb = KnowledgeBase.load(data_dir)
    editor = Editor.open(kb, instance_dir)
    assert kb.summaries[FM_PAIN]["certainty"] == "Low"
    reason = "hypothetical concern, for this test only"
    _mark(editor, CONCERNED, "concern", reason)
    body = kb.summaries[FM_PAIN]
    assert CONCERNED in body["studies"] and body["participants"] == 222
    assert body["certainty"] == "Very low"
    (bias,) = [r for r in body["reasons"] if r["domain"] == "risk of bias"]
    assert (
        bias["change"] == -1 and "expression of concern" in bias["text"] and reason in bias["text"]
    )
    _clear(editor, CONCERNED)
    assert kb.summaries[FM_PAIN]["certainty"] == "Low"


def test_pages_and_cli_follow_the_mark_at_once(editorial_client, data_dir, instance_dir) -> None:  # type: ignore[no-untyped-def]
    """/summary, /conditions/chronic-pain, the article page, their JSON twins and `kb summary`
    show the exclusion right after another process journals the mark, and drop it after the
    clear event."""
    from click.testing import CliRunner

    from kb.cli import cli
    from kb.editorial import Editor

    excluded = "Excluded: Rassi-Mariani 2024 was retracted (hypothetical retraction)"
    pages = ["/summary", "/conditions/chronic-pain", "/articles/ldn-chronic-pain"]
    for page in pages:  # warm every cache first
        assert excluded not in editorial_client.get(page).text
    writer = Editor.open(KnowledgeBase.load(data_dir), instance_dir)
    _mark(writer, RETRACTED, "retracted", "hypothetical retraction")
    for page in pages:
        assert excluded in editorial_client.get(page).text, page
    body = next(
        b for b in editorial_client.get("/api/summary").get_json()["bodies"] if b["id"] == CP_PAIN
    )
    assert RETRACTED not in body["studies"]
    out = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "summary"], obj={}).output
    assert excluded in out
    _clear(writer, RETRACTED)
    for page in pages:
        assert excluded not in editorial_client.get(page).text, page
    out = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "summary"], obj={}).output
    assert excluded not in out


# -- very serious imprecision (two levels) -----------------------------------------------------
def test_very_few_participants_is_very_serious_imprecision(real_kb: KnowledgeBase) -> None:
    """Younger 2013 (crossover RCT, n=31) alone holds fibromyalgia quality of life: 31 is under
    a quarter of the about 400 a continuous outcome needs, so imprecision costs two levels
    (GRADE guidance 34: sample size far less than the OIS). Fibromyalgia pain holds 222
    participants, short of 400 but not far short: one level only."""
    from kb.summary import OIS_FAR_SHARE

    qol = real_kb.summaries["low-dose-naltrexone--fibromyalgia--quality-of-life"]
    assert qol["participants"] == 31 < OIS_CONTINUOUS * OIS_FAR_SHARE
    assert _domains(qol)["imprecision"] == -2
    (why,) = [r["text"] for r in qol["reasons"] if r["domain"] == "imprecision"]
    assert "very serious" in why and "two levels" in why
    assert _domains(real_kb.summaries[FM_PAIN])["imprecision"] == -1
    for body in real_kb.summaries.values():  # the floor stays Very low
        assert body["certainty"] in CERTAINTIES


def test_a_reason_names_at_most_a_few_studies_and_counts_the_rest(
    real_kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bodies of thousands of studies (large knowledge bases) keep their reasons readable."""
    import kb.summary

    body = real_kb.summaries[FM_PAIN]
    start = next(r["text"] for r in body["reasons"] if r["domain"] == "start")
    monkeypatch.setattr(kb.summary, "LABELS_NAMED", 1)
    shorter = kb.summary.build(KnowledgeBase.load(real_kb.data_dir))[FM_PAIN]
    cut = next(r["text"] for r in shorter["reasons"] if r["domain"] == "start")
    named = start.split("(", 1)[1].rstrip(").").split(", ")
    assert len(named) > 1
    assert cut.endswith(f"({named[0]} and {len(named) - 1} more).")
