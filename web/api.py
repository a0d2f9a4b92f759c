"""The JSON API under /api/: each route returns the same dict as its page."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from . import documents, downloads
from .auth import require_role
from .openapi import openapi_document

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.get("/")
def home() -> Response:
    """Front-page data."""
    return jsonify(documents.home())


@bp.get("/articles/<article_id>")
def article(article_id: str) -> Response:
    """One answer article (``?audience=clinician|patient``)."""
    return jsonify(documents.article(article_id))


@bp.get("/claims/<claim_id>")
def claim(claim_id: str) -> Response:
    """One claim with its trace, conflicts and related claims."""
    return jsonify(documents.claim(claim_id))


@bp.get("/references/<ref_id>")
def reference(ref_id: str) -> Response:
    """One reference with everything that depends on it."""
    return jsonify(documents.reference(ref_id))


@bp.get("/search")
def search() -> Response:
    """Full-text search with facets."""
    return jsonify(documents.search())


@bp.get("/ask")
def ask() -> Response:
    """An answer built only from knowledge-base claims."""
    return jsonify(documents.ask())


@bp.get("/conflicts")
def contested() -> Response:
    """Every conflict, grouped by topic (``?type=``, ``?condition=``)."""
    return jsonify(documents.conflicts())


@bp.get("/matrix")
def matrix() -> Response:
    """Claims × references for ``?article=`` or ``?condition=``."""
    return jsonify(documents.evidence_matrix())


@bp.get("/integrity")
def integrity() -> Response:
    """The integrity report."""
    return jsonify(documents.integrity_report())


@bp.get("/policy")
def policy() -> Response:
    """The grading and conflict rules the editorial policy describes."""
    return jsonify(documents.policy())


@bp.get("/glossary")
def glossary() -> Response:
    """Every glossary term."""
    return jsonify(documents.glossary_terms())


@bp.get("/claims/<claim_id>/history")
def claim_history(claim_id: str) -> Response:
    """The editorial history of a claim."""
    return jsonify(documents.claim_history(claim_id))


@bp.get("/articles/<article_id>/history")
def article_history(article_id: str) -> Response:
    """The editorial history of an article and its claims."""
    return jsonify(documents.article_history(article_id))


@bp.get("/editorial")
@require_role("reviewer")
def dashboard() -> Response:
    """The editorial dashboard (reviewers and above)."""
    return jsonify(documents.editorial_dashboard())


@bp.get("/downloads")
def downloads_page() -> Response:
    """Every download with its link, media type and CLI equivalent."""
    return jsonify(documents.downloads_listing())


@bp.get("/downloads/<name>")
def download(name: str) -> Response:
    """One download, as an attachment (the same response as /downloads/<name>)."""
    return downloads.send(name)


@bp.get("/health")
def health() -> Response:
    """A cheap liveness check."""
    return jsonify(documents.health())


@bp.get("/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi_document())
