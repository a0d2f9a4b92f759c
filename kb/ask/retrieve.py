"""Finding and ranking the claims that answer a reading of a question.

The *topic* is the claims about the treatments named (or, for "what else / what first"
questions, about the other treatments) and the conditions named — a condition's own claims,
those of conditions under it, and the general claims filed above it, which apply to it too.
Study-conduct statements are never part of a topic.

Within the topic claims are ranked by, in order: intent match (the asked-for kind and outcome,
then the related ones, then the rest), condition specificity (claims on the condition asked
about before general ones), text relevance from the project's search engine (BM25F with
synonyms and stemming, :meth:`KnowledgeBase.search`), and evidence grade.

Speed: topics and their tiers in static order (specificity, grade, id) are derived state, kept
per topic and grading (not per question, and never a finished answer). Only the question's
informative words — those in at most :data:`RARE_SHARE` of claims (common ones such as "LDN"
or "dose" barely move BM25 anyway) — go to the search engine, so its posting lists stay short.
"""

from __future__ import annotations

import heapq
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import KBError
from ..evidence import GRADE_ORDER
from .vocab import STOPS, Index, index, stem, target_ids, tokens, topic_ids, vocab

if TYPE_CHECKING:
    from ..knowledgebase import KnowledgeBase
    from .reading import Reading

GENERAL_BOOST = 1.5  # no condition asked: a general claim's text score counts this much more
SEARCH_LIMIT = 10  # text-relevance scores are read for this many best matches
# The engine reads every posting of every query word: the rarest words of the question go to
# it, up to this many postings in all (on a small knowledge base that is every word).
SEARCH_BUDGET = 4000
MEMO_SIZE = 512
_GRADE_RANK = {g: i for i, g in enumerate(GRADE_ORDER)}


@dataclass
class Ranked:
    """The topic of a question and its claims in answer order, tier by tier."""

    pool: frozenset[str]
    first: set[str]  # the intent's targets
    second: set[str]  # related to the intent, or another intent of the question
    specific: frozenset[str]  # claims on the condition asked about (none asked: general ones)
    by_condition: bool  # a condition was asked about: its own claims come first
    position: dict[str, int]  # every claim's place by grade, then id
    scores: dict[str, float] = field(default_factory=dict)
    rest: set[str] | None = None  # the rest of the topic, computed when first needed

    @property
    def tiers(self) -> list[set[str]]:
        if self.rest is None:
            self.rest = set(self.pool - self.first - self.second)
        return [self.first, self.second, self.rest]

    def static(self, cid: str) -> int:
        """Without text relevance: specific (or general) claims first, then grade, then id."""
        return self.position[cid] + (0 if cid in self.specific else _span(self.position))

    def key(self, cid: str) -> tuple[float, float, int]:
        score = self.scores.get(cid, 0.0)
        if self.by_condition:
            return (0.0 if cid in self.specific else 1.0, -score, self.static(cid))
        boost = GENERAL_BOOST if cid in self.specific else 1.0
        return (0.0, -score * boost, self.static(cid))

    def top(self, n: int, tier: int | None = None) -> list[str]:
        """The ``n`` best claims of one tier, or of all tiers in order."""
        out: list[str] = []
        for i in range(3) if tier is None else [tier]:
            if len(out) >= n:
                break
            ids = self.first if i == 0 else self.second if i == 1 else self.tiers[2]
            out += self.best(ids, n - len(out))
        return out

    def best(self, ids: set[str] | frozenset[str], n: int) -> list[str]:
        """The ``n`` best of ``ids``: the ``n`` first in static order plus any text-scored
        claim among them (only those can move up), ranked by the full key."""
        if n <= 0 or not ids:
            return []
        where = self.position.__getitem__  # a C-level key: these sets can be large
        inside = within(self.specific, ids)
        candidates = set(heapq.nsmallest(n, inside, key=where))
        if len(candidates) < n:
            candidates.update(heapq.nsmallest(n - len(candidates), ids - inside, key=where))
        candidates.update(c for c in self.scores if c in ids)
        return sorted(candidates, key=self.key)[:n]


def memo(kb: KnowledgeBase, key: tuple[Any, ...], build: Any) -> Any:
    """Derived state per topic (never a finished answer), for the current grading."""
    ix = index(kb)
    store: OrderedDict[tuple[Any, ...], Any] = ix.topic_kinds.setdefault("_memo", OrderedDict())
    full = (kb.generation, *key)
    if full in store:
        store.move_to_end(full)
        return store[full]
    value = build()
    store[full] = value
    while len(store) > MEMO_SIZE:
        store.popitem(last=False)
    return value


@dataclass
class _Places:
    """Positions as last computed, kept across re-gradings (records only)."""

    grades: Any = None
    by_id: dict[str, int] = field(default_factory=dict)  # claim id -> place among sorted ids
    places: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _span(position: dict[str, int]) -> int:
    """More than every place :func:`positions` gives (grade ranks times claims)."""
    return (len(GRADE_ORDER) + 1) * len(position)


def positions(kb: KnowledgeBase) -> dict[str, int]:
    """Every claim's place when ordered by grade, then id: grade rank x claims + the id's
    place among sorted ids, so after an edit only the re-graded claims move (a sort of 100k
    claims per verdict took a fifth of a second)."""

    def build() -> dict[str, int]:
        held = kb.cache("ask.places", lambda _kb: _Places(), records=True)
        with held.lock:
            grades, last = kb.grades, len(GRADE_ORDER)
            if not held.by_id:
                held.by_id = {cid: i for i, cid in enumerate(sorted(kb.claims))}
            by_id, n = held.by_id, len(held.by_id)

            def place(cid: str) -> int:
                return _GRADE_RANK.get(grades[cid].grade, last) * n + by_id[cid]

            touched = kb.regraded_since(held.grades) if held.grades is not None else None
            if touched is None:
                places = {cid: place(cid) for cid in kb.claims}
            else:
                places = dict(held.places)
                places.update((cid, place(cid)) for cid in touched if cid in by_id)
            held.grades, held.places = grades, places
            return places

    return memo(kb, ("positions",), build)  # type: ignore[no-any-return]


def topic(kb: KnowledgeBase, reading: Reading) -> tuple[frozenset[str], frozenset[str]]:
    """(claims of the topic, the condition-specific ones among them)."""
    intent = reading.intent
    widen = bool(
        intent is not None
        and intent.widen
        and set(reading.interventions) <= {"low-dose naltrexone", "naltrexone"}
    )
    # Study conduct (phase lengths, enrolment) never answers a question about an effect; a
    # trial's regimen does answer a dosing question.
    conduct = bool(intent is not None and intent.conduct_ok)
    key = ("topic", tuple(reading.interventions), tuple(reading.conditions), widen, conduct)
    return memo(kb, key, lambda: _topic(kb, reading, widen, conduct))  # type: ignore[no-any-return]


def _topic(
    kb: KnowledgeBase, reading: Reading, widen: bool, conduct: bool
) -> tuple[frozenset[str], frozenset[str]]:
    ix = index(kb)
    names = reading.interventions
    if widen:  # the other treatments
        mine = topic_ids(ix, names) if names else frozenset()
        others = [n for n in ix.by_intervention if not ix.by_intervention[n] <= mine]
        pool = set(topic_ids(ix, others)) - mine
    else:
        pool = set(topic_ids(ix, names))
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
    if not conduct:
        pool -= ix.conduct
    return frozenset(pool), frozenset(specific & pool)


def rank(kb: KnowledgeBase, reading: Reading) -> Ranked:
    ix = index(kb)
    pool, specific = topic(kb, reading)
    first: set[str] = set()
    second: set[str] = set()
    intent = reading.intent
    if intent is not None:
        first = within(pool, target_ids(ix, intent.targets))
        extra = intent.related + tuple(p for i in reading.intents[1:] for p in i.targets)
        second = within(pool, target_ids(ix, extra)) - first
    ranked = Ranked(pool, first, second, specific, bool(reading.conditions), positions(kb))
    if intent is None:
        ranked.rest = set(pool)
    ranked.scores = text_scores(kb, ix, reading)
    return ranked


def within(pool: frozenset[str] | set[str], ids: set[str] | frozenset[str]) -> set[str]:
    """``ids & pool`` as a set (CPython iterates the smaller side)."""
    return set(pool & ids)


def intent_ids(kb: KnowledgeBase, reading: Reading, ranked: Ranked, n: int) -> list[set[str]]:
    """Per further intent of the question, its claims in the topic."""
    ix = index(kb)
    return [within(ranked.pool, target_ids(ix, other.targets)) for other in reading.intents[1:n]]


def search_text(kb: KnowledgeBase, reading: Reading) -> str:
    """The question's rarest content words (and the intent's), as a plain query."""
    ix = index(kb)
    v = vocab()
    stop = STOPS | frozenset(v.cues["stopwords"])
    words = [w for w in tokens(reading.text) if w not in stop and len(w) > 1 and w.isalnum()]
    if reading.intent is not None:
        words += tokens(reading.intent.query)
    freq = {w: ix.frequency.get(stem(w), 0) for w in words}
    budget, chosen = SEARCH_BUDGET, []
    for w in sorted(freq, key=lambda w: (freq[w], words.index(w))):
        if freq[w] <= budget:
            chosen.append(w)
            budget -= freq[w]
    return " ".join(sorted(chosen, key=words.index)[:16])


def text_scores(kb: KnowledgeBase, ix: Index, reading: Reading) -> dict[str, float]:
    """BM25F relevance of the best-matching claims of the asked-for kinds (empty when no word
    is informative enough or the search index cannot answer now: ranking then uses intent,
    condition and grade)."""
    query = search_text(kb, reading)
    if not query:
        return {}
    kinds = set(reading.intent.kinds) if reading.intent is not None else None
    try:
        # No kind filter: the engine builds a document set per filter on its first use.
        result = kb.search(query, limit=SEARCH_LIMIT)
    except KBError:
        return {}
    return {
        hit["id"]: float(hit["score"])
        for hit in result["results"]
        if hit["type"] == "claim" and (kinds is None or hit["kind"] in kinds)
    }
