"""The derived-state snapshot (kb/snapshot.py): used only when it matches, never trusted when
stale or damaged."""

from __future__ import annotations

import json
from pathlib import Path

from kb import KnowledgeBase
from kb.search.ranking import reference_designs
from kb.snapshot import snapshot_path


def _load(data_dir: Path, index_dir: Path) -> tuple[KnowledgeBase, str]:
    kb = KnowledgeBase.load(data_dir, index_dir=index_dir, snapshot=True)
    return kb, kb.snapshot_status


def test_a_snapshot_gives_the_same_knowledge_base(data_dir: Path, index_dir: Path) -> None:
    _, status = _load(data_dir, index_dir)
    assert status == "missing" and snapshot_path(index_dir).exists()
    again, status = _load(data_dir, index_dir)
    assert status == "used"
    plain = KnowledgeBase.load(data_dir, index_dir=index_dir)
    assert [c.record for c in again.claims.values()] == [c.record for c in plain.claims.values()]
    assert [r.csl for r in again.references.values()] == [r.csl for r in plain.references.values()]
    assert again.grades == plain.grades
    assert again.conflicts == plain.conflicts
    assert again.claims_citing("younger2013") == plain.claims_citing("younger2013")
    assert again.search("CRPS response")["results"] == plain.search("CRPS response")["results"]
    # the designs references are graded as (appraisal corrections applied) come from it too
    assert reference_designs(again) == reference_designs(plain)
    assert again.search("randomized")["facets"] == plain.search("randomized")["facets"]


def test_an_edited_data_file_makes_the_snapshot_stale(data_dir: Path, index_dir: Path) -> None:
    _load(data_dir, index_dir)
    claims = json.loads((data_dir / "claims.json").read_text("utf-8"))
    claims[0]["text"] = "An edited statement about vivid dreams."
    (data_dir / "claims.json").write_text(json.dumps(claims), "utf-8")
    kb, status = _load(data_dir, index_dir)
    assert status == "stale"
    assert kb.claims[claims[0]["id"]].text == "An edited statement about vivid dreams."
    assert _load(data_dir, index_dir)[1] == "used"  # and written again


def test_a_damaged_snapshot_is_rebuilt_not_trusted(data_dir: Path, index_dir: Path) -> None:
    _load(data_dir, index_dir)
    path = snapshot_path(index_dir)
    raw = bytearray(path.read_bytes())
    raw[-100] ^= 0xFF  # one flipped byte in the payload
    path.write_bytes(bytes(raw))
    kb, status = _load(data_dir, index_dir)
    assert status == "damaged" and len(kb.claims) == len(
        json.loads((data_dir / "claims.json").read_text("utf-8"))
    )
    path.write_bytes(path.read_bytes()[:1000])  # truncated
    assert _load(data_dir, index_dir)[1] == "damaged"
    path.write_text("not a snapshot at all", "utf-8")
    assert _load(data_dir, index_dir)[1] == "damaged"
    assert _load(data_dir, index_dir)[1] == "used"


def test_invalid_data_is_still_refused(data_dir: Path, index_dir: Path) -> None:
    """A snapshot never hides a data error: bad files fail as without one."""
    import pytest

    from kb.errors import InvalidData

    _load(data_dir, index_dir)
    claims = json.loads((data_dir / "claims.json").read_text("utf-8"))
    claims[0]["kind"] = "not-a-kind"
    (data_dir / "claims.json").write_text(json.dumps(claims), "utf-8")
    with pytest.raises(InvalidData):
        _load(data_dir, index_dir)


def test_edits_on_a_restored_knowledge_base_grade_as_on_a_loaded_one(
    data_dir: Path, index_dir: Path, tmp_path: Path
) -> None:
    """The snapshot defers decoding what re-grading builds on until the first edit; the
    grades after a verdict and after a board decision are those of a plain load."""
    from kb.editorial import Editor

    _load(data_dir, index_dir)
    restored, status = _load(data_dir, index_dir)
    assert status == "used"
    plain = KnowledgeBase.load(data_dir, index_dir=index_dir)
    assert restored.computed_conflicts_by_claim == plain.computed_conflicts_by_claim
    conflict = next(c for c in plain.conflicts.values() if c.type == "safety_contradiction")
    for kb, where in ((restored, "a"), (plain, "b")):
        editor = Editor.open(kb, tmp_path / where)
        editor.record(
            "eve",
            "editor",
            "set_verdict",
            "claim:vatvani2024-f1",
            after={"verdict": "not_supported_as_worded", "note": "editor check"},
        )
        editor.record(
            "eve",
            "editor",
            "dismiss_conflict",
            f"conflict:{conflict.id}",
            reason="reviewed",
            base_version=editor.version(f"conflict:{conflict.id}"),
        )
    assert restored.grades == plain.grades
    assert (
        restored.grade("vatvani2024-f1").grade
        != KnowledgeBase.load(data_dir).grade("vatvani2024-f1").grade
    )
    assert (
        restored.search("fibromyalgia pain")["results"]
        == plain.search("fibromyalgia pain")["results"]
    )
