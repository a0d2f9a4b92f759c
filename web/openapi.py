"""The OpenAPI 3.1 description of the JSON API (its schemas are JSON Schema 2020-12).

Generated, not written: the read-only paths come from the page registry
(:data:`web.pages.PAGES`), every schema from the typed shapes in :mod:`kb.shapes` (through
pydantic's ``TypeAdapter``). Only the operations that are not pages — login, editorial
actions, the import upload, file downloads — are described here, and their bodies and
responses are shapes too.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from pydantic import TypeAdapter

from kb import shapes
from kb.dashboard import ROUTES
from kb.export import CITATION_STYLES
from kb.importer import MAX_BYTES

from .downloads import DOWNLOADS
from .pages import PAGES, Page, Param, path

REF = "#/components/schemas/{model}"

ERRORS = {
    400: "Bad input (or a missing or wrong CSRF token)",
    401: "Not logged in",
    403: "The role does not allow it",
    404: "Unknown id",
    409: "Changed since base_version: the current state is returned",
    429: "Too many failed logins (see Retry-After)",
    503: "The editorial journal is busy (see Retry-After)",
}
WRITE_ERRORS = (400, 401, 403, 404, 409, 503)

# Shapes used outside the page registry (request bodies, write responses, errors).
OTHER_SHAPES = (
    shapes.Error,
    shapes.StaleEdit,
    shapes.Csrf,
    shapes.Login,
    shapes.Logout,
    shapes.Credentials,
    shapes.Edit,
    shapes.NewConflict,
    shapes.EditResult,
    shapes.ImportReport,
)


def _ref(shape: Any) -> dict[str, str]:
    return {"$ref": REF.format(model=shape.__name__)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(statuses: tuple[int, ...]) -> dict[str, Any]:
    return {
        str(status): _json(
            _ref(shapes.StaleEdit if status == 409 else shapes.Error), ERRORS[status]
        )
        for status in statuses
    }


def _parameter(param: Param) -> dict[str, Any]:
    return {
        "name": param.name,
        "in": param.where,
        "required": param.required,
        "description": param.description,
        "schema": param.schema(),
    }


def _openapi_path(rule: str) -> str:
    return rule.replace("<", "{").replace(">", "}")


def _page_operation(page: Page, schemas: dict[Any, dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": page.name,
            "summary": page.summary,
            "parameters": [_parameter(p) for p in page.params],
            "responses": {
                "200": _json(schemas[page.shape], page.summary),
                **_errors(page.error_statuses()),
            },
        }
    }


def _post(
    op_id: str,
    summary: str,
    body: Any,
    response: Any,
    params: tuple[Param, ...] = (),
    *,
    status: int = 201,
    errors: tuple[int, ...] = WRITE_ERRORS,
    description: str = "",
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "parameters": [_parameter(p) for p in params],
        "security": [{"session": [], "csrf": []}],
        "responses": {str(status): _json(_ref(response), summary), **_errors(errors)},
    }
    if description:
        op["description"] = description
    if body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(body)}},
        }
    return {"post": op}


def _action(kind: str, id_name: str) -> dict[str, Any]:
    routes = list(ROUTES[kind])
    return _post(
        f"editorial_{kind}",
        f"An editorial action on one of the {kind}: " + ", ".join(routes),
        shapes.Edit,
        shapes.EditResult,
        (
            path(id_name, f"{kind[:-1]} id"),
            Param("action", "the action", where="path", required=True, enum=routes),
        ),
        description="Reviewers may flag, comment and propose a verdict; editors may "
        "also set verdicts and statuses, resolve or dismiss flags, and "
        "dismiss, resolve or restore conflicts.",
    )


def _download() -> dict[str, Any]:
    media: dict[str, Any] = {}
    for d in DOWNLOADS:
        json_like = d.media_type.split(";")[0].endswith("json")
        kind = "array" if d.name == "references.json" else "object"
        media[d.media_type] = {"schema": {"type": kind if json_like else "string"}}
    ok = {
        "description": "the file, as an attachment (Content-Disposition) with an ETag; "
        "byte for byte the output of the kb export command listed by /api/downloads",
        "content": media,
    }
    styles = Param("style", "citations.txt only: the citation style", enum=CITATION_STYLES)
    name = Param("name", "the file", where="path", required=True, enum=[d.name for d in DOWNLOADS])
    return {
        "get": {
            "operationId": "download",
            "summary": "One download (the same response is served at /downloads/{name})",
            "parameters": [_parameter(name), _parameter(styles)],
            "responses": {
                "200": ok,
                "304": {"description": "unchanged since the ETag sent in If-None-Match"},
                **_errors((400, 404)),
            },
        }
    }


def _import() -> dict[str, Any]:
    report = {"content": {"application/json": {"schema": _ref(shapes.ImportReport)}}}
    errors = _errors((400, 401, 403))
    errors["409"] = _json(
        _ref(shapes.Error),
        "another document is being imported (imports run one at a time; retry when it has "
        "finished)",
    )
    upload = {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {
                "type": "string",
                "contentMediaType": "text/plain",
                "description": "the answer document",
            },
            "dry_run": {
                "type": "boolean",
                "default": False,
                "description": "check and report, write nothing",
            },
        },
    }
    return {
        "post": {
            "operationId": "import_document",
            "summary": "Import an answer document as a new article (editors and above)",
            "description": f"A multipart upload of one UTF-8 answer document of at most "
            f"{MAX_BYTES:,} bytes. An empty, binary, too large or wrongly encoded "
            "file, or one that is not an answer document, is a 400 and nothing is "
            "written. The same document again is reported with unchanged: true.",
            "security": [{"session": [], "csrf": []}],
            "requestBody": {
                "required": True,
                "content": {"multipart/form-data": {"schema": upload}},
            },
            "responses": {
                "201": {"description": "imported: the report", **report},
                "200": {
                    "description": "a dry run, or a document already imported: "
                    "the report; nothing written",
                    **report,
                },
                **errors,
            },
        }
    }


def _schemas() -> tuple[dict[Any, dict[str, Any]], dict[str, Any]]:
    """The response schema of every page's shape, and the shared component schemas."""
    shapes_used = list(dict.fromkeys([p.shape for p in PAGES] + list(OTHER_SHAPES)))
    by_key, definitions = TypeAdapter.json_schemas(
        [(i, "serialization", TypeAdapter(s)) for i, s in enumerate(shapes_used)],
        ref_template=REF,
    )
    top = {shape: by_key[(i, "serialization")] for i, shape in enumerate(shapes_used)}
    return top, definitions.get("$defs", {})


def _other_paths() -> dict[str, Any]:
    return {
        "/api/csrf": {
            "get": {
                "operationId": "csrf",
                "summary": "A CSRF token for this session (send it as X-CSRFToken) and who is "
                "logged in",
                "parameters": [],
                "responses": {"200": _json(_ref(shapes.Csrf), "the token")},
            }
        },
        "/api/login": _post(
            "login",
            "Log in; the session cookie carries the login",
            shapes.Credentials,
            shapes.Login,
            status=200,
            errors=(400, 401, 429),
        ),
        "/api/logout": _post("logout", "Log out", None, shapes.Logout, status=200, errors=(400,)),
        "/api/editorial/claims/{claim_id}/{action}": _action("claims", "claim_id"),
        "/api/editorial/articles/{article_id}/{action}": _action("articles", "article_id"),
        "/api/editorial/conflicts/{conflict_id}/{action}": _action("conflicts", "conflict_id"),
        "/api/editorial/references/{ref_id}/{action}": _action("references", "ref_id"),
        "/api/editorial/conflicts": _post(
            "add_conflict",
            "Add a conflict by hand (editors)",
            shapes.NewConflict,
            shapes.EditResult,
        ),
        "/api/downloads/{name}": _download(),
        "/api/import": _import(),
    }


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document for every ``/api/`` endpoint."""
    top, definitions = _schemas()
    paths = {_openapi_path(page.api_rule): _page_operation(page, top) for page in PAGES}
    paths.update(_other_paths())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Evidence-aware knowledge base API",
            "version": "1.0.0",
            "description": "Every page of the site has a JSON twin here that returns the "
            'same data. Errors are {"error": {"status", "message"}}. '
            "Editorial writes need a login (session cookie) and the CSRF "
            "token as the X-CSRFToken header; each carries base_version, "
            "and a stale one is a 409 with the current state.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": definitions,
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "session",
                    "description": "the session cookie set by /api/login",
                },
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRFToken",
                    "description": "the token from /api/csrf (or /api/login)",
                },
            },
        },
    }
