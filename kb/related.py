"""Related claims: what else the knowledge base says about the same thing as one claim."""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase


def related(kb: KnowledgeBase, claim_id: str, *, limit: int = 12) -> list[dict[str, Any]]:
    """Claims related to ``claim_id``, strongest tie first, at most ``limit``.

    Two claims are related when they sit in one conflict readers see (on any side), or when they
    are about the same intervention and the same outcome. Claims sharing more conflicts come
    first, then the rest in data order. Each item says why, and carries the claim's grade, so
    a reader can weigh it without opening it. The work is bounded by the size of the claim's
    conflicts and topic, never by the whole knowledge base.
    """
    claim = kb.claim(claim_id)
    conflict_ids = kb.conflicts_by_claim.get(claim_id, [])
    shared: dict[str, int] = {}
    for conflict_id in conflict_ids:
        for other in kb.conflicts[conflict_id].claim_ids():
            if other != claim_id:
                shared[other] = shared.get(other, 0) + 1
    order = {cid: i for i, cid in enumerate(shared)}
    ranked = heapq.nsmallest(limit, shared, key=lambda cid: (-shared[cid], order[cid]))
    topic = kb.claims_by_topic.get((claim.intervention, claim.outcome), [])
    for other in topic:
        if len(ranked) >= limit:
            break
        if other != claim_id and other not in shared:
            ranked.append(other)
    mine = set(conflict_ids)
    out = []
    for other in ranked:
        c = kb.claims[other]
        why = [f"in conflict {cf}" for cf in kb.conflicts_by_claim.get(other, []) if cf in mine]
        if (c.intervention, c.outcome) == (claim.intervention, claim.outcome):
            why.append("same intervention and outcome")
        out.append(
            {
                "id": other,
                "text": c.text,
                "kind": c.kind,
                "direction": c.direction,
                "value_text": c.value_text,
                "grade": kb.grades[other].grade,
                "why": why,
            }
        )
    return out
