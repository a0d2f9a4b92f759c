"""The editorial journal keeps every acknowledged edit and refuses the rest: short writes, a
full disk, a read-only folder, damaged lines, and compaction seen from other processes."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kb import KnowledgeBase
from kb.editorial import Editor, StaleEdit
from kb.errors import InvalidData, StorageError, StorageFull

from helpers.web_client import login

REPO = Path(__file__).resolve().parent.parent
CLAIM = "claim:seed-max-dose"


def _open(data_dir: Path, instance: Path) -> tuple[KnowledgeBase, Editor]:
    kb = KnowledgeBase.load(data_dir)
    return kb, Editor.open(kb, instance)


def _comment(ed: Editor, text: str, **kw: Any) -> dict[str, Any]:
    return ed.record("rita", "reviewer", "comment", CLAIM, after={"text": text}, **kw)


def _texts(data_dir: Path, instance: Path) -> list[str]:
    _, ed = _open(data_dir, instance)
    assert ed.state.problems == []
    return [c["text"] for c in ed.state.comments[CLAIM]]


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs mounted for the test (needs root); skipped, with the reason, elsewhere."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root and mount(8)")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _remount(mount: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mount)], check=True)


# -- short writes and refused writes ---------------------------------------------------------
def test_a_short_write_is_completed(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kernel may take only part of a write: the rest is written, the event is whole."""
    instance = tmp_path / "i"
    _, ed = _open(data_dir, instance)
    real_write = os.write
    calls: list[int] = []

    def dribble(fd: int, data: Any) -> int:
        calls.append(len(data))
        return real_write(fd, bytes(data[:7]))  # at most 7 bytes per call

    monkeypatch.setattr(os, "write", dribble)
    _comment(ed, "written seven bytes at a time")
    monkeypatch.undo()
    assert len(calls) > 10
    assert _texts(data_dir, instance) == ["written seven bytes at a time"]


def test_a_write_cut_short_by_a_full_disk_is_rolled_back(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Part of the line written, then ENOSPC: the part is cut off, the caller gets StorageFull
    (never an acknowledgement), and the next write — once there is room — works at once."""
    instance = tmp_path / "i"
    _, ed = _open(data_dir, instance)
    _comment(ed, "kept")
    before = (instance / "journal.jsonl").read_bytes()
    real_write = os.write
    state = {"calls": 0}

    def fill(fd: int, data: Any) -> int:
        state["calls"] += 1
        if state["calls"] == 1:
            return real_write(fd, bytes(data[:20]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", fill)
    with pytest.raises(StorageFull, match=r"journal.jsonl: could not record the edit \(the disk"):
        _comment(ed, "refused")
    monkeypatch.undo()
    assert (instance / "journal.jsonl").read_bytes() == before
    _comment(ed, "after")  # the lock was released: no wait, no EditorialBusy
    assert _texts(data_dir, instance) == ["kept", "after"]


def test_a_failed_lock_open_leaves_the_journal_lock_free(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Too many open files while opening the lock file: a named error, and nothing held."""
    instance = tmp_path / "i"
    _, ed = _open(data_dir, instance)
    real_open = os.open

    def no_descriptors(path: Any, *args: Any, **kwargs: Any) -> int:
        if str(path).endswith("journal.lock"):
            raise OSError(errno.EMFILE, "Too many open files")
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", no_descriptors)
    with pytest.raises(StorageError, match="too many open files"):
        _comment(ed, "refused")
    monkeypatch.undo()
    assert ed.journal._thread_lock.acquire(blocking=False)  # not left held by the failure
    ed.journal._thread_lock.release()
    _comment(ed, "after")
    assert _texts(data_dir, instance) == ["after"]


def test_full_disk_keeps_every_acknowledged_edit(data_dir: Path, tiny_fs: Path) -> None:
    """A real 64 KiB file system filled by comments: every acknowledged one is kept, every
    refused one is absent, no torn line is left, and writes work again once there is room."""
    instance = tiny_fs / "instance"
    filler = tiny_fs / "filler"
    filler.write_bytes(b"x" * 16384)
    _, ed = _open(data_dir, instance)
    acked: list[str] = []
    refused = 0
    for n in range(200):
        try:
            _comment(ed, f"comment {n} " + "y" * 900)
        except StorageFull as exc:
            refused += 1
            assert "nothing was saved" in str(exc)
            if refused == 3:
                break
        else:
            acked.append(f"comment {n} ")
    assert acked and refused == 3
    texts = _texts(data_dir, instance)
    assert [t[: len(a)] for t, a in zip(texts, acked, strict=True)] == acked
    filler.unlink()
    _comment(ed, "room again")
    assert _texts(data_dir, instance)[-1] == "room again"


def test_read_only_folder_refuses_with_a_clear_error(data_dir: Path, tiny_fs: Path) -> None:
    instance = tiny_fs / "instance"
    _, ed = _open(data_dir, instance)
    _comment(ed, "before")
    _remount(tiny_fs, "ro")
    try:
        with pytest.raises(StorageError, match=r"read-only file system.*nothing was saved"):
            _comment(ed, "refused")
    finally:
        _remount(tiny_fs, "rw")
    _comment(ed, "after")
    assert _texts(data_dir, instance) == ["before", "after"]


def test_full_disk_over_http_is_a_507_with_a_clear_message(
    data_dir: Path, tmp_path: Path, tiny_fs: Path, users_file: Path
) -> None:
    from web import create_app

    instance = tiny_fs / "instance"
    instance.mkdir()
    shutil.copy(users_file, instance / "users.json")
    app = create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": str(data_dir),
            "KB_INDEX_DIR": str(tmp_path / "index"),
            "KB_INSTANCE_DIR": str(instance),
        }
    )
    client = app.test_client()
    token = login(client, "rita")
    space = tiny_fs / "filler"
    with open(space, "wb", buffering=0) as fh:  # fill the disk to the last byte
        try:
            while True:
                fh.write(b"x" * 512)
        except OSError:
            pass
    r = client.post(
        "/api/editorial/claims/seed-max-dose/comment",
        json={"text": "no room", "base_version": 0},
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 507, r.get_json()
    assert "the disk is full" in r.get_json()["error"]["message"]
    space.unlink()
    r = client.post(
        "/api/editorial/claims/seed-max-dose/comment",
        json={"text": "room again", "base_version": 0},
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 201, r.get_json()


# -- damaged lines and files -----------------------------------------------------------------
def test_a_valid_json_line_that_is_not_an_event_is_reported_and_skipped(
    data_dir: Path, tmp_path: Path
) -> None:
    """The line of issue 12 (no actor) and others: named by file, line and field, skipped;
    the site, the history and compaction go on."""
    instance = tmp_path / "i"
    _, ed = _open(data_dir, instance)
    _comment(ed, "first")
    with open(instance / "journal.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "x1", "target": CLAIM, "action": "flag"}) + "\n")
        fh.write(
            json.dumps(
                {
                    "id": "x2",
                    "at": "t",
                    "actor": "a",
                    "action": "set_status",
                    "target": "article:ldn-chronic-pain",
                    "after": {},
                }
            )
            + "\n"
        )
        fh.write("[" * 5000 + "]" * 5000 + "\n")
    _comment(ed, "second")
    _, ed2 = _open(data_dir, instance)
    assert [c["text"] for c in ed2.state.comments[CLAIM]] == ["first", "second"]
    problems = ed2.state.problems
    assert any("journal.jsonl, line 3, field 'actor'" in p and "missing" in p for p in problems)
    assert any("line 4, field 'after.status'" in p for p in problems)
    assert any("line 5" in p for p in problems)
    assert ed2.compact() == 2  # only the two valid events are folded


def test_the_site_serves_over_a_damaged_journal(data_dir: Path, tmp_path: Path) -> None:
    """Issue 12: one event without an actor used to make health and claim pages a 500."""
    from web import create_app

    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "journal.jsonl").write_text(
        json.dumps({"id": "x", "target": CLAIM, "action": "flag"}) + "\n"
    )
    app = create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": str(data_dir),
            "KB_INDEX_DIR": str(tmp_path / "index"),
            "KB_INSTANCE_DIR": str(instance),
        }
    )
    client = app.test_client()
    for path in ("/api/health", "/claims/seed-max-dose", "/api/claims/seed-max-dose", "/"):
        assert client.get(path).status_code == 200, path


def test_malformed_editorial_json_names_the_file(data_dir: Path, tmp_path: Path) -> None:
    kb = KnowledgeBase.load(data_dir)
    for bad, words in (
        ('{"events": {}}', '"events" list'),
        ("[1, 2]", '"events" list'),
        ('{"events": [{"id": "e"}]}', "field 'target'"),
        ('{"events": ' + "[" * 100000 + "]" * 100000 + "}", "nested too deeply"),
        ('{"events": [', "not valid JSON"),
    ):
        (data_dir / "editorial.json").write_text(bad)
        with pytest.raises(InvalidData, match=r"editorial\.json") as info:
            Editor.open(kb, tmp_path / "i")
        assert words in str(info.value)


@pytest.mark.parametrize("command", ["validate", "stats", "compact", "trace seed-max-dose"])
def test_no_command_prints_a_traceback_on_damaged_files(
    data_dir: Path, tmp_path: Path, command: str
) -> None:
    from click.testing import CliRunner

    from kb.cli import cli

    instance = tmp_path / "i"
    instance.mkdir()
    (instance / "journal.jsonl").write_text('{"id": "x", "target": "claim:a", "action": "flag"}\n')
    for damaged in ("editorial.json", "claims.json"):
        saved = (data_dir / damaged).read_text() if (data_dir / damaged).exists() else None
        (data_dir / damaged).write_text("[" * 100000)
        result = CliRunner().invoke(
            cli, ["--data-dir", str(data_dir), "--instance-dir", str(instance), *command.split()]
        )
        assert result.exit_code == 1, result.output
        assert f"{damaged}: not valid" in result.output
        assert "Traceback" not in result.output and not isinstance(result.exception, RecursionError)
        if saved is None:
            (data_dir / damaged).unlink()
        else:
            (data_dir / damaged).write_text(saved)


# -- compaction seen from other processes ---------------------------------------------------
_KB = (sys.executable, "-m", "kb.cli")


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}


def _compact_elsewhere(data_dir: Path, instance: Path) -> None:
    done = subprocess.run(
        [*_KB, "--data-dir", str(data_dir), "--instance-dir", str(instance), "compact"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_another_process_compacting_is_noticed_whatever_the_journal_size(
    data_dir: Path, tmp_path: Path
) -> None:
    """Issue 12's case: this process read the journal up to some offset; another process
    compacts and a third writes more than that offset again. This process still sees every
    event and refuses an edit based on the version it had (409 whatever process gets it)."""
    instance = tmp_path / "i"
    _, mine = _open(data_dir, instance)
    _comment(mine, "one")
    seen = mine.version(CLAIM)
    _, other = _open(data_dir, instance)
    _comment(other, "two")  # not yet read by `mine`
    _compact_elsewhere(data_dir, instance)
    _, third = _open(data_dir, instance)
    for n in range(5):  # the new journal grows past `mine`'s old read position
        _comment(third, f"more {n} " + "z" * 200)
    assert (instance / "journal.jsonl").stat().st_size > mine.journal._offset
    with pytest.raises(StaleEdit):
        _comment(mine, "based on what I saw", base_version=seen)
    mine.refresh()
    texts = [c["text"][:6] for c in mine.state.comments[CLAIM]]
    assert texts == ["one", "two"] + [f"more {n}" for n in range(5)]
    assert mine.version(CLAIM) == 7


def test_two_server_processes_and_a_compaction(
    data_dir: Path, tmp_path: Path, users_file: Path
) -> None:
    """Two `kb serve` processes over one data folder: an edit made through one, a compaction by
    a third process, more edits through the other; then a stale edit is a 409 on both, and
    both show every comment."""
    import socket
    import time

    instance = tmp_path / "i"
    instance.mkdir()
    shutil.copy(users_file, instance / "users.json")
    procs, ports = [], []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    try:
        for port in ports:
            procs.append(
                subprocess.Popen(
                    [
                        *(*_KB, "--data-dir", str(data_dir), "--instance-dir", str(instance)),
                        *("--index-dir", str(tmp_path / "index"), "serve", "--port", str(port)),
                        "--no-secure-cookies",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    env=_env(),
                )
            )
        clients = [_Client(port) for port in ports]
        deadline = time.monotonic() + 120
        for c in clients:
            while not c.up():
                assert time.monotonic() < deadline, "the servers did not start"
                time.sleep(0.3)
        for c in clients:
            c.login("rita")
        a, b = clients
        assert a.comment("one", 0)[0] == 201
        assert b.comment("two", 1)[0] == 201
        _compact_elsewhere(data_dir, instance)
        assert b.comment("three", 2)[0] == 201
        for c in clients:
            status, body = c.comment("stale", 1)
            assert status == 409, body
            assert body["current"]["version"] == 3
            assert [x["change"] for x in c.history()] == ["one", "two", "three"]
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=30)


class _Client:
    """A tiny HTTP client with a cookie jar and the CSRF token (no extra dependency)."""

    def __init__(self, port: int) -> None:
        import urllib.request
        from http.cookiejar import CookieJar

        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.token = ""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        import urllib.error
        import urllib.request

        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("X-CSRFToken", self.token)
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def up(self) -> bool:
        try:
            return self.call("GET", "/api/health")[0] == 200
        except OSError:
            return False

    def login(self, name: str) -> None:
        self.token = self.call("GET", "/api/csrf")[1]["csrf_token"]
        from helpers.web_client import PASSWORD

        status, body = self.call("POST", "/api/login", {"name": name, "password": PASSWORD})
        assert status == 200, body
        self.token = body["csrf_token"]

    def comment(self, text: str, base_version: int) -> tuple[int, Any]:
        return self.call(
            "POST",
            "/api/editorial/claims/seed-max-dose/comment",
            {"text": text, "base_version": base_version},
        )

    def history(self) -> list[dict[str, Any]]:
        status, body = self.call("GET", "/api/claims/seed-max-dose/history")
        assert status == 200, body
        return [e for e in reversed(body["events"]) if e["action"] == "comment"]
