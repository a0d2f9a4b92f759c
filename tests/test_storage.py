"""Saving is canonical, atomic and lossless."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kb import KnowledgeBase
from kb.editorial import Editor
from kb.errors import StorageError
from kb.locking import LOCK_FILE, data_lock, is_locked_here
from kb.storage import write_json_atomic

FILES = ("references.json", "claims.json", "articles.json", "conditions.json")


def test_load_then_save_is_byte_identical(data_dir: Path) -> None:
    before = {name: (data_dir / name).read_bytes() for name in FILES}
    KnowledgeBase.load(data_dir).save()
    for name in FILES:
        assert (data_dir / name).read_bytes() == before[name], name


def test_save_to_another_folder_loads_back_the_same(kb: KnowledgeBase, tmp_path: Path) -> None:
    target = tmp_path / "copy"
    kb.save(target)
    again = KnowledgeBase.load(target)
    assert set(again.claims) == set(kb.claims)
    assert {c: g.grade for c, g in again.grades.items()} == {
        c: g.grade for c, g in kb.grades.items()
    }


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_json_atomic(path, [1, 2, 3])
    with pytest.raises(TypeError):
        write_json_atomic(path, [object()])
    assert path.read_text() == "[\n  1,\n  2,\n  3\n]\n"
    assert os.listdir(tmp_path) == ["x.json"]


# -- the data folder's writer lock (issue 12) --------------------------------------------------
REPO = Path(__file__).resolve().parent.parent
IMPORT_DOC = REPO / "tests" / "fixtures" / "import" / "existing-reference.txt"


def _kb_process(data_dir: Path, instance: Path, *args: str) -> subprocess.Popen[str]:
    """``python -m kb.cli`` in a process of its own (PYTHONPATH inherited from the tests)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "kb.cli"),
            *("--data-dir", str(data_dir), "--instance-dir", str(instance)),
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )


def _variant(tmp_path: Path, n: int) -> Path:
    """The fixture document with a title of its own, so each round imports a new article."""
    text = IMPORT_DOC.read_text(encoding="utf-8").replace(
        "Test document: the dose range", f"Test document {n}: the dose range", 1
    )
    path = tmp_path / f"doc-{n}.txt"
    path.write_text(text, encoding="utf-8")
    return path


def test_compaction_keeps_an_import_written_after_it_loaded(data_dir: Path, tmp_path: Path) -> None:
    """Issue 12's lost import, made deterministic: a long-running process (as the site is)
    loaded the data and holds an editor; `kb import` in another process writes an article;
    then the first process compacts. It must fold into the data as stored now, not as it
    loaded it, so the article survives (before the writer lock it was gone)."""
    instance = tmp_path / "instance"
    editor = Editor.open(KnowledgeBase.load(data_dir), instance)
    editor.record(
        "eve",
        "editor",
        "set_status",
        "article:ldn-chronic-pain",
        after={"status": "submitted"},
        base_version=0,
    )
    importing = _kb_process(data_dir, instance, "import", str(IMPORT_DOC))
    out, _ = importing.communicate(timeout=120)
    assert importing.returncode == 0 and out.startswith("Imported "), out
    article = out.split(" as article ")[1].split()[0]
    assert editor.compact() == 1
    stored = KnowledgeBase.load(data_dir)
    assert article in stored.articles  # the import survived the compaction
    assert stored.articles["ldn-chronic-pain"].review_status == "submitted"  # and it folded


@pytest.mark.slow
def test_compaction_never_wipes_out_a_concurrent_import(data_dir: Path, tmp_path: Path) -> None:
    """An import and a `kb compact` racing in two processes: every import that answered
    "Imported" is in the data afterwards, and so is every folded editorial decision."""
    instance = tmp_path / "instance"
    kb = KnowledgeBase.load(data_dir)
    editor = Editor.open(kb, instance)
    imported: list[str] = []
    for n, delay in enumerate((0.0, 0.15, 0.3, 0.45, 0.6, 0.8)):
        editor.record(
            "rita", "reviewer", "comment", "claim:seed-max-dose", after={"text": f"round {n}"}
        )
        importing = _kb_process(data_dir, instance, "import", str(_variant(tmp_path, n)))
        time.sleep(delay)  # compaction starts at a different moment of the import each round
        compacting = _kb_process(data_dir, instance, "compact")
        out_import, _ = importing.communicate(timeout=120)
        out_compact, _ = compacting.communicate(timeout=120)
        assert importing.returncode == 0, out_import
        assert compacting.returncode == 0, out_compact
        assert out_import.startswith("Imported "), out_import
        imported.append(out_import.split(" as article ")[1].split()[0])
        after = KnowledgeBase.load(data_dir)
        missing = [a for a in imported if a not in after.articles]
        assert not missing, f"round {n}: imports lost to the compaction: {missing}"
    again = Editor.open(KnowledgeBase.load(data_dir), instance)
    texts = [c["text"] for c in again.state.comments["claim:seed-max-dose"]]
    assert texts == [f"round {n}" for n in range(6)]


def test_a_failed_lock_leaves_nothing_held(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock file that cannot be opened (read-only folder, no descriptors left) is a clear
    StorageError, and the next writer gets the lock at once."""
    real_open = os.open

    def refuse(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith(LOCK_FILE):
            raise OSError(errno.EMFILE, "Too many open files")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse)
    with (
        pytest.raises(StorageError, match=r"could not lock the data folder .too many open files"),
        data_lock(data_dir),
    ):
        pass
    monkeypatch.undo()
    with data_lock(data_dir, timeout=0.5):
        assert is_locked_here(data_dir / LOCK_FILE)
    assert not is_locked_here(data_dir / LOCK_FILE)
