"""Ask: a question in, an answer built only from knowledge-base claims out.

1. **Read** the question (:mod:`.reading`): the treatments it names (a drug the knowledge base
   does not list is answered for its class: hydromorphone → opioids), the conditions, what it
   asks (intents from ``kb/vocab/ask_intents.json``), misspellings to correct.
2. **Refuse only what is out of scope**: a subject no claim covers (another drug with no class
   here, another condition, a population such as pregnancy or children), saying what is
   missing. Filler words, adverbs and corrected misspellings never cause a refusal.
3. **Rank** the topic's claims (:mod:`.retrieve`): intent match, condition, the search
   engine's text relevance, evidence grade. Study-conduct statements never answer.
4. **Answer directly** (:mod:`.compose`): one to three sentences from the best claims, each tied
   to its claims and grade; disagreements stated; "does it work?" as an evidence meter over
   distinct studies. Then sections, conflicts and follow-up questions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import pictures
from ..contested import conflict_view
from ..shapes import claim_json
from . import compose
from .reading import MAX_QUESTION, Reading, read
from .retrieve import Ranked, intent_ids, memo, positions, rank, topic
from .vocab import MAIN_INTERVENTION, index, topic_ids, vocab

if TYPE_CHECKING:
    from ..knowledgebase import KnowledgeBase

__all__ = ["MAX_QUESTION", "ask", "understand", "warm"]

PER_SECTION = 6
MAX_CONFLICTS = 3
# Studies listed per design group of the meter (strongest first); the counts cover them all.
# A large knowledge base has thousands of studies on a broad question: a list that long is
# no answer (and was megabytes per response at 100k claims).
METER_LISTED = 10


def understand(kb: KnowledgeBase, question: str) -> dict[str, Any]:
    """What the question names and asks (the ``understood`` part of an answer)."""
    return read(kb, question).to_json()


def ask(kb: KnowledgeBase, question: str) -> dict[str, Any]:
    """Answer ``question`` from the knowledge base only (see the module docstring).

    Raises :class:`~kb.errors.InvalidQuery` for an empty, over-long or non-text question.
    """
    reading = read(kb, question)
    answer = _empty(reading)
    refusal = _refusal(kb, reading)
    if refusal is not None:
        answer["message"] = refusal
        return answer
    ranked = _rank(kb, reading)
    if not ranked.pool:
        answer["message"] = _nothing(kb, reading)
        return answer
    answer["relevant"] = True
    answer["sections"] = _sections(kb, reading, ranked)
    found = _meter(kb, reading, ranked)
    if found is not None:
        answer["meter"] = _meter_json(found)
        bodies = memo(kb, ("bodies",), lambda: compose.bodies_by_topic(kb))
        body = compose.body_lead(kb, reading, bodies)
        answer["answer"] = compose.meter_answer(kb, reading, found, _subject(kb, reading), body)
        # The best finding of each study, strongest design first (as the meter lists them).
        leads = [s["claims"][0] for s in found["ordered"][:PER_SECTION]]
        section = _section(kb, "studies", "Best evidence, study by study", leads, ranked)
        section["total"] = found["studies"]
        answer["sections"].insert(0, section)
    else:
        answer["answer"] = _direct(kb, reading, ranked)
    answer["answer"]["note"] = _note(kb, reading, ranked)
    answer["bottom_line"] = _bottom_line(kb, answer["answer"]["claims"])
    answer["contested"] = _contested(kb, answer)
    answer["follow_ups"] = _follow_ups(kb, reading)
    answer["message"] = _message(kb, reading, ranked)
    if reading.intent is not None and reading.intent.meter:
        # "Does it work?": the studies behind the condition, drawn by design and direction.
        answer["evidence_map"] = _evidence_map(kb, answer)
    return answer


def _direct(kb: KnowledgeBase, reading: Reading, ranked: Ranked) -> dict[str, Any]:
    """The direct answer; an effect question (does it work, response rate, quality of life …)
    leads with the body of evidence for its outcome and takes that body's certainty."""
    direct = compose.direct(kb, reading, ranked)
    lead = direct["claims"][0] if direct["claims"] else None
    outcomes: tuple[str, ...] | None = None
    if lead is not None and kb.claims[lead].kind in compose.EFFECT_KINDS:
        outcomes = (kb.claims[lead].outcome,)
    elif reading.intent is not None and reading.intent.meter:
        outcomes = compose.BODY_OUTCOMES  # no study of its own: the broader condition's body
    if outcomes is None:
        return direct
    bodies = memo(kb, ("bodies",), lambda: compose.bodies_by_topic(kb))
    body = compose.body_lead(kb, reading, bodies, outcomes)
    return compose.with_body(kb, body, direct) if body is not None else direct


def _evidence_map(kb: KnowledgeBase, answer: dict[str, Any]) -> dict[str, Any] | None:
    """:func:`kb.pictures.for_answer` (kb.pictures keeps each map per version of the
    records)."""
    return pictures.for_answer(kb, answer)


def _rank(kb: KnowledgeBase, reading: Reading) -> Ranked:
    ranked = rank(kb, reading)
    if not ranked.pool and reading.intent is not None and reading.intent.widen:
        # No other treatment is filed for the condition: say where LDN itself stands.
        reading.intents = [i for i in vocab().intents if i.id == "place-in-therapy"]
        ranked = rank(kb, reading)
    return ranked


def _contested(kb: KnowledgeBase, answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The conflicts the answer's own claims take part in first, then the sections'."""
    shown = list(dict.fromkeys(answer["answer"]["claims"][:12] + _section_ids(answer)))
    ids = list(dict.fromkeys(x for cid in shown for x in kb.active_conflict_ids(cid)))
    # Large knowledge bases have conflicts with thousands of claims a side: list the strongest
    # per side (always including the claims shown here), with counts of the rest.
    return [conflict_view(kb, x, keep=frozenset(shown)) for x in sorted(ids[:MAX_CONFLICTS])]


def warm(kb: KnowledgeBase) -> None:
    """Build what every question reuses before the first one arrives: the vocabulary index,
    the grade order, the studies behind effect claims, the topic of the main treatment
    for each condition, and what evidence maps read."""
    ix = index(kb)
    positions(kb)
    compose.effect_parts(kb)
    memo(kb, ("bodies",), lambda: compose.bodies_by_topic(kb))
    held = [MAIN_INTERVENTION] if MAIN_INTERVENTION in ix.by_intervention else []
    for condition in [None, *sorted(kb.conditions.conditions)]:
        reading = Reading("", "", interventions=held, conditions=[condition] if condition else [])
        topic(kb, reading)
    # Evidence maps are drawn on first use, from what kb.pictures reads once here.
    pictures.warm(kb)


def _empty(reading: Reading) -> dict[str, Any]:
    return {
        "question": reading.question,
        "understood": reading.to_json(),
        "relevant": False,
        "message": "",
        "suggestion": None,
        "answer": None,
        "meter": None,
        "bottom_line": None,
        "sections": [],
        "contested": [],
        "follow_ups": [],
        "evidence_map": None,
    }


def _coverage(kb: KnowledgeBase) -> str:
    ix = index(kb)
    top = sorted(ix.by_intervention, key=lambda n: (-len(ix.by_intervention[n]), n))[:3]
    return ", ".join(top) + " for chronic pain conditions"


def _refusal(kb: KnowledgeBase, reading: Reading) -> str | None:
    """Why the question is out of scope, or None when the knowledge base can answer it."""
    if reading.populations:
        names = ", ".join(f"“{p}”" for p in reading.populations)
        return (
            f"The knowledge base holds no evidence on {names}: no claim covers that population. "
            f"It covers {_coverage(kb)} in adults."
        )
    if reading.unknown:
        names = ", ".join(f"“{t}”" for t in reading.unknown)
        return f"The knowledge base holds no evidence on {names}. It covers {_coverage(kb)}."
    if not reading.interventions and not reading.conditions:
        return (
            "The question names no treatment or condition the knowledge base holds. "
            f"It covers {_coverage(kb)}."
        )
    return None


def _nothing(kb: KnowledgeBase, reading: Reading) -> str:
    names = " or ".join(reading.interventions) or "any treatment"
    where = " or ".join(kb.conditions.label(c) for c in reading.conditions)
    return (
        f"The knowledge base holds no claims on {names}"
        + (f" for {where}" if where else "")
        + f". It covers {_coverage(kb)}."
    )


def _label(kind: str) -> str:
    return str(vocab().cues["kind_labels"].get(kind, kind.replace("_", " ")))


def _sections(kb: KnowledgeBase, reading: Reading, ranked: Ranked) -> list[dict[str, Any]]:
    """The intent's claims first, then the other intents', or (no intent) one per kind."""
    out = []
    if reading.intent is not None:
        first = ranked.top(PER_SECTION, 0) or ranked.top(PER_SECTION)
        out.append(_section(kb, reading.intent.id, reading.intent.label, first, ranked))
        further = intent_ids(kb, reading, ranked, 2)
        for other, ids in zip(reading.intents[1:2], further, strict=True):
            best = ranked.best(ids, PER_SECTION)
            if best and not set(best) <= set(first):
                out.append(_section(kb, other.id, other.label, best, ranked, total=len(ids)))
        return out
    by_kind: dict[str, set[str]] = {}
    for cid in ranked.tiers[2]:
        by_kind.setdefault(kb.claims[cid].kind, set()).add(cid)
    for kind in sorted(by_kind, key=lambda k: (-len(by_kind[k]), k)):
        best = ranked.best(by_kind[kind], PER_SECTION)
        out.append(_section(kb, kind, _label(kind), best, ranked, total=len(by_kind[kind])))
    return out


def _section(
    kb: KnowledgeBase,
    key: str,
    label: str,
    ids: list[str],
    ranked: Ranked,
    total: int | None = None,
) -> dict[str, Any]:
    return {
        "kind": key,
        "label": label,
        "total": total if total is not None else len(ranked.first) or len(ranked.pool),
        "claims": [claim_json(kb, cid) for cid in ids],
    }


def _section_ids(answer: dict[str, Any]) -> list[str]:
    return [c["id"] for s in answer["sections"] for c in s["claims"]]


def _meter(kb: KnowledgeBase, reading: Reading, ranked: Ranked) -> dict[str, Any] | None:
    intent = reading.intent
    if intent is None or not intent.meter:
        return None
    parts, by_claim = compose.effect_index(kb)
    # Per condition: the condition's own studies, not the general ones filed above it.
    base = ranked.specific if reading.conditions else ranked.pool
    key = ("meter", tuple(reading.interventions), tuple(reading.conditions))
    return memo(kb, key, lambda: compose.meter(kb, parts, base, by_claim))  # type: ignore[no-any-return]


def _meter_json(found: dict[str, Any]) -> dict[str, Any]:
    keep = ("ref", "label", "design", "design_label", "n", "side", "claims", "mark")
    return {
        "studies": found["studies"],
        "excluded": found["excluded"],
        "counts": found["counts"],
        "groups": [
            {
                "id": g["id"],
                "label": g["label"],
                "participants": sum(s["n"] or 0 for s in g["studies"]) or None,
                "studies": [{k: s[k] for k in keep} for s in g["studies"][:METER_LISTED]],
                "not_listed": max(len(g["studies"]) - METER_LISTED, 0),
            }
            for g in found["groups"]
        ],
    }


def _subject(kb: KnowledgeBase, reading: Reading) -> str:
    if reading.conditions:
        labels = [
            "CRPS" if c == "crps" else kb.conditions.label(c).lower() for c in reading.conditions
        ]
        return " and ".join(labels)
    return "chronic pain"


def _note(kb: KnowledgeBase, reading: Reading, ranked: Ranked) -> str | None:
    """What the answer had to stand in for: a drug's class, a condition's parent."""
    parts = [
        f"{c['drug']} is not named in any claim; answered for the class {c['label']}"
        for c in reading.classes
    ]
    if reading.conditions and not ranked.specific:
        named = " or ".join(kb.conditions.label(c) for c in reading.conditions)
        parts.append(
            f"no claim is specific to {named}; the claims shown are about the broader "
            "conditions it belongs to"
        )
    if not parts:
        return None
    text = "; ".join(parts)
    return text[0].upper() + text[1:] + "."


def _message(kb: KnowledgeBase, reading: Reading, ranked: Ranked) -> str:
    bits = []
    if reading.corrections:
        bits.append(f"Showing results for “{reading.text}”.")
    note = _note(kb, reading, ranked)
    if note:
        bits.append(note)
    bits.append(
        f"{len(ranked.pool)} claims in the knowledge base bear on this question; the direct "
        "answer comes first, then the strongest claims."
    )
    return " ".join(bits)


def _bottom_line(kb: KnowledgeBase, ids: list[str]) -> dict[str, Any] | None:
    """The article's bottom line when the direct answer rests on one of its statements."""
    wanted = set(ids)
    for art in kb.articles.values():
        if art.bottom_line and wanted & set(art.bottom_line):
            claims = [claim_json(kb, cid) for cid in art.bottom_line]
            return {
                "source": "article",
                "article_id": art.id,
                "title": art.title,
                "text": " ".join(c["text"] for c in claims),
                "claims": claims,
            }
    return None


def _follow_ups(kb: KnowledgeBase, reading: Reading) -> list[str]:
    ix = index(kb)
    intervention = reading.interventions[0] if reading.interventions else "low-dose naltrexone"
    condition = reading.conditions[0] if reading.conditions else "chronic-pain"
    held = topic_ids(ix, [intervention])
    counts = ix.condition_kinds.get(condition, {})
    counts = {k: n for k, n in counts.items() if not held.isdisjoint(ix.by_kind.get(k, ()))}
    asked = set(reading.intent.kinds) if reading.intent is not None else set()
    templates = vocab().cues["follow_up_templates"]
    label = {"low-dose naltrexone": "low-dose naltrexone (LDN)"}.get(intervention, intervention)
    cond_label = kb.conditions.label(condition).lower() if condition != "crps" else "CRPS"
    out = []
    for kind, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if kind in asked or kind not in templates:
            continue
        out.append(templates[kind].format(intervention=label, condition=cond_label))
        if len(out) == 3:
            break
    return out
