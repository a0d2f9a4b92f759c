"""The web site and JSON API over one :class:`kb.KnowledgeBase` (Flask app factory)."""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, current_app

from kb import KnowledgeBase


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. The knowledge base is loaded here, once, and shared by every request.

    Config keys: ``KB`` (an already-built :class:`KnowledgeBase`, used as is), else
    ``KB_DATA_DIR`` (default ``$KB_DATA_DIR`` or ``data``) and ``KB_INDEX_DIR`` (default
    ``$KB_INDEX_DIR``; where the search index lives); ``KB_WARM`` (default true) builds or
    opens the search index before the first request instead of during it.
    """
    app = Flask(__name__)
    app.config.from_mapping(
        KB=None,
        KB_DATA_DIR=os.environ.get("KB_DATA_DIR", "data"),
        KB_INDEX_DIR=os.environ.get("KB_INDEX_DIR"),
        KB_WARM=True,
        SEARCH_PAGE_SIZE=10,
    )
    if config:
        app.config.update(config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    kb = app.config["KB"]
    if kb is None:
        kb = load_kb(app.config["KB_DATA_DIR"], app.config["KB_INDEX_DIR"])
    app.extensions["kb"] = kb
    if app.config["KB_WARM"]:
        warm(kb)

    from . import api, errors, filters, headers, pages

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.register(app)
    headers.register(app)
    filters.register(app)
    return app


def load_kb(data_dir: str | os.PathLike[str], index_dir: str | os.PathLike[str] | None
            ) -> KnowledgeBase:
    """Load the knowledge base of ``data_dir`` with its search index in ``index_dir``."""
    return KnowledgeBase.load(data_dir, index_dir=index_dir)


def warm(kb: KnowledgeBase) -> None:
    """Compute everything a first request would otherwise pay for: grades, conflicts and the
    search index (built on first start, opened afterwards)."""
    kb.grades  # noqa: B018 - cached on first access (conflicts come with it)
    kb.claims_by_topic  # noqa: B018
    kb.search_warm()


def current_kb() -> KnowledgeBase:
    """The knowledge base of the running app."""
    return current_app.extensions["kb"]
