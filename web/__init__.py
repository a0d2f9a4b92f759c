"""The web site and JSON API over one :class:`kb.KnowledgeBase` (Flask app factory)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import Flask, current_app, g
from flask_wtf.csrf import CSRFProtect

from kb import KnowledgeBase
from kb.editorial import Editor
from kb.importer import MAX_BYTES
from kb.paths import index_dir, instance_dir

from . import fragments, templating

csrf = CSRFProtect()
# The largest request body: an answer document of MAX_BYTES plus its multipart envelope.
# Larger bodies are refused before they are read (see web.errors).
MAX_REQUEST_BYTES = MAX_BYTES + 64 * 1024


@dataclass(frozen=True)
class Live:
    """The knowledge base the app serves and the editor over it: always replaced together, by
    one assignment (:func:`reload_kb`), so no request ever sees one without the other."""

    kb: KnowledgeBase
    editor: Editor


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
    (default 5 in 900) are allowed before a 429. ``MAX_CONTENT_LENGTH`` (default
    :data:`MAX_REQUEST_BYTES`) bounds every request body. ``FRAGMENT_BUDGET`` (default
    ``$KB_FRAGMENT_BUDGET``, else :data:`web.fragments.BUDGET_CHARS`; 0 keeps none) is how
    many characters of rendered conflict cards and pictures are kept (:mod:`web.fragments`).
    An import through the site (:mod:`web.imports`) replaces the knowledge base with
    :func:`reload_kb`.
    """
    app = Flask(__name__)
    app.jinja_environment = templating.Environment
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
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        FRAGMENT_BUDGET=os.environ.get("KB_FRAGMENT_BUDGET") or fragments.BUDGET_CHARS,
    )
    if config:
        app.config.update(config)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    kb = app.config["KB"]
    data_dir = kb.data_dir if kb is not None else app.config["KB_DATA_DIR"]
    instance = instance_dir(data_dir, app.config["KB_INSTANCE_DIR"])
    if kb is None:
        kb = load_kb(data_dir, app.config["KB_INDEX_DIR"] or index_dir(data_dir, instance))
    app.extensions["instance_dir"] = instance
    _install(app, Live(kb, Editor.open(kb, instance)))
    if app.config["KB_WARM"]:
        warm(kb)

    from . import auth, editorial, errors, filters, headers, imports, pages

    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = auth.secret_key(instance)
    csrf.init_app(app)
    auth.register(app, instance)
    editorial.register(app)
    imports.register(app)
    pages.register(app)
    errors.register(app)
    headers.register(app)
    filters.register(app)
    fragments.register(app)
    return app


def load_kb(
    data_dir: str | os.PathLike[str], index_dir: str | os.PathLike[str] | None
) -> KnowledgeBase:
    """Load the knowledge base of ``data_dir`` with its search index in ``index_dir``."""
    return KnowledgeBase.load(data_dir, index_dir=index_dir)


def warm(kb: KnowledgeBase) -> None:
    """Compute everything a first request would otherwise pay for: grades, conflicts and the
    search index (built on first start, opened afterwards)."""
    kb.grades  # noqa: B018 - cached on first access (conflicts come with it)
    kb.claims_by_topic  # noqa: B018
    kb.search_warm()


def _install(app: Flask, new: Live) -> None:
    # One assignment is what requests read (atomic); ``kb`` and ``editor`` mirror it for code
    # outside a request (tests, the shell).
    app.extensions["live"] = new
    app.extensions["kb"], app.extensions["editor"] = new.kb, new.editor


def reload_kb(app: Flask) -> KnowledgeBase:
    """Load the knowledge base again from its data directory and serve it from now on.

    The new knowledge base gets its own editor over the same instance folder (the editorial
    journal is replayed into it) and is warmed up (grades, conflicts, search index) *before*
    it replaces the old pair in one assignment, so requests already running finish on the old
    data and later ones see the new data, never a mixture. Raises :class:`kb.errors.KBError`
    (and changes nothing) when the data directory does not load. Callers serialise reloads
    (:mod:`web.imports` holds its import lock).
    """
    old: Live = app.extensions["live"]
    kb = load_kb(old.kb.data_dir, old.kb.index_dir)
    editor = Editor.open(kb, app.extensions["instance_dir"])
    if app.config["KB_WARM"]:
        warm(kb)
    _install(app, Live(kb, editor))
    old.kb.search_index.close()  # a request still searching the old data reopens it
    return kb


def live() -> Live:
    """The knowledge base and editor this request uses: read once per request, so a reload
    while it runs does not change them under it."""
    current = g.get("_kb_live")
    if current is None:
        current = g._kb_live = current_app.extensions["live"]
    return current


def current_kb() -> KnowledgeBase:
    """The knowledge base of the running app (the same one for the whole request)."""
    return live().kb
