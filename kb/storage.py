"""Reading and writing the JSON data files: errors that name the file, canonical atomic writes."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import InvalidData, StorageError, StorageFull

# errno -> what a reader of the message should know
_STORAGE_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the folder is on a read-only file system",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EMFILE: "too many open files",
    errno.ENFILE: "too many open files in the system",
    errno.EIO: "an input/output error",
}


def storage_error(
    path: str | os.PathLike[str], exc: OSError, *, doing: str = "save"
) -> StorageError:
    """The named error for an ``OSError`` met while writing ``path``: :class:`StorageFull` for a
    full disk or quota, :class:`StorageError` otherwise; the message says nothing was saved."""
    code = exc.errno
    reason = _STORAGE_REASONS.get(code or 0) or exc.strerror or str(exc)
    cls = StorageFull if code in (errno.ENOSPC, errno.EDQUOT) else StorageError
    return cls(Path(path).name, f"could not {doing} ({reason}); nothing was saved", errno=code)


def load_json(path: Path) -> Any:
    """Parse a JSON file, turning every failure into :class:`InvalidData` naming the file."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InvalidData(path.name, "file not found") from None
    except OSError as exc:
        raise InvalidData(path.name, f"cannot be read ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidData(path.name, f"not UTF-8 text (byte {exc.start})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidData(
            path.name, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    except RecursionError:
        raise InvalidData(path.name, "not valid data: JSON nested too deeply") from None


def files_stamp(folder: Path, names: tuple[str, ...]) -> tuple[tuple[int, int, int] | None, ...]:
    """(inode, mtime in ns, size) of each file, None when missing: every atomic write makes a
    new inode, so a changed stamp means a file was replaced since the stamp was taken."""
    out: list[tuple[int, int, int] | None] = []
    for name in names:
        try:
            st = (folder / name).stat()
        except OSError:
            out.append(None)
        else:
            out.append((st.st_ino, st.st_mtime_ns, st.st_size))
    return tuple(out)


def canonical_json(data: Any) -> str:
    """The one on-disk form: sorted keys, 2-space indent, UTF-8, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json_atomic(path: Path, data: Any, *, mode: int | None = None) -> None:
    """Write ``data`` canonically to ``path`` atomically (see :func:`write_text_atomic`)."""
    write_text_atomic(path, canonical_json(data), mode=mode)


def write_text_atomic(path: str | os.PathLike[str], text: str, *, mode: int | None = None) -> None:
    """Write ``text`` (UTF-8) to ``path``: temp file in the same folder, fsync, rename.

    A reader (or a crash) sees either the old file or the new one, never a torn one. The file
    keeps the old file's mode, or gets the usual one for a new file (not mkstemp's 0600).
    ``mode`` sets it instead (0o600 for secrets). A full disk raises :class:`StorageFull`, a
    read-only folder or other I/O failure :class:`StorageError` (the old file stays, no temp
    file is left).
    """
    try:
        _write_atomic(Path(path), text.encode("utf-8"), mode)
    except OSError as exc:
        raise storage_error(path, exc) from None


def write_bytes_atomic(
    path: str | os.PathLike[str], data: bytes, *, mode: int | None = None
) -> None:
    """Write ``data`` to ``path`` atomically, as :func:`write_text_atomic` does for text."""
    try:
        _write_atomic(Path(path), data, mode)
    except OSError as exc:
        raise storage_error(path, exc) from None


def _write_atomic(path: Path, data: bytes, mode: int | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        fh = os.fdopen(fd, "wb")
    except BaseException:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    try:
        with fh:
            if mode is None:
                try:
                    mode = path.stat().st_mode & 0o777
                except FileNotFoundError:
                    mask = os.umask(0)
                    os.umask(mask)
                    mode = 0o666 & ~mask
            os.fchmod(fh.fileno(), mode)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
