"""The kb modules behind the pages: glossary, matrix, contested, related, page documents."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb import InvalidQuery, KnowledgeBase, glossary, pages
from kb.contested import TYPE_LABELS, conflict_view, contested
from kb.matrix import matrix
from kb.related import related


@given(st.text(max_size=200))
def test_glossary_segments_join_back_to_the_text(text: str) -> None:
    segments = glossary.default().annotate(text)
    assert "".join(s["text"] for s in segments) == text


def test_glossary_marks_each_term_once_per_page() -> None:
    g = glossary.default()
    seen: set[str] = set()
    first = g.annotate("CRPS and complex regional pain syndrome; SNRIs or TCAs", seen=seen)
    assert [s["term"] for s in first if s["term"]] == ["crps", "snri", "tca"]
    again = g.annotate("CRPS again", seen=seen)
    assert all(s["term"] is None for s in again)
    # Abbreviations match in capitals only; words in any case.
    assert all(s["term"] is None for s in g.annotate("the ci of tca"))
    assert [s["term"] for s in g.annotate("Off-Label use") if s["term"]] == ["off-label"]


def test_glossary_has_the_terms_a_patient_meets() -> None:
    ids = set(glossary.default().terms)
    assert {"crps", "tlr4", "snri", "tca", "rct", "off-label", "nsaid", "ldn"} <= ids


def test_matrix_for_the_article(real_kb: KnowledgeBase) -> None:
    m = matrix(real_kb, article="ldn-chronic-pain")
    assert [r["id"] for r in m["rows"]] == real_kb.article("ldn-chronic-pain").claim_ids()
    numbers = [r["number"] for r in m["references"] if r["number"] is not None]
    assert numbers == sorted(numbers) and numbers[0] == 1
    cols = [r["id"] for r in m["references"]]
    row = next(r for r in m["rows"] if r["id"] == "seed-neuropathic-64pct-response")
    cells = dict(zip(cols, row["cells"], strict=True))
    assert cells["praxis2025_regimen"] == ["cites"]
    assert set(cells["mckenziebrown2023"]) == {"via-summary", "primary"}
    proposed = [dict(zip(cols, r["cells"], strict=True)).get("rassimariani2024") for r in m["rows"]]
    assert any(p and "proposed" in p for p in proposed)


def test_matrix_for_a_condition_includes_narrower_ones(real_kb: KnowledgeBase) -> None:
    m = matrix(real_kb, condition="neuropathic-pain")
    tree = real_kb.conditions
    for row in m["rows"]:
        assert "neuropathic-pain" in tree.with_ancestors(real_kb.claims[row["id"]].conditions)
    assert any("crps" in real_kb.claims[r["id"]].conditions for r in m["rows"])
    small = matrix(real_kb, condition="neuropathic-pain", limit=2)
    assert len(small["rows"]) == 2 and small["truncated"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"article": "x"},
        {"condition": "x"},
        {"article": "ldn-chronic-pain", "condition": "crps"},
        {"article": "ldn-chronic-pain", "limit": 0},
    ],
)
def test_matrix_rejects_bad_scopes(real_kb: KnowledgeBase, kwargs: dict[str, object]) -> None:
    with pytest.raises(InvalidQuery):
        matrix(real_kb, **kwargs)  # type: ignore[arg-type]


def test_contested_groups_every_conflict_once(real_kb: KnowledgeBase) -> None:
    data = contested(real_kb)
    ids = [c["id"] for g in data["groups"] for c in g["conflicts"]]
    assert sorted(ids) == sorted(real_kb.conflicts)
    for group in data["groups"]:
        assert {c["topic"] for c in group["conflicts"]} == {group["topic"]}
    assert sum(f["count"] for f in data["facets"]["type"]) == data["total"]


@pytest.mark.parametrize("ctype", list(TYPE_LABELS))
def test_contested_type_filter(real_kb: KnowledgeBase, ctype: str) -> None:
    data = contested(real_kb, type=ctype)
    assert all(c["type"] == ctype for g in data["groups"] for c in g["conflicts"])
    assert data["shown"] == sum(1 for c in real_kb.conflicts.values() if c.type == ctype)


def test_contested_condition_filter_includes_narrower(real_kb: KnowledgeBase) -> None:
    everything = contested(real_kb, condition="chronic-pain")
    assert everything["shown"] == everything["total"]
    fibro = contested(real_kb, condition="fibromyalgia")
    assert 0 < fibro["shown"] < everything["total"]
    with pytest.raises(InvalidQuery):
        contested(real_kb, type="nope")


def test_conflict_view_lists_strongest_and_kept_claims(real_kb: KnowledgeBase) -> None:
    cid = max(
        real_kb.conflicts, key=lambda c: max(len(s.claims) for s in real_kb.conflicts[c].sides)
    )
    conflict = real_kb.conflicts[cid]
    full = conflict_view(real_kb, cid)
    assert [len(s["claims"]) for s in full["sides"]] == [len(s.claims) for s in conflict.sides]
    assert all(s["more"] == 0 for s in full["sides"]) and full["sides_more"] == 0
    big = max(conflict.sides, key=lambda s: len(s.claims))
    weakest = max(big.claims, key=lambda c: (real_kb.grades[c].level * -1, c))
    capped = conflict_view(real_kb, cid, per_side=1, keep=frozenset([weakest]))
    side = next(s for s in capped["sides"] if s["label"] == big.label)
    assert [c["id"] for c in side["claims"]] == [weakest]
    assert side["total"] == len(big.claims) and side["more"] == len(big.claims) - 1
    many = max(real_kb.conflicts.values(), key=lambda c: len(c.sides))
    two = conflict_view(real_kb, many.id, max_sides=2)
    assert [s["label"] for s in two["sides"]] == [many.sides[0].label, many.sides[-1].label]
    assert two["sides_total"] == len(many.sides)


def test_related_claims(real_kb: KnowledgeBase) -> None:
    items = related(real_kb, "seed-fibromyalgia-rct-benefit")
    in_conflict = {
        c
        for cf in real_kb.conflicts_by_claim["seed-fibromyalgia-rct-benefit"]
        for c in real_kb.conflicts[cf].claim_ids()
    } - {"seed-fibromyalgia-rct-benefit"}
    assert {i["id"] for i in items[: len(in_conflict)]} == in_conflict
    assert all(i["why"] for i in items) and len(items) <= 12
    assert "seed-fibromyalgia-rct-benefit" not in {i["id"] for i in items}


def test_article_document_review_and_audience(real_kb: KnowledgeBase) -> None:
    doc = pages.article(real_kb, "ldn-chronic-pain", audience="patient")
    assert [s["state"] for s in doc["review"]["steps"]] == ["done", "current", "todo"]
    statement = doc["bottom_line"][0]
    assert statement["display_text"] == real_kb.claims[statement["id"]].plain_text
    assert doc["glossary"]
    with pytest.raises(InvalidQuery):
        pages.article(real_kb, "ldn-chronic-pain", audience="robot")


def test_reference_document_lists_dependents(real_kb: KnowledgeBase) -> None:
    doc = pages.reference(real_kb, "mckenziebrown2023")
    assert doc["claims_total"] == len(doc["claims"]) > 5
    assert "praxis2025_regimen" in {r["id"] for r in doc["traced_from"]}
    assert doc["reference"]["design_label"] == "case series"
