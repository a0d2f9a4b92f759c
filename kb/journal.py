"""The editorial journal: an append-only JSON-lines file shared by threads and processes.

Each line is one editorial event, appended under a lock and fsynced before the writer is told
it succeeded. Readers keep a byte offset and read only what was appended since; a torn last
line left by a killed writer is reported and skipped, never fatal.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from .errors import EditorialBusy

LOCK_TIMEOUT = 10.0


def empty_atomic(path: Path) -> None:
    """Replace ``path`` by an empty file: an empty temp file, fsynced, renamed over it."""
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class Journal:
    """The append-only JSON-lines file, shared safely by threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_suffix(".lock")
        self._offset = 0
        # Re-entrant: record() holds it and calls refresh(), which takes it too.
        self._thread_lock = threading.RLock()

    def read_new(self) -> tuple[list[dict[str, Any]], list[str], bool]:
        """Complete lines appended since the last read; a torn last line is left for later.

        The third value is True when the journal was compacted (emptied) since the last read:
        the caller must then reload the folded events.
        """
        events: list[dict[str, Any]] = []
        problems: list[str] = []
        compacted = False
        try:
            with open(self.path, "rb") as fh:
                if os.fstat(fh.fileno()).st_size < self._offset:
                    self._offset, compacted = 0, True
                fh.seek(self._offset)
                chunk = fh.read()
        except FileNotFoundError:
            return events, problems, self._offset > 0
        end = chunk.rfind(b"\n") + 1
        for raw in chunk[:end].splitlines():
            if not raw.strip():
                continue
            try:
                event = json.loads(raw)
                if not isinstance(event, dict) or "id" not in event or "target" not in event:
                    raise ValueError("not an event")
                events.append(event)
            except ValueError:
                problems.append(
                    f"{self.path.name}: skipped an unreadable line at byte "
                    f"{self._offset + chunk[:end].find(raw)} (a write was torn)"
                )
        tail = chunk[end:]
        if tail.strip():
            problems.append(
                f"{self.path.name}: the last line is incomplete "
                f"({len(tail)} bytes, a write was interrupted); it is ignored"
            )
        self._offset += end
        return events, problems, compacted

    def locked(self) -> _JournalLock:
        return _JournalLock(self)

    def append(self, event: dict[str, Any]) -> None:
        """Append one event and fsync it; call only while holding :meth:`locked`."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(event, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size > self._offset:
                # A torn line from a killed writer: start ours on a fresh line.
                with open(self.path, "rb") as fh:
                    fh.seek(size - 1)
                    if fh.read(1) != b"\n":
                        line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
            self._offset = size + len(line)
        finally:
            os.close(fd)


class _JournalLock:
    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.fd: int | None = None

    def __enter__(self) -> _JournalLock:
        if not self.journal._thread_lock.acquire(timeout=LOCK_TIMEOUT):
            raise EditorialBusy("the editorial journal is busy; try again")
        self.journal.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.journal.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + LOCK_TIMEOUT
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    self.journal._thread_lock.release()
                    raise EditorialBusy("the editorial journal is busy; try again") from None
                time.sleep(0.002)

    def __exit__(self, *exc: object) -> None:
        assert self.fd is not None
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.journal._thread_lock.release()
