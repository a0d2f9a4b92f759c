"""The HTML pages: each renders the same dict as its /api/ twin."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from . import documents, downloads, params
from .auth import require_role

bp = Blueprint("pages", __name__)


def render(template: str, doc: dict[str, Any] | None, **extra: Any) -> str:
    """Render ``doc`` with ``template``, linking the page's JSON twin."""
    name = (request.endpoint or "").rpartition(".")[2]
    api_url = url_for(f"api.{name}", **(request.view_args or {}), **request.args.to_dict())
    return render_template(template, doc=doc, api_url=api_url, **extra)


@bp.get("/")
def home() -> str:
    """Front page: search box, ask box, articles, contested count."""
    return render("home.html", documents.home())


@bp.get("/articles/<article_id>")
def article(article_id: str) -> str:
    """An answer article."""
    return render("article.html", documents.article(article_id))


@bp.get("/claims/<claim_id>")
def claim(claim_id: str) -> str:
    """A claim, its trace and what contradicts it."""
    return render("claim.html", documents.claim(claim_id))


@bp.get("/references/<ref_id>")
def reference(ref_id: str) -> str:
    """A reference and what depends on it."""
    return render("reference.html", documents.reference(ref_id))


@bp.get("/search")
def search() -> str:
    """Search results (the bare form when there is no query yet)."""
    return render("search.html", documents.search() if params.text("q") else None)


@bp.get("/ask")
def ask() -> str:
    """An answer to a question (the bare form when there is no question yet)."""
    return render("ask.html", documents.ask() if params.text("q") else None)


@bp.get("/contested")
def contested() -> str:
    """Every conflict, grouped by topic and filterable."""
    return render("contested.html", documents.conflicts())


@bp.get("/matrix")
def matrix() -> str:
    """The evidence matrix (a chooser when no article or condition is given)."""
    chosen = params.text("article") or params.text("condition")
    return render(
        "matrix.html",
        documents.evidence_matrix() if chosen else None,
        scopes=documents.matrix_scopes(),
    )


@bp.get("/integrity")
def integrity() -> str:
    """The integrity report."""
    return render("integrity.html", documents.integrity_report())


@bp.get("/policy")
def policy() -> str:
    """The editorial policy."""
    return render("policy.html", documents.policy())


@bp.get("/glossary")
def glossary() -> str:
    """Plain-language glossary."""
    return render("glossary.html", documents.glossary_terms())


@bp.get("/claims/<claim_id>/history")
def claim_history(claim_id: str) -> str:
    """Who changed what about a claim, when and why."""
    return render("history.html", documents.claim_history(claim_id))


@bp.get("/articles/<article_id>/history")
def article_history(article_id: str) -> str:
    """Who changed what about an article and its claims, when and why."""
    return render("history.html", documents.article_history(article_id))


@bp.get("/editorial")
@require_role("reviewer")
def dashboard() -> str:
    """The editorial dashboard: the board's queue, articles by status, recent activity."""
    return render("editorial.html", documents.editorial_dashboard())


@bp.get("/downloads")
def downloads_page() -> str:
    """The downloads: references, citations, claims and the graph as files."""
    return render("downloads.html", documents.downloads_listing())


@bp.get("/downloads/<name>")
def download(name: str) -> Response:
    """One download, as an attachment."""
    return downloads.send(name)
