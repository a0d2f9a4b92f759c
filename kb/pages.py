"""The one JSON document each reader-facing surface shows, built from the library.

The web app renders these dicts as HTML pages and returns them unchanged from its ``/api/``
twins, so both always agree. Nothing here knows about HTTP or HTML: links are ids, and text
that carries glossary terms comes as segments (see :mod:`kb.glossary`).
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from . import answer, dashboard, evidence, glossary, pictures
from . import summary as summary_mod
from .articles import REVIEW_STATUSES, STATUS_LABELS
from .claims import KINDS, ROLES, VERDICT_LABELS
from .contested import TYPE_LABELS, conflict_view
from .errors import InvalidQuery
from .related import related
from .shapes import claim_json
from .trace import dependents, ref_summary, trace

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

AUDIENCES: dict[str, str] = {"clinician": "Clinician", "patient": "Patient or carer"}
MAX_DEPENDENT_CLAIMS = 200
# Summary-of-findings rows on an article page; the rest are counted and linked (/summary).
# At 100k claims a treatment has thousands of bodies of evidence: megabytes per page.
ARTICLE_SOF_ROWS = 40
# Conflicts an article page shows in full (with both sides); the rest are listed by title with
# a link to /contested. Large knowledge bases put hundreds against one article.
ARTICLE_CONFLICTS = 20
ARTICLE_CONFLICTS_PER_STATEMENT = 3  # cards under one statement; the rest are linked
FLAGGED_VERDICTS = ("not_supported_as_worded", "not_stated")
EXAMPLE_SEARCHES = ("CRPS response", "vivid dreams", "maximum dose 4.5 mg", "fibromyalgia pain")
# -- caveats shown where a statement is read (issue 9 item 6) -----------------------------------
# How each primary-source verdict is announced, for clinicians and in plain words for patients;
# ``level`` picks the box's colour: ok (checked, says it), nuance (says it, with limits), warn
# (does not say it as worded), unchecked (nobody checked a primary source).
VERDICT_BOXES: dict[str, dict[str, str]] = {
    "supported": {
        "level": "ok",
        "clinician": "Checked against the primary source: supported",
        "patient": "Checked against the original study: the study says this",
    },
    "supported_with_nuance": {
        "level": "nuance",
        "clinician": "Checked against the primary source: supported, with nuance",
        "patient": "Checked against the original study: the study says this, with limits",
    },
    "not_supported_as_worded": {
        "level": "warn",
        "clinician": "Checked against the primary source: not supported as worded",
        "patient": "Checked against the original study: the study does not say this as written",
    },
    "not_stated": {
        "level": "warn",
        "clinician": "Checked against the primary source: not stated there",
        "patient": "Checked against the original study: the study does not say this",
    },
    "not_assessed": {
        "level": "unchecked",
        "clinician": "Not assessed: no primary source was checked for this statement",
        "patient": "Not checked: nobody has compared this with an original study yet",
    },
}
INDIRECT_LABEL = {
    "clinician": "Indirect evidence",
    "patient": "Based on other patients",
}
CONTESTED_LABEL = {
    "clinician": "Contested",
    "patient": "Experts disagree",
}
# What the boxes mean, in plain words (the patient view explains each once, near the top).
PATIENT_BOX_HELP: tuple[dict[str, str], ...] = (
    {
        "term": "Checked against the original study",
        "text": "Someone read the study the statement comes from and compared the two. "
        "The box says if the study really says the same thing.",
    },
    {
        "term": "Not checked",
        "text": "Nobody has compared this statement with an original study yet. "
        "Treat it with care.",
    },
    {
        "term": "Experts disagree",
        "text": "Other studies or guides found something different. "
        "The page shows both sides so you can ask your doctor about them.",
    },
    {
        "term": "Based on other patients",
        "text": "The study behind this statement looked at a different group of people, "
        "so it may not apply in the same way.",
    },
)
# A conflict's title and one-line explanation for patients, per conflict type ({drug}: the
# intervention, {what}: the outcome, {where}: " for <condition>"). Every type has one.
PATIENT_CONFLICTS: dict[str, tuple[str, str]] = {
    "safety_contradiction": (
        "Can {drug} be taken with other medicines? Sources disagree",
        "Some sources say it is fine with other medicines. Others say to take care.",
    ),
    "harm_comparison": (
        "Side effects of {drug}: studies disagree",
        "Studies that compared the same things found different side effects.",
    ),
    "incompatible_values": (
        "How much {drug} to take: sources give different amounts",
        "Sources name different doses or times to take it.",
    ),
    "demonstrated_efficacy": (
        "Have studies shown that {drug} works? Sources disagree",
        "Some sources say tests have shown it works. Some careful tests found it did not.",
    ),
    "opposite_direction": (
        "Does {drug} help with {what}{where}? Studies disagree",
        "Some studies found it helped. Others found it did not.",
    ),
    "treatment_line": (
        "When to try {drug}{where}: sources disagree",
        "Sources say to try it at different steps of care.",
    ),
    "recommendation_strength": (
        "Should {drug} be used{where}? Experts disagree",
        "Some expert groups suggest it. Others do not.",
    ),
    "divergent_estimates": (
        "{What} with {drug}: sources give different numbers",
        "Sources found quite different numbers. They looked at different groups of people.",
    ),
    "indirect_context": (
        "Does {drug} help with {what}? Results differ between groups of patients",
        "Studies of this illness and studies of a wider mix of people found different things.",
    ),
}


# Outcomes whose summary noun (kb.summary.OUTCOMES) is a clinician's word.
PATIENT_OUTCOME_WORDS: dict[str, str] = {
    "adverse-effect-rate": "side effects",
    "serious-adverse-events": "serious side effects",
    "adverse-effect-profile": "kinds of side effects",
}


def _patient_conflict(kb: KnowledgeBase, cf: dict[str, Any]) -> dict[str, Any]:
    """A conflict card in plain words: a plain title and line, each claim's plain text."""
    title, line = PATIENT_CONFLICTS.get(cf["type"], ("{drug}: sources disagree", ""))
    what = str(cf.get("outcome") or "").replace("-", " ")
    if cf.get("outcome") in summary_mod.OUTCOMES:
        what = summary_mod.OUTCOMES[cf["outcome"]].noun
    what = PATIENT_OUTCOME_WORDS.get(str(cf.get("outcome")), what)
    cond = str(cf.get("condition_label") or "").lower()
    where = f" for people with {cond}" if cond else ""
    fields = {"drug": cf["intervention"], "what": what, "What": what[:1].upper() + what[1:]}
    cf["title"] = title.format(where=where, **fields)
    cf["explanation"] = line or cf["explanation"]
    for side in cf["sides"]:
        for c in side["claims"]:
            c["text"] = kb.claims[c["id"]].plain_text or c["text"]
    return cf


# What a patient must see first: interactions, precautions, side effects (in that order).
SAFETY_KINDS: tuple[str, ...] = tuple(
    k for k in ("contraindication", "precaution", "adverse_effect") if k in KINDS
)
SAFETY_OUTCOMES: tuple[str, ...] = ("drug-interactions",)
PATIENT_DISCLAIMER = (
    "This page explains what studies say about a medicine. It is not medical advice. "
    "Do not start, stop or change a medicine on your own. Talk to your doctor or "
    "pharmacist first."
)
EXAMPLE_QUESTIONS = (
    "What dose of low-dose naltrexone is used for fibromyalgia?",
    "How common are side effects of LDN?",
    "Does LDN work for chronic pain?",
)


def review_steps(status: str) -> list[dict[str, str]]:
    """The review stepper: each status with ``done``, ``current`` or ``todo``."""
    here = REVIEW_STATUSES.index(status)
    return [
        {
            "status": s,
            "label": STATUS_LABELS[s],
            "state": "done" if i < here else "current" if i == here else "todo",
        }
        for i, s in enumerate(REVIEW_STATUSES)
    ]


def home(kb: KnowledgeBase) -> dict[str, Any]:
    """The front page: articles, headline counts and the number of contested items."""
    articles = []
    for art in kb.articles.values():
        ids = art.claim_ids()
        articles.append(
            {
                "id": art.id,
                "title": art.title,
                "question": art.question,
                "review_status": art.review_status,
                "review_label": STATUS_LABELS[art.review_status],
                "last_updated": art.last_updated,
                "statements": len(ids),
                "contested": sum(1 for c in ids if kb.active_conflict_ids(c)),
            }
        )
    active = len(kb.active_conflicts())
    return {
        "articles": articles,
        "counts": {
            "claims": len(kb.claims),
            "references": len(kb.references),
            "articles": len(kb.articles),
            "conflicts": active,
        },
        "contested_count": active,
        "example_searches": list(EXAMPLE_SEARCHES),
        "example_questions": list(EXAMPLE_QUESTIONS),
    }


def _lower(label: str) -> str:
    """``Chronic pain`` -> ``chronic pain``; abbreviations (``CRPS``) stay as they are."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _indirectness(kb: KnowledgeBase, claim_id: str, audience: str) -> str | None:
    """Why the evidence behind a statement is indirect, in a sentence, or None."""
    claim = kb.claim(claim_id)
    ref = evidence.evidence_source(kb, claim)
    if ref is None:
        return None
    if ref.design == "mechanistic/preclinical":
        if audience == "patient":
            return f"This comes from studies in animals or in the lab ({ref.label}), not in people."
        return f"Rests on animal or laboratory data ({ref.label}), not on patients."
    if not ref.condition_ids or kb.conditions.within(claim.conditions, ref.condition_ids):
        return None
    pop = ", ".join(kb.conditions.label(c) for c in ref.condition_ids)
    scope = ", ".join(kb.conditions.label(c) for c in claim.conditions)
    if audience == "patient":
        return (
            f"This comes from a source about people with {_lower(pop)} ({ref.label}). "
            f"It may not apply in the same way to {_lower(scope)}."
        )
    return f"Rests on {ref.label}, which is about {_lower(pop)}; the statement is about {_lower(scope)}."


def caveats(
    kb: KnowledgeBase, claim_id: str, *, audience: str = "clinician"
) -> list[dict[str, Any]]:
    """Every caveat a reader must see next to a statement, in the order to show them.

    Each is ``{"kind": "verdict" | "indirect", "level", "label", "text", "details"}``: the
    primary-source verdict (every verdict, with its note; ``not_assessed`` says no primary source was checked)
    and indirectness (the source studied another population, or animals). ``level`` is
    ``ok``, ``nuance``, ``warn`` or ``unchecked``. For patients the labels are in plain words
    and a verdict's note (written for professionals) moves from ``text`` to ``details``.
    """
    out: list[dict[str, Any]] = []
    primary = kb.claim(claim_id).primary
    if primary is not None:
        box = VERDICT_BOXES[primary["verdict"]]
        ref = kb.references[primary["ref"]] if primary.get("ref") else None
        label = box[audience]
        if ref is not None and primary["verdict"] != "not_assessed":
            label += f" ({ref.label})"
        # Patients get the box in plain words; the note (written for professionals) one
        # click away.
        out.append(
            {
                "kind": "verdict",
                "verdict": primary["verdict"],
                "level": box["level"],
                "label": label,
                "text": None if audience == "patient" else primary["note"],
                "details": primary["note"] if audience == "patient" else None,
            }
        )
    indirect = _indirectness(kb, claim_id, audience)
    if indirect:
        out.append(
            {
                "kind": "indirect",
                "level": "nuance",
                "label": INDIRECT_LABEL[audience],
                "text": indirect,
                "details": None,
            }
        )
    return out


def _statement(kb: KnowledgeBase, claim_id: str, audience: str, seen: set[str]) -> dict[str, Any]:
    data = claim_json(kb, claim_id)
    text = data["text"]
    if audience == "patient":
        text = data["plain_text"] or text
        segments = glossary.default().annotate(text, seen=seen)
    else:
        segments = [{"text": text, "term": None}]
    verdict = data["primary_verdict"]
    flagged = verdict if verdict and verdict["verdict"] in FLAGGED_VERDICTS else None
    hedge = None
    if audience == "patient":
        # Patients never get a statement the checks or the board reject as plain fact.
        claim = kb.claim(claim_id)
        v = verdict["verdict"] if verdict else None
        if data["editorial"]["contested_by_board"]:
            hedge = "Questioned by our editors. One source says:"
        elif v == "not_supported_as_worded":
            hedge = "Not backed by the original study as written. One source says:"
        elif flagged:
            hedge = "Not shown by the original study. One source says:"
        elif v == "not_assessed":
            hedge = "Not checked yet. One source says:"
        elif v == "supported_with_nuance" and (
            claim.kind in SAFETY_KINDS or claim.outcome in SAFETY_OUTCOMES
        ):
            hedge = "Only part of the story. One source says:"
    data.update(
        display_text=text,
        segments=segments,
        contested=bool(data["conflicts"]),
        contested_label=CONTESTED_LABEL[audience],
        flagged_verdict=flagged,
        caveats=caveats(kb, claim_id, audience=audience),
        hedge=hedge,
    )
    return data


def article(kb: KnowledgeBase, article_id: str, *, audience: str = "clinician") -> dict[str, Any]:
    """An answer article as a reader sees it, for ``audience`` ``clinician`` or ``patient``.

    Statements come in the article's order, each with its citations (by number), grade,
    primary-source verdict (``flagged_verdict`` when not supported as worded or not stated),
    the ids of the active conflicts it is in and the editorial board's open flags;
    ``conflicts`` holds those conflicts in full; ``board`` is the board's panel
    (:func:`kb.dashboard.board_article`). The patient view shows each claim's plain-language
    text and the glossary terms it uses.
    """
    if audience not in AUDIENCES:
        raise InvalidQuery(
            f"unknown audience {audience!r}; expected one of " + ", ".join(AUDIENCES)
        )
    art = kb.article(article_id)
    intervention, condition = article_topic(kb, article_id)
    seen: set[str] = set()
    safety_ids = safety_first(kb, article_id, intervention) if audience == "patient" else []
    safety = [
        {**_statement(kb, cid, audience, seen), "in_bottom_line": None, "in_safety": False}
        for cid in safety_ids
    ]
    in_safety = frozenset(safety_ids)
    bottom_line = [
        {**_statement(kb, cid, audience, seen), "in_bottom_line": None, "in_safety": False}
        for cid in art.bottom_line
    ]
    in_bottom_line = {cid: i for i, cid in enumerate(art.bottom_line, start=1)}

    def section(sec: dict[str, Any], level: int) -> dict[str, Any]:
        statements = []
        for cid in sec.get("claims", []):
            st = _statement(kb, cid, audience, seen)
            # Shown once, in the bottom line; the page points there instead of repeating it.
            st["in_bottom_line"] = in_bottom_line.get(cid)
            # For a patient the safety statements come first; their sections point there.
            st["in_safety"] = cid in in_safety
            statements.append(st)
        return {
            "heading": sec["heading"],
            "level": level,
            "statements": statements,
            "subsections": [section(s, level + 1) for s in sec.get("subsections", [])],
        }

    sections = [section(s, 2) for s in art.sections]
    conflict_ids = dict.fromkeys(
        cf for cid in art.claim_ids() for cf in kb.active_conflict_ids(cid)
    )
    references = []
    for item in art.reference_list:
        ref = kb.references[item["ref"]]
        references.append(
            {
                "number": item["number"],
                **ref_summary(ref),
                "citation": ref.citation(),
                "in_original_list": True,
                "resolution": None,
            }
        )
    for res in art.citation_resolutions:
        ref = kb.references[res["ref"]]
        references.append(
            {
                "number": res["number"],
                **ref_summary(ref),
                "citation": ref.citation(),
                "in_original_list": False,
                "resolution": {
                    "confidence": res["confidence"],
                    "status": res["status"],
                    "note": res.get("note"),
                },
            }
        )
    references.sort(key=lambda r: r["number"])
    in_full = frozenset(list(conflict_ids)[:ARTICLE_CONFLICTS])
    for st in [*safety, *_all_statements(bottom_line, sections)]:
        st["conflicts_inline"] = [c for c in st["conflicts"] if c in in_full][
            :ARTICLE_CONFLICTS_PER_STATEMENT
        ]
    claims = art.claim_ids()
    claim_set = frozenset(claims)
    # Each statement counted once, however many places the article shows it.
    shown = {st["id"]: st for st in _all_statements(bottom_line, sections)}
    texts = [st["display_text"] for st in shown.values()]
    verdict_counts: dict[str, int] = {}
    for st in shown.values():
        if st["primary_verdict"]:
            v = st["primary_verdict"]["verdict"]
            verdict_counts[v] = verdict_counts.get(v, 0) + 1
    return {
        "id": art.id,
        "title": art.title,
        "question": art.question,
        "audience": audience,
        "audiences": [{"value": k, "label": v} for k, v in AUDIENCES.items()],
        "review": {
            "status": art.review_status,
            "label": STATUS_LABELS[art.review_status],
            "pending": art.review_status != "approved",
            "steps": review_steps(art.review_status),
            "approval": dashboard.approval_view(kb, article_id),
            "reference_marks": dashboard.article_reference_marks(kb, article_id),
        },
        "last_updated": art.last_updated,
        "disclaimer": PATIENT_DISCLAIMER if audience == "patient" else art.record.get("disclaimer"),
        "box_help": list(PATIENT_BOX_HELP) if audience == "patient" else [],
        "source": ref_summary(kb.references[art.source_ref]) if art.source_ref else None,
        "safety": safety,
        "bottom_line": bottom_line,
        "sections": sections,
        "references": references,
        "conflicts": [
            _patient_conflict(kb, view) if audience == "patient" else view
            for view in (
                conflict_view(kb, cf, keep=claim_set)
                for cf in list(conflict_ids)[:ARTICLE_CONFLICTS]
            )
        ],
        "conflicts_more": [
            {"id": cf, "title": _conflict_title(kb, cf)}
            for cf in list(conflict_ids)[ARTICLE_CONFLICTS:]
        ],
        "glossary": (
            [t.to_dict() for t in glossary.default().terms_in(texts)]
            if audience == "patient"
            else []
        ),
        "counts": {
            "statements": len(claims),
            "contested": sum(1 for c in claims if kb.active_conflict_ids(c)),
            "conflicts": len(conflict_ids),
            "not_supported": sum(verdict_counts.get(v, 0) for v in FLAGGED_VERDICTS),
            "verdicts": [
                {"verdict": v, "label": VERDICT_LABELS[v], "count": verdict_counts[v]}
                for v in VERDICT_BOXES
                if verdict_counts.get(v)
            ],
            "indirect": sum(
                1 for st in shown.values() if any(c["kind"] == "indirect" for c in st["caveats"])
            ),
            "flagged_by_board": sum(
                1 for st in shown.values() if st["editorial"]["contested_by_board"]
            ),
        },
        "board": dashboard.board_article(kb, article_id),
        "topic": {
            "intervention": intervention,
            "condition": condition,
            "condition_label": kb.conditions.label(condition) if condition else None,
        },
        **_article_sof(kb, intervention),
        "pictures": {
            "evidence_map": pictures.evidence_map(
                kb, condition=condition, intervention=intervention
            ),
            "forest": pictures.forest_plot(kb, condition=condition, intervention=intervention),
        },
    }


def safety_first(kb: KnowledgeBase, article_id: str, intervention: str) -> list[str]:
    """What a patient reads first: the article's statements on interactions, precautions and
    side effects, the claims that disagree with them (active conflicts), and every
    contraindication or precaution the knowledge base holds for ``intervention``. Ordered
    interactions, precautions, side effects; the article's own statements first in each."""
    art_ids = kb.article(article_id).claim_ids()

    def is_safety(cid: str) -> bool:
        c = kb.claim(cid)
        return c.kind in SAFETY_KINDS or c.outcome in SAFETY_OUTCOMES

    picked = [cid for cid in art_ids if is_safety(cid)]
    for cid in list(picked):
        for cf in kb.active_conflict_ids(cid):
            picked += [x for side in kb.conflict(cf).sides for x in side.claims if is_safety(x)]
    picked += [
        c.id
        for c in kb.claims.values()
        if c.intervention == intervention and c.kind in SAFETY_KINDS and c.kind != "adverse_effect"
    ]

    def rank(cid: str) -> tuple[int, int]:
        c = kb.claim(cid)
        if c.outcome in SAFETY_OUTCOMES:
            group = 0
        else:
            group = 1 + SAFETY_KINDS.index(c.kind) if c.kind in SAFETY_KINDS else 9
        return group, 0 if cid in art_ids else 1

    return sorted(dict.fromkeys(picked), key=rank)


def article_topic(kb: KnowledgeBase, article_id: str) -> tuple[str, str | None]:
    """An article's main intervention (the most common among its claims) and its broadest
    condition (the one whose sub-conditions cover the most of its claims' conditions)."""
    claims = [kb.claim(cid) for cid in kb.article(article_id).claim_ids()]
    intervention = Counter(c.intervention for c in claims).most_common(1)[0][0]
    conditions = {cond for c in claims if c.intervention == intervention for cond in c.conditions}
    broadest = max(
        sorted(conditions),
        key=lambda cid: len(({cid} | kb.conditions.descendants(cid)) & conditions),
        default=None,
    )
    return intervention, broadest


def _conflict_title(kb: KnowledgeBase, conflict_id: str) -> str:
    conflict = kb.conflict(conflict_id)
    return conflict.title or conflict.topic


def _article_sof(kb: KnowledgeBase, intervention: str) -> dict[str, Any]:
    """The article's summary-of-findings rows, the first :data:`ARTICLE_SOF_ROWS` in the
    summary's order (conditions as listed, outcomes as ranked), and how many are not shown.
    Only the rows shown are copied (a large knowledge base has thousands)."""
    rows = summary_mod.summary(kb, intervention=intervention)
    return {
        "summary_of_findings": [dict(row) for row in rows[:ARTICLE_SOF_ROWS]],
        "summary_not_shown": max(len(rows) - ARTICLE_SOF_ROWS, 0),
    }


def _all_statements(
    bottom_line: list[dict[str, Any]], sections: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    out = list(bottom_line)
    stack = list(reversed(sections))
    while stack:
        sec = stack.pop()
        out.extend(sec["statements"])
        stack.extend(reversed(sec["subsections"]))
    return out


def claim(kb: KnowledgeBase, claim_id: str) -> dict[str, Any]:
    """One claim: its value and grade, its trace to the primary study, what contradicts it
    (active conflicts), what is related to it, and the editorial board's panel
    (:func:`kb.dashboard.board_claim`)."""
    c = kb.claim(claim_id)
    return {
        "claim": claim_json(kb, claim_id),
        "conditions": [{"id": cid, "label": kb.conditions.label(cid)} for cid in c.conditions],
        "trace": trace(kb, claim_id),
        "contradicted_by": [
            conflict_view(kb, cf, keep=frozenset([claim_id]))
            for cf in kb.active_conflict_ids(claim_id)
        ],
        "related": related(kb, claim_id),
        # The body of evidence (GRADE, per outcome) the claim belongs to; its badge links there.
        "body": kb.summaries.get(kb.grade(claim_id).body or ""),
        "articles": [
            {"id": aid, "title": kb.articles[aid].title} for aid in kb.articles_containing(claim_id)
        ],
        "board": dashboard.board_claim(kb, claim_id),
    }


def _as_filed(ref: Any) -> str:
    """ " (filed as …)" when the dossier's design label was corrected from its own notes."""
    graded = evidence.design_of(ref)
    if graded == ref.design:
        return ""
    filed = evidence.DESIGNS.get(ref.design)
    return f" (filed as {filed[2] if filed else ref.design})"


def reference(kb: KnowledgeBase, ref_id: str) -> dict[str, Any]:
    """One reference: its formatted citation, identifiers, design and size, and every claim
    and article that depends on it (the first :data:`MAX_DEPENDENT_CLAIMS` claims are listed;
    ``claims_total`` counts them all)."""
    ref = kb.reference(ref_id)
    deps = dependents(kb, ref_id)
    design = evidence.DESIGNS.get(evidence.design_of(ref))
    listed = deps["claims"][:MAX_DEPENDENT_CLAIMS]
    for item in listed:
        item["grade"] = kb.grades[item["id"]].grade
    return {
        "reference": {
            **ref_summary(ref),
            "citation": ref.citation(),
            "year": ref.year,
            "n": ref.n,
            "pmcid": ref.pmcid,
            "design_label": (design[2] if design else ref.design) + _as_filed(ref),
            "starting_certainty": evidence.GRADES[design[0]] if design else None,
            # Design and reporting corrections from the dossier's notes (kb.evidence.appraisal).
            "appraisal": evidence.appraisal(ref) or None,
            "conditions": [{"id": c, "label": kb.conditions.label(c)} for c in ref.condition_ids],
        },
        "traces_to": [ref_summary(kb.references[t]) for t in ref.traced_to],
        "traced_from": [ref_summary(r) for r in kb.references.values() if ref_id in r.traced_to],
        "claims": listed,
        "claims_total": len(deps["claims"]),
        "articles": deps["articles"],
        "board": dashboard.board_reference(kb, ref_id),
    }


def facet_labels(kb: KnowledgeBase) -> dict[str, dict[str, str]]:
    """Readable labels for the values search facets count: kinds, conditions, grades and
    study designs (facets themselves carry ids)."""
    return {
        "kind": dict(answer.cues()["kind_labels"]),
        "condition": {c.id: c.label for c in kb.conditions.conditions.values()},
        "grade": {g: g for g in evidence.GRADE_ORDER},
        "design": {
            d: desc[:1].upper() + desc[1:].split(" (")[0]
            for d, (_, _, desc) in evidence.DESIGNS.items()
        },
    }


def policy(kb: KnowledgeBase) -> dict[str, Any]:
    """What the editorial-policy page explains, taken from the rules the code applies."""
    return {
        "grades": list(evidence.GRADE_ORDER),
        "designs": [
            {
                "design": d,
                "description": desc,
                "starting_certainty": evidence.GRADES[start],
                "cebm_level": cebm,
            }
            for d, (start, cebm, desc) in evidence.DESIGNS.items()
        ],
        "roles": list(ROLES),
        "ois_continuous": summary_mod.OIS_CONTINUOUS,
        "ois_events": summary_mod.OIS_EVENTS,
        "conflict_types": [{"value": k, "label": v} for k, v in TYPE_LABELS.items()],
        "review_statuses": [{"status": s, "label": STATUS_LABELS[s]} for s in REVIEW_STATUSES],
        "audiences": [{"value": k, "label": v} for k, v in AUDIENCES.items()],
        "counts": {"claims": len(kb.claims), "conflicts": len(kb.active_conflicts())},
    }
