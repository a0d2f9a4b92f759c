"""Evidence grade per claim: GRADE-style certainty and an Oxford CEBM 2011 level, computed.

Nothing here is typed into the data. A claim's grade starts from the design of the study it
rests on and is lowered, one step per reason, each reason in plain words:

1. **Start** from the design of the *evidence source*: for a dossier claim the cited study; for
   a seed claim the primary study tracing found (``primary.ref``), else the reference it cites.
   Systematic reviews and RCTs start High; cohorts Low; uncontrolled medication-use
   evaluations, case series and case reports Very low; guidelines Low (their underlying review
   is not held here); narrative and scoping reviews and secondary summaries count as expert
   opinion (Very low); laboratory and animal work starts Low and is always indirect.
2. **Imprecision**: a trial or cohort with fewer than 100 participants.
3. **Indirectness**: animal or laboratory data; or a claim whose conditions are not within the
   source's study population (corneal pain or HIV neuropathy guidance used for chronic pain).
4. **Secondary reporting**: a dossier finding read in a news page or secondary summary rather
   than the study's own report.
5. **Verdict** (seed claims): the primary source does not support the statement as worded, or
   does not state it.
6. **Inconsistency**: the claim is on one side of an active conflict (computed or added by an
   editor, not dismissed by the board) whose other side holds
   a claim of equal or higher grade (compared on grades before this step, so the order of
   claims never matters).

The floor is Very low. The CEBM level follows the design alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .editorial import claim_reference_marks

if TYPE_CHECKING:
    from .claims import Claim
    from .knowledgebase import KnowledgeBase
    from .references import Reference

GRADES = {4: "High", 3: "Moderate", 2: "Low", 1: "Very low"}
GRADE_ORDER = ("High", "Moderate", "Low", "Very low")

# design -> (starting certainty, CEBM 2011 level for treatment benefit, description)
DESIGNS: dict[str, tuple[int, int, str]] = {
    "systematic-review-meta-analysis": (4, 1, "systematic review with meta-analysis"),
    "systematic-review": (4, 1, "systematic review"),
    "randomized-controlled-trial": (4, 2, "randomised controlled trial"),
    "crossover-rct": (4, 2, "randomised crossover trial"),
    "pilot-rct": (4, 2, "pilot randomised trial"),
    "retrospective-cohort": (2, 3, "retrospective cohort"),
    "medication-use-evaluation": (1, 4, "uncontrolled medication-use evaluation"),
    "case-series": (1, 4, "case series"),
    "case-report": (1, 4, "case report"),
    "guideline": (2, 5, "guideline or expert guidance (its underlying review is not held here)"),
    "narrative-review": (1, 5, "narrative review (expert opinion)"),
    "scoping-review": (1, 5, "scoping review (expert opinion)"),
    "secondary-summary": (1, 5, "secondary summary (expert opinion at best)"),
    "mechanistic/preclinical": (2, 5, "laboratory or animal study"),
}
IMPRECISE_DESIGNS = {
    "randomized-controlled-trial",
    "crossover-rct",
    "pilot-rct",
    "retrospective-cohort",
    "medication-use-evaluation",
}
SMALL_N = 100


@dataclass(frozen=True)
class Grade:
    grade: str
    level: int
    cebm_level: int
    reasons: tuple[str, ...]
    basis_ref: str | None
    start: str
    inconsistency: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "cebm_level": self.cebm_level,
            "reasons": list(self.reasons),
            "basis_ref": self.basis_ref,
        }


def evidence_source(kb: KnowledgeBase, claim: Claim) -> Reference | None:
    """The reference a claim's certainty rests on.

    A seed claim rests on the primary study tracing found; where tracing found none it rests
    on the secondary page it cites, not on whatever else that page traces to. Other claims
    rest on what they cite, or on the primary study a cited secondary summary traces to.
    """
    primary = claim.primary
    if primary is not None:
        if primary.get("ref"):
            return kb.references[primary["ref"]]
        return kb.references[claim.cited_refs[0]] if claim.cited_refs else None
    for rid in claim.cited_refs:
        ref = kb.references[rid]
        for target in ref.traced_to:
            return kb.references[target]
        return ref
    return None


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _base(kb: KnowledgeBase, claim: Claim) -> tuple[int, int, list[str], str | None, str]:
    ref = evidence_source(kb, claim)
    if ref is None:
        reason = (
            "No citation: the statement rests on no identified source (expert opinion at best)."
        )
        return 1, 5, [reason], None, "Very low"
    start, cebm, desc = DESIGNS.get(ref.design, DESIGNS["secondary-summary"])
    level = start
    reasons = [f"Starts {GRADES[start]}: rests on {ref.label}, {_article(desc)} {desc}."]
    if ref.design in IMPRECISE_DESIGNS and ref.n is not None and ref.n < SMALL_N:
        level -= 1
        reasons.append(f"Imprecision: only {ref.n} participants.")
    if ref.design == "mechanistic/preclinical":
        level -= 1
        reasons.append("Indirectness: animal or laboratory data, not patients.")
    elif ref.condition_ids and not kb.conditions.within(claim.conditions, ref.condition_ids):
        level -= 1
        pop = ", ".join(kb.conditions.label(c) for c in ref.condition_ids)
        scope = ", ".join(kb.conditions.label(c) for c in claim.conditions)
        reasons.append(f"Indirectness: the source studied {pop}; the statement is about {scope}.")
    if claim.origin == "dossier" and claim.reported_in == "secondary":
        level -= 1
        reasons.append(
            "Reported only in a secondary page or summary, not in the study's own report."
        )
    verdict = (claim.primary or {}).get("verdict")
    if verdict == "not_supported_as_worded":
        level -= 1
        reasons.append("The primary source does not support the statement as worded.")
    elif verdict == "not_stated":
        level -= 1
        reasons.append("The primary source does not state this.")
    # The editorial board's marks (kb.editorial): a retraction leaves nothing to stand on, an
    # expression of concern costs one level.
    for mark in claim_reference_marks(kb, claim.id):
        if mark["status"] == "retracted":
            level = 1
            reasons.append(f"Rests on {mark['label']}, retracted: {mark['reason']}")
        else:
            level -= 1
            reasons.append(f"Rests on {mark['label']}, under an expression of concern.")
    return max(level, 1), cebm, reasons, ref.id, GRADES[start]


def grade_all(kb: KnowledgeBase) -> dict[str, Grade]:
    """Grade every claim of ``kb`` (see the module docstring for the rules)."""
    base = {cid: _base(kb, c) for cid, c in kb.claims.items()}
    source = {cid: b[3] for cid, b in base.items()}
    # Inconsistency: strongest base level on the *other* sides of each conflict.
    rival: dict[str, tuple[int, str]] = {}
    # The conflicts readers see: a conflict the board dismissed no longer lowers a grade, one an
    # editor added by hand does.
    for conflict in kb.active_conflicts().values():
        if conflict.is_context:  # indirect context (different populations) never lowers a grade
            continue
        # Per side, its two strongest claims resting on different sources; a conflict may have
        # hundreds of sides (one per estimate), so never compare every claim with every claim.
        summary: list[tuple[int, str, int]] = []
        for i, side in enumerate(conflict.sides):
            ranked = sorted(((base[c][0], c) for c in side.claims), reverse=True)
            first = ranked[0]
            summary.append((first[0], first[1], i))
            second = next((r for r in ranked if source[r[1]] != source[first[1]]), None)
            if second is not None:
                summary.append((second[0], second[1], i))
        summary.sort(reverse=True)
        for i, side in enumerate(conflict.sides):
            others = [(lvl, cid) for lvl, cid, j in summary if j != i]
            if not others:
                continue
            best = others[0]
            # A subgroup result never makes its own study's overall result inconsistent.
            alt = next((o for o in others if source[o[1]] != source[best[1]]), None)
            for cid in side.claims:
                own = source[cid]
                top = best if own is None or source[best[1]] != own else alt
                if top is None:
                    continue
                if top[0] >= base[cid][0] and top[0] > rival.get(cid, (0, ""))[0]:
                    rival[cid] = top
    grades: dict[str, Grade] = {}
    for cid, (level, cebm, reasons, ref_id, start) in base.items():
        reasons = list(reasons)
        if cid in rival and level > 0:
            other_level, other = rival[cid]
            other_ref = evidence_source(kb, kb.claims[other])
            label = other_ref.label if other_ref else other
            reasons.append(
                f"Inconsistency: contradicted by {label} (claim {other}), graded "
                f"{GRADES[other_level]}, at least as strong."
            )
            level = max(level - 1, 1)
        grades[cid] = Grade(GRADES[level], level, cebm, tuple(reasons), ref_id, start)
    return grades
