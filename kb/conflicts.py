"""Conflict detection, computed from the claims (never a hand-written list).

A conflict is two claims (or two groups of claims) that cannot both be right for the same
population, intervention, comparator, outcome definition and time frame (GRADE-NOTES.md, "What
is a conflict"). Claims are grouped by what they are about — intervention, kind and outcome —
and compared within a group only, so the work grows with the size of the groups, not with all
pairs. Scopes are compared through the condition hierarchy.

Rules
-----
* A subgroup never stands against its own study's overall result (two claims resting on the
  same source are never opposed).
* Differently defined outcomes are never compared: any adverse event in both arms of a trial
  is not "side effects reported" in a chart review; tolerability ratings are not an adverse-event
  rate; a trial's own dosing protocol is how the study was run, not a recommendation.
* A condition-specific result against a mixed-condition *review* (or a guideline for a narrower
  population against a general one) is **indirect context** (:data:`CONTEXT_TYPES`): shown as
  such, never counted as a conflict and never lowering a grade.
* One disagreement is one conflict, whatever the number of claims or condition pairs: a
  conflict whose sides repeat an already found one is dropped.

Conflict types (:data:`TYPE_LABELS`)
------------------------------------
``opposite_direction``
    efficacy / response claims on one outcome and population: benefit vs no benefit.
``demonstrated_efficacy``
    a claim that a dose has demonstrated efficacy (a dose claim with direction benefit) against
    randomised trials and systematic reviews of the same drug finding no benefit on pain, in
    its population or one within it.
``incompatible_values``
    a recommended maximum dose (article or guideline) below dose levels reported anywhere;
    recommended starting doses or titration schedules that differ.
``divergent_estimates``
    one rate, defined the same way, estimated at values at least 10 percentage points and
    1.5-fold apart (a continuation rate counts as 100 minus stopping).
``harm_comparison``
    adverse events against the same comparator (placebo) reported as more frequent by one
    source and similar by another (``comparisons`` of a claim). A drug's harms against placebo
    are not expected to depend on the pain condition, so populations need only overlap.
``recommendation_strength``
    one treatment for one population recommended by one source and not recommended by another,
    or recommended with different strengths (strong vs weak).
``treatment_line``
    one treatment for one population put at different lines (first vs second, second vs third,
    regular use vs rescue only); "later" agrees with second and third.
``safety_contradiction``
    "no drug interactions" against any stated interaction, precaution or contraindication of the
    same drug.
``indirect_context``
    see above.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, NamedTuple

from .claims import Claim
from .evidence import evidence_source

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

TYPE_LABELS: dict[str, str] = {
    "safety_contradiction": "Safety: no interactions vs a stated precaution",
    "harm_comparison": "Adverse events against the same comparator",
    "incompatible_values": "Incompatible doses or schedules",
    "demonstrated_efficacy": "Efficacy said to be demonstrated vs null trials",
    "opposite_direction": "Opposite direction (benefit vs no benefit)",
    "treatment_line": "Different line of treatment",
    "recommendation_strength": "Different recommendation",
    "divergent_estimates": "Divergent estimates of one rate",
    "indirect_context": "Indirect context (different populations)",
}
# Shown apart from conflicts and never lowering a grade (kb.evidence skips them).
CONTEXT_TYPES: frozenset[str] = frozenset({"indirect_context"})
# Most to least severe for a reader: safety first (the order of TYPE_LABELS).
SEVERITY: dict[str, int] = {t: i for i, t in enumerate(TYPE_LABELS)}

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
SAFETY_KINDS = ("contraindication", "precaution")
RATE_MIN_GAP_POINTS = 10.0
RATE_MIN_RATIO = 1.5
PAIN_ROOT = "chronic-pain"
# Designs whose pooled or randomised results can show (or fail to show) efficacy.
TRIAL_DESIGNS = frozenset({"randomized-controlled-trial", "crossover-rct", "pilot-rct"})
REVIEW_DESIGNS = frozenset(
    {"systematic-review", "systematic-review-meta-analysis", "scoping-review", "narrative-review"}
)
POOLED_DESIGNS = frozenset({"systematic-review", "systematic-review-meta-analysis"})
# Lines of treatment that cannot both hold for one treatment and population; "later" means
# "after first line" and so agrees with second and third.
_LINE_CLASH = {
    frozenset({"first", "second"}),
    frozenset({"first", "third"}),
    frozenset({"first", "later"}),
    frozenset({"first", "rescue"}),
    frozenset({"second", "third"}),
    frozenset({"second", "rescue"}),
    frozenset({"third", "rescue"}),
}
_LINE_ORDER = ("first", "second", "third", "later", "rescue")
_HARM_WORDS = {"more": "more often", "similar": "as often", "fewer": "less often"}


@cache
def outcome_labels() -> dict[str, str]:
    """Readable outcome labels (``kb/vocab/outcomes.json``)."""
    text = resources.files("kb.vocab").joinpath("outcomes.json").read_text("utf-8")
    labels: dict[str, str] = json.loads(text)["labels"]
    return labels


def outcome_label(outcome: str) -> str:
    return outcome_labels().get(outcome) or outcome.replace("-", " ").capitalize()


@cache
def _abbreviations() -> dict[str, str]:
    """Intervention -> its abbreviation where the glossary gives one ("LDN")."""
    text = resources.files("kb.vocab").joinpath("glossary.json").read_text("utf-8")
    out: dict[str, str] = {}
    for entry in json.loads(text):
        aliases = entry.get("aliases") or []
        short = next((a for a in aliases if a.isupper() and len(a) <= 6), None)
        if short:
            for alias in aliases:
                out[alias.lower()] = short
    return out


def intervention_label(intervention: str) -> str:
    return _abbreviations().get(intervention.lower(), intervention)


def drug_of(intervention: str) -> str:
    """The drug itself, whatever the dose: a precaution about naltrexone holds for LDN."""
    return intervention.lower().removeprefix("low-dose ").removeprefix("low dose ")


class _Pending(NamedTuple):
    """A side before it is recorded: its claims are sorted into ids only if it is new."""

    label: str
    claims: Iterable[Claim]


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
    title: str = ""

    @property
    def is_context(self) -> bool:
        """Indirect context, not a conflict: never lowers a grade."""
        return self.type in CONTEXT_TYPES

    def claim_ids(self) -> list[str]:
        return [cid for side in self.sides for cid in side.claims]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "title": self.title or self.topic,
            "context": self.is_context,
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
        # Per-claim facts asked for again and again on large knowledge bases.
        self._source: dict[str, str] = {}
        self._who: dict[str, str] = {}
        self._top: dict[str, float] = {}
        self._rec: dict[str, tuple[str | None, str | None]] = {}

    # -- what a claim is -------------------------------------------------------------------
    def pain_scope(self, claim: Claim) -> list[str]:
        return [c for c in claim.conditions if c in self.in_pain]

    def source(self, claim: Claim) -> str:
        """Id of the reference the claim rests on (its own id when it rests on nothing)."""
        cid = claim.id
        found = self._source.get(cid)
        if found is None:
            ref = evidence_source(self.kb, claim)
            found = self._source[cid] = ref.id if ref is not None else cid
        return found

    def top(self, claim: Claim) -> float:
        """The highest dose of a dose-like value, in mg (0 where there is none)."""
        cid = claim.id
        found = self._top.get(cid)
        if found is None:
            bounds = claim.dose_bounds_mg()
            found = self._top[cid] = bounds[1] if bounds is not None else 0.0
        return found

    def rec(self, claim: Claim) -> tuple[str | None, str | None]:
        """(strength, line) of a recommendation."""
        cid = claim.id
        found = self._rec.get(cid)
        if found is None:
            r = claim.recommendation or {}
            found = self._rec[cid] = (r.get("strength"), r.get("line"))
        return found

    def design(self, claim: Claim) -> str:
        rid = self.source(claim)
        return self.kb.references[rid].design if rid in self.kb.references else ""

    def who(self, claim: Claim) -> str:
        """Where a claim comes from, for a title: "the article" or a reference label."""
        found = self._who.get(claim.id)
        if found is None:
            if claim.origin in ("seed", "import"):
                found = "the article"
            else:
                rid = claim.cited_refs[0] if claim.cited_refs else None
                found = self.kb.references[rid].label if rid in self.kb.references else claim.id
            self._who[claim.id] = found
        return found

    def whos(self, claims: Iterable[Claim], limit: int = 3) -> str:
        names = list(dict.fromkeys(self.who(c) for c in claims))
        if len(names) > limit:
            return ", ".join(names[:limit]) + f" and {len(names) - limit} more"
        return " and ".join(names) if len(names) == 2 else ", ".join(names)

    def is_recommendation(self, claim: Claim) -> bool:
        if claim.origin in ("seed", "import"):
            return True
        return any(self.kb.references[r].role == "guideline" for r in claim.cited_refs)

    # -- recording --------------------------------------------------------------------------
    def emit(
        self,
        ctype: str,
        first: Claim,
        sides: list[_Pending],
        condition: str,
        scope: str,
        explanation: str | Callable[[], str],
        title: str | Callable[[], str],
        *,
        key_labels: Iterable[str] | None = None,
        topic_key: str | None = None,
    ) -> None:
        """Record a conflict. ``key_labels`` (default: the side labels) name it stably; pass
        ``()`` where side labels are values that new data would change. ``title`` and
        ``explanation`` may be callables, called at once and only when the conflict is new
        (naming sources reads every claim of a side; hence the ``noqa: B023`` on their
        loop variables, which are bound for the duration of this call)."""
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
            return  # found already: sides and words are built only once
        title = title() if callable(title) else title
        explanation = explanation() if callable(explanation) else explanation
        topic = topic_of(first)
        self.found[cid] = Conflict(
            cid,
            ctype,
            topic,
            first.intervention,
            first.kind,
            first.outcome,
            condition,
            scope,
            tuple(Side(p.label, _ids(p.claims)) for p in sides),
            explanation,
            title=title[:1].upper() + title[1:],
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
        for bucket, o, u in zip(buckets, own, up, strict=True):
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

    def by_condition(self, claims: Iterable[Claim]) -> dict[str, list[Claim]]:
        out: dict[str, list[Claim]] = defaultdict(list)
        for c in claims:
            for cond in self.pain_scope(c):
                out[cond].append(c)
        return out

    def broader_than(self, cond: str, by_cond: dict[str, list[Claim]]) -> list[Claim]:
        """Claims filed under a condition above ``cond`` (and not under ``cond`` itself)."""
        direct = {c.id for c in by_cond.get(cond, [])}
        out: dict[str, Claim] = {}
        for anc in sorted(self.tree.ancestors(cond)):
            for c in by_cond.get(anc, []):
                if c.id not in direct:
                    out.setdefault(c.id, c)
        return list(out.values())

    def apart(self, narrow: list[Claim], broad: list[Claim]) -> list[Claim]:
        """``narrow`` less the claims resting on a source that ``broad`` rests on too (a
        subgroup never stands against its own study's overall result)."""
        sources = {self.source(c) for c in broad}
        return [c for c in narrow if self.source(c) not in sources]

    # -- efficacy -----------------------------------------------------------------------------
    def opposite_direction(self, claims: list[Claim]) -> None:
        groups: dict[tuple[str, str, str], list[Claim]] = defaultdict(list)
        for c in claims:
            if c.kind in DIRECTIONAL_KINDS and c.direction in ("benefit", "no-benefit"):
                groups[(c.intervention, c.kind, c.outcome)].append(c)
        for group in groups.values():
            by_cond = self.by_condition(group)
            reviews = {
                cond: [c for c in claims if self.design(c) in REVIEW_DESIGNS]
                for cond, claims in by_cond.items()
            }
            for cond, direct in sorted(by_cond.items()):
                self._same_population(cond, direct)
                self._indirect_efficacy(cond, direct, reviews)

    def _same_population(self, cond: str, direct: list[Claim]) -> None:
        pos = [c for c in direct if c.direction == "benefit"]
        neg = [c for c in direct if c.direction == "no-benefit"]
        neg = self.apart(neg, pos)
        if not (pos and neg):
            return
        first, label = direct[0], self.tree.label(cond)
        what = outcome_label(first.outcome)
        self.emit(
            "opposite_direction",
            first,
            [_Pending("benefit", pos), _Pending("no benefit", neg)],
            cond,
            "same",
            f"For {label}, {_n(pos)} reporting benefit on {what.lower()} stand against "
            f"{_n(neg)} reporting no benefit.",
            lambda: (
                f"{what} with {intervention_label(first.intervention)} in {_lc(label)}: "
                f"benefit in {self.whos(pos)} vs no benefit in {self.whos(neg)}"
            ),
        )

    def _indirect_efficacy(
        self, cond: str, direct: list[Claim], reviews_by_cond: dict[str, list[Claim]]
    ) -> None:
        """Condition-specific results against mixed-condition reviews of a broader scope."""
        reviews = self.broader_than(cond, reviews_by_cond)
        if not reviews:
            return
        first, label = direct[0], self.tree.label(cond)
        what = outcome_label(first.outcome)
        for here_dir, there_dir in (("benefit", "no-benefit"), ("no-benefit", "benefit")):
            there = [c for c in reviews if c.direction == there_dir]
            here = self.apart([c for c in direct if c.direction == here_dir], there)
            if not (here and there):
                continue
            here_lab, there_lab = here_dir.replace("-", " "), there_dir.replace("-", " ")
            self.emit(
                "indirect_context",
                first,
                [
                    _Pending(f"{here_lab} ({label})", here),
                    _Pending(f"{there_lab} (reviews of a broader population)", there),
                ],
                cond,
                "broader",
                f"For {label}, {_n(here)} reporting {here_lab} on {what.lower()} sit beside "
                f"{_n(there)} from reviews of a broader, mixed population reporting "
                f"{there_lab}: different populations, so this is indirect context, not a "
                f"conflict.",
                lambda: (
                    f"{what} with {intervention_label(first.intervention)}: {here_lab} in "  # noqa: B023
                    f"{_lc(label)} vs {there_lab} in broader reviews ({self.whos(there)})"  # noqa: B023
                ),
            )

    def demonstrated_efficacy(self, claims: list[Claim]) -> None:
        """A dose said to have demonstrated efficacy vs null trials and reviews of the drug."""
        asserted: dict[str, list[Claim]] = defaultdict(list)
        null: dict[str, list[Claim]] = defaultdict(list)
        for c in claims:
            if c.kind == "dose" and c.direction == "benefit":
                asserted[drug_of(c.intervention)].append(c)
            elif (
                c.kind == "efficacy"
                and c.outcome == "pain"
                and c.direction == "no-benefit"
                and self.design(c) in TRIAL_DESIGNS | POOLED_DESIGNS
            ):
                null[drug_of(c.intervention)].append(c)
        for drug, claimed in sorted(asserted.items()):
            scope = set(self._scopes(claimed))
            # Null results about the asserted scope or a population within it.
            within = [
                c
                for c in null.get(drug, [])
                if any(s in scope or self.tree.ancestors(s) & scope for s in self.pain_scope(c))
            ]
            within = self.apart(within, claimed)
            if not within:
                continue
            first = claimed[0]
            cond = self._scopes(claimed)[0] if self._scopes(claimed) else PAIN_ROOT
            name = intervention_label(first.intervention)
            self.emit(
                "demonstrated_efficacy",
                first,
                [
                    _Pending("efficacy said to be demonstrated", claimed),
                    _Pending("no benefit in trials and reviews", within),
                ],
                cond,
                "same",
                f"{_n(claimed).capitalize()} {'says' if len(claimed) == 1 else 'say'} trials "
                f"have demonstrated the efficacy of {name}, but {_n(within)} from randomised "
                f"trials or systematic reviews of {name} report no benefit on pain.",
                lambda: (
                    f"Efficacy of {name} in trials: said to be demonstrated in {self.whos(claimed)} "  # noqa: B023
                    f"vs no benefit in {self.whos(within)}"  # noqa: B023
                ),
            )

    def _scopes(self, claims: list[Claim]) -> list[str]:
        return sorted({s for c in claims for s in self.pain_scope(c)})

    # -- doses ---------------------------------------------------------------------------------
    def dose_values(self, claims: list[Claim]) -> None:
        by_interv: dict[str, list[Claim]] = defaultdict(list)
        for c in claims:
            if c.kind in ("dose", "titration") and c.dose_bounds_mg() is not None:
                by_interv[c.intervention].append(c)
        for interv, group in by_interv.items():
            self._maximum_dose(interv, group)
            self._schedules(interv, group)

    def _maximum_dose(self, interv: str, group: list[Claim]) -> None:
        """A recommended maximum (article or guideline) against every higher dose level."""
        anchors: dict[float, list[Claim]] = defaultdict(list)
        for c in group:
            if c.outcome == "maximum-dose" and self.is_recommendation(c):
                anchors[self.top(c)].append(c)
        for top, anchor in sorted(anchors.items()):
            higher = [
                c for c in group if c.outcome in DOSE_LEVEL_OUTCOMES and self.top(c) > top + 1e-9
            ]
            buckets = self.keep_overlapping([anchor, higher])
            if len(buckets) < 2 or (buckets[0] is not anchor and buckets[0][0] not in anchor):
                continue
            scope, cond = self.scope_of(buckets)
            levels = ", ".join(sorted({c.value_text or "" for c in buckets[1]}))
            highest = max(self.top(c) for c in buckets[1])
            others = {self.who(c) for c in buckets[1]}
            self.emit(
                "incompatible_values",
                anchor[0],
                [
                    _Pending(f"maximum {top:g} mg", buckets[0]),
                    _Pending("higher dose levels reported", buckets[1]),
                ],
                cond,
                scope,
                f"A recommended maximum of {top:g} mg for {interv} sits below dose "
                f"levels reported elsewhere: {levels}.",
                lambda: (
                    f"Maximum dose of {intervention_label(interv)}: {top:g} mg in "  # noqa: B023
                    f"{self.whos(anchor)} vs higher doses in {len(others)} "  # noqa: B023
                    f"{'source' if len(others) == 1 else 'sources'}, up to {highest:g} mg "  # noqa: B023
                    f"({self.whos(c for c in buckets[1] if self.top(c) == highest)})"  # noqa: B023
                ),
            )

    def _schedules(self, interv: str, group: list[Claim]) -> None:
        """Recommended starting doses or titration schedules that differ. A trial's own
        protocol is study conduct, not a recommendation, so it is not compared."""
        for outcome in SCHEDULE_OUTCOMES:
            by_value: dict[str, list[Claim]] = defaultdict(list)
            for c in group:
                if c.outcome == outcome and self.is_recommendation(c):
                    by_value[c.value_text or ""].append(c)
            if len(by_value) < 2:
                continue
            buckets = self.keep_overlapping(list(by_value.values()))
            if len(buckets) < 2:
                continue
            scope, cond = self.scope_of(buckets)
            values = [b[0].value_text or "" for b in buckets]
            what = outcome_label(outcome)
            self.emit(
                "incompatible_values",
                buckets[0][0],
                [_Pending(v, b) for v, b in zip(values, buckets, strict=True)],
                cond,
                scope,
                f"Different {what.lower()}s are given for {interv}: " + "; ".join(values) + ".",
                lambda: (
                    f"{what} of {intervention_label(interv)}: "  # noqa: B023
                    + " vs ".join(
                        f"{v} in {self.whos(b)}"
                        for v, b in zip(values, buckets, strict=True)  # noqa: B023
                    )
                ),
                key_labels=(),
                topic_key=outcome,
            )

    # -- rates and harms --------------------------------------------------------------------
    def rates(self, claims: list[Claim]) -> None:
        """Rates compared only within one outcome definition: events recorded in the arms of a
        controlled trial are not the side effects patients reported in routine care."""
        groups: dict[tuple[str, str, bool], list[tuple[float, Claim]]] = defaultdict(list)
        for c in claims:
            key = RATE_OUTCOMES.get(c.outcome)
            pct = c.percentage()
            if key is None or pct is None or not self.pain_scope(c):
                continue
            if c.outcome == "continuation-rate":
                pct = 100.0 - pct
            trial = self.design(c) in TRIAL_DESIGNS
            groups[(c.intervention, key, trial)].append((pct, c))
        for (interv, key, trial), items in groups.items():
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
            sides = []
            for b in buckets:
                c0 = b[0]
                pct = c0.percentage() or 0.0
                label = (
                    f"{100 - pct:g}% (from {pct:g}% continuing)"
                    if c0.outcome == "continuation-rate"
                    else f"{pct:g}%"
                )
                sides.append(_Pending(label, b))
            what = outcome_label(key)
            where = "in trials" if trial else "in routine care"
            self.emit(
                "divergent_estimates",
                buckets[0][0],
                sides,
                cond,
                scope,
                f"Estimates of the {what.lower()} for {interv} ({where}) range from "
                f"{sides[0].label} to {sides[-1].label}.",
                lambda: (
                    f"{what} with {intervention_label(interv)} {where}: "  # noqa: B023
                    f"{sides[0].label.split(' ')[0]} in {self.whos(buckets[0])} vs "  # noqa: B023
                    f"{sides[-1].label.split(' ')[0]} in {self.whos(buckets[-1])}"  # noqa: B023
                ),
                key_labels=(),
                topic_key=key + ("/trial" if trial else ""),
            )

    def harms(self, claims: list[Claim]) -> None:
        groups: dict[tuple[str, str], dict[str, list[Claim]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for c in claims:
            for comp in c.comparisons:
                # "active" covers different drugs: not one comparator, so never compared.
                if comp["versus"] == "placebo" and self.pain_scope(c):
                    groups[(drug_of(c.intervention), c.outcome)][comp["result"]].append(c)
        for (_, outcome), by_result in groups.items():
            order = [r for r in ("more", "similar", "fewer") if r in by_result]
            buckets = self.keep_overlapping([by_result[r] for r in order])
            if len(buckets) < 2:
                continue
            # keep_overlapping drops empty buckets: pair results with what is left.
            kept = [r for r in order if set(by_result[r]) & {c for b in buckets for c in b}]
            sides = [
                _Pending(f"{_HARM_WORDS[r]} {'as' if r == 'similar' else 'than'} placebo", b)
                for r, b in zip(kept, buckets, strict=True)
            ]
            scope, cond = self.scope_of(buckets)
            first = buckets[0][0]
            what = outcome_label(outcome)
            self.emit(
                "harm_comparison",
                first,
                sides,
                cond,
                scope,
                f"Against the same comparator (placebo), sources disagree on the "
                f"{what.lower()} with {intervention_label(first.intervention)}: "
                + "; ".join(
                    f"{_HARM_WORDS[r]} than placebo in {self.whos(b)}".replace(
                        "as often than", "as often as"
                    )
                    for r, b in zip(kept, buckets, strict=True)
                )
                + ".",
                lambda: (
                    f"{what} with {intervention_label(first.intervention)} vs placebo: "  # noqa: B023
                    + " vs ".join(
                        f"{_HARM_WORDS[r]} in {self.whos(b)}"
                        for r, b in zip(kept, buckets, strict=True)  # noqa: B023
                    )
                ),
            )

    # -- recommendations ----------------------------------------------------------------------
    def recommendations(self, claims: list[Claim]) -> None:
        by_interv: dict[str, list[Claim]] = defaultdict(list)
        for c in claims:
            if c.kind == "treatment_line" and c.recommendation:
                by_interv[c.intervention].append(c)
        for group in by_interv.values():
            by_cond = self.by_condition(group)
            for cond, direct in sorted(by_cond.items()):
                self._stance(cond, direct)
                self._lines(cond, direct)
                self._indirect_recommendation(cond, direct, by_cond)

    def _stance(self, cond: str, direct: list[Claim]) -> None:
        strength = {c.id: (c.recommendation or {}).get("strength") for c in direct}
        against = [c for c in direct if strength[c.id] == "not-recommended"]
        rated = [c for c in direct if strength[c.id] in ("strong", "weak")]
        first, label = direct[0], self.tree.label(cond)
        name = intervention_label(first.intervention)
        if against:
            pro = [c for c in direct if strength[c.id] in ("strong", "weak", "unrated")]
            pro = [c for c in pro if (c.recommendation or {}).get("line") != "rescue"]
            if not pro:
                return
            sides = [_Pending("recommended", pro), _Pending("not recommended", against)]
            title = (
                f"{name} for {_lc(label)}: recommended in {self.whos(pro)} vs not "
                f"recommended in {self.whos(against)}"
            )
        elif {strength[c.id] for c in rated} == {"strong", "weak"}:
            strong = [c for c in rated if strength[c.id] == "strong"]
            weak = [c for c in rated if strength[c.id] == "weak"]
            sides = [_Pending("strong", strong), _Pending("weak", weak)]
            title = (
                f"{name} for {_lc(label)}: strong recommendation in {self.whos(strong)} "
                f"vs weak in {self.whos(weak)}"
            )
        else:
            return
        self.emit(
            "recommendation_strength",
            first,
            sides,
            cond,
            "same",
            f"For {label}, {first.intervention} is "
            + " by some sources and ".join(s.label for s in sides)
            + " by others.",
            lambda: title,
        )

    def _lines(self, cond: str, direct: list[Claim]) -> None:
        by_line: dict[str, list[Claim]] = defaultdict(list)
        for c in direct:
            line = (c.recommendation or {}).get("line")
            if line:
                by_line[line].append(c)
        clashing = sorted(
            {a for a in by_line for b in by_line if frozenset({a, b}) in _LINE_CLASH},
            key=_LINE_ORDER.index,
        )
        if len(clashing) < 2:
            return
        first, label = direct[0], self.tree.label(cond)
        sides = [_Pending(_line_label(ln), by_line[ln]) for ln in clashing]
        self.emit(
            "treatment_line",
            first,
            sides,
            cond,
            "same",
            f"For {label}, {first.intervention} is put at different lines of treatment: "
            + " vs ".join(s.label for s in sides)
            + ".",
            lambda: (
                f"Place of {intervention_label(first.intervention)} in {_lc(label)}: "
                + " vs ".join(
                    f"{s.label} in {self.whos(by_line[ln])}"
                    for s, ln in zip(sides, clashing, strict=True)
                )
            ),
        )

    def _indirect_recommendation(
        self, cond: str, direct: list[Claim], by_cond: dict[str, list[Claim]]
    ) -> None:
        """Guidance for a narrower population against general guidance: indirect context."""
        broad = self.broader_than(cond, by_cond)
        if not broad:
            return
        # Compare the distinct (strength, line) pairs, not every claim with every claim.
        mine, theirs = {self.rec(c) for c in direct}, {self.rec(c) for c in broad}
        clash = {(a, b) for a in mine for b in theirs if _disagree(a, b)}
        mine_clashing, theirs_clashing = {a for a, _ in clash}, {b for _, b in clash}
        there = [c for c in broad if self.rec(c) in theirs_clashing]
        here = self.apart([h for h in direct if self.rec(h) in mine_clashing], there)
        if not (here and there):
            return
        first, label = here[0], self.tree.label(cond)
        name = intervention_label(first.intervention)
        self.emit(
            "indirect_context",
            first,
            [
                _Pending(f"{label}", here),
                _Pending("a broader population", there),
            ],
            cond,
            "broader",
            f"Guidance on {first.intervention} for {label} differs from guidance for a broader "
            f"population: different populations, so this is indirect context, not a conflict.",
            lambda: (
                f"{name}: {_stance_words(here)} for {_lc(label)} ({self.whos(here)}) vs "
                f"{_stance_words(there)} for a broader population ({self.whos(there)})"
            ),
            topic_key="treatment-position",
        )

    # -- safety ---------------------------------------------------------------------------------
    def safety(self, claims: list[Claim]) -> None:
        stated: dict[str, list[Claim]] = defaultdict(list)
        none_claimed: dict[str, list[Claim]] = defaultdict(list)
        for c in claims:
            if c.kind in SAFETY_KINDS or c.outcome == "contraindication":
                stated[drug_of(c.intervention)].append(c)
            elif c.outcome == "drug-interactions" and c.direction == "benefit":
                none_claimed[drug_of(c.intervention)].append(c)
        for drug, against in sorted(stated.items()):
            said_none = none_claimed.get(drug)
            if not said_none:
                continue
            # A drug's interactions hold in every population: scopes need not overlap.
            cond = next((s for c in said_none for s in self.pain_scope(c)), PAIN_ROOT)
            name = intervention_label(said_none[0].intervention)
            self.emit(
                "safety_contradiction",
                said_none[0],
                [
                    _Pending("no drug interactions", said_none),
                    _Pending("interaction, precaution or contraindication", against),
                ],
                cond,
                "same",
                f"{name} is said to have no drug interactions, but an interaction, "
                f"precaution or contraindication is stated elsewhere (SEED_MAP §6 item 7 counts "
                f"such statements as contradicting it).",
                lambda: (
                    f"Drug interactions of {name}: none in {self.whos(said_none)} vs precautions "  # noqa: B023
                    f"in {self.whos(against)}"  # noqa: B023
                ),
            )


def _lc(label: str) -> str:
    """A condition label inside a sentence: "fibromyalgia", but "HIV-associated ..." kept."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def _line_label(line: str) -> str:
    return "rescue use only" if line == "rescue" else f"{line} line"


def _stance_words(claims: list[Claim]) -> str:
    words = []
    for c in claims:
        rec = c.recommendation or {}
        strength = {"strong": "strong", "weak": "weak", "not-recommended": "not recommended"}.get(
            rec.get("strength") or ""
        )
        line = _line_label(rec["line"]) if rec.get("line") else None
        words.append(", ".join(w for w in (strength, line) if w) or "recommended")
    return "; ".join(dict.fromkeys(words))


def _disagree(a: tuple[str | None, str | None], b: tuple[str | None, str | None]) -> bool:
    """Two recommendations (strength, line) for one treatment that cannot both hold for one
    population."""
    (sa, la), (sb, lb) = a, b
    if "not-recommended" in (sa, sb) and sa != sb:
        return True
    if {sa, sb} == {"strong", "weak"}:
        return True
    return bool(la and lb and frozenset({la, lb}) in _LINE_CLASH)


def _ids(claims: Iterable[Claim]) -> tuple[str, ...]:
    return tuple(sorted({c.id for c in claims}))


def _n(claims: list[Claim]) -> str:
    return f"{len(claims)} claim" + ("s" if len(claims) != 1 else "")


def _dedupe(conflicts: list[Conflict]) -> list[Conflict]:
    """One disagreement, one conflict: drop a conflict whose every side lies within a side of
    one already kept (of the same kind: a context entry never hides a conflict)."""
    kept: list[Conflict] = []
    by_claim: dict[str, list[int]] = defaultdict(list)
    for conflict in sorted(conflicts, key=lambda c: -len(c.claim_ids())):
        sides = [set(s.claims) for s in conflict.sides]
        first = conflict.sides[0].claims[0]
        repeated = False
        for k in by_claim.get(first, []):
            other = kept[k]
            if other.is_context != conflict.is_context:
                continue
            theirs = [set(s.claims) for s in other.sides]
            homes = [next((j for j, t in enumerate(theirs) if s <= t), -1) for s in sides]
            if -1 not in homes and len(set(homes)) == len(homes):
                repeated = True
                break
        if repeated:
            continue
        for cid in conflict.claim_ids():
            by_claim[cid].append(len(kept))
        kept.append(conflict)
    return kept


def detect(kb: KnowledgeBase) -> list[Conflict]:
    """All computed conflicts (and indirect context) of ``kb``, in a stable order."""
    claims = list(kb.claims.values())
    det = _Detector(kb)
    det.safety(claims)
    det.harms(claims)
    det.dose_values(claims)
    det.demonstrated_efficacy(claims)
    det.opposite_direction(claims)
    det.recommendations(claims)
    det.rates(claims)
    found = _dedupe(list(det.found.values()))
    return sorted(found, key=lambda c: (c.type, c.topic, c.condition, c.id))


def topic_of(claim: Claim) -> str:
    """The topic line of a conflict ``claim`` is on: intervention · kind · outcome."""
    return f"{claim.intervention} · {claim.kind.replace('_', ' ')} · {claim.outcome}"
