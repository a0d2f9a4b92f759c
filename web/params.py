"""Query-string parsing: turn request arguments into typed values, or an InvalidQuery (400)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Flask, request, url_for
from flask.json.provider import DefaultJSONProvider

from kb.errors import InvalidQuery

MAX_TEXT = 1000
MAX_JSON_DEPTH = 32  # objects and arrays nested in a request body, at most


def url_here(endpoint: str, view_args: Mapping[str, Any] | None, args: Mapping[str, Any]) -> str:
    """The URL of ``endpoint`` with its ``view_args`` and the query ``args`` appended as
    they are. Query arguments never reach ``url_for``, where names like ``endpoint``,
    ``_method``, ``_external`` or a view argument's name would change what it builds."""
    url = url_for(endpoint, **(view_args or {}))
    query = urlencode([(k, v) for k, v in args.items() if v is not None], doseq=True)
    return f"{url}?{query}" if query else url


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:20]} is too large")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > 18:
        raise ValueError(f"the number {text[:20]}… is too large")
    return int(text)


def _check_tree(value: Any) -> None:
    """Refuse nesting deeper than :data:`MAX_JSON_DEPTH` and text that is not valid Unicode
    (a lone surrogate such as "\\ud800", which no file or page can hold)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError("text is not valid Unicode (a lone surrogate)") from None
            continue
        if not isinstance(item, (dict, list)):
            continue
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels")
        children = list(item.items()) if isinstance(item, dict) else [(None, v) for v in item]
        for key, child in children:
            if key is not None:
                stack.append((key, depth + 1))
            stack.append((child, depth + 1))


def strict_loads(data: str | bytes) -> Any:
    """Parse JSON, refusing what would break later: NaN and Infinity, numbers too large for
    a float, nesting deeper than :data:`MAX_JSON_DEPTH` and lone surrogates (a ValueError)."""
    try:
        value = json.loads(
            data, parse_constant=_refuse_constant, parse_float=_finite, parse_int=_bounded_int
        )
    except RecursionError:
        raise ValueError(f"JSON is nested deeper than {MAX_JSON_DEPTH} levels") from None
    _check_tree(value)
    return value


class StrictJSONProvider(DefaultJSONProvider):
    """The app's JSON: request bodies are parsed with :func:`strict_loads`, so a hostile body
    is a 400, never a 500 deeper in."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return strict_loads(s)


def json_object() -> dict[str, Any]:
    """The request body as a JSON object, or an :class:`InvalidQuery` saying what is wrong."""
    try:
        body = strict_loads(request.get_data(cache=True))
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidQuery(f"the request body is not acceptable JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidQuery("send a JSON object")
    return body


def install(app: Flask) -> None:
    """Make ``app`` parse JSON strictly (keeping its output settings)."""
    provider = StrictJSONProvider(app)
    provider.sort_keys = app.json.sort_keys  # type: ignore[attr-defined]
    provider.ensure_ascii = app.json.ensure_ascii  # type: ignore[attr-defined]
    app.json = provider


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
