"""The direct answer: one to three sentences from the best claims' own words and values.

Every sentence is a claim's text (or, for a disagreement or an evidence count, a sentence
built only from claims' structured values and their sources' labels), tied to its claim ids and
grade. Nothing is said that no claim says.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..evidence import DESIGNS, GRADE_ORDER
from ..summary import OUTCOMES

if TYPE_CHECKING:
    from ..knowledgebase import KnowledgeBase
    from ..summary import Body
    from .reading import Reading
    from .retrieve import Ranked

MAX_SENTENCES = 3
# A "does it work?" answer: the body of evidence, its sub-conditions, the count, the best study.
MAX_METER_SENTENCES = 5
# Which body of evidence answers "does it work?" when a condition has several: pain first.
BODY_OUTCOMES = (
    "pain",
    "responder-rate",
    "symptom-severity",
    "quality-of-life",
    "function",
    "clinical-features",
)
MAX_SUB_BODIES = 6
# Designs in the order evidence is presented: reviews and trials first, case reports last.
DESIGN_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("reviews", "systematic reviews", ("systematic-review-meta-analysis", "systematic-review")),
    ("trials", "randomised trials", ("randomized-controlled-trial", "crossover-rct", "pilot-rct")),
    (
        "observational",
        "observational studies",
        ("retrospective-cohort", "medication-use-evaluation", "case-series"),
    ),
    ("case-reports", "case reports", ("case-report",)),
    (
        "other",
        "reviews, guidelines and summaries",
        (
            "guideline",
            "narrative-review",
            "scoping-review",
            "secondary-summary",
            "mechanistic/preclinical",
        ),
    ),
)
STRONG_GROUPS = ("reviews", "trials")
METER_KINDS = ("efficacy", "response_rate")
# Claims about the size of an effect: an answer led by one takes its body's certainty.
EFFECT_KINDS = METER_KINDS
SIDE = {"benefit": "for", "no-benefit": "against", "mixed": "mixed", "neutral": "neutral"}


def source_label(kb: KnowledgeBase, cid: str) -> str:
    """How a sentence names where a claim comes from: "the article" for the seed's own
    statements, else the label of the reference its grade rests on."""
    claim = kb.claims[cid]
    if claim.origin == "seed":
        return "the article"
    ref = kb.grades[cid].basis_ref or (claim.cited_refs[0] if claim.cited_refs else None)
    return kb.references[ref].label if ref and ref in kb.references else "an uncited statement"


def marked(kb: KnowledgeBase, ids: list[str]) -> dict[str, str]:
    """The references behind ``ids`` an editor marked retracted or of concern: label → status."""
    state = kb.editorial
    if state is None or not state.claim_marks:
        return {}
    out: dict[str, str] = {}
    for cid in ids:
        for ref in state.claim_marks.get(cid, ()):
            mark = state.reference_marks.get(ref)
            if mark is not None and ref in kb.references:
                out.setdefault(kb.references[ref].label, mark["status"])
    return out


def _mark_note(marks: dict[str, str]) -> str:
    said = {"retracted": "is retracted", "concern": "is under an expression of concern"}
    return " ".join(
        f"Note: {label} {said.get(status, 'is marked ' + status)}."
        for label, status in marks.items()
    )


def sentence(
    kb: KnowledgeBase, text: str, ids: list[str], grade: str | None = None
) -> dict[str, Any]:
    """One answer sentence; a sentence resting on a retracted (or questioned) study says so."""
    if grade is None:
        grades = [kb.grades[c].grade for c in ids]
        grade = min(grades, key=GRADE_ORDER.index) if grades else "Not graded"
    marks = marked(kb, ids)
    if marks:
        text = f"{text} {_mark_note(marks)}"
    cites = [{"claim": c, "label": source_label(kb, c)} for c in ids[:12]]
    return {"text": text, "claims": ids, "grade": grade, "cites": cites}


def claim_sentence(kb: KnowledgeBase, cid: str) -> dict[str, Any]:
    grade = kb.grades[cid].grade
    text = kb.claims[cid].text.rstrip()
    if not text.endswith((".", "!", "?")):
        text += "."
    return sentence(kb, f"{text} [{source_label(kb, cid)}; {grade}]", [cid])


def _value(claim: Any) -> tuple[Any, ...] | None:
    """The structured value as a comparable key (the wording of ``as_stated`` may differ)."""
    v = claim.value or {}
    if not v or not isinstance(v.get("as_stated"), str):
        return None
    interval = v.get("interval") or {}
    return (
        v.get("type"),
        v.get("value"),
        v.get("low"),
        v.get("high"),
        v.get("unit"),
        interval.get("value"),
        interval.get("unit"),
    )


def disagreement(kb: KnowledgeBase, ids: list[str], label: str) -> dict[str, Any] | None:
    """ "Sources differ on the maximum dose: 4.5 mg nightly in the article; 6 mg in Bruun 2024"
    when claims answering the same outcome state different values."""
    by_value: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    lead = _value(kb.claims[ids[0]]) if ids else None
    for cid in ids:
        key = _value(kb.claims[cid])
        # Only values of the same type and unit can disagree (a % is not an IRR).
        if key is not None and lead is not None and key[0] == lead[0] and key[4] == lead[4]:
            by_value[key].append(cid)
    if len(by_value) < 2:
        return None
    # Sources differ only when different sources say different values (one review's pain
    # result and its active-comparator result are not a disagreement between sources).
    if len({source_label(kb, c) for cids in by_value.values() for c in cids}) < 2:
        return None
    parts, used = [], []
    for cids in list(by_value.values())[:3]:
        stated = (kb.claims[cids[0]].value or {}).get("as_stated")
        sources = sorted({source_label(kb, c) for c in cids})
        parts.append(f"{stated} in {' and '.join(sources)}")
        used += cids
    topic = label.lower()
    if not topic.startswith(("how ", "when ", "who ", "what ", "does ")):
        topic = "the " + topic
    return sentence(kb, f"Sources differ on {topic}: " + "; ".join(parts) + ".", used)


def direct(kb: KnowledgeBase, reading: Reading, ranked: Ranked) -> dict[str, Any]:
    """The direct answer for an intent question, or the best claims of the topic."""
    tier = 0 if ranked.first else None
    best = ranked.top(MAX_SENTENCES + 5, tier)
    if not best:
        return {"text": "", "claims": [], "certainty": None, "sentences": []}
    sentences = [claim_sentence(kb, best[0])]
    if reading.intent is not None and tier == 0:
        outcome = kb.claims[best[0]].outcome
        same = [c for c in best if kb.claims[c].outcome == outcome]
        differ = disagreement(kb, same, reading.intent.label)
        if differ is not None:
            sentences.append(differ)
    for cid in best[1:]:
        if len(sentences) >= MAX_SENTENCES:
            break
        if any(cid in s["claims"] for s in sentences):
            continue
        sentences.append(claim_sentence(kb, cid))
    return finish(kb, sentences)


def finish(kb: KnowledgeBase, sentences: list[dict[str, Any]]) -> dict[str, Any]:
    ids: list[str] = []
    seen: set[str] = set()
    for s in sentences:
        for c in s["claims"]:
            if c not in seen:
                seen.add(c)
                ids.append(c)
    certainty = sentences[0]["grade"] if sentences else None
    return {
        "text": " ".join(s["text"] for s in sentences),
        "claims": ids,
        "certainty": certainty,
        "sentences": sentences,
    }


# -- "does it work?": the evidence meter --------------------------------------------------
def _group(design: str) -> int:
    for i, (_, _, designs) in enumerate(DESIGN_GROUPS):
        if design in designs:
            return i
    return len(DESIGN_GROUPS) - 1


EffectParts = dict[str, dict[tuple[bool, str], list[str]]]


@dataclass
class _Parts:
    """Effect parts as last built, kept across re-gradings (records only)."""

    grades: Any = None
    parts: EffectParts = field(default_factory=dict)
    study_of: dict[str, str] = field(default_factory=dict)  # effect claim -> its study
    lock: threading.Lock = field(default_factory=threading.Lock)


def effect_parts(kb: KnowledgeBase) -> EffectParts:
    """Per study (the reference a claim's grade rests on): its effect claims split by
    (about pain?, direction), each list best grade first. Built once per grading; after an
    edit only the re-graded claims move (rebuilding it took most of a second at 100k)."""
    return effect_index(kb)[0]


def effect_index(kb: KnowledgeBase) -> tuple[EffectParts, dict[str, str]]:
    """:func:`effect_parts` and the study each of its claims is filed under, of one grading."""
    held = kb.cache("ask.effect_parts", lambda _kb: _Parts(), records=True)
    with held.lock:
        grades = kb.grades
        if held.grades is not grades:
            touched = kb.regraded_since(held.grades) if held.grades is not None else None
            if touched is None:
                parts = _effect_parts(kb)
                studies = {
                    cid: ref for ref, by in parts.items() for ids in by.values() for cid in ids
                }
            else:
                parts, studies = _move(kb, held.parts, held.study_of, touched)
            held.grades, held.parts, held.study_of = grades, parts, studies
        return held.parts, held.study_of  # never changed in place: a consistent pair


def _effect_parts(kb: KnowledgeBase) -> EffectParts:
    from .vocab import index

    ix = index(kb)
    grades = kb.grades
    parts: EffectParts = defaultdict(lambda: defaultdict(list))
    for kind in METER_KINDS:
        for cid in ix.by_kind.get(kind, set()) - ix.conduct:
            where = _part_of(kb, cid)
            if where is not None:
                parts[where[0]][where[1]].append(cid)
    key = _grade_key(grades)
    for by_part in parts.values():
        for ids in by_part.values():
            ids.sort(key=key)
    return {ref: dict(v) for ref, v in parts.items()}


def _part_of(kb: KnowledgeBase, cid: str) -> tuple[str, tuple[bool, str]] | None:
    """Where an effect claim goes: its grade's study and (about pain?, direction)."""
    ref = kb.grades[cid].basis_ref
    if ref is None or ref not in kb.references:
        return None
    claim = kb.claims[cid]
    return ref, (claim.outcome == "pain", claim.direction)


def _grade_key(grades: dict[str, Any]) -> Any:
    order = {g: i for i, g in enumerate(GRADE_ORDER)}
    return lambda c: (order.get(grades[c].grade, len(order)), c)


def _move(
    kb: KnowledgeBase, old: EffectParts, old_study: dict[str, str], touched: list[str]
) -> tuple[EffectParts, dict[str, str]]:
    """``old`` with the ``touched`` claims taken out and put back where their new grades
    place them; lists that change are copied, the rest shared (``old`` is never changed)."""
    from .vocab import index

    ix = index(kb)
    moving = {
        cid
        for cid in touched
        if cid in kb.claims and kb.claims[cid].kind in METER_KINDS and cid not in ix.conduct
    }
    if not moving:
        return old, old_study
    parts = dict(old)
    studies = dict(old_study)
    copied: set[str] = set()

    def own(ref: str) -> dict[tuple[bool, str], list[str]]:
        if ref not in copied:
            parts[ref] = {k: list(v) for k, v in parts.get(ref, {}).items()}
            copied.add(ref)
        return parts[ref]

    for ref in {old_study[cid] for cid in moving if cid in old_study}:  # take them out
        if ref in parts:
            mine = own(ref)
            for k in list(mine):
                mine[k] = [c for c in mine[k] if c not in moving]
                if not mine[k]:
                    del mine[k]
            if not mine:
                del parts[ref]
                copied.discard(ref)
    key = _grade_key(kb.grades)
    for cid in moving:  # and put them back (a claim may move to another study)
        studies.pop(cid, None)
        where = _part_of(kb, cid)
        if where is not None:
            own(where[0]).setdefault(where[1], []).append(cid)
            studies[cid] = where[0]
    for ref in copied:
        for ids in parts[ref].values():
            ids.sort(key=key)
    return parts, studies


def meter(
    kb: KnowledgeBase,
    parts: EffectParts,
    claims: frozenset[str],
    by_claim: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """Distinct studies (references) behind the effect claims among ``claims``, for / against /
    mixed / neutral, grouped by design, strongest first. None when no effect claim rests on a
    study. ``by_claim`` (from :func:`effect_index`) lets a few claims visit only their studies rather
    than every study in the knowledge base."""
    studies, excluded = [], []
    marks = kb.editorial.reference_marks if kb.editorial is not None else {}
    refs: Iterable[str] = parts
    if by_claim is not None and len(claims) < len(by_claim):
        refs = {by_claim[cid] for cid in claims if cid in by_claim}
    for ref in refs:
        by_part = parts[ref]
        # Guidelines, narrative reviews and secondary pages report others' studies: not counted.
        if _group(kb.references[ref].design) == len(DESIGN_GROUPS) - 1:
            continue
        present = {key: ids for key, ids in by_part.items() if not claims.isdisjoint(ids)}
        if not present:
            continue
        study = _study(kb, ref, present, claims)
        status = (marks.get(ref) or {}).get("status")
        study["mark"] = status
        # A retracted study is no evidence: listed apart, never counted or named as best.
        if status == "retracted":
            excluded.append({"ref": ref, "label": study["label"], "status": status})
        else:
            studies.append(study)
    if not studies:
        return None
    studies.sort(key=lambda s: (s["group"], -(s["n"] or 0), s["best_grade"], s["ref"]))
    counts = {"for": 0, "against": 0, "mixed": 0, "neutral": 0}
    for s in studies:
        counts[s["side"]] += 1
    groups = []
    for i, (gid, label, _) in enumerate(DESIGN_GROUPS):
        members = [s for s in studies if s["group"] == i]
        if members:
            groups.append({"id": gid, "label": label, "studies": members})
    excluded.sort(key=lambda e: e["ref"])
    return {
        "studies": len(studies),
        "counts": counts,
        "groups": groups,
        "ordered": studies,
        "excluded": excluded,
    }


def _study(
    kb: KnowledgeBase,
    ref_id: str,
    present: dict[tuple[bool, str], list[str]],
    claims: frozenset[str],
) -> dict[str, Any]:
    # A study's side is that of its pain results when it has any, else of all its results.
    pain = {key: ids for key, ids in present.items() if key[0]}
    basis = pain or present
    directions = {direction for _, direction in basis}
    if len(directions) == 1:
        side = SIDE[directions.pop()]
    elif directions <= {"benefit", "neutral"}:
        side = "for"
    elif directions <= {"no-benefit", "neutral"}:
        side = "against"
    else:
        side = "mixed"
    grades = kb.grades
    firsts = [next(c for c in ids if c in claims) for ids in basis.values()]
    best = sorted(firsts, key=lambda c: (GRADE_ORDER.index(grades[c].grade), c))
    ref = kb.references[ref_id]
    desc = DESIGNS.get(ref.design)
    return {
        "ref": ref_id,
        "label": ref.label,
        "design": ref.design,
        "design_label": desc[2] if desc else ref.design,
        "group": _group(ref.design),
        "n": ref.n,
        "side": side,
        "claims": best,
        "best_grade": GRADE_ORDER.index(grades[best[0]].grade),
    }


def _study_phrase(s: dict[str, Any]) -> str:
    n = f", {s['n']} participants" if s["n"] else ""
    return f"{s['label']} ({s['design_label']}{n})"


def meter_answer(
    kb: KnowledgeBase,
    reading: Reading,
    found: dict[str, Any],
    subject: str,
    body: tuple[list[dict[str, Any]], str] | None = None,
) -> dict[str, Any]:
    """The body of evidence first (its GRADE statement and certainty, then its sub-conditions),
    then the study counts, the best study named with its finding, then the strongest study on
    the other side (or a plain statement when only weak designs exist)."""
    counts = found["counts"]
    bits = [f"{counts[k]} {k}" for k in ("for", "against", "mixed") if counts[k]]
    if counts["neutral"]:
        bits.append(f"{counts['neutral']} without a clear direction")
    ordered = found["ordered"]
    all_ids = [c for s in ordered for c in s["claims"]]
    excluded = found.get("excluded") or []
    tail = ""
    if excluded:
        names = ", ".join(e["label"] for e in excluded)
        tail = f" Not counted: {names} (retracted)."
    count = sentence(
        kb,
        f"For {subject} the knowledge base holds {_studies(found['studies'])} "
        f"on whether it works: " + ", ".join(bits) + "." + tail,
        all_ids,
    )
    sentences = list(body[0]) if body else []
    sentences.append(count)
    strong = [s for s in ordered if DESIGN_GROUPS[s["group"]][0] in STRONG_GROUPS]
    if not strong:
        weak = ", ".join(_weak_phrase(s) for s in ordered[:4])
        sentences.append(
            sentence(
                kb,
                f"For {subject} it rests only on weaker designs: {weak}; no randomised trial "
                "or systematic review.",
                [s["claims"][0] for s in ordered[:4]],
            )
        )
    lead = ordered[0]
    sentences.append(_finding(kb, lead, "Best evidence"))
    other = next(
        (s for s in ordered[1:] if s["side"] != lead["side"] and s["side"] in ("for", "against")),
        None,
    )
    if other is not None and len(sentences) < MAX_METER_SENTENCES:
        sentences.append(_finding(kb, other, "Strongest evidence on the other side"))
    out = finish(kb, sentences[:MAX_METER_SENTENCES])
    # GRADE rates a body of evidence, not a sentence: the certainty is the body's when one
    # exists for the asked condition; else that of the best study's own finding.
    out["certainty"] = body[1] if body else kb.grades[lead["claims"][0]].grade
    return out


def with_body(
    kb: KnowledgeBase, body: tuple[list[dict[str, Any]], str], direct: dict[str, Any]
) -> dict[str, Any]:
    """The body of evidence's statement before a direct answer; the body's certainty."""
    sentences = list(body[0])
    for s in direct["sentences"]:
        if len(sentences) >= MAX_SENTENCES + 1:
            break
        sentences.append(s)
    out = finish(kb, sentences)
    out["certainty"] = body[1]
    return out


def _pick(by_outcome: dict[str, Body], outcomes: tuple[str, ...]) -> Body | None:
    for outcome in outcomes:
        if outcome in by_outcome:
            return by_outcome[outcome]
    return None


def bodies_by_topic(kb: KnowledgeBase) -> dict[tuple[str, str], dict[str, Body]]:
    """Bodies of evidence (kb.summary) by (intervention, condition), then outcome."""
    out: dict[tuple[str, str], dict[str, Body]] = defaultdict(dict)
    for body in kb.summaries.values():
        out[(body["intervention"], body["condition"])][body["outcome"]] = body
    return dict(out)


def _body_phrase(body: Body) -> str:
    studies = len(body["studies"])
    n = f", {body['participants']} participants" if body["participants"] else ""
    return f"{body['certainty']} certainty; {_studies(studies)}{n}"


def body_lead(
    kb: KnowledgeBase,
    reading: Reading,
    by_topic: dict[tuple[str, str], dict[str, Body]],
    outcomes: tuple[str, ...] = BODY_OUTCOMES,
) -> tuple[list[dict[str, Any]], str] | None:
    """The GRADE plain-language statement of the body of evidence for the asked (condition,
    outcome), with its certainty; then, briefly, the bodies of its sub-conditions. None when no
    body exists for the question (the answer then rests on the studies themselves)."""
    from .vocab import MAIN_INTERVENTION

    tree = kb.conditions
    asked = [c for c in reading.conditions if c in tree] or (
        ["chronic-pain"] if "chronic-pain" in tree else []
    )
    named = reading.interventions or [MAIN_INTERVENTION]
    for intervention in named:
        for condition in asked:
            own = _pick(by_topic.get((intervention, condition), {}), outcomes)
            where = condition
            if own is None:
                # Nearest broader condition first (the one with the most ancestors itself).
                for up in sorted(tree.ancestors(condition), key=lambda c: -len(tree.ancestors(c))):
                    own = _pick(by_topic.get((intervention, up), {}), outcomes)
                    if own is not None:
                        where = up
                        break
            if own is None:
                continue
            text = f"{own['statement']} [{_body_phrase(own)}]"
            if where != condition:
                text = (
                    f"No body of evidence is specific to {_lower(tree.label(condition))}; for "
                    f"the broader {_lower(tree.label(where))}: {text}"
                )
            out = [sentence(kb, text, list(own["claims"]), grade=own["certainty"])]
            # Sub-conditions of the asked condition only (not the siblings of a stand-in).
            subs = _sub_bodies(kb, intervention, where, own["outcome"], by_topic)
            subs = subs if where == condition else []
            if subs:
                parts = [
                    f"{_lower(b['condition_label'])} {b['certainty']} ({b['direction']})"
                    for b in subs
                ]
                ids = [c for b in subs for c in b["claims"]]
                best = min((b["certainty"] for b in subs), key=GRADE_ORDER.index)
                noun = OUTCOMES[own["outcome"]].noun
                out.append(
                    sentence(
                        kb,
                        f"By condition, certainty on {noun}: " + "; ".join(parts) + ".",
                        ids,
                        grade=best,
                    )
                )
            return out, own["certainty"]
    return None


def _lower(label: str) -> str:
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _sub_bodies(
    kb: KnowledgeBase,
    intervention: str,
    condition: str,
    outcome: str,
    by_topic: dict[tuple[str, str], dict[str, Body]],
) -> list[Body]:
    below = kb.conditions.descendants(condition)
    order = list(kb.conditions.conditions)
    found = [
        by_topic[(intervention, c)][outcome]
        for c in sorted(below, key=order.index)
        if outcome in by_topic.get((intervention, c), {})
    ]
    return found[:MAX_SUB_BODIES]


def _studies(n: int) -> str:
    return "1 study" if n == 1 else f"{n} studies"


def _weak_phrase(s: dict[str, Any]) -> str:
    n = f" ({s['n']} patients)" if s["n"] else ""
    return f"a {s['design_label']}{n}"


def _finding(kb: KnowledgeBase, s: dict[str, Any], lead: str) -> dict[str, Any]:
    cid = s["claims"][0]
    text = kb.claims[cid].text.rstrip().rstrip(".")
    side = {"for": "for", "against": "against", "mixed": "mixed", "neutral": "no clear direction"}
    return sentence(
        kb,
        f"{lead} ({side[s['side']]}): {_study_phrase(s)}: {text} [{kb.grades[cid].grade}].",
        [cid],
    )
