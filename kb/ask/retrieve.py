"""Finding and ranking the claims that answer a reading of a question.

The *topic* is the claims about the treatments named (or, for "what else / what first"
questions, about the other treatments) and the conditions named — a condition's own claims,
those of conditions under it, and the general claims filed above it, which apply to it too.
Study-conduct statements are never part of a topic.

Within the topic claims are ranked by, in order: intent match (the asked-for kind and outcome,
then the related ones, then the rest), condition specificity (claims on the condition asked
about before general ones), text relevance from the project's search engine (BM25F with
synonyms and stemming, :meth:`KnowledgeBase.search`), and evidence grade.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import KBError
from ..evidence import GRADE_ORDER
from .vocab import STOPS, Index, index, target_ids, tokens, topic_ids, vocab

if TYPE_CHECKING:
    from ..knowledgebase import KnowledgeBase
    from .reading import Reading

GENERAL_BOOST = 1.5
SEARCH_LIMIT = 50  # text-relevance scores are read for this many best matches
_GRADE_RANK = {g: i for i, g in enumerate(GRADE_ORDER)}


@dataclass
class Ranked:
    """The topic of a question and its claims in answer order, tier by tier."""

    pool: set[str]
    tiers: list[set[str]]  # intent targets, related, everything else in the topic
    specific: set[str]  # claims on the condition asked about (or, if none, general ones)
    scores: dict[str, float] = field(default_factory=dict)
    kb: KnowledgeBase | None = None

    by_condition: bool = True  # a condition was asked about: its own claims come first

    def key(self, cid: str) -> tuple[Any, ...]:
        assert self.kb is not None
        grade = _GRADE_RANK.get(self.kb.grades[cid].grade, len(GRADE_ORDER))
        score = self.scores.get(cid, 0.0)
        if self.by_condition:
            return (0 if cid in self.specific else 1, -score, grade, cid)
        # No condition asked: general claims lead unless a specific one matches much better.
        general = cid in self.specific
        return (0, -score * (GENERAL_BOOST if general else 1.0), 0 if general else 1, grade, cid)

    def top(self, n: int, tier: int | None = None) -> list[str]:
        """The ``n`` best claims of one tier, or of all tiers in order."""
        tiers = self.tiers if tier is None else [self.tiers[tier]]
        out: list[str] = []
        for ids in tiers:
            if len(out) >= n:
                break
            out += heapq.nsmallest(n - len(out), ids, key=self.key)
        return out


def topic(kb: KnowledgeBase, reading: Reading) -> tuple[set[str], set[str]]:
    """(claims of the topic, the condition-specific ones among them)."""
    ix = index(kb)
    intent = reading.intent
    names = reading.interventions
    if intent is not None and intent.widen and set(names) <= {"low-dose naltrexone", "naltrexone"}:
        mine = topic_ids(ix, names) if names else set()
        pool = set().union(*ix.by_intervention.values()) - mine
    else:
        pool = topic_ids(ix, names)
    if reading.conditions:
        down: set[str] = set()
        up: set[str] = set()
        for cid in reading.conditions:
            down |= ix.below.get(cid, set())
            for anc in kb.conditions.ancestors(cid):
                up |= ix.exact.get(anc, set())
        specific = pool & down
        pool = specific | (pool & up)
    else:
        specific = pool & ix.general
    pool -= ix.conduct
    return pool, specific


def rank(kb: KnowledgeBase, reading: Reading) -> Ranked:
    ix = index(kb)
    pool, specific = topic(kb, reading)
    intent = reading.intent
    if intent is None:
        tiers = [set(), set(), pool]
    else:
        first = pool & target_ids(ix, intent.targets)
        extra = intent.related + tuple(p for i in reading.intents[1:] for p in i.targets)
        second = (pool & target_ids(ix, extra)) - first
        tiers = [first, second, pool - first - second]
    ranked = Ranked(pool, tiers, specific, kb=kb, by_condition=bool(reading.conditions))
    ranked.scores = text_scores(kb, ix, reading)
    return ranked


def search_text(reading: Reading) -> str:
    """The question's content words plus the intent's own search words, as a plain query."""
    v = vocab()
    stop = STOPS | frozenset(v.cues["stopwords"]) | v.filler
    words = [w for w in tokens(reading.text) if w not in stop and len(w) > 1]
    words += [c["label"] for c in reading.classes]
    if reading.intent is not None:
        words += tokens(reading.intent.query)
    seen: list[str] = []
    for w in words:
        if w not in seen and w.isalnum():
            seen.append(w)
    return " ".join(seen[:24])


def text_scores(kb: KnowledgeBase, ix: Index, reading: Reading) -> dict[str, float]:
    """BM25F relevance of the best-matching claims of the asked-for kinds (empty when the
    search index cannot answer right now: ranking then falls back to intent and grade)."""
    query = search_text(reading)
    if not query:
        return {}
    kinds = reading.intent.kinds if reading.intent is not None else None
    try:
        result = kb.search(f"type:claim {query}", kind=kinds, limit=SEARCH_LIMIT)
    except KBError:
        return {}
    return {hit["id"]: float(hit["score"]) for hit in result["results"] if hit["type"] == "claim"}
