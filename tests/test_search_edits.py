"""An editorial decision re-grades only what it can change, and search shows it at once,
without touching the index (issue 11 item 3)."""

from __future__ import annotations

from pathlib import Path

from kb import KnowledgeBase
from kb.editorial import Editor
from kb.evidence import grade_all


def _open(data_dir: Path, index_dir: Path, tmp_path: Path) -> tuple[KnowledgeBase, Editor]:
    kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
    return kb, Editor.open(kb, tmp_path / "instance")


def _hit(kb: KnowledgeBase, query: str, claim_id: str) -> dict:
    return next(h for h in kb.search(query, limit=50)["results"] if h["id"] == claim_id)


def test_a_verdict_regrades_only_what_it_can_change(
    data_dir: Path, index_dir: Path, tmp_path: Path
) -> None:
    kb, ed = _open(data_dir, index_dir, tmp_path)
    assert _hit(kb, "cost inexpensive", "seed-inexpensive")["evidence"]["grade"]
    before = dict(kb.grades)
    sync = kb.search_index.last_sync
    ed.record(
        "eve",
        "editor",
        "set_verdict",
        "claim:seed-inexpensive",
        after={"verdict": "not_stated", "note": "editor check"},
    )
    # the same grades a full re-grade gives, with most grade objects kept as they were
    assert kb.grades == grade_all(kb)
    kept = sum(kb.grades[c] is before[c] for c in before)
    assert kept >= len(before) - 20
    hit = _hit(kb, "cost inexpensive", "seed-inexpensive")
    assert hit["evidence"]["grade"] == kb.grades["seed-inexpensive"].grade
    assert "does not state this" in " ".join(hit["evidence"]["reasons"])
    assert kb.search_index.last_sync is sync  # the index was not touched


def test_a_dismissed_conflict_regrades_its_claims(
    data_dir: Path, index_dir: Path, tmp_path: Path
) -> None:
    kb, ed = _open(data_dir, index_dir, tmp_path)
    kb.search("pain")
    lowered = [
        cf
        for cf, c in kb.conflicts.items()
        if any("Inconsistency" in " ".join(kb.grades[x].reasons) for x in c.claim_ids())
    ]
    assert lowered, "the data have a conflict that lowers a grade"
    conflict = kb.conflicts[lowered[0]]
    ed.record("eve", "editor", "dismiss_conflict", f"conflict:{conflict.id}", reason="same data")
    assert kb.grades == grade_all(kb)
    claim = next(x for x in conflict.claim_ids() if x in kb.claims)
    result = kb.search(kb.claims[claim].text[:60], limit=100)
    shown = next((h for h in result["results"] if h["id"] == claim), None)
    assert shown is not None and shown["evidence"]["grade"] == kb.grades[claim].grade
    # the grade facet counts the grades in memory, not those at indexing time
    assert result["facets"]["grade"].get(kb.grades[claim].grade, 0) >= 1
