"""Conflict detection, computed from the claims (never a hand-written list).

Claims are grouped by what they are about — intervention, kind and outcome — and compared
within a group only, so the work grows with the size of the groups, not with all pairs.
Scopes are compared through the condition hierarchy: claims about the same condition conflict
directly; a claim about a broader condition (chronic pain vs fibromyalgia) conflicts
indirectly (``scope == "broader"``); disjoint scopes never conflict.

Conflict types
--------------
``opposite_direction``
    efficacy / response-rate claims on one outcome, some reporting benefit, some no benefit.
``incompatible_values``
    a recommended maximum dose (from an article or a guideline) versus dose levels above it
    reported anywhere; and starting doses or titration schedules that differ.
``divergent_estimates``
    one rate (adverse effects, stopping, never filling) estimated at values at least
    10 percentage points and 1.5-fold apart. A continuation rate counts as 100 minus stopping.
``recommendation_strength``
    one treatment given different recommendation strengths (strong / weak / not recommended).
``safety_contradiction``
    a contraindication claim against a claim of no drug interactions for the same drug.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .claims import Claim, format_value

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

DIRECTIONAL_KINDS = ("efficacy", "response_rate")
DOSE_LEVEL_OUTCOMES = (
    "maximum-dose",
    "dose-range",
    "typical-dose",
    "effective-dose",
    "dose-definition",
    "starting-dose",
)
SCHEDULE_OUTCOMES = ("starting-dose", "titration-schedule")
RATE_OUTCOMES = {
    "adverse-effect-rate": "adverse-effect-rate",
    "discontinuation-rate": "discontinuation-rate",
    "continuation-rate": "discontinuation-rate",
    "prescription-fill": "prescription-fill",
}
RATE_MIN_GAP_POINTS = 10.0
RATE_MIN_RATIO = 1.5
PAIN_ROOT = "chronic-pain"


@dataclass(frozen=True)
class Side:
    label: str
    claims: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "claims": list(self.claims)}


@dataclass(frozen=True)
class Conflict:
    id: str
    type: str
    topic: str
    intervention: str
    kind: str
    outcome: str
    condition: str
    scope: str
    sides: tuple[Side, ...]
    explanation: str
    source: str = "computed"

    def claim_ids(self) -> list[str]:
        return [cid for side in self.sides for cid in side.claims]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "topic": self.topic,
            "intervention": self.intervention,
            "kind": self.kind,
            "outcome": self.outcome,
            "condition": self.condition,
            "scope": self.scope,
            "sides": [s.to_dict() for s in self.sides],
            "explanation": self.explanation,
            "source": self.source,
        }


def _conflict_id(
    ctype: str, intervention: str, topic: str, condition: str, scope: str, labels: Iterable[str]
) -> str:
    """An id from what the conflict is about, not from its members: a new claim joining a
    side (an import, an edit) keeps the id, so editorial decisions stay attached."""
    sig = "|".join([ctype, intervention, topic, condition, scope, *labels])
    return "cf-" + hashlib.sha1(sig.encode()).hexdigest()[:10]


class _Detector:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.tree = kb.conditions
        self.found: dict[str, Conflict] = {}
        self.in_pain = {
            c for c in self.tree.conditions if c == PAIN_ROOT or PAIN_ROOT in self.tree.ancestors(c)
        }

    def pain_scope(self, claim: Claim) -> list[str]:
        return [c for c in claim.conditions if c in self.in_pain]

    def overlaps(self, a: Claim, b: Claim) -> str:
        sa, sb = self.pain_scope(a), self.pain_scope(b)
        if not sa or not sb:
            return "disjoint"
        return self.tree.relation(sa, sb)

    def emit(
        self,
        ctype: str,
        first: Claim,
        sides: list[Side],
        condition: str,
        scope: str,
        explanation: str,
        *,
        key_labels: Iterable[str] | None = None,
        topic_key: str | None = None,
    ) -> None:
        """Record a conflict. ``key_labels`` (default: the side labels) name it stably; pass
        ``()`` where side labels are values that new data would change."""
        sides = [s for s in sides if s.claims]
        if len(sides) < 2:
            return
        labels = [s.label for s in sides] if key_labels is None else list(key_labels)
        cid = _conflict_id(
            ctype,
            first.intervention,
            topic_key or f"{first.kind}/{first.outcome}",
            condition,
            scope,
            labels,
        )
        if cid in self.found:
            return
        topic = f"{first.intervention} · {first.kind.replace('_', ' ')} · {first.outcome}"
        self.found[cid] = Conflict(
            cid,
            ctype,
            topic,
            first.intervention,
            first.kind,
            first.outcome,
            condition,
            scope,
            tuple(sides),
            explanation,
        )

    def scope_of(self, sides: list[list[Claim]]) -> tuple[str, str]:
        """(relation, condition) across sides: ``same`` if two sides share a condition, else
        ``broader`` with the narrower condition of an ancestor/descendant pair."""
        scopes = [{c for claim in side for c in self.pain_scope(claim)} for side in sides]
        seen: dict[str, int] = {}
        for i, scope in enumerate(scopes):
            for cond in sorted(scope):
                if cond in seen and seen[cond] != i:
                    return "same", cond
                seen.setdefault(cond, i)
        for i, scope in enumerate(scopes):
            others = set().union(*(s for j, s in enumerate(scopes) if j != i))
            for cond in sorted(scope):
                if self.tree.ancestors(cond) & others:
                    return "broader", cond
        return "broader", ""

    def keep_overlapping(self, buckets: list[list[Claim]]) -> list[list[Claim]]:
        """Drop claims whose scope overlaps no claim on any other side.

        Two scopes overlap when one holds a condition equal to or below one of the other's.
        Condition counts per side keep this linear in the number of claims.
        """
        own: list[Counter[str]] = []
        up: list[Counter[str]] = []  # conditions and their ancestors
        for bucket in buckets:
            o: Counter[str] = Counter()
            u: Counter[str] = Counter()
            for claim in bucket:
                scope = self.pain_scope(claim)
                o.update(scope)
                u.update(self.tree.with_ancestors(scope))
            own.append(o)
            up.append(u)
        all_own, all_up = sum(own, Counter()), sum(up, Counter())
        kept = []
        for bucket, o, u in zip(buckets, own, up):
            other_own, other_up = all_own - o, all_up - u
            keep = []
            for claim in bucket:
                scope = self.pain_scope(claim)
                if any(other_up[c] for c in scope) or any(
                    other_own[c] for c in self.tree.with_ancestors(scope)
                ):
                    keep.append(claim)
            kept.append(keep)
        return [b for b in kept if b]

    # -- detectors ---------------------------------------------------------------------------
    def opposite_direction(self, claims: list[Claim]) -> None:
        groups: dict[tuple[str, str, str], dict[str, list[Claim]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for c in claims:
            if c.kind in DIRECTIONAL_KINDS and c.direction in ("benefit", "no-benefit"):
                for cond in self.pain_scope(c):
                    groups[(c.intervention, c.kind, c.outcome)][cond].append(c)
        for by_cond in groups.values():
            for cond, direct in sorted(by_cond.items()):
                label = self.tree.label(cond)
                pos = [c for c in direct if c.direction == "benefit"]
                neg = [c for c in direct if c.direction == "no-benefit"]
                first = direct[0]
                what = f"{first.outcome.replace('-', ' ')}"
                if pos and neg:
                    self.emit(
                        "opposite_direction",
                        first,
                        [Side("benefit", _ids(pos)), Side("no benefit", _ids(neg))],
                        cond,
                        "same",
                        f"For {label}, {_n(pos)} reporting benefit on {what} stand against "
                        f"{_n(neg)} reporting no benefit.",
                    )
                ids_direct = {c.id for c in direct}
                broader: dict[str, Claim] = {}
                for anc in self.tree.ancestors(cond):
                    for c in by_cond.get(anc, []):
                        if c.id not in ids_direct:
                            broader[c.id] = c
                bpos = [c for c in broader.values() if c.direction == "benefit"]
                bneg = [c for c in broader.values() if c.direction == "no-benefit"]
                for here, there, here_lab, there_lab in (
                    (pos, bneg, "benefit", "no benefit"),
                    (neg, bpos, "no benefit", "benefit"),
                ):
                    if here and there:
                        self.emit(
                            "opposite_direction",
                            first,
                            [
                                Side(f"{here_lab} ({label})", _ids(here)),
                                Side(f"{there_lab} (broader scope)", _ids(there)),
                            ],
                            cond,
                            "broader",
                            f"For {label}, {_n(here)} reporting {here_lab} on {what} stand "
                            f"against {_n(there)} about a broader population reporting "
                            f"{there_lab} (indirect).",
                        )

    def dose_values(self, claims: list[Claim]) -> None:
        by_interv: dict[str, list[Claim]] = defaultdict(list)
        for c in claims:
            if c.kind in ("dose", "titration") and c.dose_bounds_mg() is not None:
                by_interv[c.intervention].append(c)
        for interv, group in by_interv.items():
            # A recommended maximum (article or guideline) against every higher dose level.
            anchors: dict[float, list[Claim]] = defaultdict(list)
            for c in group:
                if c.outcome == "maximum-dose" and self.is_recommendation(c):
                    anchors[c.dose_bounds_mg()[1]].append(c)  # type: ignore[index]
            for top, anchor in sorted(anchors.items()):
                higher = [
                    c
                    for c in group
                    if c.outcome in DOSE_LEVEL_OUTCOMES and c.dose_bounds_mg()[1] > top + 1e-9
                ]  # type: ignore[index]
                buckets = self.keep_overlapping([anchor, higher])
                if len(buckets) < 2 or (buckets[0] is not anchor and buckets[0][0] not in anchor):
                    continue
                scope, cond = self.scope_of(buckets)
                levels = ", ".join(sorted({c.value_text or "" for c in buckets[1]}))
                self.emit(
                    "incompatible_values",
                    anchor[0],
                    [
                        Side(f"maximum {top:g} mg", _ids(buckets[0])),
                        Side("higher dose levels reported", _ids(buckets[1])),
                    ],
                    cond,
                    scope,
                    f"A recommended maximum of {top:g} mg for {interv} sits below dose "
                    f"levels reported elsewhere: {levels}.",
                )
            # Starting doses and titration schedules that differ.
            for outcome in SCHEDULE_OUTCOMES:
                by_value: dict[str, list[Claim]] = defaultdict(list)
                for c in group:
                    if c.outcome == outcome:
                        by_value[c.value_text or ""].append(c)
                if len(by_value) < 2:
                    continue
                buckets = self.keep_overlapping(list(by_value.values()))
                if len(buckets) < 2:
                    continue
                scope, cond = self.scope_of(buckets)
                self.emit(
                    "incompatible_values",
                    buckets[0][0],
                    [Side(b[0].value_text or "", _ids(b)) for b in buckets],
                    cond,
                    scope,
                    f"Different {outcome.replace('-', ' ')}s are given for {interv}: "
                    + "; ".join(b[0].value_text or "" for b in buckets)
                    + ".",
                    key_labels=(),
                    topic_key=outcome,
                )

    def is_recommendation(self, claim: Claim) -> bool:
        if claim.origin in ("seed", "import"):
            return True
        return any(self.kb.references[r].role == "guideline" for r in claim.cited_refs)

    def rates(self, claims: list[Claim]) -> None:
        groups: dict[tuple[str, str], list[tuple[float, Claim]]] = defaultdict(list)
        for c in claims:
            key = RATE_OUTCOMES.get(c.outcome)
            pct = c.percentage()
            if key is None or pct is None or not self.pain_scope(c):
                continue
            if c.outcome == "continuation-rate":
                pct = 100.0 - pct
            groups[(c.intervention, key)].append((pct, c))
        for (interv, key), items in groups.items():
            by_value: dict[float, list[Claim]] = defaultdict(list)
            for pct, c in items:
                by_value[round(pct, 1)].append(c)
            values = sorted(by_value)
            if len(values) < 2:
                continue
            lo, hi = values[0], values[-1]
            if hi - lo < RATE_MIN_GAP_POINTS or (lo > 0 and hi / lo < RATE_MIN_RATIO):
                continue
            buckets = self.keep_overlapping([by_value[v] for v in values])
            if len(buckets) < 2:
                continue
            scope, cond = self.scope_of(buckets)
            name = key.replace("-", " ")
            sides = []
            for b in buckets:
                c0 = b[0]
                pct = c0.percentage() or 0.0
                label = (
                    f"{100 - pct:g}% (from {pct:g}% continuing)"
                    if c0.outcome == "continuation-rate"
                    else f"{pct:g}%"
                )
                sides.append(Side(label, _ids(b)))
            self.emit(
                "divergent_estimates",
                buckets[0][0],
                sides,
                cond,
                scope,
                f"Estimates of the {name} for {interv} range from "
                f"{sides[0].label} to {sides[-1].label}.",
                key_labels=(),
                topic_key=key,
            )

    def recommendations(self, claims: list[Claim]) -> None:
        by_interv: dict[str, dict[str, list[Claim]]] = defaultdict(lambda: defaultdict(list))
        for c in claims:
            rec = c.recommendation
            if c.kind == "treatment_line" and rec and rec["strength"] != "unrated":
                by_interv[c.intervention][rec["strength"]].append(c)
        for interv, by_strength in by_interv.items():
            if len(by_strength) < 2:
                continue
            order = ["strong", "weak", "not-recommended"]
            buckets = self.keep_overlapping([by_strength[s] for s in order if s in by_strength])
            if len(buckets) < 2:
                continue
            scope, cond = self.scope_of(buckets)
            sides = [Side(_strength_label(b[0]), _ids(b)) for b in buckets]
            self.emit(
                "recommendation_strength",
                buckets[0][0],
                sides,
                cond,
                scope,
                f"{interv} is recommended with different strength: "
                + " vs ".join(s.label for s in sides)
                + ".",
            )

    def safety(self, claims: list[Claim]) -> None:
        contra: dict[str, list[Claim]] = defaultdict(list)
        none_claimed: dict[str, list[Claim]] = defaultdict(list)
        for c in claims:
            if c.kind == "contraindication" or c.outcome == "contraindication":
                contra[c.intervention].append(c)
            elif c.outcome == "drug-interactions" and c.direction == "benefit":
                none_claimed[c.intervention].append(c)
        for interv, against in contra.items():
            if none_claimed.get(interv):
                buckets = [none_claimed[interv], against]
                scope, cond = self.scope_of(buckets)
                self.emit(
                    "safety_contradiction",
                    buckets[0][0],
                    [
                        Side("no drug interactions", _ids(buckets[0])),
                        Side("contraindication or interaction", _ids(against)),
                    ],
                    cond or PAIN_ROOT,
                    scope,
                    f"{interv} is said to have no drug interactions, but a "
                    f"contraindication or interaction is stated elsewhere.",
                )


def _ids(claims: Iterable[Claim]) -> tuple[str, ...]:
    return tuple(sorted({c.id for c in claims}))


def _n(claims: list[Claim]) -> str:
    return f"{len(claims)} claim" + ("s" if len(claims) != 1 else "")


def _strength_label(claim: Claim) -> str:
    rec = claim.recommendation or {}
    label = {"strong": "strong", "weak": "weak", "not-recommended": "not recommended"}[
        rec["strength"]
    ]
    if rec.get("line"):
        label += f", {rec['line']} line"
    return label


def detect(kb: KnowledgeBase) -> list[Conflict]:
    """All computed conflicts of ``kb``, in a stable order."""
    claims = list(kb.claims.values())
    det = _Detector(kb)
    det.opposite_direction(claims)
    det.dose_values(claims)
    det.rates(claims)
    det.recommendations(claims)
    det.safety(claims)
    return sorted(det.found.values(), key=lambda c: (c.type, c.topic, c.condition, c.id))


def describe_value(claim: Claim) -> str | None:
    return format_value(claim.value)
