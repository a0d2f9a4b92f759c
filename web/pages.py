"""The page registry: every read-only page of the site and its ``/api/`` twin, declared once.

Each :class:`Page` names its path, the function that builds its document (a dict, from the
knowledge base and the page's parameters), the template that renders it, the typed shape of
that document (a TypedDict in :mod:`kb.shapes`), its parameters and the least role that may
see it. From :data:`PAGES` come the HTML blueprint (``pages``), the JSON blueprint (``api``,
under ``/api/``) and the OpenAPI paths (:mod:`web.openapi`), so a page and its twin cannot
disagree, and the spec lists exactly the parameters the app reads and enforces: a missing
required parameter or a value outside a parameter's ``enum`` is a 400.

Adding a page is one entry in :data:`PAGES` (and its template); see README "Development".
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    jsonify,
    render_template,
    request,
)

from kb import ask, contested, dashboard, glossary, integrity, matrix, pages, shapes
from kb import summary as summary_mod
from kb.errors import InvalidQuery
from kb.knowledgebase import KnowledgeBase

from . import current_kb, downloads, params
from .auth import require_role

Document = Mapping[str, Any]


@dataclass(frozen=True)
class Param:
    """One parameter of a page: read from the path or the query string, checked, passed on.

    ``enum`` (values, or a function giving them when the list depends on the data) is
    enforced; ``minimum``/``maximum`` make it a whole number; ``default`` fills it in when
    absent. A required query parameter that is absent or blank is a 400.
    """

    name: str
    description: str
    where: Literal["path", "query"] = "query"
    required: bool = False
    enum: Iterable[str] | None = None
    default: str | int | None = None
    minimum: int | None = None
    maximum: int | None = None

    def schema(self) -> dict[str, Any]:
        """The parameter's JSON Schema, as the OpenAPI document lists it."""
        if self.minimum is not None:
            out: dict[str, Any] = {"type": "integer", "minimum": self.minimum}
            if self.maximum is not None:
                out["maximum"] = self.maximum
            return out
        if self.enum is not None:
            return {"enum": list(self.enum)}
        return {"type": "string"}

    def read(self) -> Any:
        """The value of this request's argument, checked (:class:`InvalidQuery` when not)."""
        if self.where == "path":
            return (request.view_args or {})[self.name]
        if self.minimum is not None:
            default = self.default if isinstance(self.default, int) else self.minimum
            return params.integer(
                self.name, default, minimum=self.minimum, maximum=self.maximum or 10_000
            )
        value = params.text(self.name, required=self.required)
        if value is None:
            return self.default
        if self.enum is not None and value not in (options := list(self.enum)):
            raise InvalidQuery(f"parameter {self.name!r} must be one of {', '.join(options)}")
        return value


def path(name: str, description: str) -> Param:
    """A parameter that is part of the path (``<name>`` in the page's path)."""
    return Param(name, description, where="path", required=True)


@dataclass(frozen=True)
class Page:
    """One page and its JSON twin. ``build(kb, **arguments)`` makes the document both show.

    ``template`` None: JSON only. ``api_path``: the twin's path under ``/api`` when it is not
    the page's own. ``form``: the HTML page shows its bare form (document None) until one of
    these arguments is given. ``extra`` adds template variables. ``role``: the least role
    that may see it (both twins).
    """

    name: str
    path: str
    summary: str
    shape: Any  # a TypedDict of kb.shapes: the 200 response's schema
    build: Callable[..., Document]
    template: str | None = None
    params: tuple[Param, ...] = ()
    api_path: str | None = None
    role: str | None = None
    form: tuple[str, ...] = ()
    extra: Callable[[KnowledgeBase], dict[str, Any]] | None = None
    errors: tuple[int, ...] = field(default=())

    @property
    def api_rule(self) -> str:
        return "/api" + (self.api_path if self.api_path is not None else self.path)

    def error_statuses(self) -> tuple[int, ...]:
        """What can go wrong: bad parameters (400), an unknown id (404), not allowed."""
        out = list(self.errors)
        if any(p.where == "query" for p in self.params) and 400 not in out:
            out.append(400)
        if any(p.where == "path" for p in self.params):
            out.append(404)
        if self.role is not None:
            out += [401, 403]
        return tuple(sorted(out))

    def document(self) -> Document:
        """This request's document: its parameters read and checked, then ``build``."""
        arguments = {p.name: p.read() for p in self.params}
        return self.build(current_kb(), **arguments)


# -- document builders that need more than one kb call ----------------------------------------
def _search(kb: KnowledgeBase, q: str, **filters: Any) -> Document:
    result = kb.search(q, **filters, limit=current_app.config["SEARCH_PAGE_SIZE"])
    return {**result, "labels": pages.facet_labels(kb)}


def _matrix(kb: KnowledgeBase, **arguments: Any) -> Document:
    return {**matrix.matrix(kb, **arguments), "scopes": matrix.scopes(kb)}


def _health(kb: KnowledgeBase) -> Document:
    return {"status": "ok", "claims": len(kb.claims), "references": len(kb.references)}


def _openapi(kb: KnowledgeBase) -> Document:
    from .openapi import openapi_document

    return openapi_document()


ARTICLE_ID = path("article_id", "article id")
CLAIM_ID = path("claim_id", "claim id")

PAGES: tuple[Page, ...] = (
    Page(
        "home",
        "/",
        "Front page: search box, ask box, articles, contested count",
        shapes.Home,
        pages.home,
        "home.html",
    ),
    Page(
        "article",
        "/articles/<article_id>",
        "An answer article",
        shapes.Article,
        pages.article,
        "article.html",
        (
            ARTICLE_ID,
            Param(
                "audience",
                "clinician (default) or patient",
                enum=pages.AUDIENCES,
                default="clinician",
            ),
        ),
    ),
    Page(
        "claim",
        "/claims/<claim_id>",
        "A claim with trace, conflicts and related claims",
        shapes.ClaimPage,
        pages.claim,
        "claim.html",
        (CLAIM_ID,),
    ),
    Page(
        "reference",
        "/references/<ref_id>",
        "A reference and everything that depends on it",
        shapes.ReferencePage,
        pages.reference,
        "reference.html",
        (path("ref_id", "reference id"),),
    ),
    Page(
        "search",
        "/search",
        "Full-text search over claims and references",
        shapes.SearchResults,
        _search,
        "search.html",
        (
            Param("q", "the query", required=True),
            Param("kind", "claim kind filter"),
            Param("condition", "condition id filter"),
            Param("grade", "evidence grade filter"),
            Param("design", "study design filter"),
            Param("page", "1-based result page", minimum=1, maximum=10_000),
        ),
        form=("q",),
    ),
    Page(
        "ask",
        "/ask",
        "An answer built only from knowledge-base claims",
        shapes.Answer,
        lambda kb, q: ask.ask(kb, q),
        "ask.html",
        (Param("q", "the question", required=True),),
        form=("q",),
    ),
    Page(
        "contested",
        "/contested",
        "Every conflict, grouped by topic",
        shapes.Contested,
        contested.contested,
        "contested.html",
        (
            Param("type", "conflict type", enum=contested.TYPE_LABELS),
            Param("condition", "condition id (includes narrower ones)"),
        ),
        api_path="/conflicts",
    ),
    Page(
        "matrix",
        "/matrix",
        "Claims × references for an article or a condition",
        shapes.Matrix,
        _matrix,
        "matrix.html",
        (
            Param("article", "article id"),
            Param("condition", "condition id"),
            Param(
                "limit", "most rows drawn", default=matrix.DEFAULT_LIMIT, minimum=1, maximum=5000
            ),
        ),
        form=("article", "condition"),
        extra=lambda kb: {"scopes": matrix.scopes(kb)},
    ),
    Page(
        "integrity",
        "/integrity",
        "The integrity report",
        shapes.Integrity,
        integrity.report,
        "integrity.html",
    ),
    Page(
        "policy",
        "/policy",
        "Grading and conflict rules",
        shapes.Policy,
        pages.policy,
        "policy.html",
    ),
    # Summary of findings (GRADE, issue 9): certainty of the evidence per outcome.
    Page(
        "summary",
        "/summary",
        "GRADE summary of findings: certainty of the evidence per outcome",
        summary_mod.SummaryPage,
        summary_mod.summary_page,
        "summary.html",
        (Param("condition", "condition id (includes narrower ones)"),),
        errors=(404,),
    ),
    Page(
        "condition",
        "/conditions/<condition_id>",
        "A condition and the certainty of its evidence per outcome",
        summary_mod.ConditionPage,
        summary_mod.condition_page,
        "condition.html",
        (path("condition_id", "condition id"),),
    ),
    Page(
        "glossary",
        "/glossary",
        "Plain-language glossary",
        shapes.Glossary,
        lambda kb: {"terms": glossary.default().to_json()},
        "glossary.html",
    ),
    Page(
        "claim_history",
        "/claims/<claim_id>/history",
        "Editorial history of a claim and its conflicts",
        shapes.History,
        lambda kb, claim_id: dashboard.history(kb, "claims", claim_id),
        "history.html",
        (CLAIM_ID,),
    ),
    Page(
        "article_history",
        "/articles/<article_id>/history",
        "Editorial history of an article, its claims and their conflicts",
        shapes.History,
        lambda kb, article_id: dashboard.history(kb, "articles", article_id),
        "history.html",
        (ARTICLE_ID,),
    ),
    Page(
        "dashboard",
        "/editorial",
        "The editorial dashboard (reviewers and above)",
        shapes.Dashboard,
        dashboard.dashboard,
        "editorial.html",
        role="reviewer",
    ),
    Page(
        "downloads_page",
        "/downloads",
        "Every download: link, media type and the kb command giving the same bytes",
        shapes.Downloads,
        lambda kb: downloads.listing(),
        "downloads.html",
    ),
    Page("health", "/health", "Liveness check", shapes.Health, _health),
    Page("openapi", "/openapi.json", "This document (OpenAPI 3.1)", dict[str, Any], _openapi),
)


def render(template: str, doc: Document | None, **extra: Any) -> str:
    """Render ``doc`` with ``template``, linking the page's JSON twin."""
    name = (request.endpoint or "").rpartition(".")[2]
    api_url = params.url_here(f"api.{name}", request.view_args, request.args.to_dict())
    return render_template(template, doc=doc, api_url=api_url, **extra)


def _html_view(page: Page, template: str) -> Callable[..., str]:
    def view(**_: Any) -> str:
        extra = page.extra(current_kb()) if page.extra is not None else {}
        if page.form and not any(params.text(name) for name in page.form):
            return render(template, None, **extra)
        return render(template, page.document(), **extra)

    return view


def _api_view(page: Page) -> Callable[..., Response]:
    def view(**_: Any) -> Response:
        return jsonify(page.document())

    return view


def _guarded(page: Page, view: Callable[..., Any]) -> Callable[..., Any]:
    view.__name__ = view.__qualname__ = page.name
    view.__doc__ = page.summary
    return require_role(page.role)(view) if page.role is not None else view


def blueprints() -> tuple[Blueprint, Blueprint]:
    """The ``pages`` (HTML) and ``api`` (JSON, under /api) blueprints of :data:`PAGES`."""
    html = Blueprint("pages", __name__)
    api = Blueprint("api", __name__, url_prefix="/api")
    for page in PAGES:
        if page.template is not None:
            html.add_url_rule(page.path, page.name, _guarded(page, _html_view(page, page.template)))
        api.add_url_rule(page.api_rule[len("/api") :], page.name, _guarded(page, _api_view(page)))
    # Files, not documents: the same attachment at both addresses (see web.downloads).
    html.add_url_rule("/downloads/<name>", "download", _download)
    api.add_url_rule("/downloads/<name>", "download", _download)
    return html, api


def _download(name: str) -> Response:
    """One download, as an attachment."""
    return downloads.send(name)


def register(app: Flask) -> None:
    """Serve every page of :data:`PAGES` and its JSON twin."""
    for bp in blueprints():
        app.register_blueprint(bp)
