"""Editorial actions over HTTP: HTML forms under /editorial/ and their JSON twins under
/api/editorial/. Each view is one :mod:`kb.dashboard` call; the library checks the role
(403), the version the edit was based on (409 with the current state) and the values (400).

Every form and JSON call carries the CSRF token (Flask-WTF) and ``base_version``, the version
of its target the page showed. Before each request the app catches up with edits other
processes appended to the journal (:func:`refresh`), so every page shows the current state.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from kb import dashboard
from kb.editorial import ACTIONS, ROUTES, Editor
from kb.errors import InvalidQuery

from . import live, params
from .auth import local_path, require_role

pages_bp = Blueprint("editorial", __name__, url_prefix="/editorial")
api_bp = Blueprint("editorial_api", __name__, url_prefix="/api/editorial")


def editor() -> Editor:
    """The editor of the running app (opened by the app factory, replaced with the knowledge
    base by :func:`web.reload_kb`)."""
    return live().editor


def refresh() -> None:
    """Catch up with events other processes wrote. Never waits: when a writer of this process
    holds the journal, it is catching up itself, and this request reads the state as it is."""
    editor().refresh(wait=False)


def _submit(kind: str, target_id: str, action: str, fields: dict[str, Any]) -> dict[str, Any]:
    return dashboard.submit(
        editor(), current_user.name, current_user.role, kind, target_id, action, fields
    )


def _json_body() -> dict[str, Any]:
    return params.json_object()


# -- JSON ------------------------------------------------------------------------------------
@api_bp.post("/claims/<claim_id>/<action>")
@require_role("reviewer")
def claim_action(claim_id: str, action: str) -> tuple[Response, int]:
    """flag, comment, propose-verdict, set-verdict, resolve-flag, dismiss-flag."""
    return jsonify(_submit("claims", claim_id, action, _json_body())), 201


@api_bp.post("/articles/<article_id>/<action>")
@require_role("reviewer")
def article_action(article_id: str, action: str) -> tuple[Response, int]:
    """set-status, comment."""
    return jsonify(_submit("articles", article_id, action, _json_body())), 201


@api_bp.post("/conflicts/<conflict_id>/<action>")
@require_role("reviewer")
def conflict_action(conflict_id: str, action: str) -> tuple[Response, int]:
    """dismiss, resolve, restore, comment."""
    return jsonify(_submit("conflicts", conflict_id, action, _json_body())), 201


@api_bp.post("/references/<ref_id>/<action>")
@require_role("reviewer")
def reference_action(ref_id: str, action: str) -> tuple[Response, int]:
    """mark (``status``: retracted or concern, ``reason``, ``notice``), clear."""
    return jsonify(_submit("references", ref_id, action, _json_body())), 201


@api_bp.post("/conflicts")
@require_role("reviewer")
def add_conflict() -> tuple[Response, int]:
    """Add a conflict by hand: ``{type, explanation, sides: [{label, claims}], topic?}``."""
    body = _json_body()
    result = dashboard.add_conflict(
        editor(),
        current_user.name,
        current_user.role,
        type=str(body.get("type") or ""),
        explanation=str(body.get("explanation") or ""),
        sides=body.get("sides") or [],
        topic=str(body.get("topic") or ""),
        reason=str(body.get("reason") or ""),
    )
    return jsonify(result), 201


# -- HTML forms (post, then redirect back to the page) ---------------------------------------
def _back(default: str) -> Response:
    return redirect(local_path(request.form.get("next"), default))


def _form(kind: str, target_id: str, action: str, default: str) -> Response:
    """Submit the posted form, flash what was done, and go back (to ``next`` or ``default``)."""
    _submit(kind, target_id, action, request.form.to_dict())
    flash(ACTIONS[ROUTES[kind][action]].done, "info")
    return _back(default)


@pages_bp.post("/claims/<claim_id>/<action>")
@require_role("reviewer")
def claim_form(claim_id: str, action: str) -> Response:
    """A claim-page form."""
    return _form(
        "claims", claim_id, action, url_for("pages.claim", claim_id=claim_id, _anchor="board")
    )


@pages_bp.post("/articles/<article_id>/<action>")
@require_role("reviewer")
def article_form(article_id: str, action: str) -> Response:
    """An article-page form."""
    return _form(
        "articles",
        article_id,
        action,
        url_for("pages.article", article_id=article_id, _anchor="board"),
    )


@pages_bp.post("/conflicts/<conflict_id>/<action>")
@require_role("reviewer")
def conflict_form(conflict_id: str, action: str) -> Response:
    """A conflict form (on a claim page or the dashboard)."""
    return _form("conflicts", conflict_id, action, url_for("pages.dashboard"))


@pages_bp.post("/references/<ref_id>/<action>")
@require_role("reviewer")
def reference_form(ref_id: str, action: str) -> Response:
    """The reference-page forms: mark retracted or of concern, clear the mark."""
    return _form("references", ref_id, action, url_for("pages.reference", ref_id=ref_id))


@pages_bp.get("/conflicts/new")
@require_role("editor")
def pick_claims() -> str:
    """Add a conflict by picking claims: a GET search step (``q``), links that add a result
    to side A or B (``a``, ``b`` repeat), then the form that posts the conflict."""
    q = params.text("q")
    doc = dashboard.claim_picker(
        live().kb, q, _ids(request.args.getlist("a")), _ids(request.args.getlist("b"))
    )
    return render_template("pick_claims.html", doc=doc)


def _ids(values: list[str]) -> list[str]:
    if len(values) > dashboard.MAX_PICKED:
        raise InvalidQuery(f"at most {dashboard.MAX_PICKED} claims per side")
    return [v for v in values if 0 < len(v) <= params.MAX_TEXT]


@pages_bp.post("/conflicts")
@require_role("reviewer")
def add_conflict_form() -> Response:
    """The add-a-conflict form: two sides of comma-separated claim ids."""
    form = request.form
    # Claim ids come typed (comma-separated) or picked (one field per claim).
    sides = [
        {
            "label": form.get(f"label_{s}", ""),
            "claims": dashboard.split_ids(form.get(f"claims_{s}", "")) + form.getlist(f"pick_{s}"),
        }
        for s in ("a", "b")
    ]
    result = dashboard.add_conflict(
        editor(),
        current_user.name,
        current_user.role,
        type=form.get("type", ""),
        explanation=form.get("explanation", ""),
        sides=sides,
        topic=form.get("topic", ""),
        reason=form.get("reason", ""),
    )
    flash(ACTIONS["add_conflict"].done, "info")
    first = result["event"]["after"]["sides"][0]["claims"][0]
    return _back(url_for("pages.claim", claim_id=first, _anchor="contra-title"))


def register(app: Flask) -> None:
    """Catch up with the journal before every request; install the blueprints."""
    app.before_request(refresh)
    app.register_blueprint(pages_bp)
    app.register_blueprint(api_bp)
