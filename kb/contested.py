"""Contested evidence: every active conflict (computed or added by an editor, less those the
editorial board dismissed or resolved), grouped by topic, filterable, with facets."""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from .errors import InvalidQuery
from .shapes import citation_json

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

PER_SIDE = 8  # claims listed per side of a conflict; the real data never has more
MAX_SIDES = 6  # sides listed per conflict; the real data never has more

TYPE_LABELS: dict[str, str] = {
    "opposite_direction": "Opposite direction (benefit vs no benefit)",
    "incompatible_values": "Incompatible doses or schedules",
    "divergent_estimates": "Divergent estimates of one rate",
    "recommendation_strength": "Different recommendation strength",
    "safety_contradiction": "Safety contradiction",
}


def conflict_view(
    kb: KnowledgeBase,
    conflict_id: str,
    *,
    per_side: int = PER_SIDE,
    max_sides: int = MAX_SIDES,
    keep: AbstractSet[str] = frozenset(),
) -> dict[str, Any]:
    """A conflict as a page shows it: like :func:`kb.shapes.conflict_json`, but each side
    lists only its ``per_side`` strongest claims (by grade, then id), with ``total`` and
    ``more`` saying how many it holds and how many are not listed; and a conflict of more than
    ``max_sides`` sides (estimates of one rate can have hundreds) lists the two extremes, the
    sides of kept claims and evenly spaced ones between (``sides_total``, ``sides_more``).

    Claims in ``keep`` (the claim or article a page is about) are always listed, first. Only
    listed claims are expanded (text, grade, sources), so a side of thousands of claims, as a
    large knowledge base has, costs a sort of ids, not thousands of expansions.
    """
    conflict = kb.conflict(conflict_id)
    grades = kb.grades
    data = conflict.to_dict()
    sides = data["sides"]
    if len(sides) > max_sides:
        # The two extremes, the sides holding a kept claim, then evenly spaced ones between.
        chosen = {0, len(sides) - 1}
        chosen |= {
            i for i, side in enumerate(sides) if keep and not keep.isdisjoint(side["claims"])
        }
        step = (len(sides) - 1) / max(max_sides - 1, 1)
        for k in range(1, max_sides - 1):
            if len(chosen) >= max_sides:
                break
            chosen.add(round(k * step))
        data["sides"] = [side for i, side in enumerate(sides) if i in chosen]
    data["sides_total"] = len(sides)
    data["sides_more"] = len(sides) - len(data["sides"])
    for side in data["sides"]:
        ids: list[str] = side["claims"]
        shown = ids
        if len(ids) > per_side:
            kept = [cid for cid in ids if cid in keep]
            rest = heapq.nsmallest(
                max(per_side - len(kept), 0),
                (cid for cid in ids if cid not in keep),
                key=lambda cid: (-grades[cid].level, cid),
            )
            shown = kept + rest
        side["total"] = len(ids)
        side["more"] = len(ids) - len(shown)
        side["claims"] = [
            {
                "id": cid,
                "text": kb.claims[cid].text,
                "grade": grades[cid].grade,
                "sources": [c["label"] for c in citation_json(kb, cid)],
            }
            for cid in shown
        ]
    data["condition_label"] = _label(kb, conflict.condition)
    data["editorial"] = conflict_editorial(kb, conflict_id)
    return data


def conflict_editorial(kb: KnowledgeBase, conflict_id: str) -> dict[str, Any]:
    """The board's hold on one conflict: the version an edit must be based on and its
    decision (``{"decision": "dismissed"|"resolved", "by", "at", "reason"}``) or None."""
    state = kb.editorial
    if state is None:
        return {"version": 0, "decision": None}
    target = f"conflict:{conflict_id}"
    decision = state.conflict_decisions.get(conflict_id)
    return {
        "version": state.versions.get(target, 0),
        "decision": None
        if decision is None
        else {k: decision[k] for k in ("decision", "by", "at", "reason")},
    }


def contested(
    kb: KnowledgeBase,
    *,
    type: str | None = None,
    condition: str | None = None,
) -> dict[str, Any]:
    """Conflicts grouped by topic (intervention · kind · outcome), after optional filters.

    Each conflict is a :func:`conflict_view` (its strongest claims per side). Only active
    conflicts are listed (see :meth:`kb.knowledgebase.KnowledgeBase.active_conflicts`).
    ``type`` keeps one conflict type (see :data:`TYPE_LABELS`); ``condition`` keeps conflicts
    about that condition or any condition below it. Facet counts are over all conflicts, so
    every filter link shows how many it would give. An unknown type or condition is an
    :class:`InvalidQuery`.
    """
    if type is not None and type not in TYPE_LABELS:
        raise InvalidQuery(
            f"unknown conflict type {type!r}; expected one of " + ", ".join(TYPE_LABELS)
        )
    if condition is not None and condition not in kb.conditions:
        raise InvalidQuery(f"unknown condition {condition!r}")
    wanted = ({condition} | kb.conditions.descendants(condition)) if condition else None
    all_conflicts = list(kb.active_conflicts().values())
    kept = [
        c
        for c in all_conflicts
        if (type is None or c.type == type) and (wanted is None or c.condition in wanted)
    ]
    groups: dict[str, dict[str, Any]] = {}
    for c in kept:
        group = groups.setdefault(
            c.topic,
            {
                "topic": c.topic,
                "intervention": c.intervention,
                "kind": c.kind,
                "outcome": c.outcome,
                "conflicts": [],
            },
        )
        group["conflicts"].append(conflict_view(kb, c.id))
    by_type = Counter(c.type for c in all_conflicts)
    by_condition = Counter(c.condition for c in all_conflicts)
    return {
        "total": len(all_conflicts),
        "shown": len(kept),
        "filters": {"type": type, "condition": condition},
        "facets": {
            "type": [
                {"value": t, "label": TYPE_LABELS[t], "count": by_type[t]}
                for t in TYPE_LABELS
                if by_type[t]
            ],
            "condition": [
                {"value": cid, "label": _label(kb, cid), "count": n}
                for cid, n in sorted(by_condition.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
        },
        "groups": sorted(groups.values(), key=lambda g: g["topic"]),
    }


def _label(kb: KnowledgeBase, cid: str) -> str:
    return kb.conditions.label(cid) if cid in kb.conditions else cid
