"""Reading and writing the JSON data files: errors that name the file, canonical atomic writes."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .errors import InvalidData


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


def canonical_json(data: Any) -> str:
    """The one on-disk form: sorted keys, 2-space indent, UTF-8, trailing newline."""
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` canonically to ``path`` atomically (see :func:`write_text_atomic`)."""
    write_text_atomic(path, canonical_json(data))


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path``: temp file in the same folder, fsync, rename.

    A reader (or a crash) sees either the old file or the new one, never a torn one. The file
    keeps the old file's mode, or gets the usual one for a new file (not mkstemp's 0600).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        try:
            mode = path.stat().st_mode & 0o777
        except FileNotFoundError:
            mask = os.umask(0)
            os.umask(mask)
            mode = 0o666 & ~mask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
