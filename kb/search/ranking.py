"""Scoring: BM25F times the evidence weight, read a block of postings at a time.

For a query with words, each matching document scores

    score = BM25F(query, body) × evidence_weight

    evidence_weight = 0.6 + 0.25 × (start − 1) / 3 + 0.15 × (grade − 1) / 3

where ``start`` is the certainty the claim's evidence source starts from by its design (4 for
a systematic review or RCT, 2 for a cohort, guideline or laboratory study, 1 for a case report,
case series, narrative review, secondary page, or no source; see :mod:`kb.evidence`) and
``grade`` is the claim's final computed grade (4 High … 1 Very low). A reference is weighted by
its own design (``grade = start``). The weight runs from 0.6 to 1.0, and ``grade`` never
exceeds ``start``, so for an equal text match a claim resting on a systematic review or RCT
(weight ≥ 0.85) always ranks above one resting on a case report or a secondary page (0.6); a
strong text match still beats a weak one from better evidence. A query of filters only lists
the matching documents by evidence weight. The weight is computed per document when it is
indexed (:func:`kb.search.document.evidence_weight`) and kept in the facet column.

Engine
------
Whoosh stores the index (its segments, codec, postings, locks, term lexicon and spelling
search). Scoring does not use Whoosh's per-document matcher loop, which costs about 3 µs a
matching document in Python (0.3 s for a word in most of 100k claims): :class:`_Run` reads
whole posting lists a block at a time and adds up BM25F term scores (Whoosh's formula, IDF
and field-length statistics, so the scores equal Whoosh's ``BM25F``; a test checks it) —
about ten times faster. Totals and facet counts come from the same pass.

Safety
------
Wildcards and fuzzy terms expand to at most :data:`MAX_EXPANSIONS` index terms (the query
itself is bounded by :mod:`kb.search.query`). Each search has a deadline (:data:`TIME_LIMIT`),
checked like Whoosh's ``TimeLimitCollector`` checks its flag, but per posting list and per
thousand phrase candidates rather than per document; a search past it stops and returns what
it has, with a warning.
"""

from __future__ import annotations

import fnmatch
import heapq
import itertools
import re
import struct
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

from .concepts import CONCEPT_PREFIX
from .document import _Facet
from .query import Leaf, Node

if TYPE_CHECKING:
    from .concepts import Vocabulary
    from .query import ParsedQuery, Tree

MAX_EXPANSIONS = 50  # index terms one wildcard or fuzzy term may expand to
TIME_LIMIT = 2.0  # seconds of scoring and counting per search
BM25_B, BM25_K1 = 0.75, 1.2  # Whoosh's BM25F defaults


class _Segment:
    """One index segment with its per-document arrays: facets, evidence weight and the BM25
    length norm (read once per searcher; everything a search touches per posting)."""

    def __init__(self, reader: Any, offset: int, facet: dict[bytes, _Facet], avgfl: float) -> None:
        self.reader, self.offset = reader, offset
        n = reader.doc_count_all()
        self.values: list[bytes] = (
            list(reader.column_reader("facets")) if reader.has_column("facets") else [b""] * n
        )
        for raw in set(self.values):
            if raw not in facet:
                facet[raw] = _Facet.parse(raw)
        self.weights = [facet[raw].weight for raw in self.values]
        self.deleted = (
            frozenset(d for d in range(n) if reader.is_deleted(d))
            if reader.has_deletions()
            else frozenset()
        )
        length = reader.doc_field_length
        k1, b = BM25_K1, BM25_B
        self.norm = [k1 * ((1 - b) + b * (length(d, "body", 0) or 0) / avgfl) for d in range(n)]
        self.allowed: dict[Any, set[int]] = {}

    def postings(
        self, token: str, values: bool = False
    ) -> tuple[Sequence[int], Sequence[float], Sequence[bytes]]:
        """(docnums, weights, encoded positions if ``values``) of ``token`` here."""
        try:
            m = self.reader.postings("body", token)
        except TermNotFound:
            return (), (), ()
        if isinstance(m, FilterMatcher):  # deletions: read everything, drop them below
            m = m.child
            m.reset()
        ids, ws, vs = _read_postings(m, values)
        if self.deleted:
            keep = [i for i, d in enumerate(ids) if d not in self.deleted]
            ids, ws = [ids[i] for i in keep], [ws[i] for i in keep]
            vs = [vs[i] for i in keep] if values else vs
        return ids, ws, vs

    def docs_where(self, key: Any, keep: Any, facet: dict[bytes, _Facet]) -> set[int]:
        """Local docnums whose facets pass ``keep`` (cached per filter)."""
        if key not in self.allowed:
            ok = {raw for raw in set(self.values) if keep(facet[raw])}
            self.allowed[key] = {d for d, raw in enumerate(self.values) if raw in ok}
        return self.allowed[key]


def _read_postings(m: Any, values: bool) -> tuple[list[int], list[float], list[bytes]]:
    """A whole posting list at once.

    Whoosh's matchers step one posting at a time (~1 µs each in Python); for Whoosh's own
    on-disk format this decodes a block (up to 128 postings) per step instead, which is what
    lets a term that matches most of 100k documents be scored in tens of milliseconds. Any
    other matcher is stepped through with the public API.
    """
    ids: list[int] = []
    ws: list[float] = []
    vs: list[bytes] = []
    if isinstance(m, W3LeafMatcher):
        while m.is_active():
            if m._data is None:
                m._read_data()
            data, n = m._data, m._blocklength
            ids.extend(itertools.accumulate(data[0]))
            w = data[1]
            ws.extend((1.0,) * n if w is None else (w,) * n if isinstance(w, float) else w)
            if values:
                vs.extend(data[2])
            m._next_block()
        return ids, ws, vs
    while m.is_active():
        ids.append(m.id())
        ws.append(m.weight())
        if values:
            vs.append(m.value())
        m.next()
    return ids, ws, vs


@dataclass
class _Searcher:
    """One open Whoosh searcher with what every search needs from it, computed once."""

    searcher: Any
    segments: list[_Segment]
    facet: dict[bytes, _Facet]

    @classmethod
    def open(cls, searcher: Any) -> _Searcher:
        facet: dict[bytes, _Facet] = {}
        avgfl = searcher.avg_field_length("body") or 1.0
        segments = [
            _Segment(sub.reader(), offset, facet, avgfl)
            for sub, offset in searcher.leaf_searchers()
        ]
        return cls(searcher, segments, facet)

    def stored_key(self, docnum: int) -> str:
        return str(self.searcher.stored_fields(docnum).get("key", ""))


class _Timeout(Exception):
    pass


class _Run:
    """The work of one search: evaluate the query over each segment, rank, count.

    Scoring is term-at-a-time over whole posting lists (see :func:`_read_postings`) with
    Whoosh's BM25F formula and statistics, times the evidence weight: the same scores Whoosh's
    own ``BM25F`` gives, computed per block rather than per document. The clock is checked
    per posting list and every few thousand phrase candidates; past the deadline the search
    stops and returns what it has, with a warning.
    """

    def __init__(
        self, state: _Searcher, vocab: Vocabulary, parsed: ParsedQuery, deadline: float
    ) -> None:
        self.state, self.vocab, self.parsed, self.deadline = state, vocab, parsed, deadline
        self.searcher = state.searcher
        self.reader = state.searcher.reader()
        self.marks: set[str] = set()  # stems and concept tokens to highlight
        self.warnings: list[str] = []
        self.expansions: dict[Leaf, list[str]] = {}

    def execute(
        self, keep: Any, drop: Any, top: int
    ) -> tuple[list[tuple[float, int]], int, Counter[bytes]]:
        """(top hits as (score, global docnum), total, matched count per facet value)."""
        state = self.state
        best: list[tuple[float, int]] = []
        total = 0
        per_value: Counter[bytes] = Counter()
        try:
            for seg in state.segments:
                allow = seg.docs_where(keep[0], keep[1], state.facet) if keep else None
                restrict = set(seg.docs_where(drop[0], drop[1], state.facet)) if drop else set()
                for tree in self.parsed.exclude:
                    restrict |= self.evaluate(seg, tree).keys()
                restrict |= seg.deleted
                if self.parsed.tree is None:  # filters only: list by evidence weight
                    pool = range(len(seg.values)) if allow is None else allow
                    scores = {d: 1.0 for d in pool if d not in restrict}
                else:
                    scores = self.evaluate(seg, self.parsed.tree)
                    if allow is not None:
                        scores = {d: s for d, s in scores.items() if d in allow}
                    if restrict:
                        scores = {d: s for d, s in scores.items() if d not in restrict}
                weights, offset, values = seg.weights, seg.offset, seg.values
                total += len(scores)
                per_value.update(map(values.__getitem__, scores))
                final = {d: s * weights[d] for d, s in scores.items()}
                ranked = heapq.nlargest(top, final, key=final.__getitem__)
                # ties: the lower docnum (earlier in the data) first, whatever the dict order
                best = heapq.nlargest(top, best + [(final[d], -(d + offset)) for d in ranked])
        except _Timeout:
            self.warnings.append(
                "the search took too long and was cut short; results are "
                "incomplete — try more specific words"
            )
        for tree in [self.parsed.tree] if self.parsed.tree is not None else []:
            self.collect_marks(tree)
        return [(score, -neg) for score, neg in best], total, per_value

    # evaluating the query tree over one segment
    def evaluate(self, seg: _Segment, node: Tree) -> dict[int, float]:
        if isinstance(node, Node):
            parts = [self.evaluate(seg, c) for c in node.children]
            if node.op == "and":
                parts.sort(key=len)
                acc = parts[0]
                for other in parts[1:]:
                    acc = {d: s + other[d] for d, s in acc.items() if d in other}
                return acc
            return _sum(parts)
        if node.kind == "phrase":
            return self.phrase(seg, node.value)
        if node.kind in ("prefix", "fuzzy"):
            return _sum([self.term(seg, t) for t in self.expand(node)])
        return self.term(seg, node.value[0])

    def _check(self) -> None:
        if time.monotonic() > self.deadline:
            raise _Timeout

    def term(self, seg: _Segment, token: str) -> dict[int, float]:
        """BM25F score (before the evidence weight) of every local docnum holding ``token``."""
        self._check()
        ids, ws, _ = seg.postings(token)
        if not ids:
            return {}
        idf = self.searcher.idf("body", token) * (BM25_K1 + 1)
        norm = seg.norm
        return {d: idf * w / (w + norm[d]) for d, w in zip(ids, ws, strict=True)}

    def phrase(self, seg: _Segment, stems_: tuple[str, ...]) -> dict[int, float]:
        """Documents with the stems at consecutive positions; score = sum of term scores.

        Each word's postings become keys ``docnum << 24 | (position - offset in phrase)``;
        the phrase occurs where every word has the same key, so one set intersection (in C)
        replaces a position-by-position check per candidate document.
        """
        self._check()
        lists = [seg.postings(s, values=True) for s in stems_]
        if any(not ids for ids, _, _ in lists):
            return {}
        candidates = set(lists[0][0]).intersection(*(ids for ids, _, _ in lists[1:]))
        if not candidates:
            return {}
        n = len(lists)
        keysets = []
        for k, (ids, _, vs) in enumerate(lists):
            self._check()
            shift = n - k  # keeps the key non-negative
            keys: set[int] = set()
            add = keys.add
            for d, v in zip(ids, vs, strict=True):
                if d in candidates:
                    if len(v) == 4:
                        add((d << 24) + int.from_bytes(v, "little") + shift)
                    else:
                        keys.update((d << 24) + p + shift for p in _decode_positions(v))
            keysets.append(keys)
        found = {key >> 24 for key in keysets[0].intersection(*keysets[1:])}
        norm = seg.norm
        out = dict.fromkeys(found, 0.0)
        for s, (ids, ws, _) in zip(stems_, lists, strict=True):
            idf = self.searcher.idf("body", s) * (BM25_K1 + 1)
            for d, w in zip(ids, ws, strict=True):
                if d in out:
                    out[d] += idf * w / (w + norm[d])
        return out

    def expand(self, leaf: Leaf) -> list[str]:
        """Index terms for a wildcard or fuzzy leaf, at most :data:`MAX_EXPANSIONS`."""
        if leaf in self.expansions:
            return self.expansions[leaf]
        out: list[str] = []
        if leaf.kind == "prefix":
            pattern = leaf.value[0]
            literal = re.split(r"[*?]", pattern, maxsplit=1)[0]
            for term in self.reader.expand_prefix("body", literal):
                term = term.decode("utf-8") if isinstance(term, bytes) else term
                if fnmatch.fnmatchcase(term, pattern):
                    out.append(term)
                    if len(out) >= MAX_EXPANSIONS:
                        self.warnings.append(
                            f"{leaf.typed!r} matches many words; only the "
                            f"first {MAX_EXPANSIONS} were searched"
                        )
                        break
        else:
            found = self.reader.terms_within("body", leaf.value[0], leaf.distance, prefix=1)
            ranked = sorted(
                (_distance(t, leaf.value[0]), t)
                for t in found
                if not t.startswith((CONCEPT_PREFIX, "doi:"))
            )
            out = [t for _, t in ranked[:MAX_EXPANSIONS]]
        self.expansions[leaf] = out
        return out

    def collect_marks(self, node: Tree) -> None:
        if isinstance(node, Node):
            for c in node.children:
                self.collect_marks(c)
        elif node.kind in ("prefix", "fuzzy"):
            self.marks.update(self.expansions.get(node, ()))
        else:
            self.marks.update(node.value)


def _sum(parts: list[dict[int, float]]) -> dict[int, float]:
    """Scores of an OR: every document of any part, its scores added."""
    parts = [p for p in parts if p]
    if not parts:
        return {}
    parts.sort(key=len, reverse=True)
    acc = dict(parts[0])
    get = acc.get
    for other in parts[1:]:
        for d, s in other.items():
            acc[d] = get(d, 0.0) + s
    return acc


def _decode_positions(valuestring: bytes) -> tuple[int, ...]:
    return struct.unpack(f"<{len(valuestring) // 4}I", valuestring)


def _distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance (optimal string alignment)."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[-1]
