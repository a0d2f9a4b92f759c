"""Words, stems and clinical concepts: the vocabulary search indexes and queries with.

Text becomes *words* (lower-cased, common English words dropped, Porter-stemmed) and
*concepts*. A concept is a set of terms that mean the same thing to a searcher — "CRPS",
"complex regional pain syndrome", "reflex sympathetic dystrophy" — kept as data in
``synonyms.json``, plus one concept per condition (its label and synonyms from
``conditions.json``), per claim kind, per intervention and per study design. Concepts that
share a term are merged into one, so the condition "Fibromyalgia" and the synonym group
"FM / fibromyalgia" are the same concept.

Wherever a concept's term occurs in a text, the analyser adds the concept's token (``§crps``)
next to the words; a query that names any term of the concept searches for that one token.
``links`` tie a concept to the claims filed under a condition, kind, intervention or design,
so "side effect" also finds adverse-effect claims whose text never says it, and "neuropathic
pain" finds claims about CRPS (a condition below it). Links are one-way: "TCA" finds
amitriptyline claims, "amitriptyline" does not find every TCA claim.

Nothing here knows about the search engine; :mod:`kb.search` and :mod:`kb.search.query` use
it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from whoosh.analysis import STOP_WORDS

from ..text import WORD, stem

if TYPE_CHECKING:
    from ..conditions import ConditionTree

CONCEPT_PREFIX = "§"  # never produced by the word pattern, so it cannot clash with a word
STOPS = frozenset(STOP_WORDS)
LINK_TYPES = ("conditions", "kinds", "interventions", "designs")


def keep(word: str) -> bool:
    """A lower-case word worth indexing: not a stop word, not a lone letter."""
    return word not in STOPS and (len(word) > 1 or word.isdigit())


def stems(text: str) -> list[str]:
    """The stems of ``text`` in order, stop words and lone letters dropped."""
    return stems_of(WORD.findall(text.lower()))


def stems_of(raw: list[str]) -> list[str]:
    """The stems of lower-case words (as :data:`WORD` finds them), stop words dropped."""
    out = []
    for w in raw:  # inlined keep(): this runs once per word indexed
        if w in STOPS or (len(w) == 1 and not w.isdigit()):
            continue
        out.append(stem(w))
    return out


@dataclass(frozen=True)
class Word:
    """One kept word of a text: its stem, the text as written, and where it is."""

    stem: str
    surface: str
    start: int
    end: int


def words(text: str) -> list[Word]:
    """The kept words of ``text`` with character offsets (for highlighting and suggestions)."""
    out = []
    for m in WORD.finditer(text):
        w = m.group().lower()
        if keep(w):
            out.append(Word(stem(w), m.group(), m.start(), m.end()))
    return out


@dataclass
class Concept:
    """Terms that mean the same thing, and the claims they stand for (``links``)."""

    id: str
    terms: list[str]
    links: dict[str, set[str]] = field(default_factory=dict)

    @property
    def token(self) -> str:
        return CONCEPT_PREFIX + self.id


def _load_synonyms() -> dict[str, Any]:
    text = resources.files("kb.vocab").joinpath("synonyms.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


class Vocabulary:
    """Concepts with their stemmed terms, ready to tag texts and queries.

    Build it with :meth:`build` from ``synonyms.json`` and a knowledge base's conditions,
    kinds, interventions and designs. :attr:`signature` changes whenever anything that
    affects indexing changes, so an index built with another vocabulary is detected.
    """

    def __init__(self, concepts: list[Concept], design_filters: dict[str, list[str]]) -> None:
        self.concepts = {c.id: c for c in concepts}
        self.design_filters = design_filters
        self._by_stems: dict[tuple[str, ...], str] = {}
        for c in concepts:
            for term in c.terms:
                key = tuple(stems(term))
                if key:
                    self._by_stems[key] = c.token
        self._first = {k[0] for k in self._by_stems}
        self._longest = max((len(k) for k in self._by_stems), default=1)
        self._links: dict[tuple[str, str], list[str]] = {}
        for c in concepts:
            for ltype, values in c.links.items():
                for v in values:
                    self._links.setdefault((ltype, v), []).append(c.token)
        blob = json.dumps(
            [
                [c.id, sorted(c.terms), {k: sorted(v) for k, v in sorted(c.links.items())}]
                for c in concepts
            ],
            sort_keys=True,
        )
        self.signature = hashlib.sha1(blob.encode()).hexdigest()

    # -- building --------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        conditions: ConditionTree,
        *,
        kinds: Iterable[str] = (),
        interventions: Iterable[str] = (),
        designs: Iterable[str] = (),
    ) -> Vocabulary:
        """``synonyms.json`` plus one concept per condition, kind, intervention and design.

        Concepts that share a term (compared after stemming) are merged; the merged concept
        keeps the id from ``synonyms.json`` where there is one.
        """
        data = _load_synonyms()
        pool: list[Concept] = []
        for rec in data["concepts"]:
            links = {t: set(rec.get(t, ())) for t in LINK_TYPES if rec.get(t)}
            pool.append(Concept(rec["id"], list(rec["terms"]), links))
        for cond in conditions.conditions.values():
            pool.append(
                Concept(
                    f"condition:{cond.id}", [cond.label, *cond.synonyms], {"conditions": {cond.id}}
                )
            )
        for kind in kinds:
            pool.append(Concept(f"kind:{kind}", [kind.replace("_", " ")], {"kinds": {kind}}))
        for iv in sorted(set(interventions)):
            pool.append(Concept(f"intervention:{_slug(iv)}", [iv], {"interventions": {iv}}))
        for design in designs:
            term = design.replace("-", " ").replace("/", " ")
            pool.append(Concept(f"design:{design}", [term], {"designs": {design}}))
        return cls(_merge(pool), dict(data.get("design_filters", {})))

    # -- tagging ---------------------------------------------------------------------------
    def tag(self, stem_seq: list[str]) -> Iterator[tuple[int, int, str]]:
        """Concept matches in a stem sequence: ``(start, length, token)``, longest first,
        never overlapping."""
        i, n = 0, len(stem_seq)
        by_stems, first, longest = self._by_stems, self._first, self._longest
        while i < n:
            if stem_seq[i] in first:
                for k in range(min(longest, n - i), 0, -1):
                    token = by_stems.get(tuple(stem_seq[i : i + k]))
                    if token is not None:
                        yield i, k, token
                        i += k
                        break
                else:
                    i += 1
            else:
                i += 1

    def concept_of(self, stem_seq: Iterable[str]) -> str | None:
        """The token of the concept whose term is exactly this stem sequence, if any."""
        return self._by_stems.get(tuple(stem_seq))

    def analyze(self, text: str, raw: list[str] | None = None) -> str:
        """Space-separated index tokens of ``text``: its stems, each followed by the tokens of
        concepts that end at it (concept tokens take no position of their own). ``raw``: the
        text's lower-case words when the caller already has them."""
        seq = stems_of(WORD.findall(text.lower()) if raw is None else raw)
        if not seq:
            return ""
        ends: dict[int, list[str]] = {}
        for start, length, token in self.tag(seq):
            ends.setdefault(start + length - 1, []).append(token)
        if not ends:
            return " ".join(seq)
        out = []
        for i, s in enumerate(seq):
            out.append(s)
            out.extend(ends.get(i, ()))
        return " ".join(out)

    def linked(self, ltype: str, value: str) -> list[str]:
        """Tokens of the concepts linked to a condition, kind, intervention or design."""
        return self._links.get((ltype, value), [])

    def highlight(self, text: str, marks: set[str]) -> str:
        """``text`` with the words whose stem, or the phrases whose concept token, is in
        ``marks`` wrapped in ``<mark>``…``</mark>``; neighbouring marks merge. The text is not
        escaped: a renderer escapes it and then restores only the marks."""
        if not text or not marks:
            return text
        # words(), without a Word object per word: this runs for every result shown
        seq = [
            (stem(w), m.start(), m.end())
            for m in WORD.finditer(text)
            if (w := m.group().lower()) not in STOPS and (len(w) > 1 or w.isdigit())
        ]
        spans = [(a, b) for s, a, b in seq if s in marks]
        for start, length, token in self.tag([s for s, _, _ in seq]):
            if token in marks:
                spans.append((seq[start][1], seq[start + length - 1][2]))
        merged: list[list[int]] = []
        for s, e in sorted(spans):
            if merged and (s <= merged[-1][1] or not text[merged[-1][1] : s].strip()):
                merged[-1][1] = max(merged[-1][1], e)
            else:
                merged.append([s, e])
        out, last = [], 0
        for s, e in merged:
            out += [text[last:s], "<mark>", text[s:e], "</mark>"]
            last = e
        out.append(text[last:])
        return "".join(out)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _merge(pool: list[Concept]) -> list[Concept]:
    """Union concepts that share a stemmed term; the first of a group gives the id."""
    parent = list(range(len(pool)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[tuple[str, ...], int] = {}
    for i, c in enumerate(pool):
        for term in c.terms:
            key = tuple(stems(term))
            if not key:
                continue
            if key in owner:
                a, b = find(owner[key]), find(i)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                owner[key] = i
    groups: dict[int, Concept] = {}
    for i, c in enumerate(pool):
        root = find(i)
        if root not in groups:
            groups[root] = Concept(pool[root].id, [], {})
        merged = groups[root]
        merged.terms.extend(t for t in c.terms if t not in merged.terms)
        for ltype, values in c.links.items():
            merged.links.setdefault(ltype, set()).update(values)
    return list(groups.values())
