"""The one dict behind each page and its /api/ twin: request arguments in, a kb call, a dict out.

Both blueprints call these functions, so a page and its JSON twin cannot disagree.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from kb import answer, contested, dashboard, glossary, integrity, matrix, pages

from . import current_kb, downloads, params


def home() -> dict[str, Any]:
    return pages.home(current_kb())


def article(article_id: str) -> dict[str, Any]:
    return pages.article(
        current_kb(), article_id, audience=params.choice("audience", pages.AUDIENCES, "clinician")
    )


def claim(claim_id: str) -> dict[str, Any]:
    return pages.claim(current_kb(), claim_id)


def reference(ref_id: str) -> dict[str, Any]:
    return pages.reference(current_kb(), ref_id)


def search() -> dict[str, Any]:
    size = current_app.config["SEARCH_PAGE_SIZE"]
    result = current_kb().search(
        params.text("q", required=True) or "",
        kind=params.text("kind"),
        condition=params.text("condition"),
        grade=params.text("grade"),
        design=params.text("design"),
        limit=size,
        page=params.integer("page", 1),
    )
    return {**result, "labels": pages.facet_labels(current_kb())}


def ask() -> dict[str, Any]:
    return answer.ask(current_kb(), params.text("q", required=True) or "")


def conflicts() -> dict[str, Any]:
    return contested.contested(
        current_kb(), type=params.text("type"), condition=params.text("condition")
    )


def evidence_matrix() -> dict[str, Any]:
    kb = current_kb()
    data = matrix.matrix(
        kb,
        article=params.text("article"),
        condition=params.text("condition"),
        limit=params.integer("limit", matrix.DEFAULT_LIMIT, maximum=5000),
    )
    return {**data, "scopes": matrix.scopes(kb)}


def integrity_report() -> dict[str, Any]:
    return integrity.report(current_kb())


def policy() -> dict[str, Any]:
    return pages.policy(current_kb())


def glossary_terms() -> dict[str, Any]:
    return {"terms": glossary.default().to_json()}


def health() -> dict[str, Any]:
    kb = current_kb()
    return {"status": "ok", "claims": len(kb.claims), "references": len(kb.references)}


def matrix_scopes() -> dict[str, Any]:
    return matrix.scopes(current_kb())


def editorial_dashboard() -> dict[str, Any]:
    return dashboard.dashboard(current_kb())


def claim_history(claim_id: str) -> dict[str, Any]:
    return dashboard.history(current_kb(), "claims", claim_id)


def article_history(article_id: str) -> dict[str, Any]:
    return dashboard.history(current_kb(), "articles", article_id)


def downloads_listing() -> dict[str, Any]:
    return downloads.listing()
