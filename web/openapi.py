"""The OpenAPI 3.1 description of the JSON API (its schemas are JSON Schema 2020-12)."""

from __future__ import annotations

from functools import cache
from typing import Any

from kb.contested import TYPE_LABELS
from kb.evidence import GRADE_ORDER


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "object", "required": list(required),
            "properties": {**required, **(optional or {})}}


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
    "Evidence": _obj({"grade": {"enum": list(GRADE_ORDER)}, "cebm_level": INT,
                      "reasons": _array(STR), "basis_ref": NULL_STR}),
    "Citation": _obj({"ref": NULL_STR, "label": STR, "doi": NULL_STR, "pmid": NULL_STR},
                     {"number": INT}),
    "Claim": _obj({"id": STR, "origin": STR, "kind": STR, "text": STR, "plain_text": NULL_STR,
                   "intervention": STR, "conditions": _array(STR), "outcome": STR,
                   "value": {"type": ["object", "null"]}, "value_text": NULL_STR,
                   "direction": {"enum": ["benefit", "no-benefit", "mixed", "neutral"]},
                   "citations": _array(_ref("Citation")),
                   "primary_verdict": {"type": ["object", "null"]},
                   "evidence": _ref("Evidence"), "conflicts": _array(STR)}),
    "Conflict": _obj({"id": STR, "type": {"enum": list(TYPE_LABELS)}, "topic": STR,
                      "intervention": STR, "kind": STR, "outcome": STR, "condition": STR,
                      "condition_label": STR, "scope": STR, "explanation": STR,
                      "sides": _array(_obj({"label": STR, "claims": _array(_obj(
                          {"id": STR, "text": STR, "grade": STR, "sources": _array(STR)}))},
                          {"total": INT, "more": INT}))},
                     {"sides_total": INT, "sides_more": INT}),
    "RefSummary": _obj({"id": STR, "label": STR, "title": STR, "design": STR, "role": STR,
                        "doi": NULL_STR, "pmid": NULL_STR, "url": NULL_STR}),
    "Statement": {"allOf": [_ref("Claim"), _obj({
        "display_text": STR, "contested": BOOL,
        "segments": _array(_obj({"text": STR, "term": NULL_STR})),
        "flagged_verdict": {"type": ["object", "null"]}})]},
    "Section": _obj({"heading": STR, "level": INT, "statements": _array(_ref("Statement")),
                     "subsections": _array(_ref("Section"))}),
    "Article": _obj({
        "id": STR, "title": STR, "question": STR,
        "audience": {"enum": ["clinician", "patient"]}, "audiences": _array(ANY_OBJ),
        "review": _obj({"status": STR, "label": STR, "pending": BOOL,
                        "steps": _array(_obj({"status": STR, "label": STR,
                                              "state": {"enum": ["done", "current", "todo"]}}))}),
        "last_updated": STR, "disclaimer": NULL_STR,
        "source": {"oneOf": [_ref("RefSummary"), {"type": "null"}]},
        "bottom_line": _array(_ref("Statement")), "sections": _array(_ref("Section")),
        "references": _array({"allOf": [_ref("RefSummary"), _obj(
            {"number": INT, "citation": STR, "in_original_list": BOOL,
             "resolution": {"type": ["object", "null"]}})]}),
        "conflicts": _array(_ref("Conflict")),
        "glossary": _array(_obj({"id": STR, "term": STR, "definition": STR})),
        "counts": _obj({"statements": INT, "contested": INT, "conflicts": INT,
                        "not_supported": INT})}),
    "ClaimPage": _obj({
        "claim": _ref("Claim"), "conditions": _array(_obj({"id": STR, "label": STR})),
        "trace": _obj({"claim": STR, "origin": STR, "steps": _array(ANY_OBJ),
                       "primary": {"type": ["object", "null"]}}),
        "contradicted_by": _array(_ref("Conflict")),
        "related": _array(_obj({"id": STR, "text": STR, "grade": STR, "why": _array(STR)})),
        "articles": _array(_obj({"id": STR, "title": STR}))}),
    "ReferencePage": _obj({
        "reference": {"allOf": [_ref("RefSummary"), _obj(
            {"citation": STR, "year": NULL_INT, "n": NULL_INT, "pmcid": NULL_STR,
             "design_label": STR})]},
        "traces_to": _array(_ref("RefSummary")), "traced_from": _array(_ref("RefSummary")),
        "claims": _array(_obj({"id": STR, "text": STR, "how": _array(STR), "grade": STR})),
        "claims_total": INT,
        "articles": _array(_obj({"id": STR, "title": STR, "how": _array(STR)}))}),
    "SearchResults": _obj({
        "query": STR, "total": INT, "page": INT, "limit": INT,
        "results": _array({"oneOf": [
            {"allOf": [_ref("Claim"), _obj({"type": {"const": "claim"}, "score": NUM,
                                            "highlight": STR})]},
            _obj({"type": {"const": "reference"}, "id": STR, "label": STR, "title": STR,
                  "design": STR, "score": NUM, "highlight": STR})]}),
        "facets": _obj({k: {"type": "object", "additionalProperties": INT}
                        for k in ("kind", "condition", "grade", "design")}),
        "suggestion": NULL_STR, "warnings": _array(STR),
        "labels": {"type": "object", "description": "readable labels of facet values",
                   "additionalProperties": {"type": "object",
                                            "additionalProperties": STR}}}),
    "Answer": _obj({
        "question": STR, "relevant": BOOL, "message": STR,
        "bottom_line": {"oneOf": [{"type": "null"}, _obj(
            {"source": {"enum": ["article", "evidence-summary"]}, "article_id": NULL_STR,
             "text": STR, "claims": _array(_ref("Claim"))})]},
        "summary": _array(_obj({"kind": STR, "label": STR, "benefit": INT, "no_benefit": INT,
                                "mixed": INT, "neutral": INT, "sources": INT})),
        "sections": _array(_obj({"kind": STR, "label": STR, "claims": _array(_ref("Claim"))})),
        "contested": _array(_ref("Conflict")), "follow_ups": _array(STR)}),
    "Facet": _obj({"value": STR, "label": STR, "count": INT}),
    "Contested": _obj({
        "total": INT, "shown": INT, "filters": _obj({"type": NULL_STR, "condition": NULL_STR}),
        "facets": _obj({"type": _array(_ref("Facet")), "condition": _array(_ref("Facet"))}),
        "groups": _array(_obj({"topic": STR, "intervention": STR, "kind": STR, "outcome": STR,
                               "conflicts": _array(_ref("Conflict"))}))}),
    "Matrix": _obj({
        "scope": _obj({"type": {"enum": ["article", "condition"]}, "id": STR, "label": STR}),
        "references": _array(_obj({"id": STR, "label": STR, "design": STR, "role": STR,
                                   "number": NULL_INT, "claims": INT})),
        "rows": _array(_obj({"id": STR, "text": STR, "grade": STR, "contested": BOOL,
                             "cells": _array(_array(STR))})),
        "total_claims": INT, "truncated": BOOL,
        "relations": {"type": "object", "additionalProperties": STR},
        "scopes": _obj({"articles": _array(ANY_OBJ), "conditions": _array(ANY_OBJ)})}),
    "Integrity": _obj({k: _array({}) for k in (
        "unresolved_citations", "secondary_sources_traced_elsewhere", "self_citations",
        "claims_without_citation", "unused_references", "missing_identifiers",
        "seed_claims_not_supported")}),
    "Home": _obj({
        "articles": _array(_obj({"id": STR, "title": STR, "question": STR, "review_status": STR,
                                 "last_updated": STR, "statements": INT, "contested": INT})),
        "counts": _obj({"claims": INT, "references": INT, "articles": INT, "conflicts": INT}),
        "contested_count": INT}),
    "Policy": _obj({"grades": _array(STR), "designs": _array(ANY_OBJ), "small_n": INT,
                    "conflict_types": _array(ANY_OBJ), "review_statuses": _array(ANY_OBJ)}),
    "Glossary": _obj({"terms": _array(_obj({"id": STR, "term": STR, "definition": STR}))}),
    "Health": _obj({"status": {"const": "ok"}, "claims": INT, "references": INT}),
}


def _param(name: str, description: str, *, required: bool = False, where: str = "query",
           schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required or where == "path",
            "description": description, "schema": schema or STR}


def _op(op_id: str, summary: str, schema: str, params: list[dict[str, Any]] | None = None,
        errors: tuple[int, ...] = (400,)) -> dict[str, Any]:
    responses: dict[str, Any] = {"200": {"description": summary, "content": {
        "application/json": {"schema": _ref(schema)}}}}
    for status in errors:
        responses[str(status)] = {"description": {400: "Bad input", 404: "Unknown id"}[status],
                                  "content": {"application/json": {"schema": _ref("Error")}}}
    return {"get": {"operationId": op_id, "summary": summary, "parameters": params or [],
                    "responses": responses}}


PAGE = _param("page", "1-based result page", schema={"type": "integer", "minimum": 1})


@cache
def openapi_document() -> dict[str, Any]:
    """The OpenAPI 3.1 document for every ``/api/`` endpoint."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Evidence-aware knowledge base API", "version": "1.0.0",
                 "description": "Every page of the site has a JSON twin here that returns the "
                                "same data. Errors are {\"error\": {\"status\", \"message\"}}."},
        "servers": [{"url": "/"}],
        "paths": {
            "/api/": _op("home", "Front-page data", "Home", errors=()),
            "/api/search": _op("search", "Full-text search over claims and references",
                               "SearchResults", [
                                   _param("q", "the query", required=True),
                                   _param("kind", "claim kind filter"),
                                   _param("condition", "condition id filter"),
                                   _param("grade", "evidence grade filter"),
                                   _param("design", "study design filter"), PAGE]),
            "/api/ask": _op("ask", "An answer built only from knowledge-base claims", "Answer",
                            [_param("q", "the question", required=True)]),
            "/api/articles/{article_id}": _op(
                "article", "An answer article", "Article",
                [_param("article_id", "article id", where="path"),
                 _param("audience", "clinician (default) or patient",
                        schema={"enum": ["clinician", "patient"]})], errors=(400, 404)),
            "/api/claims/{claim_id}": _op(
                "claim", "A claim with trace, conflicts and related claims", "ClaimPage",
                [_param("claim_id", "claim id", where="path")], errors=(404,)),
            "/api/references/{ref_id}": _op(
                "reference", "A reference and everything that depends on it", "ReferencePage",
                [_param("ref_id", "reference id", where="path")], errors=(404,)),
            "/api/conflicts": _op("contested", "Every conflict, grouped by topic", "Contested",
                                  [_param("type", "conflict type",
                                          schema={"enum": list(TYPE_LABELS)}),
                                   _param("condition", "condition id (includes narrower ones)")]),
            "/api/matrix": _op("matrix", "Claims × references for an article or a condition",
                               "Matrix", [_param("article", "article id"),
                                          _param("condition", "condition id"),
                                          _param("limit", "most rows drawn",
                                                 schema={"type": "integer", "minimum": 1})]),
            "/api/integrity": _op("integrity", "The integrity report", "Integrity", errors=()),
            "/api/policy": _op("policy", "Grading and conflict rules", "Policy", errors=()),
            "/api/glossary": _op("glossary", "Plain-language glossary", "Glossary", errors=()),
            "/api/health": _op("health", "Liveness check", "Health", errors=()),
            "/api/openapi.json": {"get": {"operationId": "openapi",
                                          "summary": "This document",
                                          "responses": {"200": {
                                              "description": "OpenAPI 3.1 document",
                                              "content": {"application/json": {
                                                  "schema": {"type": "object"}}}}}}},
        },
        "components": {"schemas": SCHEMAS},
    }
