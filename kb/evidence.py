"""Evidence grade per claim: GRADE-style certainty and an Oxford CEBM 2011 level, computed.

Nothing here is typed into the data. What a claim *is* in its source (its statement role,
``kb.claims.ROLES``) decides how it is graded (``/work/shared/GRADE-NOTES.md``):

* **study-conduct** (design, schedule, enrolment) is not evidence about an effect: "Not
  graded", level 0, CEBM level 0 (not applicable), last in :data:`GRADE_ORDER`.
* **background** (asserted, not tested in the source) and **recommendation** (guideline or
  expert advice) are expert opinion — Very low, CEBM 5 — whatever the venue. A recommendation's
  strength (strong / weak) is data of its own and is shown beside the grade, not folded into it.
* **finding** and **conclusion** start from the design of the study they rest on and are rated
  down one level per problem, each with a sentence saying why:

  1. **Start** from the design of the *evidence source* — for a dossier claim the cited study;
     for a seed claim the primary study tracing found (``primary.ref``), but only where the
     statement was checked against it (a verdict other than ``not_assessed``); otherwise the
     page it cites. The design is the dossier's, unless the reference carries a correction
     (``custom.appraisal.design``, quoting the dossier note it rests on). Randomised trials and
     systematic reviews of them start High; observational designs (cohorts, non-randomised or
     fixed-order studies, uncontrolled trials, case series, chart reviews) Low; case reports,
     laboratory and animal work, guidance, reviews without systematic methods and secondary
     pages Very low.
  2. **Risk of bias (conduct)**: no comparison group (uncontrolled designs), or a concern the
     dossier notes (``custom.appraisal.risk_of_bias``: single-blind, fixed order, losses).
  3. **Risk of bias (reporting)**: a finding read on a news page or secondary summary rather
     than in the study's own report (``reported_in == "secondary"``; the reference's
     ``appraisal.secondary_reporting`` quotes the dossier note where there is one).
  4. **Indirectness**: animal or laboratory data; a claim about conditions outside the source's
     study population (corneal-pain or HIV-neuropathy evidence used for chronic pain); or a
     noted difference in intervention or comparator (``appraisal.indirectness``).
  5. **Publication bias**: the source itself reports it (``appraisal.publication_bias``) — for
     efficacy and response findings.
  6. **Verdict** (seed claims): the primary source does not support the statement as worded, or
     does not state it.
  6b. **Editorial marks** (:mod:`kb.editorial`): a reference the board marked retracted leaves
     Very low; an expression of concern costs one level.
  7. **Inconsistency**: the claim is on one side of an active conflict (computed or added by an
     editor, not dismissed by the board, and not mere indirect context) whose other side holds a
     graded claim about the same population, of equal or higher grade (compared on grades before this step, so claim order never
     matters; a study's subgroup never counts against its own overall result).

There is no per-study sample-size step: imprecision is judged on the whole body of evidence
(total participants against an optimal information size) in :mod:`kb.summary`. The floor is
Very low. ``Grade.body`` is the id of the body-of-evidence row the claim belongs to.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from .editorial import claim_reference_marks
from .errors import InvalidData

if TYPE_CHECKING:
    from .claims import Claim
    from .knowledgebase import KnowledgeBase
    from .references import Reference

NOT_GRADED = "Not graded"
GRADES = {4: "High", 3: "Moderate", 2: "Low", 1: "Very low", 0: NOT_GRADED}
# Study-conduct statements are "Not graded" (level 0), listed last: every consumer that ranks or
# filters by grade must place them after Very low.
GRADE_ORDER = ("High", "Moderate", "Low", "Very low", NOT_GRADED)

# design -> (starting certainty, CEBM 2011 level for treatment benefit, description)
DESIGNS: dict[str, tuple[int, int, str]] = {
    "systematic-review-meta-analysis": (4, 1, "systematic review with meta-analysis"),
    "systematic-review": (4, 1, "systematic review"),
    "randomized-controlled-trial": (4, 2, "randomised controlled trial"),
    "crossover-rct": (4, 2, "randomised crossover trial"),
    "pilot-rct": (4, 2, "pilot randomised trial"),
    "non-randomised-controlled": (2, 3, "non-randomised controlled study (fixed treatment order)"),
    "retrospective-cohort": (2, 3, "retrospective cohort"),
    "uncontrolled-trial": (2, 4, "uncontrolled trial (no placebo or comparison group)"),
    "medication-use-evaluation": (2, 4, "uncontrolled medication-use evaluation"),
    "case-series": (2, 4, "case series"),
    "case-report": (1, 4, "case report"),
    "guideline": (1, 5, "guideline or expert guidance (its underlying review is not held here)"),
    "narrative-review": (1, 5, "narrative review (expert opinion)"),
    "scoping-review": (1, 5, "scoping review (expert opinion)"),
    "secondary-summary": (1, 5, "secondary summary (expert opinion at best)"),
    "mechanistic/preclinical": (1, 5, "laboratory or animal study"),
}
# Designs with no comparison group: any change may be natural course, regression to the mean or
# a placebo response, so their findings are rated down for risk of bias.
UNCONTROLLED = frozenset(
    {"uncontrolled-trial", "medication-use-evaluation", "case-series", "case-report"}
)
OPINION_ROLES = frozenset({"background", "recommendation"})
# Kinds whose findings a source's own publication-bias analysis bears on.
EFFECT_KINDS = frozenset({"efficacy", "response_rate"})
APPRAISAL_LISTS = ("risk_of_bias", "indirectness", "inconsistency", "publication_bias")


class Grade(NamedTuple):
    """One claim's grade. A named tuple (immutable, like the frozen dataclass it was) because
    a start at 100k claims makes 100k of them: a tuple is made in a third of the time."""

    grade: str
    level: int
    cebm_level: int
    reasons: tuple[str, ...]
    basis_ref: str | None
    start: str
    inconsistency: tuple[str, ...] = ()
    body: str | None = None
    role: str | None = None  # the claim's statement role (kb.claims.ROLES), which set the rules

    @property
    def graded(self) -> bool:
        """False for study-conduct statements, which carry no certainty at all."""
        return self.level > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "grade": self.grade,
            "cebm_level": self.cebm_level,
            "reasons": list(self.reasons),
            "basis_ref": self.basis_ref,
            "body": self.body,
            "role": self.role,
        }


# Checked appraisals by reference object (records are never changed in place, so an object's
# appraisal never changes); bounded, as knowledge bases are reloaded.
_CHECKED: dict[int, tuple[Reference, dict[str, Any]]] = {}
_CHECKED_MAX = 4096


def appraisal(ref: Reference) -> dict[str, Any]:
    """The reference's ``custom.appraisal`` (design and reporting corrections), checked.

    Raises :class:`InvalidData` naming the record and field when it is malformed.
    """
    hit = _CHECKED.get(id(ref))
    if hit is not None and hit[0] is ref:
        return hit[1]
    ap = _checked_appraisal(ref)
    if len(_CHECKED) >= _CHECKED_MAX:
        _CHECKED.clear()
    _CHECKED[id(ref)] = (ref, ap)
    return ap


def _checked_appraisal(ref: Reference) -> dict[str, Any]:
    ap = ref.custom.get("appraisal") or {}

    def bad(fld: str, msg: str) -> InvalidData:
        return InvalidData("references.json", msg, record=ref.id, field=f"custom.appraisal.{fld}")

    if not isinstance(ap, dict):
        raise InvalidData(
            "references.json", "must be an object", record=ref.id, field="custom.appraisal"
        )
    design = ap.get("design")
    if design is not None and design not in DESIGNS:
        raise bad("design", f"unknown design {design!r}; one of {', '.join(DESIGNS)}")
    comparators = ap.get("comparators", {})
    if not isinstance(comparators, dict) or not all(
        isinstance(v, str) and v for v in comparators.values()
    ):
        raise bad("comparators", "must map claim ids to the comparator's name")
    for key in APPRAISAL_LISTS:
        value = ap.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise bad(key, "must be a list of non-empty strings")
    for i, entry in enumerate(ap.get("secondary_reporting", [])):
        if not isinstance(entry, dict) or not isinstance(entry.get("claims"), list):
            raise bad(f"secondary_reporting.{i}", "must be an object with a list of claims")
    return ap


def bias_concerns(ref: Reference) -> list[str]:
    """Risk-of-bias concerns in how a study was run: the dossier's noted ones, else "no
    comparison group" for an uncontrolled design."""
    noted = list(appraisal(ref).get("risk_of_bias", []))
    return noted or (["no comparison group"] if design_of(ref) in UNCONTROLLED else [])


def design_of(ref: Reference) -> str:
    """The design a reference is graded as: the dossier's, or its appraisal's correction."""
    return str(appraisal(ref).get("design") or ref.design)


def evidence_source(kb: KnowledgeBase, claim: Claim) -> Reference | None:
    """The reference a claim's certainty rests on.

    A seed claim rests on the primary study tracing found, where its statement was checked
    against it; otherwise (not assessed, or nothing traced) on the page it cites, not on
    whatever else that page traces to. Other claims rest on what they cite, or on the primary
    study a cited secondary summary traces to.
    """
    primary = claim.primary
    if primary is not None:
        if primary.get("ref") and primary.get("verdict") != "not_assessed":
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


def _join(items: list[str]) -> str:
    return "; ".join(items)


def indirectness(kb: KnowledgeBase, claim: Claim, ref: Reference, design: str) -> list[str]:
    """Why ``claim`` is indirect evidence from ``ref`` (graded as ``design``), if it is."""
    out = []
    if design == "mechanistic/preclinical":
        out.append("animal or laboratory data, not patients")
    elif ref.condition_ids and not kb.conditions.within(claim.conditions, ref.condition_ids):
        pop = ", ".join(kb.conditions.label(c) for c in ref.condition_ids)
        scope = ", ".join(kb.conditions.label(c) for c in claim.conditions)
        out.append(f"the source studied {pop}; the statement is about {scope}")
    out += [i for i in appraisal(ref).get("indirectness", []) if i not in out]
    return out


def _secondary_note(claim: Claim, ref: Reference) -> str:
    for entry in appraisal(ref).get("secondary_reporting", []):
        if claim.id in entry["claims"]:
            where = entry.get("read_at", "a secondary page")
            quote = entry.get("dossier_note")
            return f" It was read on {where}" + (f" (dossier: “{quote}”)." if quote else ".")
    return ""


def _verdict(claim: Claim) -> str | None:
    verdict = (claim.primary or {}).get("verdict")
    if verdict == "not_supported_as_worded":
        return "The primary source does not support the statement as worded."
    if verdict == "not_stated":
        return "The primary source does not state this."
    return None


def _marks(kb: KnowledgeBase, claim: Claim, level: int, reasons: list[str]) -> int:
    """The editorial board's marks (kb.editorial): a retraction leaves nothing to stand on, an
    expression of concern costs one level."""
    for mark in claim_reference_marks(kb, claim.id):
        if mark["status"] == "retracted":
            level = 1
            reasons.append(f"Rests on {mark['label']}, retracted: {mark['reason']}")
        else:
            level -= 1
            reasons.append(f"Rests on {mark['label']}, under an expression of concern.")
    return level


def _start_reason(claim: Claim, ref: Reference, design: str, start: int) -> str:
    desc = DESIGNS[design][2]
    text = f"Starts {GRADES[start]}: rests on {ref.label}, {_article(desc)} {desc}."
    primary = claim.primary or {}
    if primary.get("ref") and primary.get("verdict") == "not_assessed":
        text += (
            " No primary source was checked against this statement (not assessed), so it rests"
            " on the page it cites."
        )
    ap = appraisal(ref)
    if ap.get("design") and ap["design"] != ref.design:
        filed = DESIGNS.get(ref.design, (0, 0, ref.design))[2]
        text += f" Corrected from {filed}: {ap.get('why', '')}".rstrip()
        if ap.get("dossier_note"):
            text = text.rstrip(".") + f" (dossier note: “{ap['dossier_note']}”)"
        text = text.rstrip(".") + "."
    return text


def _base(kb: KnowledgeBase, claim: Claim) -> tuple[int, int, list[str], str | None, str]:
    """(level, CEBM level, reasons, evidence-source id, starting grade) before inconsistency."""
    ref = evidence_source(kb, claim)
    role = claim.role or "finding"
    if role == "study-conduct":
        reason = (
            "Not graded: the statement describes how the study was run (design, schedule,"
            " enrolment or follow-up), not an effect of treatment."
        )
        shown = [reason]
        _marks(kb, claim, 0, shown)  # a retraction is shown even where nothing is graded
        return 0, 0, shown, ref.id if ref else None, NOT_GRADED
    if ref is None:
        reason = (
            "No citation: the statement rests on no identified source (expert opinion at best)."
        )
        return 1, 5, [reason], None, GRADES[1]
    design = design_of(ref)
    if design not in DESIGNS:
        design = "secondary-summary"
    reasons: list[str] = []
    if role in OPINION_ROLES:
        what = (
            "background asserted but not tested there"
            if role == "background"
            else "a recommendation (guideline or expert advice)"
        )
        text = (
            f"Starts Very low: expert opinion — {what}, in {ref.label}; background statements"
            " and advice count as expert opinion (CEBM 5) whatever the venue."
        )
        rec = claim.recommendation or {}
        if role == "recommendation" and rec.get("strength") not in (None, "unrated"):
            text += f" Its strength as stated ({rec['strength']}) is shown separately."
        reasons.append(text)
        # Not a further step down (the floor is reached), but a reader must see it.
        for item in indirectness(kb, claim, ref, design)[:1]:
            reasons.append(f"Indirectness: {item}.")
        if v := _verdict(claim):
            reasons.append(v)
        _marks(kb, claim, 1, reasons)
        return 1, 5, reasons, ref.id, GRADES[1]

    start, cebm, _ = DESIGNS[design]
    level = start
    reasons.append(_start_reason(claim, ref, design, start))
    ap = appraisal(ref)
    bias = bias_concerns(ref)
    if bias:
        level -= 1
        reasons.append(f"Risk of bias: {_join(bias)}.")
    if claim.origin != "seed" and claim.reported_in == "secondary":
        level -= 1
        reasons.append(
            "Risk of bias (reporting): read only on a secondary page or summary, not in the"
            " study's own report." + _secondary_note(claim, ref)
        )
    indirect = indirectness(kb, claim, ref, design)
    if indirect:
        level -= 1
        reasons.append(f"Indirectness: {_join(indirect)}.")
    if ap.get("publication_bias") and claim.kind in EFFECT_KINDS:
        level -= 1
        reasons.append(f"Publication bias: {_join(ap['publication_bias'])}.")
    if v := _verdict(claim):
        level -= 1
        reasons.append(v)
    level = _marks(kb, claim, level, reasons)
    return max(level, 1), cebm, reasons, ref.id, GRADES[start]


def grade_all(kb: KnowledgeBase) -> dict[str, Grade]:
    """Grade every claim of ``kb`` (see the module docstring for the rules)."""
    base = {cid: _base(kb, c) for cid, c in kb.claims.items()}
    # The conflicts readers see: a conflict the board dismissed no longer lowers a grade, one an
    # editor added by hand does.
    rival = _rivals(kb, kb.active_conflicts().values(), base, None)
    from .summary import body_keys, claim_keys

    bodies, keys = body_keys(kb), claim_keys(kb)

    def body(cid: str, level: int) -> str | None:
        key = keys[cid] if level > 0 else None
        return key if key in bodies else None

    return keep_bases(_grades(kb, base, rival, body), base)


class Grades(dict[str, Grade]):
    """Grades by claim id, with each claim's grade before the inconsistency step
    (``bases``: level, CEBM level, reasons, basis reference, start) — what :func:`regrade`
    builds on."""

    bases: dict[str, Any] | None = None
    # builds ``bases`` when first needed (a snapshot defers decoding them to the first edit)
    bases_from: Callable[[], dict[str, Any]] | None = None


def keep_bases(
    grades: dict[str, Grade], base: dict[str, Any] | Callable[[], dict[str, Any]]
) -> Grades:
    """``grades`` as :class:`Grades` remembering ``base`` (or how to build it on first use)."""
    out = grades if isinstance(grades, Grades) else Grades(grades)
    if callable(base):
        out.bases, out.bases_from = None, base
    else:
        out.bases, out.bases_from = base, None
    return out


def drop_bases(grades: dict[str, Grade]) -> None:
    """Forget what ``grades`` was re-graded from (superseded grades: memory after edits)."""
    if isinstance(grades, Grades):
        grades.bases = grades.bases_from = None


def bases_of(grades: dict[str, Grade]) -> dict[str, Any] | None:
    if not isinstance(grades, Grades):
        return None
    build = grades.bases_from  # read once: another thread may be building them too
    if grades.bases is None and build is not None:
        grades.bases = build()
        grades.bases_from = None
    return grades.bases


def regrade(
    kb: KnowledgeBase, old: dict[str, Grade], claim_ids: Iterable[str]
) -> tuple[dict[str, Grade], list[str]]:
    """The grades after an edit that can only change ``claim_ids``' own grading (a verdict)
    or whether the conflicts holding them lower grades (a board decision, a hand-added
    conflict): those claims and every claim sharing an active conflict with them are graded
    again, the others kept from ``old``. Returns the new grades and the ids whose grade
    changed. Gives the same grades as :func:`grade_all` (a test checks it)."""
    held = bases_of(old)
    if held is None:  # nothing to build on: grade everything
        new = grade_all(kb)
        return new, [cid for cid, g in new.items() if old.get(cid) != g]
    base = dict(held)
    changed_here = [cid for cid in dict.fromkeys(claim_ids) if cid in kb.claims]
    for cid in changed_here:
        base[cid] = _base(kb, kb.claims[cid])
    active = kb.active_conflicts()
    affected = set(changed_here)
    for cid in changed_here:
        for cf_id in kb.active_conflict_ids(cid):
            affected.update(active[cf_id].claim_ids())
    involved = {cf_id for cid in affected for cf_id in kb.active_conflict_ids(cid)}
    rival = _rivals(kb, (active[cf_id] for cf_id in involved), base, affected)

    # A verdict or a board decision never moves a claim to another body of evidence (its
    # intervention, scope, outcome and role stay), so each keeps its body; this also spares
    # recomputing every claim's body key at every edit.
    def kept_body(cid: str, level: int) -> str | None:
        before = old.get(cid)
        return before.body if before is not None and level > 0 else None

    fresh = _grades(kb, {cid: base[cid] for cid in affected if cid in base}, rival, kept_body)
    grades = Grades(old)
    changed: list[str] = []
    for cid, g in fresh.items():
        if grades.get(cid) != g:
            grades[cid] = g
            changed.append(cid)
    return keep_bases(grades, base), changed


def _rivals(
    kb: KnowledgeBase, conflicts: Iterable[Any], base: dict[str, Any], only: set[str] | None
) -> dict[str, tuple[int, str]]:
    """Inconsistency: per claim (of ``only``, or all), the strongest base level on the other
    sides of the active conflicts it is in."""
    # Every graded claim takes part in inconsistency; study-conduct statements never do.
    rival: dict[str, tuple[int, str]] = {}
    for conflict in conflicts:
        if conflict.is_context:  # indirect context (different populations) never lowers a grade
            continue
        # Per side, its strongest claims per population and source; a conflict may have hundreds of
        # sides (one per estimate), so never compare every claim with every claim.
        summary: list[tuple[int, str, int]] = []
        for i, side in enumerate(conflict.sides):
            ranked = sorted(((base[c][0], c) for c in side.claims if base[c][0] > 0), reverse=True)
            if not ranked:
                continue
            kept: set[tuple[str | None, tuple[str, ...]]] = set()
            for lvl, c in ranked:
                pair = (base[c][3], tuple(kb.claims[c].conditions))
                if pair not in kept and len(kept) < 4:
                    kept.add(pair)
                    summary.append((lvl, c, i))
        summary.sort(reverse=True)
        for i, side in enumerate(conflict.sides):
            others = [(lvl, cid) for lvl, cid, j in summary if j != i]
            if not others:
                continue
            for cid in side.claims:
                if base[cid][0] <= 0 or (only is not None and cid not in only):
                    continue
                own, scope = base[cid][3], kb.claims[cid].conditions
                # Not the same study (a subgroup never counts against its own overall result),
                # and the same population: a condition-specific study against a mixed-condition
                # review is indirect context, never inconsistency.
                top = next(
                    (
                        o
                        for o in others
                        if (own is None or base[o[1]][3] != own)
                        and kb.conditions.relation(scope, kb.claims[o[1]].conditions) == "same"
                    ),
                    None,
                )
                if top is None:
                    continue
                if top[0] >= base[cid][0] and top[0] > rival.get(cid, (0, ""))[0]:
                    rival[cid] = top
    return rival


def _grades(
    kb: KnowledgeBase,
    todo: dict[str, Any],
    rival: dict[str, tuple[int, str]],
    body: Callable[[str, int], str | None],
) -> dict[str, Grade]:
    """Final grades of the claims of ``todo`` (claim id -> base), inconsistency applied;
    ``body(claim id, level)`` names the body of evidence a claim belongs to."""
    grades: dict[str, Grade] = {}
    for cid, (level, cebm, reasons, ref_id, start) in todo.items():
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
        grades[cid] = Grade(
            GRADES[level],
            level,
            cebm,
            tuple(reasons),
            ref_id,
            start,
            body=body(cid, level),
            role=kb.claims[cid].role,
        )
    return grades
