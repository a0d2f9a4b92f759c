"""Summary of findings: GRADE certainty of a body of evidence per (intervention, condition, outcome).

GRADE rates a *body of evidence for one outcome*, not a sentence (``/work/shared/GRADE-NOTES.md``).
A body gathers the dossier's findings and conclusions (statement roles ``finding`` and
``conclusion``; study-conduct, background and advice are never evidence about an effect) that
share an intervention, a condition and an effect outcome (:data:`OUTCOMES`). A claim about several
conditions belongs to their nearest common condition in the vocabulary (Driver 2023's mixed chronic
pain and fibromyalgia cohort → chronic pain), else to its first. Statements of an answer page
(origin ``seed`` or ``import``) restate other sources: they link to the body of their
(intervention, condition, outcome) but are never counted as evidence in it.

Each body is rated in steps, each with a reason (``{domain, change, text}``):

* **Start** from the best design tier present: randomised trials and systematic reviews of them
  High; observational studies Low; case reports, laboratory work and opinion Very low (the
  per-study design, with the dossier's corrections, as in :mod:`kb.evidence`). Evidence from a
  weaker tier is listed as context, not pooled.
* **Direction** follows the primary studies of that tier weighted by participants; reviews decide
  only when no primary study of the tier is held (they may pool the very same trials). Claims
  with an active comparator (``custom.appraisal.comparators``) are context only.
* **Risk of bias** −1 when studies holding most of the participants have a concern: no
  comparison group, single-blind or fixed order, losses, or results read on a secondary page.
* **Inconsistency** −1 when studies or reviews of the same PICO point different ways, or a
  source's own notes report a contradicting trial. Different populations are not inconsistency.
* **Indirectness** −1 when studies holding most of the participants differ from the question
  (animal data, another population, a shorter exposure, an active comparator). Evidence on a
  broader population (a mixed chronic-pain review for fibromyalgia) is shown as indirect
  context and never counted.
* **Imprecision** −1 when total participants fall short of an optimal information size —
  :data:`OIS_CONTINUOUS` (about 400) for a continuous outcome, :data:`OIS_EVENTS` (about 300
  events) for a dichotomous one, whose event counts the data never give — or when a reported
  standardised mean difference's 95 % CI spans both an appreciable benefit and an appreciable harm
  (±:data:`SMD_APPRECIABLE`). Totals never add a review to trials it may contain: the larger of
  the trials' sum and the largest review is used. (GRADE guidelines 6, Guyatt et al., J Clin
  Epidemiol 2011;64:1283-93; thresholds as in GRADE-NOTES.md.)
* **Publication bias** −1 when a source's own analysis reports it.

The certainty never goes below Very low. The plain-language statement follows Santesso et al.
2020 (table in GRADE-NOTES.md). Only numbers present in the claims are shown; a missing figure
is "not reported".
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

# pydantic (which makes the OpenAPI schemas of kb.shapes) reads TypedDicts from
# typing_extensions only, before Python 3.12.
from typing_extensions import TypedDict

from . import evidence, pictures
from .claims import DIRECTIONS
from .editorial import claim_reference_marks

if TYPE_CHECKING:
    from .claims import Claim
    from .knowledgebase import KnowledgeBase
    from .references import Reference

OIS_CONTINUOUS = 400
OIS_EVENTS = 300
SMD_APPRECIABLE = 0.5
# Very serious imprecision (-2): fewer than this share of the optimal information size. GRADE
# guidance 34 (Zeng et al., J Clin Epidemiol 2022;150:216-24) rates down more than one level
# when the sample size is "far less than the OIS"; a quarter is this project's reading of "far".
OIS_FAR_SHARE = 0.25
RATIO_APPRECIABLE = (0.75, 1.25)
# Sources with no comparison at all: the direction of an effect cannot be estimated from them.
NO_COMPARISON_DESIGNS = evidence.UNCONTROLLED | {"guideline", "mechanistic/preclinical"}
EVIDENCE_ROLES = frozenset({"finding", "conclusion"})
# Statements of an answer page restate other sources: linked to a body, never counted in it.
ARTICLE_ORIGINS = frozenset({"seed", "import"})
CERTAINTIES = ("High", "Moderate", "Low", "Very low")
BODY_DIRECTIONS = ("benefit", "harm", "little or no difference", "mixed", "not estimable")


@dataclass(frozen=True)
class Outcome:
    label: str
    scale: str  # "continuous" or "dichotomous": which optimal information size applies
    harm: bool  # a harm outcome: "benefit" in the data means no more harm than placebo
    verbs: tuple[str, str]  # a benefit in words: "reduces" / "reduce"
    noun: str  # "pain", "the proportion who respond"
    harm_verbs: tuple[str, str] = ("increases", "increase")


OUTCOMES: dict[str, Outcome] = {
    "pain": Outcome("Pain", "continuous", False, ("reduces", "reduce"), "pain"),
    "symptom-severity": Outcome(
        "Symptom severity", "continuous", False, ("reduces", "reduce"), "symptom severity"
    ),
    "quality-of-life": Outcome(
        "Quality of life", "continuous", False, ("improves", "improve"), "quality of life"
    ),
    "mood": Outcome("Mood", "continuous", False, ("improves", "improve"), "mood"),
    "fatigue-sleep": Outcome(
        "Fatigue and sleep", "continuous", False, ("improves", "improve"), "fatigue and sleep"
    ),
    "function": Outcome("Function", "continuous", False, ("improves", "improve"), "function"),
    "pain-threshold": Outcome(
        "Pain thresholds", "continuous", False, ("raises", "raise"), "pain thresholds"
    ),
    "cognition": Outcome(
        "Memory and cognition", "continuous", False, ("improves", "improve"), "cognition"
    ),
    "clinical-features": Outcome(
        "Clinical features", "continuous", False, ("improves", "improve"), "clinical features"
    ),
    "responder-rate": Outcome(
        "Responders",
        "dichotomous",
        False,
        ("increases", "increase"),
        "the proportion who respond",
    ),
    "adverse-effect-rate": Outcome(
        "Adverse events", "dichotomous", True, ("reduces", "reduce"), "adverse events"
    ),
    "serious-adverse-events": Outcome(
        "Serious adverse events",
        "dichotomous",
        True,
        ("reduces", "reduce"),
        "serious adverse events",
    ),
    "adverse-effect-profile": Outcome(
        "Kinds of adverse effects",
        "dichotomous",
        True,
        ("reduces", "reduce"),
        "specific adverse effects",
    ),
    "tolerability": Outcome(
        "Tolerability",
        "dichotomous",
        True,
        ("improves", "improve"),
        "tolerability",
        ("worsens", "worsen"),
    ),
    "discontinuation-rate": Outcome(
        "Stopping treatment",
        "dichotomous",
        False,
        ("reduces", "reduce"),
        "stopping treatment",
    ),
    "continuation-rate": Outcome(
        "Staying on treatment",
        "dichotomous",
        False,
        ("increases", "increase"),
        "staying on treatment",
    ),
}


class Reason(TypedDict):
    domain: str
    change: int
    text: str


class Body(TypedDict):
    id: str
    intervention: str
    condition: str
    condition_label: str
    outcome: str
    outcome_label: str
    claims: list[str]
    studies: list[str]
    participants: int | None
    effect: str
    direction: str
    certainty: str
    reasons: list[Reason]
    statement: str


# -- membership ------------------------------------------------------------------------------
def _slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(p for p in out.split("-") if p)


def body_condition(kb: KnowledgeBase, conditions: Iterable[str]) -> str:
    """The nearest condition common to all of ``conditions`` (else the first of them)."""
    conds = [c for c in conditions if c in kb.conditions]
    if not conds:
        return next(iter(conditions))
    common = set.intersection(*(kb.conditions.with_ancestors([c]) for c in conds))
    if not common:
        return conds[0]
    # The deepest common condition: the one with most ancestors.
    return max(sorted(common), key=lambda c: len(kb.conditions.ancestors(c)))


def body_key(kb: KnowledgeBase, claim: Claim) -> str | None:
    """The id of the body ``claim`` would belong to, or None (not an effect statement)."""
    if (claim.role or "finding") not in EVIDENCE_ROLES or claim.outcome not in OUTCOMES:
        return None
    cond = body_condition(kb, claim.conditions)
    return f"{_slug(claim.intervention)}--{cond}--{claim.outcome}"


def _counts(kb: KnowledgeBase, claim: Claim) -> bool:
    """Whether ``claim`` is evidence in its body (graded, and not an answer page's statement)."""
    return claim.origin not in ARTICLE_ORIGINS and kb.grades[claim.id].graded


# -- rating ----------------------------------------------------------------------------------
def _tier(kb: KnowledgeBase, claim: Claim) -> int:
    ref = evidence.evidence_source(kb, claim)
    if ref is None:
        return 1
    return evidence.DESIGNS.get(evidence.design_of(ref), evidence.DESIGNS["secondary-summary"])[0]


def _is_review(ref: Reference) -> bool:
    return evidence.design_of(ref) in ("systematic-review", "systematic-review-meta-analysis")


def _comparator(kb: KnowledgeBase, claim: Claim) -> str | None:
    ref = evidence.evidence_source(kb, claim)
    if ref is None:
        return None
    comparators = evidence.appraisal(ref).get("comparators") or {}
    value = comparators.get(claim.id)
    return str(value) if value else None


def _direction(outcome: Outcome, claim_direction: str, active: bool = False) -> str:
    if claim_direction == "mixed":
        return "mixed"
    if outcome.harm and not (active and claim_direction == "benefit"):
        # For a harm outcome the data's "benefit" means no more harm than placebo; against an
        # active drug it means less harm.
        return "harm" if claim_direction == "no-benefit" else "little or no difference"
    return "benefit" if claim_direction == "benefit" else "little or no difference"


LABELS_NAMED = 10  # studies named in one reason; the rest are counted ("and 4,990 more")


def _labels(kb: KnowledgeBase, refs: Iterable[str]) -> str:
    distinct = list(dict.fromkeys(refs))
    named = ", ".join(kb.references[r].label for r in distinct[:LABELS_NAMED])
    rest = len(distinct) - LABELS_NAMED
    return f"{named} and {rest:,} more" if rest > 0 else named


_INTERVAL = re.compile(r"\((?:95% CI )?(-?\d+(?:\.\d+)?)\s*(?:to|-)\s*(-?\d+(?:\.\d+)?)\)")


def _interval(value: str) -> tuple[float, float] | None:
    """(low, high) of a reported "(95% CI a to b)" or "(a-b)", else None."""
    m = _INTERVAL.search(value.replace("−", "-"))
    return (float(m.group(1)), float(m.group(2))) if m else None


def _wide(key: str, value: str) -> bool:
    """Whether a reported 95 % CI spans both an appreciable benefit and an appreciable harm:
    an SMD beyond ±SMD_APPRECIABLE on both sides, or a ratio below RATIO_APPRECIABLE[0] and
    above RATIO_APPRECIABLE[1] (GRADE guidelines 6)."""
    iv = _interval(value)
    if iv is None:
        return False
    parts = set(key.split("_"))
    if "SMD" in parts:
        return iv[0] < -SMD_APPRECIABLE and iv[1] > SMD_APPRECIABLE
    if parts & {"IRR", "RR", "OR", "HR"}:
        return iv[0] < RATIO_APPRECIABLE[0] and iv[1] > RATIO_APPRECIABLE[1]
    return False


def _effect(kb: KnowledgeBase, claims: list[Claim]) -> str:
    parts = []
    for c in claims:
        nums = c.record.get("reported_numbers") or {}
        if not nums:
            continue
        ref = evidence.evidence_source(kb, c)
        label = ref.label if ref else c.id
        shown = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in nums.items())
        parts.append(f"{label}: {shown}")
    return "; ".join(parts) if parts else "not reported"


def _lower_first(label: str) -> str:
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def statement(
    intervention: str,
    outcome: Outcome,
    condition: str,
    direction: str,
    cert: str,
    comparator: str | None = None,
) -> str:
    """The GRADE informative statement (Santesso et al. 2020) for one body."""
    x, where = intervention, f" in {_lower_first(condition)}"
    last = intervention.split()[-1] if intervention.split() else ""
    plural = last.endswith("s") and not last.endswith(("ss", "is", "us"))
    if comparator:
        where += f", compared with {comparator}"
    if cert == "Very low":
        return f"The evidence is very uncertain about the effect of {x} on {outcome.noun}{where}."
    if direction == "little or no difference":
        makes = "make" if plural else "makes"
        verb = {"High": makes, "Moderate": f"probably {makes}", "Low": "may make"}[cert]
        text = f"{x} {verb} little or no difference to {outcome.noun}{where}."
    elif direction == "mixed":
        has = "have" if plural else "has"
        verb = {"High": has, "Moderate": f"probably {has}", "Low": "may have"}[cert]
        text = f"{x} {verb} mixed effects on {outcome.noun}{where}: results differ between measures or comparisons."
    elif direction == "not estimable":
        return f"The evidence cannot show an effect of {x} on {outcome.noun}{where}: no study compared it."
    else:
        third, base = outcome.verbs if direction == "benefit" else outcome.harm_verbs
        third = base if plural else third
        verb = {"High": third, "Moderate": f"probably {third}", "Low": f"may {base}"}[cert]
        text = f"{x} {verb} {outcome.noun}{where}."
    return text[:1].upper() + text[1:]


def _participants(kb: KnowledgeBase, deciding: list[Claim]) -> int | None:
    """Total participants, never adding a review to the trials it may contain."""
    trials: dict[str, int | None] = {}
    reviews: dict[str, int | None] = {}
    for c in deciding:
        ref = evidence.evidence_source(kb, c)
        if ref is None:
            continue
        (reviews if _is_review(ref) else trials)[ref.id] = ref.n
    trial_sum = sum(n for n in trials.values() if n) if trials else None
    review_max = max((n for n in reviews.values() if n), default=None)
    known = [v for v in (trial_sum, review_max) if v]
    return max(known) if known else None


def _label(src: dict[str, Reference | None], c: Claim) -> str:
    r = src[c.id]
    return r.label if r is not None else c.id


def _sources(src: dict[str, Reference | None], claims: list[Claim]) -> dict[str, Reference]:
    """The distinct references ``claims`` rest on, by id."""
    return {r.id: r for c in claims if (r := src[c.id]) is not None}


def _rid(src: dict[str, Reference | None], c: Claim) -> str | None:
    r = src[c.id]
    return r.id if r is not None else None


@dataclass
class _Draft:
    key: str
    intervention: str
    condition: str
    outcome: str
    claims: list[Claim]
    # claims left out because a reference they rest on was retracted, with that mark
    excluded: list[tuple[Claim, dict[str, Any]]] = field(default_factory=list)


def _excluded_reasons(d: _Draft) -> list[Reason]:
    """One reason per retracted reference that took claims out of the body."""
    by_ref: dict[str, tuple[dict[str, Any], list[str]]] = {}
    for c, mark in d.excluded:
        by_ref.setdefault(mark["ref"], (mark, []))[1].append(c.id)
    return [
        {
            "domain": "excluded",
            "change": 0,
            "text": f"Excluded: {mark['label']} was retracted ({mark['reason']});"
            f" {len(cids)} {'claim' if len(cids) == 1 else 'claims'} left out ({', '.join(cids)}).",
        }
        for mark, cids in by_ref.values()
    ]


def _emptied(kb: KnowledgeBase, d: _Draft) -> Body:
    """A body every claim of which rests on a retracted reference: nothing left to rate."""
    outcome = OUTCOMES[d.outcome]
    cond_label = kb.conditions.label(d.condition) if d.condition in kb.conditions else d.condition
    reasons: list[Reason] = [
        {
            "domain": "start",
            "change": 0,
            "text": "Starts Very low: no evidence remains once retracted studies are left out.",
        },
        *_excluded_reasons(d),
    ]
    return {
        "id": d.key,
        "intervention": d.intervention,
        "condition": d.condition,
        "condition_label": cond_label,
        "outcome": d.outcome,
        "outcome_label": outcome.label,
        "claims": [],
        "studies": [],
        "participants": None,
        "effect": "not reported",
        "direction": "not estimable",
        "certainty": "Very low",
        "reasons": reasons,
        "statement": statement(d.intervention, outcome, cond_label, "not estimable", "Very low"),
    }


@dataclass
class _Rating:
    """What the GRADE steps of one body share: its claims split by design tier."""

    kb: KnowledgeBase
    outcome: Outcome
    src: dict[str, Reference | None]  # the reference each claim rests on, by claim id
    by_tier: dict[int, list[Claim]]
    tier: int  # the best tier present: its claims decide the body
    # active-comparator claims shown as context (empty when the body is about that comparison)
    context_cmp: list[tuple[Claim, str]]
    comparator: str | None  # the active comparator a comparison-only body is about

    @property
    def deciding(self) -> list[Claim]:
        return self.by_tier[self.tier]

    def direction_of(self, c: Claim) -> str:
        return _direction(self.outcome, c.direction, self.comparator is not None)

    def weight_of(self, claims: list[Claim]) -> float:
        return float(sum((r.n or 1) for r in _sources(self.src, claims).values()))

    def share(self, refs: dict[str, list[str]]) -> float:
        """The share of the deciding participants held by the studies ``refs`` names."""
        total = self.weight_of(self.deciding) or 1.0
        return self.weight_of([c for c in self.deciding if _rid(self.src, c) in refs]) / total

    def detail(self, refs: dict[str, list[str]]) -> str:
        return "; ".join(f"{self.kb.references[r].label}: {', '.join(v)}" for r, v in refs.items())


def _rating(kb: KnowledgeBase, d: _Draft) -> _Rating:
    """Split the claims of ``d`` by design tier; active-comparator claims are context only."""
    by_tier: dict[int, list[Claim]] = {}
    context_cmp: list[tuple[Claim, str]] = []
    for c in d.claims:
        cmp = _comparator(kb, c)
        if cmp:
            context_cmp.append((c, cmp))
            continue
        by_tier.setdefault(_tier(kb, c), []).append(c)
    comparator = None
    if not by_tier:  # only active-comparator evidence: the body is about that comparison
        for c, _ in context_cmp:
            by_tier.setdefault(_tier(kb, c), []).append(c)
        names = {cmp for _, cmp in context_cmp}
        comparator = names.pop() if len(names) == 1 else "active comparators"
        context_cmp = []
    return _Rating(
        kb=kb,
        outcome=OUTCOMES[d.outcome],
        src={c.id: evidence.evidence_source(kb, c) for c in d.claims},
        by_tier=by_tier,
        tier=max(by_tier),
        context_cmp=context_cmp,
        comparator=comparator,
    )


def _start(rt: _Rating) -> list[Reason]:
    """Where the rating starts, and the weaker-design and active-comparator claims left aside."""
    kinds = {4: "randomised trials or systematic reviews of them", 2: "observational studies"}
    reasons: list[Reason] = [
        {
            "domain": "start",
            "change": 0,
            "text": f"Starts {evidence.GRADES[rt.tier]}: "
            + (kinds.get(rt.tier) or "case reports, laboratory work or opinion")
            + f" ({_labels(rt.kb, [r.id for c in rt.deciding if (r := rt.src[c.id])])}).",
        }
    ]
    for t in sorted((t for t in rt.by_tier if t != rt.tier), reverse=True):
        refs = [r.id for c in rt.by_tier[t] if (r := rt.src[c.id])]
        reasons.append(
            {
                "domain": "context",
                "change": 0,
                "text": f"Weaker designs are shown, not pooled: {_labels(rt.kb, refs)} (their"
                f" design starts {evidence.GRADES[t]}).",
            }
        )
    for c, cmp in rt.context_cmp:
        reasons.append(
            {
                "domain": "indirectness",
                "change": 0,
                "text": f"Not counted: {_label(rt.src, c)} (claim {c.id}) "
                f"compares with {cmp}, not placebo.",
            }
        )
    return reasons


def _body_direction(rt: _Rating) -> str:
    """Primary studies of the tier weighted by participants; else its reviews."""
    src = rt.src
    primaries = [c for c in rt.deciding if (r := src[c.id]) is not None and not _is_review(r)]
    voters = primaries or rt.deciding
    if all(
        (r := src[c.id]) is None or evidence.design_of(r) in NO_COMPARISON_DESIGNS for c in voters
    ):
        return "not estimable"
    weight: dict[str, float] = {}
    seen_refs: set[tuple[str, str]] = set()
    for c in voters:
        r = src[c.id]
        key = (r.id if r else c.id, rt.direction_of(c))
        if key in seen_refs:
            continue
        seen_refs.add(key)
        weight[key[1]] = weight.get(key[1], 0.0) + float((r.n if r else None) or 1)
    ranked = sorted(weight.items(), key=lambda kv: -kv[1])
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return "mixed"
    return ranked[0][0]


def _risk_of_bias(rt: _Rating) -> list[Reason]:
    """The concerns of studies holding most of the weight."""
    biased: dict[str, list[str]] = {}
    for c in rt.deciding:
        r = rt.src[c.id]
        if r is None:
            continue
        items = evidence.bias_concerns(r)
        if c.reported_in == "secondary":
            items.append(f"claim {c.id} read on a secondary page")
        items += [
            f"under an expression of concern ({m['reason']})"
            for m in claim_reference_marks(rt.kb, c.id)
            if m["status"] == "concern"
        ]
        if items:
            biased.setdefault(r.id, [])
            biased[r.id] += [i for i in items if i not in biased[r.id]]
    if not biased:
        return []
    # The board doubts a publication's data (COPE expression of concern): unlike a design
    # limitation, that is not weighed by the study's size, so it always rates the body down.
    concerned = any(
        m["status"] == "concern" for c in rt.deciding for m in claim_reference_marks(rt.kb, c.id)
    )
    most = rt.share(biased) > 0.5
    if most:
        text = "Rated down: studies holding most of the participants have concerns — "
    elif concerned:
        text = "Rated down: a study is under an expression of concern — "
    else:
        text = (
            "Not rated down: the concerns are in studies holding a minority of the participants — "
        )
    serious = most or concerned
    return [
        {
            "domain": "risk of bias",
            "change": -1 if serious else 0,
            "text": text + rt.detail(biased) + ".",
        }
    ]


def _inconsistency(rt: _Rating) -> list[Reason]:
    """The same PICO pointing different ways, or a contradiction the notes report."""
    dirs: dict[str, list[str]] = {}
    for c in rt.deciding:
        dirs.setdefault(rt.direction_of(c), []).append(_label(rt.src, c))
    noted = [
        f"{r.label}: {i}"
        for r in _sources(rt.src, rt.deciding).values()
        for i in evidence.appraisal(r).get("inconsistency", [])
        if not rt.outcome.harm  # the notes report contradicting efficacy results
    ]
    if len({k for k in dirs if k != "mixed"}) <= 1 and not noted:
        return []
    sides = "; ".join(f"{k}: {', '.join(dict.fromkeys(v))}" for k, v in dirs.items())
    text = f"Rated down: studies of the same question point different ways ({sides})."
    if noted and len(dirs) <= 1:
        text = "Rated down: " + "; ".join(noted) + "."
    elif noted:
        text += " Also: " + "; ".join(noted) + "."
    return [{"domain": "inconsistency", "change": -1, "text": text}]


def _indirectness(rt: _Rating) -> list[Reason]:
    """Most of the weight from studies that differ from the question."""
    indirect: dict[str, list[str]] = {}
    for c in rt.deciding:
        r = rt.src[c.id]
        if r is None:
            continue
        items = evidence.indirectness(rt.kb, c, r, evidence.design_of(r))
        if items:
            indirect.setdefault(r.id, [])
            indirect[r.id] += [i for i in items if i not in indirect[r.id]]
    if not indirect:
        return []
    serious = rt.share(indirect) > 0.5
    return [
        {
            "domain": "indirectness",
            "change": -1 if serious else 0,
            "text": ("Rated down: " if serious else "Not rated down (a minority): ")
            + rt.detail(indirect)
            + ".",
        }
    ]


def _imprecision(rt: _Rating, participants: int | None) -> list[Reason]:
    """Too few participants for the optimal information size, or a too-wide interval."""
    ois, unit = (
        (OIS_CONTINUOUS, "participants a continuous outcome needs")
        if rt.outcome.scale == "continuous"
        else (OIS_EVENTS, "events a dichotomous outcome needs")
    )
    why: list[str] = []
    very_serious = participants is not None and participants < ois * OIS_FAR_SHARE
    if participants is not None and participants < ois:
        why.append(
            f"{participants} participants in total, fewer than the about {ois} {unit}"
            " (optimal information size)"
            + ("; with fewer participants there are fewer events" if ois == OIS_EVENTS else "")
        )
        if very_serious:
            why[-1] += (
                f": very serious, under a quarter of it ({int(ois * OIS_FAR_SHARE)}), so two"
                " levels (GRADE guidance 34)"
            )
    for c in rt.deciding:
        for k, v in (c.record.get("reported_numbers") or {}).items():
            if _wide(k, str(v)):
                why.append(
                    f"{_label(rt.src, c)}'s interval ({k.replace('_', ' ')}"
                    f" {v}) spans both an appreciable benefit and an appreciable harm"
                )
    if why:
        drop = 2 if very_serious else 1
        return [
            {
                "domain": "imprecision",
                "change": -drop,
                "text": "Rated down: " + "; ".join(why) + ".",
            }
        ]
    if participants is None:
        text = "Not judged: the total number of participants is not reported."
    else:
        text = f"Not rated down: {participants} participants in total, at least the about {ois} {unit}."
    return [{"domain": "imprecision", "change": 0, "text": text}]


def _publication_bias(rt: _Rating) -> list[Reason]:
    """Publication bias a source's own analysis reports."""
    pub = [
        f"{r.label}: {p}"
        for r in _sources(rt.src, rt.deciding).values()
        for p in evidence.appraisal(r).get("publication_bias", [])
    ]
    if not pub:
        return []
    return [{"domain": "publication bias", "change": -1, "text": "Rated down: " + "; ".join(pub)}]


def _rate(kb: KnowledgeBase, d: _Draft) -> Body:
    """Rate one body: start from its best design tier, then one step per GRADE domain."""
    if not d.claims:
        return _emptied(kb, d)
    rt = _rating(kb, d)
    participants = _participants(kb, rt.deciding)
    reasons = [
        *_start(rt),
        *_risk_of_bias(rt),
        *_inconsistency(rt),
        *_indirectness(rt),
        *_imprecision(rt, participants),
        *_publication_bias(rt),
        *_excluded_reasons(d),
    ]
    # Each rating-down step's change is what it takes off the starting level.
    level = max(rt.tier + sum(r["change"] for r in reasons), 1)
    certainty = evidence.GRADES[level]
    direction = _body_direction(rt)
    cond_label = kb.conditions.label(d.condition) if d.condition in kb.conditions else d.condition
    studies = list(dict.fromkeys(r.id for c in d.claims if (r := rt.src[c.id]) is not None))
    return {
        "id": d.key,
        "intervention": d.intervention,
        "condition": d.condition,
        "condition_label": cond_label,
        "outcome": d.outcome,
        "outcome_label": rt.outcome.label,
        "claims": [c.id for c in d.claims],
        "studies": studies,
        "participants": participants,
        "effect": _effect(kb, rt.deciding),
        "direction": direction,
        "certainty": certainty,
        "reasons": reasons,
        "statement": statement(
            d.intervention, rt.outcome, cond_label, direction, certainty, rt.comparator
        ),
    }


@dataclass
class _Rated:
    """The bodies as last rated (before the context pass), kept across re-gradings so an edit
    re-rates only the bodies holding the claims it touched."""

    grades: Any = None  # the kb.grades object they were rated with
    bodies: dict[str, tuple[int, Body]] = field(default_factory=dict)  # key -> (place, body)
    final: dict[str, Body] = field(default_factory=dict)  # what build returned from them
    lock: threading.Lock = field(default_factory=threading.Lock)


def build(kb: KnowledgeBase) -> dict[str, Body]:
    """Every body of evidence of ``kb``, by id (the order of :func:`summary`).

    After a verdict or a board decision (:meth:`KnowledgeBase.regrade`) only the bodies of
    the claims it re-graded or named are rated again (seconds -> milliseconds at 100k
    claims); anything else (a reference marked, new records) rates every body."""
    held = kb.cache("kb.summary.rated", lambda _kb: _Rated(), records=True)
    with held.lock:
        grades = kb.grades
        touched = kb.regraded_since(held.grades) if held.grades is not None else None
        if touched is None:
            rated = _rate_all(kb)
            final = _finish(kb, rated)
        else:
            rated = dict(held.bodies)
            keys = claim_keys(kb)
            for key in dict.fromkeys(k for cid in touched if (k := keys.get(cid)) is not None):
                again = _rate_one(kb, key)
                if again is None:
                    rated.pop(key, None)
                else:
                    rated[key] = again
            final = _finish(kb, rated, (held.bodies, held.final))
        held.grades, held.bodies, held.final = grades, rated, final
        return final


def _draft(kb: KnowledgeBase, drafts: dict[str, _Draft], key: str, claim: Claim) -> None:
    """Add ``claim`` to the draft of body ``key`` (if it counts as evidence there)."""
    if not _counts(kb, claim):
        return
    if key not in drafts:
        cond = body_condition(kb, claim.conditions)
        drafts[key] = _Draft(key, claim.intervention, cond, claim.outcome, [])
    retracted = [m for m in claim_reference_marks(kb, claim.id) if m["status"] == "retracted"]
    if retracted:  # a retracted study leaves the body (shown as a reason, never counted)
        drafts[key].excluded.append((claim, retracted[0]))
    else:
        drafts[key].claims.append(claim)


def _rate_all(kb: KnowledgeBase) -> dict[str, tuple[int, Body]]:
    """Every body rated; each with its place: the position of its first counted claim."""
    drafts: dict[str, _Draft] = {}
    place: dict[str, int] = {}
    keys = claim_keys(kb)
    for i, claim in enumerate(kb.claims.values()):
        key = keys[claim.id]
        if key is None:
            continue
        _draft(kb, drafts, key, claim)
        if key in drafts and key not in place:
            place[key] = i
    return {key: (place[key], _rate(kb, d)) for key, d in drafts.items()}


def _rate_one(kb: KnowledgeBase, key: str) -> tuple[int, Body] | None:
    """Body ``key`` rated afresh (None when none of its claims counts any more)."""
    drafts: dict[str, _Draft] = {}
    at = None
    for i, claim in _claims_by_key(kb).get(key, []):
        _draft(kb, drafts, key, claim)
        if at is None and key in drafts:
            at = i
    if at is None:
        return None
    return at, _rate(kb, drafts[key])


def _claims_by_key(kb: KnowledgeBase) -> dict[str, list[tuple[int, Claim]]]:
    """Each body key's claims with their positions among all claims (records only)."""

    def build_index(kb: KnowledgeBase) -> dict[str, list[tuple[int, Claim]]]:
        keys = claim_keys(kb)
        out: dict[str, list[tuple[int, Claim]]] = defaultdict(list)
        for i, claim in enumerate(kb.claims.values()):
            key = keys[claim.id]
            if key is not None:
                out[key].append((i, claim))
        return dict(out)

    return kb.cache("kb.summary.claims_by_key", build_index, records=True)


def prepare_edits(kb: KnowledgeBase) -> None:
    """Index the bodies' claims now, which the first re-rating after an edit reads."""
    _claims_by_key(kb)


def _copy(body: Body) -> Body:
    """A body callers may change: its lists and dicts copied (the rated one is kept)."""
    out: dict[str, Any] = {
        k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
        for k, v in body.items()
    }
    return out  # type: ignore[return-value]


def _finish(
    kb: KnowledgeBase,
    rated: dict[str, tuple[int, Body]],
    before: tuple[dict[str, tuple[int, Body]], dict[str, Body]] | None = None,
) -> dict[str, Body]:
    """The context pass and the order of :func:`summary`, on copies of the rated bodies.

    With ``before`` (the rated bodies and the result of the last build) only the bodies that
    were rated again, and those under them that take them as context, are finished again;
    the others are the last build's (bodies are read-only to callers)."""
    ordered = sorted(rated.items(), key=lambda kv: kv[1][0])
    # Evidence on a broader population is indirect context for a narrower one: shown, not counted.
    # Only bodies of the same treatment and outcome can be context (thousands of bodies at 100k
    # claims: comparing every pair took seconds).
    alike: dict[tuple[str, str, str], list[tuple[int, Body]]] = defaultdict(list)
    for i, (_, (_, body)) in enumerate(ordered):
        alike[(body["intervention"], body["outcome"], body["condition"])].append((i, body))
    redo = None if before is None else _to_finish(kb, rated, *before, alike)
    said: dict[str, str] = {}  # a broad body is context for many narrower ones: word it once
    bodies: list[Body] = []
    for key, (_, rated_body) in ordered:
        if redo is not None and key not in redo:
            bodies.append(before[1][key])  # type: ignore[index]
            continue
        body = _copy(rated_body)
        bodies.append(body)
        if body["condition"] not in kb.conditions:
            continue
        above = kb.conditions.ancestors(body["condition"])
        same = (body["intervention"], body["outcome"])
        for _, other in sorted(
            (x for a in above for x in alike.get((*same, a), ())), key=lambda x: x[0]
        ):
            if other["id"] not in said:
                said[other["id"]] = (
                    f"Indirect context, not counted: on {_lower_first(other['condition_label'])}"
                    f" ({_labels(kb, other['studies'])}) the evidence is {other['certainty']}"
                    f" certainty, {other['direction']}."
                )
            body["reasons"].append({"domain": "context", "change": 0, "text": said[other["id"]]})
    order = {c: i for i, c in enumerate(kb.conditions.conditions)}
    outcomes = list(OUTCOMES)
    ranked = sorted(
        bodies,
        key=lambda b: (
            b["intervention"] != "low-dose naltrexone",
            b["intervention"],
            order.get(b["condition"], len(order)),
            outcomes.index(b["outcome"]),
        ),
    )
    return {b["id"]: b for b in ranked}


def _to_finish(
    kb: KnowledgeBase,
    rated: dict[str, tuple[int, Body]],
    rated_before: dict[str, tuple[int, Body]],
    final_before: dict[str, Body],
    alike: dict[tuple[str, str, str], list[tuple[int, Body]]],
) -> set[str]:
    """The bodies to finish again: those rated again, added or gone, and every body that
    takes one of them as context (same treatment and outcome, a condition below it)."""
    changed = {k for k, v in rated.items() if rated_before.get(k) is not v}
    changed |= {k for k in rated_before if k not in rated}
    redo = {k for k in changed if k in rated} | {k for k in rated if k not in final_before}
    for key in changed:
        body = (rated.get(key) or rated_before[key])[1]
        if body["condition"] not in kb.conditions:
            continue
        same = (body["intervention"], body["outcome"])
        for below in kb.conditions.descendants(body["condition"]):
            redo.update(x[1]["id"] for x in alike.get((*same, below), ()))
    return redo


def claim_keys(kb: KnowledgeBase) -> dict[str, str | None]:
    """Every claim's :func:`body_key`, computed once per version of ``kb``'s records."""

    def build_keys(kb: KnowledgeBase) -> dict[str, str | None]:
        conds: dict[tuple[str, ...], str] = {}  # few distinct scopes: compute each once
        out: dict[str, str | None] = {}
        for cid, claim in kb.claims.items():
            if (claim.role or "finding") not in EVIDENCE_ROLES or claim.outcome not in OUTCOMES:
                out[cid] = None
                continue
            scope = tuple(claim.conditions)
            if scope not in conds:
                conds[scope] = body_condition(kb, scope)
            out[cid] = f"{_slug(claim.intervention)}--{conds[scope]}--{claim.outcome}"
        return out

    return kb.cache("kb.summary.claim_keys", build_keys, records=True)


def body_keys(kb: KnowledgeBase) -> set[str]:
    """Ids of the bodies that exist (have at least one counted claim); no grades needed."""
    keys = claim_keys(kb)
    return {
        key
        for cid, claim in kb.claims.items()
        if (key := keys[cid]) is not None and claim.origin not in ARTICLE_ORIGINS
    }


def summary(
    kb: KnowledgeBase, *, condition: str | None = None, intervention: str | None = None
) -> list[Body]:
    """The summary-of-findings rows, optionally for one condition (and the conditions below it)
    and one intervention. An unknown condition raises ``ConditionNotFound``."""
    if condition is not None:
        kb.conditions.get(condition)
    out = []
    for body in kb.summaries.values():
        if intervention is not None and body["intervention"] != intervention:
            continue
        if condition is not None and not (
            body["condition"] == condition
            or (
                body["condition"] in kb.conditions
                and condition in kb.conditions.ancestors(body["condition"])
            )
        ):
            continue
        out.append(body)
    return out


def body_of(kb: KnowledgeBase, claim_id: str) -> Body | None:
    """The body of evidence ``claim_id`` belongs to, or None. Raises ``ClaimNotFound``."""
    kb.claim(claim_id)
    key = claim_keys(kb)[claim_id]
    return kb.summaries.get(key) if key is not None else None


# -- the documents behind /summary and /conditions/<id> (and their /api/ twins) ---------------
class ConditionRef(TypedDict):
    id: str
    label: str


class ConditionCount(ConditionRef):
    bodies: int


class Rules(TypedDict):
    ois_continuous: int
    ois_events: int
    certainties: list[str]
    directions: list[str]


class SummaryPage(TypedDict):
    """``/summary`` (``?condition=``) and ``kb summary``: the summary-of-findings rows."""

    condition: ConditionRef | None
    bodies: list[Body]
    conditions: list[ConditionCount]
    rules: Rules


class ConditionDetail(ConditionRef):
    synonyms: list[str]
    broader: list[ConditionRef]
    narrower: list[ConditionRef]


class ConditionPage(TypedDict):
    """``/conditions/<id>``: a condition and the certainty of its evidence per outcome."""

    condition: ConditionDetail
    bodies: list[Body]
    claims_total: int
    rules: Rules
    pictures: pictures.Pictures  # evidence map and forest plot of the condition and below


def _cond(kb: KnowledgeBase, cid: str) -> ConditionRef:
    return {"id": cid, "label": kb.conditions.label(cid)}


def _rules() -> Rules:
    return {
        "ois_continuous": OIS_CONTINUOUS,
        "ois_events": OIS_EVENTS,
        "certainties": list(CERTAINTIES),
        "directions": list(BODY_DIRECTIONS),
    }


def summary_page(kb: KnowledgeBase, condition: str | None = None) -> SummaryPage:
    """The summary-of-findings table (``?condition=`` narrows it to a condition and below)."""
    bodies = summary(kb, condition=condition)
    counts: dict[str, int] = {}
    for body in kb.summaries.values():
        counts[body["condition"]] = counts.get(body["condition"], 0) + 1
    return {
        "condition": _cond(kb, condition) if condition else None,
        "bodies": bodies,
        "conditions": [
            {**_cond(kb, c), "bodies": n} for c, n in counts.items() if c in kb.conditions
        ],
        "rules": _rules(),
    }


def condition_page(kb: KnowledgeBase, condition_id: str) -> ConditionPage:
    """One condition: its place in the vocabulary and the evidence per outcome, including the
    conditions below it. An unknown id raises ``ConditionNotFound``."""
    cond = kb.conditions.get(condition_id)
    below = sorted(kb.conditions.descendants(condition_id))
    claims = [cid for cid, c in kb.claims.items() if condition_id in c.conditions]
    return {
        "condition": {
            "id": condition_id,
            "label": cond.label,
            "synonyms": list(cond.synonyms),
            "broader": [_cond(kb, p) for p in cond.parents],
            "narrower": [_cond(kb, c) for c in below],
        },
        "bodies": summary(kb, condition=condition_id),
        "claims_total": len(claims),
        "rules": _rules(),
        "pictures": pictures.for_condition(kb, condition_id),
    }


__all__ = [
    "BODY_DIRECTIONS",
    "CERTAINTIES",
    "DIRECTIONS",
    "OIS_CONTINUOUS",
    "OIS_EVENTS",
    "OIS_FAR_SHARE",
    "OUTCOMES",
    "Body",
    "ConditionPage",
    "Reason",
    "SummaryPage",
    "body_of",
    "condition_page",
    "summary",
    "summary_page",
]
