"""The editorial journal: an append-only JSON-lines file shared by threads and processes.

Each line is one editorial event, appended under a lock and fsynced before the writer is told
it succeeded; a write the disk refuses (full, read-only, short) is rolled back and raised as
:class:`~kb.errors.StorageError`, so every acknowledged event is on disk and no refused one is.

The first line is a header naming the journal's *generation* (``{"journal": "<id>"}``).
Compaction folds the events into ``data/editorial.json`` and replaces the journal by a new
header-only file with a new generation; a reader keeps (generation, byte offset), so any
process notices a compaction on its next read — whatever the new journal's size — and
replays the folded events before reading on. A torn last line left by a killed writer, and a
line that is JSON but not a valid event, are reported (file, line, field) and skipped.
"""

from __future__ import annotations

import errno
import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from .articles import REVIEW_STATUSES
from .claims import VERDICTS
from .errors import EditorialBusy, InvalidData
from .locking import holding
from .storage import load_json, storage_error, write_text_atomic

LOCK_TIMEOUT = 10.0
HEADER_KEY = "journal"
_UNREAD = "\0unread"  # the generation before the first read: every real one differs

# Fields each action's ``after`` must carry for the replay to use it (name -> type).
AFTER_FIELDS: dict[str, dict[str, type]] = {
    "set_status": {"status": str},
    "set_verdict": {"verdict": str},
    "propose_verdict": {"verdict": str},
    "resolve_flag": {"flag": str},
    "dismiss_flag": {"flag": str},
    "add_conflict": {"sides": list},
}


def event_problem(event: Any) -> tuple[str | None, str] | None:
    """Why ``event`` cannot be replayed, as (field, message); None for a valid event."""
    if not isinstance(event, dict):
        return None, "not an event object"
    return _envelope_problem(event) or _after_problem(event["action"], event.get("after") or {})


def _envelope_problem(event: dict[str, Any]) -> tuple[str, str] | None:
    """What is wrong with the fields every event carries, whatever its action."""
    from .editorial import ACTIONS  # the one table of actions (imported late: a cycle)

    for key in ("id", "target", "action", "actor", "at"):
        if key not in event:
            return key, "is missing"
        if not isinstance(event[key], str) or not event[key]:
            return key, "must be a non-empty string"
    if ":" not in event["target"]:
        return "target", "must be KIND:ID"
    if event["action"] not in ACTIONS:
        return "action", f"unknown action {event['action']!r}"
    for key in ("role", "reason"):
        if key in event and not isinstance(event[key], str):
            return key, "must be a string"
    for key in ("after", "before"):
        if event.get(key) is not None and not isinstance(event[key], dict):
            return key, "must be an object"
    version = event.get("base_version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        return "base_version", "must be a whole number"
    return None


def _after_problem(action: str, after: dict[str, Any]) -> tuple[str, str] | None:
    """What is wrong with the ``after`` state ``action`` needs for its replay."""
    for key, kind in AFTER_FIELDS.get(action, {}).items():
        if not isinstance(after.get(key), kind):
            return f"after.{key}", "is missing or of the wrong type"
    if action == "set_status" and after["status"] not in REVIEW_STATUSES:
        return "after.status", f"unknown status {after['status']!r}"
    if action in ("set_verdict", "propose_verdict") and after["verdict"] not in VERDICTS:
        return "after.verdict", f"unknown verdict {after['verdict']!r}"
    if action == "add_conflict":
        for side in after["sides"]:
            claims = side.get("claims") if isinstance(side, dict) else None
            if not (isinstance(claims, list) and all(isinstance(c, str) for c in claims)):
                return "after.sides", "each side must be an object with a list of claim ids"
    return None


def load_folded(path: Path) -> list[dict[str, Any]]:
    """The events compaction folded into ``path`` (``data/editorial.json``); none if absent.

    Raises :class:`InvalidData` naming the file, the event and the field when the file is not
    ``{"events": [event, ...]}`` with every event valid (it is written only by compaction, so
    damage there is an error to repair, not a line to skip).
    """
    if not path.exists():
        return []
    raw = load_json(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("events"), list):
        raise InvalidData(path.name, 'must be an object with an "events" list', field="events")
    for i, event in enumerate(raw["events"]):
        problem = event_problem(event)
        if problem is not None:
            record = event.get("id") if isinstance(event, dict) else None
            field, message = problem
            raise InvalidData(
                path.name,
                f"event {i + 1}: {message}",
                record=record if isinstance(record, str) else None,
                field=field,
            )
    return list(raw["events"])


def _header(generation: str) -> bytes:
    return json.dumps({HEADER_KEY: generation}).encode("ascii") + b"\n"


def _parse_header(line: bytes) -> str | None:
    """The generation a complete first line names, or None (an older journal, or damage)."""
    if not line.endswith(b"\n"):
        return None
    try:
        head = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if isinstance(head, dict) and set(head) == {HEADER_KEY} and isinstance(head[HEADER_KEY], str):
        return str(head[HEADER_KEY])
    return None


def _write_all(fd: int, data: bytes) -> None:
    """``os.write`` until every byte is written (a write may take only part of them)."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:  # the kernel took nothing and gave no reason: treat it as full
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        view = view[written:]


class Journal:
    """The append-only JSON-lines file, shared safely by threads and processes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_suffix(".lock")
        self._offset = 0
        self._line = 0  # complete lines before ``_offset``, for messages
        self._generation: str | None = _UNREAD
        # Re-entrant: record() holds it and calls refresh(), which takes it too.
        self._thread_lock = threading.RLock()

    @property
    def generation(self) -> str | None:
        """The generation last read (None: a journal without a header, or none yet)."""
        return None if self._generation == _UNREAD else self._generation

    def read_new(self) -> tuple[list[dict[str, Any]], list[str], bool]:
        """Complete lines appended since the last read; a torn last line is left for later.

        The third value is True on the first read and whenever the journal was compacted
        since the last read (its generation changed): the caller must then load the folded
        events (before these, which may repeat some of them: events apply once, by id).
        """
        events: list[dict[str, Any]] = []
        problems: list[str] = []
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 - closed below, read as one snapshot
        except FileNotFoundError:
            compacted = self._generation is not None
            self._generation, self._offset, self._line = None, 0, 0
            return events, problems, compacted
        except OSError as exc:
            return events, [f"{self.path.name}: cannot be read ({exc.strerror})"], False
        with fh:
            # Header and lines from one descriptor: a compaction renames a new file over the
            # path, never changes this one, so what is read here is one consistent journal.
            first = fh.readline()
            generation = _parse_header(first)
            compacted = generation != self._generation
            size = os.fstat(fh.fileno()).st_size
            if not compacted and size < self._offset:
                compacted = True  # an older journal without a header, emptied by hand
            if compacted:
                self._generation = generation
                self._offset = len(first) if generation is not None else 0
                self._line = 1 if generation is not None else 0
            fh.seek(self._offset)
            chunk = fh.read()
        end = chunk.rfind(b"\n") + 1
        lineno = self._line
        for raw in chunk[:end].splitlines():
            lineno += 1
            if not raw.strip():
                continue
            where = f"{self.path.name}, line {lineno}"
            try:
                event = json.loads(raw)
            except (ValueError, RecursionError):
                problems.append(f"{where}: skipped an unreadable line (a write was torn)")
                continue
            problem = event_problem(event)
            if problem is not None:
                field, message = problem
                on = f", field {field!r}" if field else ""
                problems.append(f"{where}{on}: skipped an invalid event ({message})")
                continue
            events.append(event)
        tail = chunk[end:]
        if tail.strip():
            problems.append(
                f"{self.path.name}, line {lineno + 1}: the last line is incomplete "
                f"({len(tail)} bytes, a write was interrupted); it is ignored"
            )
        self._offset += end
        self._line = lineno
        return events, problems, compacted

    def locked(self) -> _JournalLock:
        return _JournalLock(self)

    def append(self, event: dict[str, Any]) -> None:
        """Append one event and fsync it; call only while holding :meth:`locked`.

        All or nothing: a short write is completed; a write or fsync the disk refuses
        (``ENOSPC``, ``EROFS``, ``EIO`` …) is cut back off the file and raised as
        :class:`~kb.errors.StorageFull` / :class:`~kb.errors.StorageError`.
        """
        line = json.dumps(event, ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise storage_error(self.path, exc, doing="record the edit") from None
        try:
            size = os.fstat(fd).st_size
            generation = self._generation
            prefix = b""
            if size == 0:  # a new journal (or an old emptied one) starts with its header
                generation = uuid.uuid4().hex
                prefix = _header(generation)
            elif size > self._offset:
                # A torn line from a killed writer: start ours on a fresh line.
                with open(self.path, "rb") as fh:
                    fh.seek(size - 1)
                    if fh.read(1) != b"\n":
                        prefix = b"\n"
            data = prefix + line
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except OSError as exc:
                # Cut the partial line off so nothing refused is ever replayed.
                try:
                    os.ftruncate(fd, size)
                    os.fsync(fd)
                except OSError:
                    pass  # it stays a torn line: reported and skipped by every reader
                raise storage_error(self.path, exc, doing="record the edit") from None
            if size == 0:
                self._generation, self._line = generation, 0
            self._offset = size + len(data)
            self._line += data.count(b"\n")
        finally:
            os.close(fd)

    def start_generation(self) -> str:
        """Replace the journal by an empty one of a new generation (atomically, fsynced);
        call only while holding :meth:`locked`, after its events were folded."""
        generation = uuid.uuid4().hex
        header = _header(generation)
        write_text_atomic(self.path, header.decode("ascii"))
        self._generation, self._offset, self._line = generation, len(header), 1
        return generation


class _JournalLock:
    """The journal's writer lock: this process's threads, then other processes (flock)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self._held: Any = None

    def __enter__(self) -> _JournalLock:
        busy = EditorialBusy("the editorial journal is busy; try again")
        if not self.journal._thread_lock.acquire(timeout=LOCK_TIMEOUT):
            raise busy
        try:
            self._held = holding(
                self.journal.lock_path,
                timeout=LOCK_TIMEOUT,
                busy=busy,
                doing="lock the editorial journal",
            )
            self._held.__enter__()
        except BaseException:
            self._held = None
            self.journal._thread_lock.release()  # a failed lock open leaves nothing held
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            if self._held is not None:
                self._held.__exit__(None, None, None)
        finally:
            self._held = None
            self.journal._thread_lock.release()
