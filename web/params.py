"""Query-string parsing: turn request arguments into typed values, or an InvalidQuery (400)."""

from __future__ import annotations

from collections.abc import Iterable

from flask import request

from kb.errors import InvalidQuery

MAX_TEXT = 1000


def text(name: str, *, required: bool = False) -> str | None:
    """A text argument, stripped; ``None`` when absent or blank (or an error if required)."""
    value = request.args.get(name, "")
    if len(value) > MAX_TEXT:
        raise InvalidQuery(f"parameter {name!r} is longer than {MAX_TEXT} characters")
    value = value.strip()
    if not value:
        if required:
            raise InvalidQuery(f"parameter {name!r} is required")
        return None
    return value


def integer(name: str, default: int, *, minimum: int = 1, maximum: int = 10_000) -> int:
    """A whole-number argument within ``[minimum, maximum]``."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidQuery(f"parameter {name!r} must be a whole number, not {raw!r}") from None
    if not minimum <= value <= maximum:
        raise InvalidQuery(f"parameter {name!r} must be between {minimum} and {maximum}")
    return value


def choice(name: str, choices: Iterable[str], default: str) -> str:
    """One of ``choices`` (``default`` when absent)."""
    options = list(choices)
    value = text(name) or default
    if value not in options:
        raise InvalidQuery(f"parameter {name!r} must be one of {', '.join(options)}")
    return value
