"""The web site and JSON API over one :class:`kb.KnowledgeBase` (Flask app factory)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from flask_wtf.csrf import CSRFProtect

from kb import KnowledgeBase
from kb.editorial import Editor

csrf = CSRFProtect()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app. The knowledge base is loaded here, once, and shared by every request.

    Config keys: ``KB`` (an already-built :class:`KnowledgeBase`, used as is), else
    ``KB_DATA_DIR`` (default ``$KB_DATA_DIR`` or ``data``) and ``KB_INDEX_DIR`` (default
    ``$KB_INDEX_DIR``, else ``<instance>/index``; where the search index lives); ``KB_WARM``
    (default true) builds or opens the search index before the first request instead of during
    it. ``KB_INSTANCE_DIR`` (default ``$KB_INSTANCE_DIR``, else ``<data_dir>/../instance``)
    holds the editorial journal, the accounts and the session key; the editorial journal is
    replayed here, once, and caught up with before each request. ``SECRET_KEY`` (default
    ``$KB_SECRET_KEY``, else ``<instance>/secret_key``, made on first start) signs sessions;
    ``SESSION_COOKIE_SECURE`` (default true) sends the session cookie over HTTPS only
    (browsers also accept it from http://127.0.0.1 and http://localhost);
    ``LOGIN_MAX_FAILURES`` failed logins per name and address in ``LOGIN_WINDOW`` seconds
    (default 5 in 900) are allowed before a 429.
    """
    app = Flask(__name__)
    app.config.from_mapping(
        KB=None,
        KB_DATA_DIR=os.environ.get("KB_DATA_DIR", "data"),
        KB_INDEX_DIR=os.environ.get("KB_INDEX_DIR"),
        KB_INSTANCE_DIR=os.environ.get("KB_INSTANCE_DIR"),
        KB_WARM=True,
        SEARCH_PAGE_SIZE=10,
        SECRET_KEY=os.environ.get("KB_SECRET_KEY"),
        SESSION_COOKIE_SECURE=True,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=8),
        LOGIN_MAX_FAILURES=5,
        LOGIN_WINDOW=900,
    )
    if config:
        app.config.update(config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    kb = app.config["KB"]
    data_dir = kb.data_dir if kb is not None else app.config["KB_DATA_DIR"]
    instance = instance_dir(data_dir, app.config["KB_INSTANCE_DIR"])
    if kb is None:
        kb = load_kb(data_dir, app.config["KB_INDEX_DIR"] or instance / "index")
    app.extensions["kb"] = kb
    if app.config["KB_WARM"]:
        warm(kb)

    from . import api, auth, editorial, errors, filters, headers, pages

    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = auth.secret_key(instance)
    csrf.init_app(app)
    auth.register(app, instance)
    editorial.register(app, Editor.open(kb, instance))
    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    errors.register(app)
    headers.register(app)
    filters.register(app)
    return app


def instance_dir(data_dir: str | os.PathLike[str], configured: str | os.PathLike[str] | None
                 ) -> Path:
    """The instance folder: ``configured``, else ``<data_dir>/../instance`` (beside the data,
    never inside it; the search index defaults to its ``index`` folder)."""
    if configured:
        return Path(configured)
    return Path(data_dir).absolute().parent / "instance"


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
