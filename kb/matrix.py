"""The evidence matrix: the claims of an article or a condition against the references behind them.

A cell says how a claim rests on a reference:

``cites``
    the claim cites the reference directly;
``via-summary``
    the claim cites a secondary summary whose numbers trace to the reference;
``primary``
    source tracing named the reference as the claim's primary study;
``proposed``
    the claim cites a number its article's own list lacks, and tracing proposes this
    reference for it (a resolution still to be reviewed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import InvalidQuery

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

RELATIONS: dict[str, str] = {
    "cites": "cites it directly",
    "via-summary": "cites a summary that traces to it",
    "primary": "tracing found it as the primary study",
    "proposed": "cites a number proposed to be this reference (pending review)",
}
DEFAULT_LIMIT = 300


def scopes(kb: KnowledgeBase) -> dict[str, list[dict[str, str]]]:
    """What a matrix can be drawn for: every article and every condition."""
    return {
        "articles": [{"id": a.id, "label": a.title} for a in kb.articles.values()],
        "conditions": [{"id": c.id, "label": c.label} for c in kb.conditions.conditions.values()],
    }


def _links(kb: KnowledgeBase, claim_id: str, article_id: str | None) -> dict[str, list[str]]:
    claim = kb.claims[claim_id]
    links: dict[str, list[str]] = {}

    def add(ref_id: str, how: str) -> None:
        if how not in links.setdefault(ref_id, []):
            links[ref_id].append(how)

    article = kb.articles[article_id] if article_id else None
    for cit in claim.citations:
        if cit.get("ref"):
            add(cit["ref"], "cites")
            for target in kb.references[cit["ref"]].traced_to:
                add(target, "via-summary")
        elif article is not None and cit.get("number") is not None:
            res = article.resolution_for(cit["number"])
            if res:
                add(res["ref"], "proposed")
    if claim.primary and claim.primary.get("ref"):
        add(claim.primary["ref"], "primary")
    return links


def matrix(
    kb: KnowledgeBase,
    *,
    article: str | None = None,
    condition: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """Claims × references for one article (its claims in reading order) or one condition.

    For a condition, the claims are those about it or any condition below it, in data order.
    Columns are every reference some row rests on: an article's numbered list first, then the
    rest by how many rows use them. At most ``limit`` rows are drawn (``truncated`` says so).
    Exactly one of ``article`` and ``condition`` must be given; an unknown one is an
    :class:`InvalidQuery`.
    """
    if (article is None) == (condition is None):
        raise InvalidQuery("give exactly one of 'article' or 'condition'")
    if limit < 1:
        raise InvalidQuery("limit must be at least 1")
    numbers: dict[str, int] = {}
    if article is not None:
        if article not in kb.articles:
            raise InvalidQuery(f"unknown article {article!r}")
        art = kb.articles[article]
        claim_ids = art.claim_ids()
        numbers = {item["ref"]: item["number"] for item in art.reference_list}
        numbers.update({item["ref"]: item["number"] for item in art.citation_resolutions})
        scope = {"type": "article", "id": article, "label": art.title}
    else:
        assert condition is not None
        if condition not in kb.conditions:
            raise InvalidQuery(f"unknown condition {condition!r}")
        wanted = {condition} | kb.conditions.descendants(condition)
        claim_ids = [c.id for c in kb.claims.values() if wanted.intersection(c.conditions)]
        scope = {"type": "condition", "id": condition, "label": kb.conditions.label(condition)}
    shown = claim_ids[:limit]
    links = {cid: _links(kb, cid, article) for cid in shown}
    uses: dict[str, int] = {}
    for per_claim in links.values():
        for ref_id in per_claim:
            uses[ref_id] = uses.get(ref_id, 0) + 1
    columns = sorted(
        uses, key=lambda r: (r not in numbers, numbers.get(r, 0), -uses[r], kb.references[r].label)
    )
    references = [
        {
            "id": r,
            "label": kb.references[r].label,
            "design": kb.references[r].design,
            "role": kb.references[r].role,
            "number": numbers.get(r),
            "claims": uses[r],
        }
        for r in columns
    ]
    rows = []
    for cid in shown:
        claim = kb.claims[cid]
        rows.append(
            {
                "id": cid,
                "text": claim.text,
                "kind": claim.kind,
                "direction": claim.direction,
                "grade": kb.grades[cid].grade,
                "contested": bool(kb.conflicts_by_claim.get(cid)),
                "cells": [links[cid].get(r, []) for r in columns],
            }
        )
    return {
        "scope": scope,
        "references": references,
        "rows": rows,
        "total_claims": len(claim_ids),
        "truncated": len(claim_ids) > len(shown),
        "relations": RELATIONS,
    }
