"""Editorial decisions: permissions, versions, replay, compaction and durability."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.editorial import Editor, Forbidden, StaleEdit
from kb.errors import ClaimNotFound, InvalidQuery

WRITER = Path(__file__).parent / "helpers" / "editorial_writer.py"
REPO = Path(__file__).resolve().parent.parent


def _open(data_dir: Path, instance: Path) -> tuple[KnowledgeBase, Editor]:
    kb = KnowledgeBase.load(data_dir)
    return kb, Editor.open(kb, instance)


def test_roles_decide_who_may_do_what(data_dir: Path, tmp_path: Path) -> None:
    _kb, ed = _open(data_dir, tmp_path / "instance")
    ed.record("rita", "reviewer", "flag", "claim:seed-max-dose", reason="6 mg used in FINAL")
    with pytest.raises(Forbidden, match="needs the editor role"):
        ed.record(
            "rita",
            "reviewer",
            "set_status",
            "article:ldn-chronic-pain",
            after={"status": "approved", "acknowledge": "known conflicts, explained in the text"},
        )
    with pytest.raises(Forbidden):
        ed.record("anon", "reader", "comment", "claim:seed-max-dose", after={"text": "hi"})


@pytest.mark.parametrize(
    "action,target,after,reason,error",
    [
        ("flag", "claim:seed-max-dose", {}, "", InvalidQuery),  # a flag needs a reason
        ("flag", "claim:no-such-claim", {}, "why", ClaimNotFound),
        ("set_status", "article:ldn-chronic-pain", {"status": "published"}, "", InvalidQuery),
        ("set_status", "claim:seed-max-dose", {"status": "approved"}, "", InvalidQuery),
        ("comment", "claim:seed-max-dose", {"text": "x" * 5000}, "", InvalidQuery),
    ],
)
def test_malformed_edits_are_refused_and_not_journaled(
    data_dir: Path, tmp_path: Path, action: str, target: str, after: dict, reason: str, error: type
) -> None:
    _kb, ed = _open(data_dir, tmp_path / "instance")
    with pytest.raises(error):
        ed.record("eve", "editor", action, target, after=after, reason=reason)
    assert not (tmp_path / "instance" / "journal.jsonl").exists()


def test_status_change_reaches_the_article_and_survives_restart(
    data_dir: Path, tmp_path: Path
) -> None:
    kb, ed = _open(data_dir, tmp_path / "i")
    version = ed.version("article:ldn-chronic-pain")
    ed.record(
        "eve",
        "editor",
        "set_status",
        "article:ldn-chronic-pain",
        after={"status": "approved", "acknowledge": "known conflicts, explained in the text"},
        reason="checked",
        base_version=version,
    )
    assert kb.article("ldn-chronic-pain").review_status == "approved"
    kb2, ed2 = _open(data_dir, tmp_path / "i")
    assert kb2.article("ldn-chronic-pain").review_status == "approved"
    history = ed2.state.history("article:ldn-chronic-pain")
    assert [(e["actor"], e["before"], e["after"]["status"]) for e in history] == [
        ("eve", {"status": "under_review"}, "approved")
    ]


def test_stale_edit_gets_the_current_state(data_dir: Path, tmp_path: Path) -> None:
    _, a = _open(data_dir, tmp_path / "i")
    _, b = _open(data_dir, tmp_path / "i")
    seen = a.version("article:ldn-chronic-pain")
    assert b.version("article:ldn-chronic-pain") == seen
    a.record(
        "eve",
        "editor",
        "set_status",
        "article:ldn-chronic-pain",
        after={"status": "approved", "acknowledge": "known conflicts, explained in the text"},
        base_version=seen,
    )
    with pytest.raises(StaleEdit) as err:
        b.record(
            "max",
            "editor",
            "set_status",
            "article:ldn-chronic-pain",
            after={"status": "submitted"},
            base_version=seen,
        )
    assert err.value.state["review_status"] == "approved"
    assert err.value.current == seen + 1


def test_flags_verdicts_and_conflict_decisions(data_dir: Path, tmp_path: Path) -> None:
    kb, ed = _open(data_dir, tmp_path / "i")
    flag = ed.record(
        "rita",
        "reviewer",
        "flag",
        "claim:seed-no-drug-interactions",
        reason="naltrexone blocks opioid analgesia",
    )
    assert [f["reason"] for f in ed.state.open_flags("seed-no-drug-interactions")] == [
        "naltrexone blocks opioid analgesia"
    ]
    ed.record(
        "eve",
        "editor",
        "resolve_flag",
        "claim:seed-no-drug-interactions",
        after={"flag": flag["id"]},
    )
    assert ed.state.open_flags("seed-no-drug-interactions") == []
    before = kb.grades["seed-inexpensive"].grade
    ed.record(
        "eve",
        "editor",
        "set_verdict",
        "claim:seed-inexpensive",
        after={"verdict": "not_stated", "note": "editor check"},
    )
    assert kb.claim("seed-inexpensive").primary["verdict"] == "not_stated"
    assert "does not state this" in " ".join(kb.grades["seed-inexpensive"].reasons)
    assert before != "" and kb.grades["seed-inexpensive"].grade
    conflict = next(iter(kb.conflicts))
    ed.record("eve", "editor", "dismiss_conflict", f"conflict:{conflict}", reason="same data")
    assert ed.state.is_dismissed(conflict)
    assert ed.state.history(f"conflict:{conflict}")  # kept in the history


def test_compaction_folds_into_data_files(data_dir: Path, tmp_path: Path) -> None:
    instance = tmp_path / "i"
    _kb, ed = _open(data_dir, instance)
    ed.record(
        "eve",
        "editor",
        "set_status",
        "article:ldn-chronic-pain",
        after={"status": "approved", "acknowledge": "known conflicts, explained in the text"},
    )
    ed.record("rita", "reviewer", "comment", "claim:seed-max-dose", after={"text": "ok"})
    assert ed.compact() == 2
    # no events left: only the header line naming the new generation
    assert len((instance / "journal.jsonl").read_text().splitlines()) == 1
    articles = json.loads((data_dir / "articles.json").read_text())
    assert articles[0]["review_status"] == "approved"
    kb2, ed2 = _open(data_dir, instance)
    assert len(ed2.state.events) == 2
    assert ed2.state.comments["claim:seed-max-dose"][0]["text"] == "ok"
    # Load-then-save stays byte-identical after a compaction.
    before = (data_dir / "claims.json").read_bytes()
    kb2.save()
    assert (data_dir / "claims.json").read_bytes() == before


def test_crash_between_compaction_steps_replays_once(data_dir: Path, tmp_path: Path) -> None:
    instance = tmp_path / "i"
    _, ed = _open(data_dir, instance)
    ed.record("rita", "reviewer", "flag", "claim:seed-max-dose", reason="r")
    journal = (instance / "journal.jsonl").read_bytes()
    ed.compact()
    (instance / "journal.jsonl").write_bytes(journal)  # as if the truncation never happened
    _, ed2 = _open(data_dir, instance)
    assert len(ed2.state.flags["seed-max-dose"]) == 1


def test_torn_last_line_is_reported_and_skipped(data_dir: Path, tmp_path: Path) -> None:
    instance = tmp_path / "i"
    _, ed = _open(data_dir, instance)
    ed.record("rita", "reviewer", "comment", "claim:seed-max-dose", after={"text": "kept"})
    with open(instance / "journal.jsonl", "ab") as fh:
        fh.write(b'{"id": "torn", "target": "claim:seed-m')
    _, ed2 = _open(data_dir, instance)
    assert [c["text"] for c in ed2.state.comments["claim:seed-max-dose"]] == ["kept"]
    assert any("incomplete" in p for p in ed2.state.problems)
    ed2.record("rita", "reviewer", "comment", "claim:seed-max-dose", after={"text": "after"})
    _, ed3 = _open(data_dir, instance)
    assert [c["text"] for c in ed3.state.comments["claim:seed-max-dose"]] == ["kept", "after"]
    assert any("unreadable" in p for p in ed3.state.problems)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO)}


@pytest.mark.slow
def test_two_processes_eight_threads_thousand_writes(data_dir: Path, tmp_path: Path) -> None:
    instance = tmp_path / "i"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(WRITER),
                str(data_dir),
                str(instance),
                "8",
                "63" if p == 0 else "62",
                f"p{p}-",
            ],
            stdout=subprocess.PIPE,
            env=_env(),
            text=True,
        )
        for p in range(2)
    ]
    acked = []
    for proc in procs:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0
        acked += out.split()
    assert len(acked) == 8 * 63 + 8 * 62 == 1000
    _, ed = _open(data_dir, instance)
    stored = {e["id"] for e in ed.state.events}
    assert set(acked) <= stored and len(stored) == 1000
    assert ed.state.problems == []


@pytest.mark.slow
def test_killed_writer_never_loses_an_acknowledged_edit(data_dir: Path, tmp_path: Path) -> None:
    instance = tmp_path / "i"
    rng = random.Random(5)
    acked: set[str] = set()
    for _ in range(50):
        proc = subprocess.Popen(
            [sys.executable, str(WRITER), str(data_dir), str(instance), "2", "100000"],
            stdout=subprocess.PIPE,
            env=_env(),
        )
        # Wait until it writes, then kill it at a random moment mid-stream.
        first = proc.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.05))
        proc.send_signal(signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait()
        proc.stdout.close()
        lines = (first + rest).split(b"\n")
        acked.update(line.decode() for line in lines[:-1] if line)  # complete lines only
        kb = KnowledgeBase.load(data_dir)
        ed = Editor.open(kb, instance)
        stored = {e["id"] for e in ed.state.events}
        missing = acked - stored
        assert not missing, f"{len(missing)} acknowledged edits lost"
    assert len(acked) > 50


def test_dismissed_conflict_no_longer_lowers_a_grade(data_dir: Path, tmp_path: Path) -> None:
    kb, ed = _open(data_dir, tmp_path / "i")
    before = kb.grades["younger2013-f1"]
    assert any(r.startswith("Inconsistency") for r in before.reasons)
    for cid in kb.conflicts_by_claim["younger2013-f1"]:
        ed.record(
            "eve",
            "editor",
            "dismiss_conflict",
            f"conflict:{cid}",
            reason="reviewed",
            base_version=ed.version(f"conflict:{cid}"),
        )
    after = kb.grades["younger2013-f1"]
    assert not any(r.startswith("Inconsistency") for r in after.reasons)
    assert after.level == before.level + 1
