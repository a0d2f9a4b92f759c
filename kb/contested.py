"""Contested evidence: every active conflict (computed or added by an editor, less those the
editorial board dismissed or resolved), grouped by topic, filterable, with facets, the
knowledge base's main topic and safety first."""

from __future__ import annotations

import heapq
import threading
from collections import Counter, OrderedDict
from collections.abc import Set as AbstractSet
from typing import TYPE_CHECKING, Any

from .conflicts import (
    SEVERITY,
    TYPE_LABELS,
    Conflict,
    drug_of,
    intervention_label,
    outcome_label,
)
from .errors import InvalidQuery
from .shapes import citation_json

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

PER_SIDE = 8  # claims listed per side of a conflict; the real data never has more
MAX_SIDES = 6  # sides listed per conflict; the real data never has more

VIEW_CACHE_SIZE = 4096  # conflict views kept per knowledge base (LRU)

__all__ = [
    "TYPE_LABELS",
    "conflict_editorial",
    "conflict_view",
    "contested",
    "main_topic",
    "relevance",
]


def _editorial_version(kb: KnowledgeBase) -> tuple[int, int]:
    """Changes whenever the board records anything (a decision, a verdict, a flag)."""
    state = kb.editorial
    return (state.serial, len(state.events)) if state is not None else (0, 0)


class _ViewCache:
    """Conflict views of one knowledge base, keyed by the editorial version: the article page
    asks for the same views on every request, and building one sorts sides that can hold
    thousands of claims."""

    def __init__(self) -> None:
        self.views: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0


def _view_cache(kb: KnowledgeBase) -> _ViewCache:
    # Kept for the knowledge base's generation: changed records start a new cache.
    return kb.cache("contested.views", lambda _kb: _ViewCache())


def view_cache_stats(kb: KnowledgeBase) -> dict[str, int]:
    """Hits, misses and size of ``kb``'s conflict-view cache (for benchmarks)."""
    cache = _view_cache(kb)
    return {"hits": cache.hits, "misses": cache.misses, "size": len(cache.views)}


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
    large knowledge base has, costs a sort of ids, not thousands of expansions. Views are
    cached per knowledge base, keyed by the editorial version (any board event invalidates).
    """
    # The cache is the knowledge base's for one generation: re-grading (invalidate) or
    # changed records start a new one.
    key = (conflict_id, per_side, max_sides, frozenset(keep), _editorial_version(kb))
    cache = _view_cache(kb)
    with cache.lock:
        hit = cache.views.get(key)
        if hit is not None:
            cache.views.move_to_end(key)
            cache.hits += 1
    if hit is None:
        hit = _build_view(kb, conflict_id, per_side, max_sides, keep)
        with cache.lock:
            cache.misses += 1
            cache.views[key] = hit
            while len(cache.views) > VIEW_CACHE_SIZE:
                cache.views.popitem(last=False)
    # Callers may change what they get (the patient view rewrites texts): never hand out
    # the cached dict itself.
    return _copy_view(hit)


def _copy_view(view: dict[str, Any]) -> dict[str, Any]:
    """A caller's own copy of a cached view: every dict and list in it new, the strings
    shared (the shape is known, so this is a few times cheaper than ``copy.deepcopy``)."""
    out = dict(view)
    out["sides"] = [
        {**side, "claims": [{**c, "sources": list(c["sources"])} for c in side["claims"]]}
        for side in view["sides"]
    ]
    editorial = view["editorial"]
    decision = editorial["decision"]
    out["editorial"] = {**editorial, "decision": dict(decision) if decision else None}
    return out


def _build_view(
    kb: KnowledgeBase,
    conflict_id: str,
    per_side: int,
    max_sides: int,
    keep: AbstractSet[str],
) -> dict[str, Any]:
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
    """Conflicts grouped by topic (intervention · kind · outcome), after optional filters,
    most relevant first: conflicts before indirect context, those about the knowledge base's
    main topic (:func:`main_topic`, LDN here) before the rest, then by severity (safety first,
    :data:`kb.conflicts.SEVERITY`), then by title.

    Each conflict is a :func:`conflict_view` (its strongest claims per side). Only active
    conflicts are listed (:attr:`kb.knowledgebase.KnowledgeBase.conflicts`).
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
    all_conflicts = list(kb.conflicts.values())
    kept = sorted(
        (
            c
            for c in all_conflicts
            if (type is None or c.type == type) and (wanted is None or c.condition in wanted)
        ),
        key=lambda c: relevance(kb, c),
    )
    # Indirect context is grouped apart from the conflicts on the same topic.
    groups: dict[tuple[str, bool], dict[str, Any]] = {}
    for c in kept:
        label = f"{intervention_label(c.intervention)}: {outcome_label(c.outcome)}"
        group = groups.setdefault(
            (c.topic, c.is_context),
            {
                "topic": c.topic,
                "label": label + (" (indirect context)" if c.is_context else ""),
                "context": c.is_context,
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
        "counts": {
            "conflicts": sum(1 for c in all_conflicts if not c.is_context),
            "context": sum(1 for c in all_conflicts if c.is_context),
        },
        "main_topic": main_topic(kb),
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
        # Groups keep the order of their first (most relevant) conflict.
        "groups": list(groups.values()),
    }


def main_topic(kb: KnowledgeBase) -> str:
    """The intervention most claims are about (the knowledge base's subject), computed once."""
    return kb.cache("contested.main_topic", _main_topic)


def _main_topic(kb: KnowledgeBase) -> str:
    counts = Counter(drug_of(c.intervention) for c in kb.claims.values())
    return counts.most_common(1)[0][0] if counts else ""


def relevance(kb: KnowledgeBase, conflict: Conflict) -> tuple[bool, bool, int, str, str]:
    """Sort key: conflicts before context, the main topic first, safety first, then title."""
    return (
        conflict.is_context,
        drug_of(conflict.intervention) != main_topic(kb),
        SEVERITY.get(conflict.type, len(SEVERITY)),
        conflict.title or conflict.topic,
        conflict.id,
    )


def _label(kb: KnowledgeBase, cid: str) -> str:
    return kb.conditions.label(cid) if cid in kb.conditions else cid
