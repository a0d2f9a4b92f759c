"""Template helpers: presentation only (dates, query-string links, search highlights)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from flask import Flask, request
from markupsafe import Markup, escape

from kb.contested import TYPE_LABELS

from .params import url_here

# Search highlights may mark matches with <b>, <strong>, <em> or <mark> tags (with a class).
# Everything is escaped first; only those tags are then turned back into <mark>.
_MATCH_TAG = re.compile(r"&lt;(/?)(?:b|strong|em|mark)(?: class=&#34;[\w\s-]*&#34;)?&gt;")


def highlight(snippet: str | None) -> Markup:
    """A search snippet, escaped, with its match marks shown as ``<mark>``."""
    if not snippet:
        return Markup("")
    safe = str(escape(snippet))
    return Markup(_MATCH_TAG.sub(lambda m: f"<{m.group(1)}mark>", safe))


def long_date(value: str | None) -> str:
    """``2026-01-14`` as ``14 January 2026`` (unchanged if it is not an ISO date)."""
    if not value:
        return ""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {day:%B %Y}"


def when(value: str | None) -> str:
    """An ISO timestamp as ``14 January 2026, 09:30 UTC`` (unchanged if it is not one)."""
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value).astimezone(dt.UTC)
    except ValueError:
        return value
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


def conflict_type_options() -> list[dict[str, str]]:
    """The conflict types, for the add-a-conflict form."""
    return [{"value": k, "label": v} for k, v in TYPE_LABELS.items()]


def slug(value: Any) -> str:
    """A CSS-class-friendly form: ``Very low`` -> ``very-low``."""
    return re.sub(r"[^a-z0-9]+", "-", str(value).lower()).strip("-")


def url_with(**changes: Any) -> str:
    """This page's URL with query arguments changed (``None`` removes one)."""
    args = request.args.to_dict()
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = str(value)
    return url_here(request.endpoint or "pages.home", request.view_args, args)


def register(app: Flask) -> None:
    """Make the helpers available to every template."""
    app.add_template_filter(highlight)
    app.add_template_filter(long_date)
    app.add_template_filter(when)
    app.add_template_global(conflict_type_options)
    app.add_template_filter(slug)
    app.add_template_global(url_with)
