"""The OpenAPI 3.1 description of the JSON API (its schemas are JSON Schema 2020-12)."""

from __future__ import annotations

from functools import cache
from typing import Any

from kb.articles import REVIEW_STATUSES
from kb.contested import TYPE_LABELS
from kb.dashboard import ROUTES
from kb.editorial import REFERENCE_MARKS, VERDICTS
from kb.evidence import GRADE_ORDER
from kb.export import CITATION_STYLES
from kb.importer import MAX_BYTES

from .downloads import DOWNLOADS


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": list(required),
        "properties": {**required, **(optional or {})},
    }


def _array(items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": items}


STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
ANY_OBJ = {"type": "object"}
NULL_STR = {"type": ["string", "null"]}
NULL_INT = {"type": ["integer", "null"]}

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": _obj({"status": INT, "message": STR})}),
    "Evidence": _obj(
        {
            "grade": {"enum": list(GRADE_ORDER)},
            "cebm_level": INT,
            "reasons": _array(STR),
            "basis_ref": NULL_STR,
        }
    ),
    "Citation": _obj(
        {"ref": NULL_STR, "label": STR, "doi": NULL_STR, "pmid": NULL_STR}, {"number": INT}
    ),
    "Claim": _obj(
        {
            "id": STR,
            "origin": STR,
            "kind": STR,
            "text": STR,
            "plain_text": NULL_STR,
            "intervention": STR,
            "conditions": _array(STR),
            "outcome": STR,
            "value": {"type": ["object", "null"]},
            "value_text": NULL_STR,
            "direction": {"enum": ["benefit", "no-benefit", "mixed", "neutral"]},
            "citations": _array(_ref("Citation")),
            "primary_verdict": {"type": ["object", "null"]},
            "evidence": _ref("Evidence"),
            "conflicts": _array(STR),
            "editorial": _ref("ClaimEditorial"),
        }
    ),
    "ClaimEditorial": _obj(
        {"flags": _array(_obj({"reason": STR, "by": STR, "at": STR})), "contested_by_board": BOOL}
    ),
    "Decision": {
        "oneOf": [
            {"type": "null"},
            _obj(
                {
                    "decision": {"enum": ["dismissed", "resolved"]},
                    "by": STR,
                    "at": STR,
                    "reason": STR,
                }
            ),
        ]
    },
    "Conflict": _obj(
        {
            "id": STR,
            "type": {"enum": list(TYPE_LABELS)},
            "topic": STR,
            "intervention": STR,
            "kind": STR,
            "outcome": STR,
            "condition": STR,
            "condition_label": STR,
            "scope": STR,
            "explanation": STR,
            "sides": _array(
                _obj(
                    {
                        "label": STR,
                        "claims": _array(
                            _obj({"id": STR, "text": STR, "grade": STR, "sources": _array(STR)})
                        ),
                    },
                    {"total": INT, "more": INT},
                )
            ),
        },
        {
            "title": STR,
            "context": BOOL,
            "sides_total": INT,
            "sides_more": INT,
            "source": {"enum": ["computed", "editor"]},
            "editorial": _obj({"version": INT, "decision": _ref("Decision")}),
        },
    ),
    "RefSummary": _obj(
        {
            "id": STR,
            "label": STR,
            "title": STR,
            "design": STR,
            "role": STR,
            "doi": NULL_STR,
            "pmid": NULL_STR,
            "url": NULL_STR,
        }
    ),
    "Statement": {
        "allOf": [
            _ref("Claim"),
            _obj(
                {
                    "display_text": STR,
                    "contested": BOOL,
                    "segments": _array(_obj({"text": STR, "term": NULL_STR})),
                    "flagged_verdict": {"type": ["object", "null"]},
                }
            ),
        ]
    },
    "Section": _obj(
        {
            "heading": STR,
            "level": INT,
            "statements": _array(_ref("Statement")),
            "subsections": _array(_ref("Section")),
        }
    ),
    "Article": _obj(
        {
            "id": STR,
            "title": STR,
            "question": STR,
            "audience": {"enum": ["clinician", "patient"]},
            "audiences": _array(ANY_OBJ),
            "review": _obj(
                {
                    "status": STR,
                    "label": STR,
                    "pending": BOOL,
                    "steps": _array(
                        _obj(
                            {
                                "status": STR,
                                "label": STR,
                                "state": {"enum": ["done", "current", "todo"]},
                            }
                        )
                    ),
                }
            ),
            "last_updated": STR,
            "disclaimer": NULL_STR,
            "source": {"oneOf": [_ref("RefSummary"), {"type": "null"}]},
            "bottom_line": _array(_ref("Statement")),
            "sections": _array(_ref("Section")),
            "references": _array(
                {
                    "allOf": [
                        _ref("RefSummary"),
                        _obj(
                            {
                                "number": INT,
                                "citation": STR,
                                "in_original_list": BOOL,
                                "resolution": {"type": ["object", "null"]},
                            }
                        ),
                    ]
                }
            ),
            "conflicts": _array(_ref("Conflict")),
            "glossary": _array(_obj({"id": STR, "term": STR, "definition": STR})),
            "counts": _obj(
                {
                    "statements": INT,
                    "contested": INT,
                    "conflicts": INT,
                    "not_supported": INT,
                    "flagged_by_board": INT,
                }
            ),
            "board": _obj(
                {
                    "version": INT,
                    "comments": _array(_ref("Comment")),
                    "moves": _array(_ref("StatusMove")),
                    "history_count": INT,
                }
            ),
        }
    ),
    "Comment": _obj({"by": STR, "at": STR, "text": STR}),
    "StatusMove": _obj(
        {
            "status": {"enum": list(REVIEW_STATUSES)},
            "label": STR,
            "direction": {"enum": ["back", "forward"]},
        }
    ),
    "ClaimPage": _obj(
        {
            "claim": _ref("Claim"),
            "conditions": _array(_obj({"id": STR, "label": STR})),
            "trace": _obj(
                {
                    "claim": STR,
                    "origin": STR,
                    "steps": _array(ANY_OBJ),
                    "primary": {"type": ["object", "null"]},
                }
            ),
            "contradicted_by": _array(_ref("Conflict")),
            "related": _array(_obj({"id": STR, "text": STR, "grade": STR, "why": _array(STR)})),
            "articles": _array(_obj({"id": STR, "title": STR})),
            "board": _obj(
                {
                    "version": INT,
                    "open_flags": INT,
                    "history_count": INT,
                    "flags": _array(
                        _obj(
                            {
                                "id": STR,
                                "status": {"enum": ["open", "resolved", "dismissed"]},
                                "reason": STR,
                                "by": STR,
                                "at": STR,
                            }
                        )
                    ),
                    "comments": _array(_ref("Comment")),
                    "proposals": _array(
                        _obj(
                            {
                                "by": STR,
                                "at": STR,
                                "verdict": STR,
                                "verdict_label": STR,
                                "reason": STR,
                            }
                        )
                    ),
                    "verdict": {"type": ["object", "null"]},
                    "dismissed_conflicts": _array(_ref("SetAside")),
                    "verdicts": _array(_obj({"value": STR, "label": STR})),
                }
            ),
        }
    ),
    "SetAside": _obj(
        {
            "id": STR,
            "type": STR,
            "topic": STR,
            "explanation": STR,
            "source": STR,
            "version": INT,
            "decision": _ref("Decision"),
        }
    ),
    "HistoryEvent": _obj(
        {
            "id": STR,
            "at": STR,
            "actor": STR,
            "role": NULL_STR,
            "action": STR,
            "action_label": STR,
            "target": STR,
            "target_kind": {"enum": ["claim", "article", "conflict"]},
            "target_id": STR,
            "target_label": STR,
            "reason": STR,
            "change": STR,
            "before": ANY_OBJ,
            "after": ANY_OBJ,
        },
        {"base_version": NULL_INT},
    ),
    "History": _obj(
        {
            "target": _obj(
                {"kind": {"enum": ["claim", "article"]}, "id": STR, "label": STR, "version": INT}
            ),
            "total": INT,
            "events": _array(_ref("HistoryEvent")),
        }
    ),
    "Dashboard": _obj(
        {
            "queue": _obj(
                {
                    "flags": _array(
                        _obj(
                            {
                                "claim": _obj({"id": STR, "text": STR}),
                                "flag": _obj({"id": STR, "reason": STR, "by": STR, "at": STR}),
                                "version": INT,
                            }
                        )
                    ),
                    "conflicts": _array(
                        _obj(
                            {
                                "id": STR,
                                "type": STR,
                                "type_label": STR,
                                "topic": STR,
                                "explanation": STR,
                                "source": STR,
                                "claims": INT,
                                "version": INT,
                                "decision": _ref("Decision"),
                            }
                        )
                    ),
                    "conflicts_total": INT,
                }
            ),
            "set_aside": _array(_ref("SetAside")),
            "articles": _array(
                _obj(
                    {
                        "status": STR,
                        "label": STR,
                        "articles": _array(
                            _obj(
                                {
                                    "id": STR,
                                    "title": STR,
                                    "last_updated": STR,
                                    "version": INT,
                                    "moves": _array(_ref("StatusMove")),
                                }
                            )
                        ),
                    }
                )
            ),
            "activity": _array(_ref("HistoryEvent")),
            "problems": _array(STR),
            "counts": _obj(
                {"events": INT, "open_flags": INT, "active_conflicts": INT, "set_aside": INT}
            ),
            "conflict_types": _array(_obj({"value": STR, "label": STR})),
        }
    ),
    "User": _obj({"name": STR, "role": {"enum": ["reviewer", "editor", "admin"]}}),
    "Csrf": _obj({"csrf_token": STR, "user": {"oneOf": [{"type": "null"}, _ref("User")]}}),
    "Login": _obj({"user": _ref("User"), "csrf_token": STR}),
    "Logout": _obj({"user": {"type": "null"}}),
    "Edit": {
        "type": "object",
        "required": ["base_version"],
        "properties": {
            "base_version": {
                "type": "integer",
                "minimum": 0,
                "description": "the target's version the edit was based on "
                "(board.version or conflict editorial.version)",
            },
            "reason": {**STR, "description": "why (a flag needs one; shown in the history)"},
            "text": {**STR, "description": "comment: the comment"},
            "verdict": {"enum": list(VERDICTS), "description": "propose-verdict, set-verdict"},
            "note": {**STR, "description": "set-verdict: the note shown with the verdict"},
            "status": {
                "enum": [*REVIEW_STATUSES, *REFERENCE_MARKS],
                "description": "set-status: one step back or forward; "
                "references mark: retracted or concern",
            },
            "acknowledge": {
                **STR,
                "description": "set-status to approved over open flags, active conflicts or "
                "marked references: why (required then)",
            },
            "notice": {**STR, "description": "references mark: web address of the notice"},
            "flag": {**STR, "description": "resolve-flag, dismiss-flag: the flag's id"},
        },
    },
    "NewConflict": {
        "type": "object",
        "required": ["type", "explanation", "sides"],
        "properties": {
            "type": {"enum": list(TYPE_LABELS)},
            "explanation": STR,
            "topic": STR,
            "reason": STR,
            "sides": {
                "type": "array",
                "minItems": 2,
                "maxItems": 6,
                "items": _obj({"claims": _array(STR)}, {"label": STR}),
            },
        },
    },
    "EditResult": _obj(
        {
            "event": _obj(
                {
                    "id": STR,
                    "at": STR,
                    "actor": STR,
                    "role": STR,
                    "action": STR,
                    "target": STR,
                    "reason": STR,
                    "base_version": INT,
                    "before": ANY_OBJ,
                    "after": ANY_OBJ,
                }
            ),
            "current": _ref("TargetState"),
        }
    ),
    "TargetState": _obj(
        {"target": STR, "version": INT},
        {
            "review_status": STR,
            "flags": _array(ANY_OBJ),
            "verdict": NULL_STR,
            "decision": {"type": ["object", "null"]},
        },
    ),
    "StaleEdit": _obj(
        {"error": _obj({"status": {"const": 409}, "message": STR}), "current": _ref("TargetState")}
    ),
    "ReferencePage": _obj(
        {
            "reference": {
                "allOf": [
                    _ref("RefSummary"),
                    _obj(
                        {
                            "citation": STR,
                            "year": NULL_INT,
                            "n": NULL_INT,
                            "pmcid": NULL_STR,
                            "design_label": STR,
                        }
                    ),
                ]
            },
            "traces_to": _array(_ref("RefSummary")),
            "traced_from": _array(_ref("RefSummary")),
            "claims": _array(_obj({"id": STR, "text": STR, "how": _array(STR), "grade": STR})),
            "claims_total": INT,
            "articles": _array(_obj({"id": STR, "title": STR, "how": _array(STR)})),
        }
    ),
    "SearchResults": _obj(
        {
            "query": STR,
            "total": INT,
            "page": INT,
            "limit": INT,
            "results": _array(
                {
                    "oneOf": [
                        {
                            "allOf": [
                                _ref("Claim"),
                                _obj({"type": {"const": "claim"}, "score": NUM, "highlight": STR}),
                            ]
                        },
                        _obj(
                            {
                                "type": {"const": "reference"},
                                "id": STR,
                                "label": STR,
                                "title": STR,
                                "design": STR,
                                "score": NUM,
                                "highlight": STR,
                            }
                        ),
                    ]
                }
            ),
            "facets": _obj(
                {
                    k: {"type": "object", "additionalProperties": INT}
                    for k in ("kind", "condition", "grade", "design")
                }
            ),
            "suggestion": NULL_STR,
            "warnings": _array(STR),
            "labels": {
                "type": "object",
                "description": "readable labels of facet values",
                "additionalProperties": {"type": "object", "additionalProperties": STR},
            },
        }
    ),
    "Answer": _obj(
        {
            "question": STR,
            "relevant": BOOL,
            "message": STR,
            "bottom_line": {
                "oneOf": [
                    {"type": "null"},
                    _obj(
                        {
                            "source": {"enum": ["article", "evidence-summary"]},
                            "article_id": NULL_STR,
                            "text": STR,
                            "claims": _array(_ref("Claim")),
                        }
                    ),
                ]
            },
            "summary": _array(
                _obj(
                    {
                        "kind": STR,
                        "label": STR,
                        "benefit": INT,
                        "no_benefit": INT,
                        "mixed": INT,
                        "neutral": INT,
                        "sources": INT,
                    }
                )
            ),
            "sections": _array(_obj({"kind": STR, "label": STR, "claims": _array(_ref("Claim"))})),
            "contested": _array(_ref("Conflict")),
            "follow_ups": _array(STR),
        }
    ),
    "Facet": _obj({"value": STR, "label": STR, "count": INT}),
    "Contested": _obj(
        {
            "total": INT,
            "shown": INT,
            "filters": _obj({"type": NULL_STR, "condition": NULL_STR}),
            "facets": _obj({"type": _array(_ref("Facet")), "condition": _array(_ref("Facet"))}),
            "groups": _array(
                _obj(
                    {
                        "topic": STR,
                        "intervention": STR,
                        "kind": STR,
                        "outcome": STR,
                        "conflicts": _array(_ref("Conflict")),
                    }
                )
            ),
        }
    ),
    "Matrix": _obj(
        {
            "scope": _obj({"type": {"enum": ["article", "condition"]}, "id": STR, "label": STR}),
            "references": _array(
                _obj(
                    {
                        "id": STR,
                        "label": STR,
                        "design": STR,
                        "role": STR,
                        "number": NULL_INT,
                        "claims": INT,
                    }
                )
            ),
            "rows": _array(
                _obj(
                    {
                        "id": STR,
                        "text": STR,
                        "grade": STR,
                        "contested": BOOL,
                        "cells": _array(_array(STR)),
                    }
                )
            ),
            "total_claims": INT,
            "truncated": BOOL,
            "relations": {"type": "object", "additionalProperties": STR},
            "scopes": _obj({"articles": _array(ANY_OBJ), "conditions": _array(ANY_OBJ)}),
        }
    ),
    "Integrity": _obj(
        {
            k: _array({})
            for k in (
                "unresolved_citations",
                "secondary_sources_traced_elsewhere",
                "self_citations",
                "claims_without_citation",
                "unused_references",
                "missing_identifiers",
                "seed_claims_not_supported",
            )
        }
    ),
    "Home": _obj(
        {
            "articles": _array(
                _obj(
                    {
                        "id": STR,
                        "title": STR,
                        "question": STR,
                        "review_status": STR,
                        "last_updated": STR,
                        "statements": INT,
                        "contested": INT,
                    }
                )
            ),
            "counts": _obj({"claims": INT, "references": INT, "articles": INT, "conflicts": INT}),
            "contested_count": INT,
        }
    ),
    "Policy": _obj(
        {
            "grades": _array(STR),
            "designs": _array(ANY_OBJ),
            "small_n": INT,
            "conflict_types": _array(ANY_OBJ),
            "review_statuses": _array(ANY_OBJ),
        }
    ),
    "Glossary": _obj({"terms": _array(_obj({"id": STR, "term": STR, "definition": STR}))}),
    "Health": _obj({"status": {"const": "ok"}, "claims": INT, "references": INT}),
    "Downloads": _obj(
        {
            "downloads": _array(
                _obj(
                    {
                        "name": {"enum": [d.name for d in DOWNLOADS]},
                        "url": STR,
                        "label": STR,
                        "description": STR,
                        "media_type": STR,
                        "command": STR,
                    }
                )
            ),
            "citation_styles": _array({"enum": list(CITATION_STYLES)}),
            "counts": _obj({"references": INT, "claims": INT}),
        }
    ),
    "ImportReport": _obj(
        {
            "file": STR,
            "article_id": STR,
            "title": STR,
            "question": STR,
            "last_updated": STR,
            "last_updated_from": {"enum": ["document", "caller"]},
            "dry_run": BOOL,
            "unchanged": BOOL,
            "written": BOOL,
            "claims": _array(
                _obj(
                    {
                        "id": STR,
                        "line": INT,
                        "kind": STR,
                        "outcome": STR,
                        "intervention": STR,
                        "conditions": _array(STR),
                        "value_text": NULL_STR,
                        "direction": STR,
                        "citations": _array(INT),
                        "text": STR,
                    }
                )
            ),
            "references_new": _array(
                _obj(
                    {
                        "number": INT,
                        "line": INT,
                        "ref": STR,
                        "title": STR,
                        "year": NULL_INT,
                        "type": STR,
                        "role": STR,
                    }
                )
            ),
            "references_matched": _array(
                _obj(
                    {
                        "number": INT,
                        "line": INT,
                        "ref": STR,
                        "title": STR,
                        "year": NULL_INT,
                        "matched_by": {"enum": ["doi", "title and year"]},
                    }
                )
            ),
            "unresolved_citations": _array(
                _obj({"number": INT, "lines": _array(INT), "claims": _array(STR)})
            ),
            "not_understood": _array(_obj({"line": INT, "text": STR, "reason": STR})),
            "skipped_furniture": _array(_obj({"line": INT, "text": STR})),
            "conflicts": _array(
                _obj(
                    {
                        "id": STR,
                        "type": {"enum": list(TYPE_LABELS)},
                        "explanation": STR,
                        "claims": _array(STR),
                        "with": _array(STR),
                    }
                )
            ),
            "warnings": _array(STR),
            "counts": _obj(
                {
                    k: INT
                    for k in (
                        "claims",
                        "references_new",
                        "references_matched",
                        "unresolved_citations",
                        "not_understood",
                        "skipped_furniture",
                        "conflicts",
                    )
                }
            ),
        }
    ),
}


def _param(
    name: str,
    description: str,
    *,
    required: bool = False,
    where: str = "query",
    schema: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "description": description,
        "schema": schema or STR,
    }


def _op(
    op_id: str,
    summary: str,
    schema: str,
    params: list[dict[str, Any]] | None = None,
    errors: tuple[int, ...] = (400,),
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {"description": summary, "content": {"application/json": {"schema": _ref(schema)}}}
    }
    responses.update(_errors(errors))
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "parameters": params or [],
            "responses": responses,
        }
    }


ERRORS = {
    400: "Bad input (or a missing or wrong CSRF token)",
    401: "Not logged in",
    403: "The role does not allow it",
    404: "Unknown id",
    409: "Changed since base_version: the current state is returned",
    429: "Too many failed logins (see Retry-After)",
    503: "The editorial journal is busy (see Retry-After)",
}


def _errors(statuses: tuple[int, ...]) -> dict[str, Any]:
    return {
        str(status): {
            "description": ERRORS[status],
            "content": {
                "application/json": {"schema": _ref("StaleEdit" if status == 409 else "Error")}
            },
        }
        for status in statuses
    }


WRITE_ERRORS = (400, 401, 403, 404, 409, 503)


def _post(
    op_id: str,
    summary: str,
    body: str | None,
    schema: str,
    params: list[dict[str, Any]] | None = None,
    *,
    status: int = 201,
    errors: tuple[int, ...] = WRITE_ERRORS,
    description: str = "",
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "parameters": params or [],
        "security": [{"session": [], "csrf": []}],
        "responses": {
            str(status): {
                "description": summary,
                "content": {"application/json": {"schema": _ref(schema)}},
            },
            **_errors(errors),
        },
    }
    if description:
        op["description"] = description
    if body:
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
        "Edit",
        "EditResult",
        [
            _param(id_name, f"{kind[:-1]} id", where="path"),
            _param("action", "the action", where="path", schema={"enum": routes}),
        ],
        description="Reviewers may flag, comment and propose a verdict; editors may "
        "also set verdicts and statuses, resolve or dismiss flags, and "
        "dismiss, resolve or restore conflicts.",
    )


PAGE = _param("page", "1-based result page", schema={"type": "integer", "minimum": 1})


def _download() -> dict[str, Any]:
    media: dict[str, Any] = {}
    for d in DOWNLOADS:
        json_like = d.media_type.split(";")[0].endswith("json")
        media[d.media_type] = {
            "schema": {"type": "array" if d.name == "references.json" else "object"}
            if json_like
            else STR
        }
    ok = {
        "description": "the file, as an attachment (Content-Disposition) with an ETag; "
        "byte for byte the output of the kb export command listed by "
        "/api/downloads",
        "content": media,
    }
    return {
        "get": {
            "operationId": "download",
            "summary": "One download (the same response is served at /downloads/{name})",
            "parameters": [
                _param(
                    "name", "the file", where="path", schema={"enum": [d.name for d in DOWNLOADS]}
                ),
                _param(
                    "style",
                    "citations.txt only: the citation style",
                    schema={"enum": list(CITATION_STYLES)},
                ),
            ],
            "responses": {
                "200": ok,
                "304": {"description": "unchanged since the ETag sent in If-None-Match"},
                **_errors((400, 404)),
            },
        }
    }


def _import() -> dict[str, Any]:
    report = {"content": {"application/json": {"schema": _ref("ImportReport")}}}
    errors = _errors((400, 401, 403))
    errors["409"] = {
        "description": "another document is being imported (imports run one at "
        "a time; retry when it has finished)",
        "content": {"application/json": {"schema": _ref("Error")}},
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
                "content": {
                    "multipart/form-data": {
                        "schema": {
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
                    }
                },
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


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document for every ``/api/`` endpoint."""
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
        "paths": {
            "/api/": _op("home", "Front-page data", "Home", errors=()),
            "/api/search": _op(
                "search",
                "Full-text search over claims and references",
                "SearchResults",
                [
                    _param("q", "the query", required=True),
                    _param("kind", "claim kind filter"),
                    _param("condition", "condition id filter"),
                    _param("grade", "evidence grade filter"),
                    _param("design", "study design filter"),
                    PAGE,
                ],
            ),
            "/api/ask": _op(
                "ask",
                "An answer built only from knowledge-base claims",
                "Answer",
                [_param("q", "the question", required=True)],
            ),
            "/api/articles/{article_id}": _op(
                "article",
                "An answer article",
                "Article",
                [
                    _param("article_id", "article id", where="path"),
                    _param(
                        "audience",
                        "clinician (default) or patient",
                        schema={"enum": ["clinician", "patient"]},
                    ),
                ],
                errors=(400, 404),
            ),
            "/api/claims/{claim_id}": _op(
                "claim",
                "A claim with trace, conflicts and related claims",
                "ClaimPage",
                [_param("claim_id", "claim id", where="path")],
                errors=(404,),
            ),
            "/api/references/{ref_id}": _op(
                "reference",
                "A reference and everything that depends on it",
                "ReferencePage",
                [_param("ref_id", "reference id", where="path")],
                errors=(404,),
            ),
            "/api/conflicts": _op(
                "contested",
                "Every conflict, grouped by topic",
                "Contested",
                [
                    _param("type", "conflict type", schema={"enum": list(TYPE_LABELS)}),
                    _param("condition", "condition id (includes narrower ones)"),
                ],
            ),
            "/api/matrix": _op(
                "matrix",
                "Claims × references for an article or a condition",
                "Matrix",
                [
                    _param("article", "article id"),
                    _param("condition", "condition id"),
                    _param("limit", "most rows drawn", schema={"type": "integer", "minimum": 1}),
                ],
            ),
            "/api/integrity": _op("integrity", "The integrity report", "Integrity", errors=()),
            "/api/policy": _op("policy", "Grading and conflict rules", "Policy", errors=()),
            "/api/glossary": _op("glossary", "Plain-language glossary", "Glossary", errors=()),
            "/api/health": _op("health", "Liveness check", "Health", errors=()),
            "/api/claims/{claim_id}/history": _op(
                "claim_history",
                "Editorial history of a claim and its conflicts",
                "History",
                [_param("claim_id", "claim id", where="path")],
                errors=(404,),
            ),
            "/api/articles/{article_id}/history": _op(
                "article_history",
                "Editorial history of an article, its claims and their conflicts",
                "History",
                [_param("article_id", "article id", where="path")],
                errors=(404,),
            ),
            "/api/editorial": _op(
                "dashboard",
                "The editorial dashboard (reviewers and above)",
                "Dashboard",
                errors=(401, 403),
            ),
            "/api/csrf": _op(
                "csrf",
                "A CSRF token for this session (send it as X-CSRFToken) and who is logged in",
                "Csrf",
                errors=(),
            ),
            "/api/login": _post(
                "login",
                "Log in; the session cookie carries the login",
                "Credentials",
                "Login",
                status=200,
                errors=(400, 401, 429),
            ),
            "/api/logout": _post("logout", "Log out", None, "Logout", status=200, errors=(400,)),
            "/api/editorial/claims/{claim_id}/{action}": _action("claims", "claim_id"),
            "/api/editorial/articles/{article_id}/{action}": _action("articles", "article_id"),
            "/api/editorial/conflicts/{conflict_id}/{action}": _action("conflicts", "conflict_id"),
            "/api/editorial/references/{ref_id}/{action}": _action("references", "ref_id"),
            "/api/downloads": _op(
                "downloads_page",
                "Every download: link, media type and the kb command giving the same bytes",
                "Downloads",
                errors=(),
            ),
            "/api/downloads/{name}": _download(),
            "/api/import": _import(),
            "/api/editorial/conflicts": _post(
                "add_conflict", "Add a conflict by hand (editors)", "NewConflict", "EditResult"
            ),
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1 document",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "schemas": {**SCHEMAS, "Credentials": _obj({"name": STR, "password": STR})},
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
