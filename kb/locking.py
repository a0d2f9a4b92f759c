"""The data folder's writer lock: one ``flock`` (through the maintained ``filelock`` library)
that every writer of ``<data_dir>/*.json`` holds — an import (CLI or site), a compaction, every
:meth:`kb.knowledgebase.KnowledgeBase.save`.

A writer takes it, re-reads the data files, and only then builds and writes what it writes, so
two writers in any threads or processes never overwrite each other's work with an older copy.
The lock is re-entrant within a thread (compaction saves while holding it) and shared by every
thread of a process through one lock object per folder; across processes the kernel's ``flock``
decides, and it is released by the kernel when a holder dies (kill -9 leaves nothing stale).

Lock order, to rule out deadlocks: the data lock first, then the editorial journal's lock.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import DataBusy, KBError
from .storage import storage_error

LOCK_FILE = ".kb-write.lock"
LOCK_TIMEOUT = 30.0  # seconds: an import of a large document validates the whole data set

_locks: dict[str, FileLock] = {}
_locks_guard = threading.Lock()


def lock_path(data_dir: str | os.PathLike[str]) -> Path:
    """Where the lock file of ``data_dir`` lives (inside it, so it follows the folder)."""
    return Path(data_dir) / LOCK_FILE


def file_lock(path: str | os.PathLike[str]) -> FileLock:
    """The one :class:`filelock.FileLock` of this process for the lock file ``path``.

    Thread-local: each thread holds its own ``flock`` on its own descriptor, so threads
    exclude each other as processes do, and a thread may take it again (re-entrant).
    """
    key = os.path.realpath(path)
    with _locks_guard:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = FileLock(key, timeout=LOCK_TIMEOUT, thread_local=True)
        return lock


@contextmanager
def holding(
    path: str | os.PathLike[str], *, timeout: float, busy: KBError, doing: str
) -> Iterator[None]:
    """Hold the lock file ``path`` for the ``with`` block: ``busy`` is raised after
    ``timeout`` seconds of waiting, :class:`~kb.errors.StorageError` when the lock file cannot
    be opened (a read-only folder, no space, too many open files). Nothing stays held after a
    failure, nor after the block, whatever it raises."""
    lock = file_lock(path)
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        lock.acquire(timeout=timeout)
    except Timeout:
        raise busy from None
    except OSError as exc:
        raise storage_error(path, exc, doing=doing) from None
    try:
        yield
    finally:
        lock.release()


@contextmanager
def data_lock(data_dir: str | os.PathLike[str], *, timeout: float = LOCK_TIMEOUT) -> Iterator[None]:
    """Hold the writer lock of ``data_dir`` for the ``with`` block.

    Raises :class:`kb.errors.DataBusy` when another writer holds it past ``timeout`` and
    :class:`kb.errors.StorageError` (or ``StorageFull``) when the lock file cannot be opened;
    in every case nothing is held after.
    """
    busy = DataBusy(
        f"{Path(data_dir).name}: another import or compaction is writing the data; "
        "try again in a moment"
    )
    with holding(lock_path(data_dir), timeout=timeout, busy=busy, doing="lock the data folder"):
        yield


def is_locked_here(path: str | os.PathLike[str]) -> bool:
    """True when this thread holds the lock file ``path`` (for tests and asserts)."""
    return file_lock(path).is_locked
