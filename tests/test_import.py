"""Importing answer documents: structure, values, references, idempotency, refusals, conflicts."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from kb import InvalidData, KnowledgeBase
from kb.errors import InvalidDocument
from kb.importer import (
    decode_document,
    extract_values,
    import_bytes,
    import_file,
    normalise_title,
    parse_document,
    rules,
    split_citations,
)
from kb.locking import LOCK_FILE

FIXTURES = Path(__file__).parent / "fixtures" / "import"
SEED_PAGE = Path(__file__).resolve().parents[2] / "shared" / "seed" / "ldn-chronic-pain-answer.txt"
TODAY = date(2026, 2, 1)


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.name != LOCK_FILE  # the writer lock's file, empty, made by the first writer
    }


def _import(kb: KnowledgeBase, name: str, **kw: Any) -> Any:
    return import_file(kb, FIXTURES / name, today=TODAY, **kw)


# -- each layout -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "claims", "new", "matched", "unresolved", "not_understood"),
    [
        ("bulleted-kinds-commas.txt", 6, 2, 1, [], 0),
        ("plain-no-kinds-spaces.txt", 4, 2, 1, [], 0),
        ("dash-bullets-numbered-refs.txt", 5, 1, 1, [], 0),
        ("existing-reference.txt", 3, 0, 2, [], 0),
        ("unresolved-number.txt", 3, 1, 0, [3], 2),
    ],
)
def test_each_layout_imports_with_expected_counts(
    data_dir: Path,
    kb: KnowledgeBase,
    name: str,
    claims: int,
    new: int,
    matched: int,
    unresolved: list[int],
    not_understood: int,
) -> None:
    report = _import(kb, name)
    assert report.written and not report.unchanged
    assert len(report.claims) == claims
    assert len(report.references_new) == new
    assert len(report.references_matched) == matched
    assert [u["number"] for u in report.unresolved_citations] == unresolved
    assert len(report.not_understood) == not_understood
    # What was written loads and validates like any data directory.
    loaded = KnowledgeBase.load(data_dir)
    art = loaded.article(report.article_id)
    assert art.review_status == "submitted"
    assert len(art.claim_ids()) == claims
    assert len(loaded.claims) == len(kb.claims) + claims
    assert len(loaded.references) == len(kb.references) + new


def test_imported_claims_follow_the_data_model(kb: KnowledgeBase) -> None:
    report = _import(kb, "bulleted-kinds-commas.txt")
    new_kb = report.knowledge_base
    for n, item in enumerate(report.claims, start=1):
        claim = new_kb.claims[item["id"]]
        assert claim.id == f"imp-{report.article_id}-{n}"
        assert claim.origin == "import" and claim.reported_in == "secondary"
        assert claim.record["seen_at"] is None
        assert claim.primary == {
            "ref": None,
            "verdict": "not_assessed",
            "basis": "import",
            "note": "Imported; not yet traced to a primary source.",
        }
        assert claim.intervention == "low-dose naltrexone"
        assert claim.conditions == ["fibromyalgia"]  # from the title: no statement names one


def test_furniture_is_skipped_and_reported(kb: KnowledgeBase) -> None:
    report = _import(kb, "bulleted-kinds-commas.txt", dry_run=True)
    skipped = [item["text"] for item in report.skipped_furniture]
    for text in (
        "Article Review Status",
        "Submitted",
        "Under Review",
        "Approved",
        "Personalize",
        "Professional Medical Disclaimer",
        "Have a follow-up question?",
    ):
        assert text in skipped
    assert any(t.startswith("This paragraph stands in for the page's disclaimer") for t in skipped)
    assert any(t.startswith("Last updated:") for t in skipped)
    assert report.last_updated == "2026-03-03" and report.last_updated_from == "document"
    assert not any("Disclaimer" in c["text"] or "follow-up" in c["text"] for c in report.claims)


def test_last_updated_defaults_to_the_callers_date(kb: KnowledgeBase) -> None:
    report = _import(kb, "plain-no-kinds-spaces.txt", dry_run=True)
    assert report.last_updated == "2026-02-01" and report.last_updated_from == "caller"


def test_sections_and_subsections(kb: KnowledgeBase) -> None:
    report = _import(kb, "bulleted-kinds-commas.txt", dry_run=True)
    art = report.knowledge_base.articles[report.article_id]
    assert art.question.startswith("What titration schedule")
    assert art.title.startswith("Test document:")
    assert art.bottom_line == [f"imp-{report.article_id}-1"]
    tree = [(s["heading"], [x["heading"] for x in s.get("subsections", [])]) for s in art.sections]
    assert tree == [
        ("Dosing Schedule", ["Starting Dose", "Titration", "Upper Limit"]),
        ("Monitoring", ["Follow-up"]),
    ]
    plain = _import(kb, "plain-no-kinds-spaces.txt", dry_run=True)
    sections = plain.knowledge_base.articles[plain.article_id].sections
    assert [s["heading"] for s in sections] == ["Safety", "Dosing"]
    assert all("subsections" not in s for s in sections)


def test_nested_bullets_carry_their_lead_in(kb: KnowledgeBase) -> None:
    report = _import(kb, "dash-bullets-numbered-refs.txt", dry_run=True)
    last = report.claims[-1]
    assert last["text"].startswith(
        "Patients with CRPS were among those most likely to respond: Response was reported by 64%"
    )
    assert last["kind"] == "response_rate" and last["value_text"] == "64%"
    assert last["conditions"] == ["neuropathic-pain"]


# -- rules -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "core", "numbers"),
    [
        ("Maximum dose: 6 mg daily 2", "Maximum dose: 6 mg daily", [2]),
        ("Increase by 0.5 mg every week 1, 2", "Increase by 0.5 mg every week", [1, 2]),
        ("Increase by 0.5 mg every week 1 2", "Increase by 0.5 mg every week", [1, 2]),
        ("Allow 3-4 weeks to take effect. 1,2", "Allow 3-4 weeks to take effect.", [1, 2]),
        ("Most likely to respond: [1]", "Most likely to respond:", [1]),
        ("Defined as 1 to 5 mg per day. 1", "Defined as 1 to 5 mg per day.", [1]),
        ("Review at week 12", "Review at week 12", []),
        ("Review at week 12 3", "Review at week 12", [3]),
        ("The ceiling is 4.5 mg", "The ceiling is 4.5 mg", []),
    ],
)
def test_split_citations(text: str, core: str, numbers: list[int]) -> None:
    assert split_citations(text) == (core, numbers)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Begin at 4.5 mg", {"type": "quantity", "value": 4.5, "unit": "mg"}),
        (
            "about 32% of patients",
            {"type": "percentage", "value": 32, "unit": "%", "qualifier": "~"},
        ),
        (
            "some use 3-5 mg daily",
            {"type": "range", "low": 3, "high": 5, "unit": "mg", "per": "day"},
        ),
        ("3 to 5 mg", {"type": "range", "low": 3, "high": 5, "unit": "mg"}),
        (
            "1.5 mg every 2 weeks",
            {
                "type": "quantity",
                "value": 1.5,
                "unit": "mg",
                "interval": {"value": 2, "unit": "week"},
            },
        ),
        (
            "0.5 mg every two weeks",
            {
                "type": "quantity",
                "value": 0.5,
                "unit": "mg",
                "interval": {"value": 2, "unit": "week"},
            },
        ),
        (
            "0.5 mg every week",
            {
                "type": "quantity",
                "value": 0.5,
                "unit": "mg",
                "interval": {"value": 1, "unit": "week"},
            },
        ),
        ("2,400 mg/day", {"type": "quantity", "value": 2400, "unit": "mg", "per": "day"}),
        ("4.5 mg nightly", {"type": "quantity", "value": 4.5, "unit": "mg", "per": "night"}),
        ("7 RCTs", {"type": "count", "value": 7, "unit": "RCTs"}),
        ("after 6-8 weeks", {"type": "range", "low": 6, "high": 8, "unit": "weeks"}),
    ],
)
def test_extract_values(text: str, expected: dict[str, Any]) -> None:
    found = extract_values(text)[0].record
    as_stated = found.pop("as_stated")
    assert found == expected
    assert as_stated in text


def test_schedules_and_doses_get_structured_values(kb: KnowledgeBase) -> None:
    report = _import(kb, "bulleted-kinds-commas.txt", dry_run=True)
    claims = report.knowledge_base.claims
    by_outcome = {claims[c["id"]].outcome: claims[c["id"]] for c in report.claims}
    assert by_outcome["titration-schedule"].value == {
        "type": "quantity",
        "value": 0.5,
        "unit": "mg",
        "as_stated": "0.5 mg every week",
        "interval": {"value": 1, "unit": "week"},
    }
    assert by_outcome["starting-dose"].value_text == "0.5 mg/night"  # "at bedtime"
    assert by_outcome["maximum-dose"].value_text == "6 mg/day"
    assert by_outcome["adverse-effect-rate"].value_text == "32%"
    assert by_outcome["time-to-response"].value_text == "12 weeks"


@pytest.mark.parametrize(
    ("name", "kind", "outcome", "direction", "intervention"),
    [
        (
            "plain-no-kinds-spaces.txt",
            "contraindication",
            "contraindication",
            "neutral",
            "low-dose naltrexone",
        ),
        ("existing-reference.txt", "dose", "dose-range", "neutral", "low-dose naltrexone"),
    ],
)
def test_first_claim_classification(
    kb: KnowledgeBase, name: str, kind: str, outcome: str, direction: str, intervention: str
) -> None:
    first = _import(kb, name, dry_run=True).claims[0]
    assert (first["kind"], first["outcome"], first["direction"], first["intervention"]) == (
        kind,
        outcome,
        direction,
        intervention,
    )


def test_unknown_lines_are_reported_with_their_line_numbers(kb: KnowledgeBase) -> None:
    report = _import(kb, "unresolved-number.txt", dry_run=True)
    assert [(i["line"], i["text"]) for i in report.not_understood] == [
        (7, "Further details are in the test appendix."),
        (22, "Further reading is listed in the test appendix"),
    ]


# -- references --------------------------------------------------------------------------------
def test_titles_match_across_dashes_case_and_trailing_period() -> None:
    assert normalise_title(
        "Low-Dose Naltrexone (LDN)-Review of Therapeutic Utilization."
    ) == normalise_title("Low-Dose Naltrexone (LDN)\u2014Review of Therapeutic Utilization")


def test_existing_references_are_matched_not_duplicated(kb: KnowledgeBase) -> None:
    report = _import(kb, "existing-reference.txt")
    assert [(m["ref"], m["matched_by"]) for m in report.references_matched] == [
        ("toljan2018", "title and year"),
        ("bostick2019", "title and year"),
    ]
    art = report.knowledge_base.articles[report.article_id]
    assert art.reference_list == [
        {"number": 1, "ref": "toljan2018"},
        {"number": 2, "ref": "bostick2019"},
    ]
    first = report.knowledge_base.claims[art.bottom_line[0]]
    assert first.citations == [{"ref": "toljan2018", "number": 1}]


def test_a_doi_line_matches_by_doi(kb: KnowledgeBase) -> None:
    report = _import(kb, "dash-bullets-numbered-refs.txt", dry_run=True)
    assert report.references_matched[0]["ref"] == "toljan2018"
    assert report.references_matched[0]["matched_by"] == "doi"


def test_new_references_are_csl_items_without_invented_identifiers(kb: KnowledgeBase) -> None:
    report = _import(kb, "bulleted-kinds-commas.txt")
    refs = report.knowledge_base.references
    guideline, research = (refs[r["ref"]] for r in report.references_new)
    assert guideline.csl["type"] == "document" and guideline.role == "secondary-summary"
    assert research.csl["type"] == "article-journal" and research.role == "primary-study"
    assert guideline.csl["container-title"] == "Test Society Bulletin"
    assert guideline.title == "Test guideline on titrating low-dose naltrexone"
    assert guideline.year == 2025
    for ref in (guideline, research):
        assert not {"DOI", "PMID", "PMCID", "URL", "author"} & ref.csl.keys()
        custom = ref.custom
        assert (custom["design"], custom["n"], custom["verification"]) == (
            "not stated",
            "not stated",
            "imported",
        )
        assert custom["provenance"] == [] and custom["traced_to"] == []
        assert custom["condition_ids"] == []


def test_numbers_the_list_lacks_stay_unresolved(kb: KnowledgeBase) -> None:
    report = _import(kb, "unresolved-number.txt")
    item = report.unresolved_citations[0]
    assert item["number"] == 3 and item["lines"] == [5, 12]
    claim = report.knowledge_base.claims[item["claims"][0]]
    assert {"ref": None, "number": 3} in claim.citations
    assert {"ref": "test2021_test-crossover-trial", "number": 1} in claim.citations


# -- idempotency and dry run -------------------------------------------------------------------
def test_importing_twice_changes_nothing(data_dir: Path, kb: KnowledgeBase) -> None:
    first = _import(kb, "bulleted-kinds-commas.txt")
    after_first = _digest(data_dir)
    again = import_file(
        KnowledgeBase.load(data_dir), FIXTURES / "bulleted-kinds-commas.txt", today=date(2027, 1, 1)
    )
    assert again.unchanged and not again.written
    assert again.to_dict()["unchanged"] is True
    assert again.article_id == first.article_id
    assert [c["id"] for c in again.claims] == [c["id"] for c in first.claims]
    assert _digest(data_dir) == after_first


def test_line_endings_do_not_change_the_article(data_dir: Path, kb: KnowledgeBase) -> None:
    raw = (FIXTURES / "plain-no-kinds-spaces.txt").read_bytes()
    first = import_bytes(kb, raw, name="a.txt", today=TODAY)
    again = import_bytes(
        KnowledgeBase.load(data_dir), raw.replace(b"\n", b"\r\n"), name="a-crlf.txt", today=TODAY
    )
    assert again.unchanged and again.article_id == first.article_id


def test_dry_run_writes_nothing(data_dir: Path, kb: KnowledgeBase) -> None:
    before = _digest(data_dir)
    report = _import(kb, "plain-no-kinds-spaces.txt", dry_run=True)
    assert report.dry_run and not report.written and report.claims
    assert _digest(data_dir) == before
    assert report.article_id not in KnowledgeBase.load(data_dir).articles


def test_nothing_is_written_when_the_result_would_not_validate(
    data_dir: Path, kb: KnowledgeBase, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(rules(), "default_condition", "no-such-condition")
    before = _digest(data_dir)
    with pytest.raises(InvalidData, match="unknown condition 'no-such-condition'"):
        _import(kb, "existing-reference.txt")
    assert _digest(data_dir) == before


# -- refusals ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"  \n\n\t\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"%PDF-1.4\n\x01\x02\x03 stream", "binary"),
        (
            "Is it safe?\nTest document: caf\u00e9 \u2013 dosing\nStart at 1 mg. 1\n".encode(
                "latin-1", "replace"
            ),
            "not UTF-8",
        ),
        ("Is it safe?\nTest document\n".encode("utf-16"), "UTF-16"),
        (
            "Is it safe?\nTest document \u00e2\u20ac\u201c dosing\nStart at 1 mg. 1\n".encode(),
            "wrongly encoded",
        ),
        (b"Is it safe?\n" + b"Test document: padding. 1\n" * 45_000, "at most 1,000,000 bytes"),
    ],
)
def test_unusable_files_are_refused_and_nothing_is_written(
    data_dir: Path, kb: KnowledgeBase, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "upload.txt"
    path.write_bytes(content)
    before = _digest(data_dir)
    with pytest.raises(InvalidDocument, match=message) as info:
        import_file(kb, path, today=TODAY)
    assert str(info.value).startswith("upload.txt")
    assert _digest(data_dir) == before


def test_latin1_error_names_the_line(tmp_path: Path) -> None:
    data = "Question?\nTitle\nA statement about caf\u00e9 1\n".encode("latin-1")
    with pytest.raises(InvalidDocument, match=r"upload.txt, line 3: not UTF-8 text \(byte 0xe9"):
        decode_document(data, name="upload.txt")


def test_a_text_that_is_not_an_answer_document_is_refused(kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidDocument, match="no statements found"):
        import_bytes(kb, b"Just a title line\n", name="note.txt", today=TODAY)
    with pytest.raises(InvalidDocument, match="no title"):
        parse_document("Personalize\nArticle Review Status\n", name="x.txt")


def test_missing_file(kb: KnowledgeBase, tmp_path: Path) -> None:
    with pytest.raises(InvalidDocument, match="file not found"):
        import_file(kb, tmp_path / "nope.txt", today=TODAY)


# -- conflicts across articles -----------------------------------------------------------------
def _opposed(kb: KnowledgeBase, ctype: str, mine: str, theirs: str) -> bool:
    for conflict in kb.conflicts.values():
        side = {c: i for i, s in enumerate(conflict.sides) for c in s.claims}
        if (
            conflict.type == ctype
            and mine in side
            and theirs in side
            and side[mine] != side[theirs]
        ):
            return True
    return False


def test_another_schedule_and_maximum_conflict_with_the_seed(
    data_dir: Path, kb: KnowledgeBase
) -> None:
    report = _import(kb, "bulleted-kinds-commas.txt")
    loaded = KnowledgeBase.load(data_dir)
    ids = {loaded.claims[c["id"]].outcome: c["id"] for c in report.claims[1:]}
    assert _opposed(
        loaded, "incompatible_values", ids["titration-schedule"], "seed-titration-schedule"
    )
    assert _opposed(loaded, "incompatible_values", ids["maximum-dose"], "seed-max-dose")
    assert _opposed(loaded, "incompatible_values", ids["starting-dose"], "seed-start-dose")
    assert any(
        c["type"] == "incompatible_values" and "seed-max-dose" in c["with"]
        for c in report.conflicts
    )


def test_a_contraindication_conflicts_with_no_drug_interactions(
    data_dir: Path, kb: KnowledgeBase
) -> None:
    report = _import(kb, "plain-no-kinds-spaces.txt")
    contra = report.claims[0]["id"]
    loaded = KnowledgeBase.load(data_dir)
    assert _opposed(loaded, "safety_contradiction", contra, "seed-no-drug-interactions")
    assert [c["type"] for c in report.conflicts] == ["safety_contradiction"]


def test_the_same_schedule_does_not_conflict(kb: KnowledgeBase) -> None:
    text = (
        "Question?\nTest document: the held schedule restated\n"
        "Increase by 1.5 mg every 2 weeks 1\nReferences\nResearch\nA test source.\n"
        "Test Source, 2020\n"
    )
    report = import_bytes(kb, text.encode(), name="same.txt", today=TODAY, dry_run=True)
    mine = report.claims[0]["id"]
    assert report.claims[0]["value_text"] == "1.5 mg every 2 weeks"
    # It agrees with the seed; a trial's own titration protocol is study conduct, not a
    # recommended schedule, so it is not set against either.
    assert not _opposed(
        report.knowledge_base, "incompatible_values", mine, "seed-titration-schedule"
    )
    assert not _opposed(report.knowledge_base, "incompatible_values", mine, "srinivasan2021-f3")


# -- the seed page itself (read in place, never copied) ----------------------------------------
@pytest.mark.skipif(not SEED_PAGE.is_file(), reason="the shared seed page is not beside the repo")
def test_the_seed_page_imports_cleanly(kb: KnowledgeBase) -> None:
    report = import_file(kb, SEED_PAGE, today=TODAY, dry_run=True)
    assert report.references_new == [] and len(report.references_matched) == 5
    assert [m["ref"] for m in report.references_matched] == [
        "droracle2025_overview",
        "spargo2025",
        "bostick2019",
        "toljan2018",
        "praxis2025_regimen",
    ]
    assert [u["number"] for u in report.unresolved_citations] == [6, 7]
    assert report.not_understood == [] and report.warnings == []
    assert report.last_updated == "2026-01-14"
    assert len(report.claims) >= 45
