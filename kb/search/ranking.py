"""Scoring: BM25F times the evidence weight, whole posting lists at a time, in numpy arrays.

For a query with words, each matching document scores

    score = BM25F(query, body) × coordination × evidence_weight

    evidence_weight = 0.6 + 0.25 × (start − 1) / 3 + 0.15 × (grade − 1) / 3

where ``start`` is the certainty the claim's evidence source starts from by its design (4 for
a systematic review or RCT, 2 for a cohort, guideline or laboratory study, 1 for a case report,
case series, narrative review, secondary page, or no source; see :mod:`kb.evidence`) and
``grade`` is the claim's current computed grade (4 High … 1 Very low; a "Not graded"
study-conduct claim counts as 1). A reference is weighted by its own design (``grade =
start``). The weight runs from 0.6 to 1.0 and is read from the knowledge base's grades in
memory at search time, never from the index: a grade that changes (an editor's verdict, a
dismissed conflict) moves the ranking at the next search without rewriting a document.
``coordination`` is the share of the query's terms a document matches (a document holding
every word ranks above one holding only some).

Relevance rules on top of the score
-----------------------------------
* **A named condition comes first.** When the query names a condition ("CRPS response"),
  documents about that condition or a condition below it rank above all others; within each
  group the score decides.
* **Terms that match nearly every document narrow nothing.** In a query with other terms, a
  term found in more than :data:`COMMON_FRACTION` of the documents (the intervention of a
  one-topic knowledge base: "naltrexone opioid withdrawal") and a year next to a name
  ("Younger 2013") still add to the score, but a document matching only them is not a hit.

Engine
------
Whoosh stores the index (its segments, codec, postings, locks, term lexicon and spelling
search). Scoring does not step Whoosh's per-document matchers (about 3 µs a posting in
Python): :func:`read_postings` decodes a posting list a block at a time into numpy arrays,
and the query tree is evaluated over dense per-segment arrays (a score and a match mask per
document): adding a term is one vectorised scatter, AND is a mask product, exclusions and
filters are masks, and the top ``k`` come from ``argpartition`` over the matches. Totals and
facet counts come from the same masks with one ``bincount`` each, so nothing per matching
document runs in Python. The BM25F formula, IDF and field-length statistics are Whoosh's
(a test checks the scores). Pruning in the MaxScore manner would skip scoring documents that
cannot reach the top ``k``, but the total and the facet counts need every match anyway; with
whole-list vector arithmetic the remaining cost is decoding, which every match needs.

Safety
------
Wildcards and fuzzy terms expand to at most :data:`MAX_EXPANSIONS` index terms (the query
itself is bounded by :mod:`kb.search.query`). Each search has a deadline (:data:`TIME_LIMIT`),
checked per posting list and per thousand phrase candidates; a search past it stops and
returns what it has, with a warning.
"""

from __future__ import annotations

import fnmatch
import itertools
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.numeric import byte_to_length

from .concepts import CONCEPT_PREFIX
from .document import FACET_ATTRS, parse_facets
from .query import Leaf, Node

if TYPE_CHECKING:
    from ..knowledgebase import KnowledgeBase
    from .concepts import Vocabulary
    from .query import ParsedQuery, Tree

MAX_EXPANSIONS = 50  # index terms one wildcard or fuzzy term may expand to
TIME_LIMIT = 2.0  # seconds of scoring and counting per search
BM25_B, BM25_K1 = 0.75, 1.2  # Whoosh's BM25F defaults
POSTINGS_CACHED = 4_000_000  # decoded postings kept in memory per open index (~50 MB)
COMMON_FRACTION = 0.5  # a term in more documents than this narrows nothing on its own
_YEAR = re.compile(r"^(19|20)\d\d$")
_LENGTH_OF_BYTE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)


class _Segment:
    """One index segment with its per-document arrays: facet id, key and BM25 length norm
    (read once per searcher, in bulk)."""

    def __init__(
        self, reader: Any, offset: int, facets: _Facets, avgfl: float, cache: _PostingCache
    ) -> None:
        self.reader, self.offset, self.cache = reader, offset, cache
        n = self.n = reader.doc_count_all()
        self.attr_id, self.cond_id = facets.read(reader, n)
        self.keys: list[str] = _read_keys(reader, n)
        self.deleted = np.zeros(n, dtype=bool)
        if reader.has_deletions():
            try:  # the segment's deletion set at once
                gone = list(reader._perdoc.deleted_docs())
            except AttributeError:
                gone = [d for d in range(n) if reader.is_deleted(d)]
            self.deleted[gone] = True
        lengths = _read_lengths(reader, n)
        self.norm = (BM25_K1 * ((1 - BM25_B) + BM25_B * lengths / avgfl)).astype(np.float32)
        self.masks: dict[Any, np.ndarray] = {}  # filter masks, per filter and grades version

    def positions(self, token: str) -> tuple[np.ndarray, np.ndarray]:
        """Every (docnum, position) of ``token`` here, as two flat arrays (kept in the block
        cache: a phrase with a common word then needs no decoding)."""
        key = (self.offset, token, "positions")
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        ids, _, vs = self.postings(token, values=True)
        return self._keep_positions(token, ids, vs)

    def _keep_positions(
        self, token: str, ids: np.ndarray, vs: Sequence[bytes]
    ) -> tuple[np.ndarray, np.ndarray]:
        if not len(ids) or len(vs) != len(ids) or not isinstance(vs[0], bytes):
            return _NO_IDS, _NO_IDS
        counts = np.fromiter(map(len, vs), dtype=np.int64, count=len(vs)) // 4
        pos = np.frombuffer(b"".join(vs), dtype="<u4").astype(np.int32)
        docs = np.repeat(ids, counts)
        self.cache.put((self.offset, token, "positions"), docs, pos)
        return docs, pos

    def postings(
        self, token: str, values: bool = False
    ) -> tuple[np.ndarray, np.ndarray, Sequence[bytes]]:
        """(docnums, weights, encoded positions if ``values``) of ``token`` here."""
        if not values:
            hit = self.cache.get((self.offset, token))
            if hit is not None:
                return hit[0], hit[1], ()
        try:
            m = self.reader.postings("body", token)
        except TermNotFound:
            return _NO_IDS, _NO_WEIGHTS, ()
        if isinstance(m, FilterMatcher):  # deletions: read everything, drop them below
            m = m.child
            m.reset()
        # Positions come in the same unpickled blocks as docnums and weights: keep them too,
        # so a later phrase with this word decodes nothing again.
        ids_l, ws_l, vs = read_postings(m, True)
        ids = np.asarray(ids_l, dtype=np.int32)
        ws = np.asarray(ws_l, dtype=np.float32)
        if self.deleted.any() and len(ids):
            keep = ~self.deleted[ids]
            ids, ws = ids[keep], ws[keep]
            vs = [v for v, k in zip(vs, keep, strict=True) if k]
        self.cache.put((self.offset, token), ids, ws)
        if not values:
            self._keep_positions(token, ids, vs)
        return ids, ws, vs if values else ()


class _PostingCache:
    """Decoded posting lists (docnums and weights as arrays) of recently searched terms, up to
    :data:`POSTINGS_CACHED` postings in all, least recently used out first. Decoding is most
    of a common term's cost (Whoosh unpickles a block per 128 postings); this is an engine's
    block cache, not a result cache: every query is still evaluated and ranked."""

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.size = 0
        self.hits = self.misses = 0
        self._items: OrderedDict[Any, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> tuple[np.ndarray, np.ndarray] | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                self.misses += 1
                return None
            self.hits += 1
            self._items.move_to_end(key)
            return hit

    def put(self, key: Any, ids: np.ndarray, ws: np.ndarray) -> None:
        if len(ids) > self.budget // 4:
            return
        with self._lock:
            if key in self._items:
                return
            self._items[key] = (ids, ws)
            self.size += len(ids)
            while self.size > self.budget:
                _, (old, _) = self._items.popitem(last=False)
                self.size -= len(old)


_NO_IDS = np.zeros(0, dtype=np.int32)


_NO_WEIGHTS = np.zeros(0, dtype=np.float32)


def _read_keys(reader: Any, n: int) -> list[str]:
    if reader.has_column("key"):
        col = reader.column_reader("key", translate=False)
        try:  # one read of the whole column, then slices
            lengths = col._lengths
            blob = col._dbfile.get(col._basepos, sum(lengths))
            out, pos = [], 0
            for length in lengths:
                out.append(blob[pos : pos + length].decode("utf-8"))
                pos += length
            return out
        except AttributeError:
            pass
        return [
            k.decode("utf-8") if isinstance(k, bytes) else str(k)
            for k in reader.column_reader("key")
        ]
    return [str(reader.stored_fields(d).get("key", "")) for d in range(n)]


def _read_lengths(reader: Any, n: int) -> np.ndarray:
    """Body lengths of every document (Whoosh stores one byte per document)."""
    try:  # the raw column bytes: one vector operation instead of n lookups
        perdoc = reader._perdoc
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN

        col = perdoc._cached_reader("_body_len", LENGTHS_COLUMN)  # Whoosh's name for it
        raw = col._dbfile.get(col._basepos, n)
        return _LENGTH_OF_BYTE[np.frombuffer(raw, dtype=np.uint8)]
    except Exception:  # another codec: the public API
        return np.array(
            [reader.doc_field_length(d, "body", 0) or 0 for d in range(n)], dtype=np.float32
        )


def read_postings(m: Any, values: bool) -> tuple[list[int], list[float], list[bytes]]:
    """A whole posting list at once.

    Whoosh's matchers step one posting at a time (~1 µs each in Python); for Whoosh's own
    on-disk format this decodes a block (up to 128 postings) per step instead. Any other
    matcher is stepped through with the public API.
    """
    ids: list[int] = []
    ws: list[float] = []
    vs: list[bytes] = []
    if isinstance(m, W3LeafMatcher):
        while m.is_active():
            if m._data is None:
                m._read_data()
            data, n = m._data, m._blocklength
            ids.extend(itertools.accumulate(data[0]))  # the first id, then gaps
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


class _Facets:
    """The distinct facet values of a searcher, numbered: attribute tuples (type, kind,
    design, direction) and condition sets, each a column of few distinct values. Filters
    and facet counts work on these numbers with vector operations."""

    def __init__(self) -> None:
        self.attrs: list[tuple[str, str, str, str]] = []
        self.condsets: list[tuple[str, ...]] = []
        self._attr_ids: dict[bytes, int] = {}
        self._cond_ids: dict[bytes, int] = {}
        self.names: dict[str, list[str]] = {}
        self.codes: dict[str, np.ndarray] = {}
        self.conditions: list[str] = []
        self.pair_set = np.zeros(0, dtype=np.int64)  # (condition set id, condition code) pairs
        self.pair_condition = np.zeros(0, dtype=np.int64)

    def _attr_id(self, raw: bytes) -> int:
        i = self._attr_ids.get(raw)
        if i is None:
            i = self._attr_ids[raw] = len(self.attrs)
            self.attrs.append(parse_facets(raw))
        return i

    def _cond_id(self, raw: bytes) -> int:
        i = self._cond_ids.get(raw)
        if i is None:
            i = self._cond_ids[raw] = len(self.condsets)
            self.condsets.append(tuple(raw.decode("utf-8").split()))
        return i

    def read(self, reader: Any, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Per document of a segment: its attribute-tuple id and its condition-set id."""
        return (
            _read_refs(reader, "facets", n, self._attr_id),
            _read_refs(reader, "conds", n, self._cond_id),
        )

    def finish(self) -> None:
        """Build the per-attribute arrays once every segment is read."""
        for a, attr in enumerate(FACET_ATTRS):
            names: dict[str, int] = {}
            codes = [names.setdefault(t[a], len(names)) for t in self.attrs]
            self.names[attr] = list(names)
            self.codes[attr] = np.array(codes, dtype=np.int32)
        conds: dict[str, int] = {}
        ps, pc = [], []
        for i, cs in enumerate(self.condsets):
            for c in cs:
                ps.append(i)
                pc.append(conds.setdefault(c, len(conds)))
        self.conditions = list(conds)
        self.pair_set = np.array(ps, dtype=np.int64)
        self.pair_condition = np.array(pc, dtype=np.int64)

    def with_conditions(self, values: frozenset[str]) -> np.ndarray:
        """A boolean per condition-set id: does it hold one of ``values``."""
        codes = [i for i, c in enumerate(self.conditions) if c in values]
        out = np.zeros(len(self.condsets), dtype=bool)
        out[self.pair_set[np.isin(self.pair_condition, codes)]] = True
        return out

    def having(self, name: str, values: frozenset[str]) -> np.ndarray:
        """A boolean per attribute-tuple id: is its ``name`` one of ``values``."""
        codes = [i for i, v in enumerate(self.names[name]) if v in values]
        return np.isin(self.codes[name], codes)

    def count(self, per_attr: np.ndarray, per_set: np.ndarray) -> dict[str, dict[str, int]]:
        """Matches per kind, design and condition, from matches per attribute-tuple id and
        per condition-set id."""
        out: dict[str, dict[str, int]] = {}
        for attr in ("kind", "design"):
            sums = np.bincount(self.codes[attr], weights=per_attr, minlength=len(self.names[attr]))
            names = self.names[attr]
            out[attr] = {names[i]: int(sums[i]) for i in np.flatnonzero(sums) if names[i]}
        sums = np.bincount(
            self.pair_condition, weights=per_set[self.pair_set], minlength=len(self.conditions)
        )
        out["condition"] = {self.conditions[i]: int(sums[i]) for i in np.flatnonzero(sums)}
        return out


def _read_refs(reader: Any, column: str, n: int, number: Any) -> np.ndarray:
    """A RefBytes column as an array of ids (``number(raw)`` per distinct value)."""
    if not reader.has_column(column):
        return np.full(n, number(b""), dtype=np.int32)
    col = reader.column_reader(column, translate=False)
    try:  # an array of references into the column's short list of distinct values
        uniques = col._uniques
        refs = np.frombuffer(
            col._dbfile.get(col._basepos, n * col._itemsize), dtype=">" + col._typecode
        )
        mapping = np.array([number(u) for u in uniques] or [0], dtype=np.int32)
        return mapping[refs.astype(np.int64)]
    except AttributeError:  # another column type: value by value
        return np.fromiter((number(raw) for raw in col), dtype=np.int32, count=n)


@dataclass
class _Evidence:
    """Per segment, each document's evidence weight and grade (codes into ``grades``),
    computed from the knowledge base's grades in memory (``grades_ref``: the grades object
    they reflect)."""

    records: int  # the knowledge base's records_generation (unique across knowledge bases)
    grades_ref: Any
    weight: list[np.ndarray]
    grade: list[np.ndarray]
    grades: list[str]
    starts: dict[str, int] = field(default_factory=dict)  # per reference, its design's start
    keys: list[list[str]] = field(default_factory=list)  # per segment, each document's key
    _claim_doc: dict[str, tuple[int, int]] | None = None

    @property
    def claim_doc(self) -> dict[str, tuple[int, int]]:
        """(segment, document) of each claim; built at the first edit, not at the first
        search (a tenth of a second at 100k claims)."""
        if self._claim_doc is None:
            self._claim_doc = {
                key[6:]: (s, d)
                for s, keys in enumerate(self.keys)
                for d, key in enumerate(keys)
                if key.startswith("claim:")
            }
        return self._claim_doc


@dataclass
class OpenSearcher:
    """One open Whoosh searcher with what every search needs from it, computed once."""

    searcher: Any
    segments: list[_Segment]
    facets: _Facets
    postings: _PostingCache
    evidence: _Evidence | None = None

    @classmethod
    def open(cls, searcher: Any) -> OpenSearcher:
        facets = _Facets()
        cache = _PostingCache(POSTINGS_CACHED)
        avgfl = searcher.avg_field_length("body") or 1.0
        segments = [
            _Segment(sub.reader(), offset, facets, avgfl, cache)
            for sub, offset in searcher.leaf_searchers()
        ]
        facets.finish()
        return cls(searcher, segments, facets, cache)

    def stored_key(self, docnum: int) -> str:
        for seg in reversed(self.segments):
            if docnum >= seg.offset:
                return seg.keys[docnum - seg.offset]
        return ""

    def evidence_for(self, kb: KnowledgeBase) -> _Evidence:
        """Evidence weights and grades for ``kb``'s current grades: kept while the grades are
        the same object, updated for just the re-graded claims after an editorial decision
        (:meth:`kb.KnowledgeBase.regrade`), rebuilt otherwise."""
        grades = kb.grades
        ev = self.evidence
        if ev is not None and ev.records == kb.records_generation:
            if ev.grades_ref is grades:
                return ev
            changed = kb.regraded_since(ev.grades_ref)
            if changed is not None:
                _update_evidence(kb, ev, grades, changed)
                ev.grades_ref = grades
                return ev
        self.evidence = ev = _build_evidence(kb, self.segments)
        return ev


DESIGNS_CACHE = "search.designs"  # kb.cache name of reference_designs (a snapshot seeds it)


def reference_designs(kb: KnowledgeBase) -> dict[str, str]:
    """Per reference id, the design it is graded as (:func:`kb.evidence.design_of`, with the
    dossier's corrections): checking 20k appraisals takes a second at 100k claims, so the
    result is kept per knowledge-base generation and a snapshot (:mod:`kb.snapshot`) carries
    it from the process that wrote it."""
    from ..evidence import design_of

    return kb.cache(
        DESIGNS_CACHE, lambda kb: {rid: design_of(ref) for rid, ref in kb.references.items()}
    )


def _design_starts(kb: KnowledgeBase) -> dict[str, int]:
    """Per reference, the certainty its design starts from (with the dossier's corrections)."""
    from ..evidence import DESIGNS

    other = DESIGNS["secondary-summary"]
    return {rid: DESIGNS.get(d, other)[0] for rid, d in reference_designs(kb).items()}


def _claim_weight(grade: Any, starts: dict[str, int]) -> float:
    """The evidence weight: the start of the design the claim rests on (not the grade's start,
    which role lowers), and the final grade ("Not graded" counts as Very low)."""
    from .document import evidence_weight

    start = starts.get(grade.basis_ref, 1) if grade.basis_ref else 1
    return evidence_weight(start, max(int(grade.level), 1))


def _build_evidence(kb: KnowledgeBase, segments: list[_Segment]) -> _Evidence:
    from ..evidence import GRADE_ORDER
    from .document import evidence_weight

    names = list(GRADE_ORDER)
    code = {g: i for i, g in enumerate(names)}
    grades = kb.grades
    starts = _design_starts(kb)
    # Few distinct (weight, grade code) pairs: each document gets the index of its pair, and
    # numpy turns the indexes into arrays (120k tuples through numpy took most of a second).
    pairs: list[tuple[float, int]] = [(0.6, 255)]  # 0: a claim without a grade, or unknown
    slot: dict[tuple[float, int], int] = {pairs[0]: 0}

    def slot_of(pair: tuple[float, int]) -> int:
        if pair not in slot:
            slot[pair] = len(pairs)
            pairs.append(pair)
        return slot[pair]

    combo: dict[tuple[int, int, str], int] = {}
    per_claim: dict[str, int] = {}
    for cid, gr in grades.items():
        ck = (starts.get(gr.basis_ref or "", 1), gr.level, gr.grade)
        at = combo.get(ck)
        if at is None:
            if gr.grade not in code:
                code[gr.grade] = len(names)
                names.append(gr.grade)
            at = combo[ck] = slot_of((_claim_weight(gr, starts), code[gr.grade]))
        per_claim[cid] = at
    # a reference by its own design
    per_ref = {rid: slot_of((evidence_weight(s, s), 255)) for rid, s in starts.items()}
    weights, gcodes = [], []
    for seg in segments:
        at_doc = [
            per_claim.get(key[6:], 0) if key.startswith("claim:") else per_ref.get(key[10:], 0)
            for key in seg.keys
        ]
        index = np.array(at_doc, dtype=np.intp)
        weights.append(np.array([w for w, _ in pairs], dtype=np.float32)[index])
        gcodes.append(np.array([c for _, c in pairs], dtype=np.uint8)[index])
    return _Evidence(
        kb.records_generation,
        grades,
        weights,
        gcodes,
        names,
        starts,
        [seg.keys for seg in segments],
    )


def _update_evidence(
    kb: KnowledgeBase, ev: _Evidence, grades: dict[str, Any], changed: Sequence[str]
) -> None:
    """Only the claims whose grade changed: their weight and grade code."""
    starts = ev.starts
    for cid in changed:
        where = ev.claim_doc.get(cid)
        gr = grades.get(cid)
        if where is None or gr is None:
            continue
        s, d = where
        ev.weight[s][d] = _claim_weight(gr, starts)
        if gr.grade not in ev.grades:
            ev.grades.append(gr.grade)
        ev.grade[s][d] = ev.grades.index(gr.grade)


class _Timeout(Exception):
    pass


class _Match:
    """A node's result over one segment: dense score and match mask."""

    __slots__ = ("coord", "mask", "score")

    def __init__(self, score: np.ndarray, mask: np.ndarray, coord: np.ndarray) -> None:
        self.score, self.mask, self.coord = score, mask, coord


class SearchRun:
    """The work of one search: evaluate the query over each segment, rank, count."""

    def __init__(
        self,
        state: OpenSearcher,
        vocab: Vocabulary,
        parsed: ParsedQuery,
        deadline: float,
        evidence: _Evidence | None = None,
    ) -> None:
        self.state, self.vocab, self.parsed, self.deadline = state, vocab, parsed, deadline
        self.searcher = state.searcher
        self.reader = state.searcher.reader()
        self.evidence = evidence
        self.marks: set[str] = set()  # stems and concept tokens to highlight
        self.warnings: list[str] = []
        self.expansions: dict[Leaf, list[str]] = {}
        self.doc_count = max(self.searcher.doc_count(), 1)
        self._df: dict[str, int] = {}
        self.tier_conditions = self._named_conditions()

    # -- what the query asks for ------------------------------------------------------------
    def _named_conditions(self) -> frozenset[str]:
        out: set[str] = set()
        for leaf in self.parsed.leaves():
            if leaf.kind == "concept":
                concept = self.vocab.concepts.get(leaf.value[0][len(CONCEPT_PREFIX) :])
                if concept is not None:
                    out |= concept.links.get("conditions", set())
        return frozenset(out)

    def df(self, token: str) -> int:
        if token not in self._df:
            self._df[token] = self.reader.doc_frequency("body", token)
        return self._df[token]

    def is_weak(self, leaf: Tree) -> bool:
        """A term that adds to the score but, beside others, makes no document a hit."""
        if not isinstance(leaf, Leaf) or leaf.kind not in ("word", "concept"):
            return False
        token = leaf.value[0]
        return self.df(token) > COMMON_FRACTION * self.doc_count or bool(_YEAR.match(token))

    # -- the run ----------------------------------------------------------------------------
    def execute(
        self, keep: Any, drop: Any, top: int
    ) -> tuple[list[tuple[float, int]], int, dict[str, np.ndarray]]:
        """(top hits as (score, global docnum), total, matched counts per facet id and per
        grade code)."""
        state = self.state
        facets = state.facets
        ev = self.evidence
        cand_scores: list[np.ndarray] = []
        cand_keys: list[np.ndarray] = []
        cand_docs: list[np.ndarray] = []
        total = 0
        per_attr = np.zeros(len(facets.attrs), dtype=np.int64)
        per_set = np.zeros(len(facets.condsets), dtype=np.int64)
        per_grade = np.zeros(256, dtype=np.int64)
        tier_ok = facets.with_conditions(self.tier_conditions) if self.tier_conditions else None
        try:
            for s, seg in enumerate(state.segments):
                gcode = ev.grade[s] if ev is not None else None
                names = ev.grades if ev is not None else []
                mask = ~seg.deleted
                if keep is not None:
                    mask &= _filter_mask(seg, facets, keep, gcode, names, exclude=False)
                if drop is not None:
                    mask &= ~_filter_mask(seg, facets, drop, gcode, names, exclude=True)
                for tree in self.parsed.exclude:
                    mask &= ~self.evaluate(seg, tree).mask
                if self.parsed.tree is None:  # filters only: list by evidence weight
                    score = np.ones(seg.n, dtype=np.float32)
                else:
                    m = self.evaluate(seg, self.parsed.tree)
                    mask &= m.mask
                    score = m.score * m.coord
                docs = np.flatnonzero(mask)
                if not len(docs):
                    continue
                total += len(docs)
                per_attr += np.bincount(seg.attr_id[docs], minlength=len(per_attr))
                per_set += np.bincount(seg.cond_id[docs], minlength=len(per_set))
                if gcode is not None:
                    per_grade += np.bincount(gcode[docs], minlength=256)
                final = score[docs]
                if ev is not None:
                    final = final * ev.weight[s][docs]
                key = final.astype(np.float64)
                if tier_ok is not None:
                    key = key + tier_ok[seg.cond_id[docs]] * 1e6
                if len(docs) > top:
                    part = np.argpartition(-key, top - 1)[:top]
                    docs, final, key = docs[part], final[part], key[part]
                cand_docs.append(docs + seg.offset)
                cand_scores.append(final)
                cand_keys.append(key)
        except _Timeout:
            self.warnings.append(
                "the search took too long and was cut short; results are "
                "incomplete — try more specific words"
            )
        for tree in [self.parsed.tree] if self.parsed.tree is not None else []:
            self.collect_marks(tree)
        if not cand_docs:
            return [], total, {"attr": per_attr, "set": per_set, "grade": per_grade}
        docs = np.concatenate(cand_docs)
        scores = np.concatenate(cand_scores)
        keys = np.concatenate(cand_keys)
        # best first; ties: the lower docnum (earlier in the data) first
        order = np.lexsort((docs, -np.round(keys, 6)))[:top]
        hits = [(float(scores[i]), int(docs[i])) for i in order]
        return hits, total, {"attr": per_attr, "set": per_set, "grade": per_grade}

    # evaluating the query tree over one segment
    def evaluate(self, seg: _Segment, node: Tree) -> _Match:
        n = seg.n
        if isinstance(node, Node):
            if node.op == "and":
                parts = [self.evaluate(seg, c) for c in node.children]
                mask = parts[0].mask.copy()
                score = parts[0].score.copy()
                coord = parts[0].coord.copy()
                for p in parts[1:]:
                    mask &= p.mask
                    score += p.score
                    coord = np.minimum(coord, p.coord)
                score *= mask
                return _Match(score, mask, coord)
            score = np.zeros(n, dtype=np.float32)
            mask = np.zeros(n, dtype=bool)
            count = np.zeros(n, dtype=np.float32)
            weak = [self.is_weak(c) for c in node.children]
            narrowing = not all(weak)
            for child, is_weak in zip(node.children, weak, strict=True):
                if isinstance(child, Leaf) and child.kind in ("word", "concept", "literal"):
                    ids, s = self.term(seg, child.value[0])
                    if len(ids):
                        score[ids] += s
                        count[ids] += 1
                        if not (is_weak and narrowing):
                            mask[ids] = True
                    continue
                m = self.evaluate(seg, child)
                score += m.score
                count += m.mask
                if not (is_weak and narrowing):
                    mask |= m.mask
            coord = count / len(node.children)
            return _Match(score, mask, coord)
        if node.kind == "phrase":
            ids, s = self.phrase(seg, node.value)
        elif node.kind in ("prefix", "fuzzy"):
            sub = Node("or", tuple(Leaf("word", (t,), t) for t in self.expand(node)))
            if not sub.children:
                ids, s = _NO_IDS, _NO_WEIGHTS
            else:
                m = self.evaluate(seg, sub)
                return _Match(m.score, m.mask, m.mask.astype(np.float32))
        else:
            ids, s = self.term(seg, node.value[0])
        score = np.zeros(n, dtype=np.float32)
        mask = np.zeros(n, dtype=bool)
        score[ids] = s
        mask[ids] = True
        return _Match(score, mask, mask.astype(np.float32))

    def _check(self) -> None:
        if time.monotonic() > self.deadline:
            raise _Timeout

    def term(self, seg: _Segment, token: str) -> tuple[np.ndarray, np.ndarray]:
        """(local docnums, BM25F score before the evidence weight) of ``token``."""
        self._check()
        ids, ws, _ = seg.postings(token)
        if not len(ids):
            return _NO_IDS, _NO_WEIGHTS
        idf = self.searcher.idf("body", token) * (BM25_K1 + 1)
        return ids, (idf * ws / (ws + seg.norm[ids])).astype(np.float32)

    def phrase(self, seg: _Segment, stems_: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """Documents with the stems at consecutive positions; score = sum of term scores.

        Each word's postings become keys ``docnum << 24 | (position - offset in phrase)``;
        the phrase occurs where every word has the same key, so one set intersection (in C)
        replaces a position-by-position check per candidate document.
        """
        self._check()
        lists = [seg.postings(s) for s in stems_]
        if any(not len(ids) for ids, _, _ in lists):
            return _NO_IDS, _NO_WEIGHTS
        cand = lists[0][0]
        for ids, _, _ in lists[1:]:
            cand = np.intersect1d(cand, ids, assume_unique=True)
        if not len(cand):
            return _NO_IDS, _NO_WEIGHTS
        n = len(lists)
        common: np.ndarray | None = None
        for k, s in enumerate(stems_):
            self._check()
            docs, pos = seg.positions(s)
            keep = np.isin(docs, cand, assume_unique=False)
            # the phrase occurs where every word's (doc, position - its place) key coincides
            keys = (docs[keep].astype(np.int64) << 24) + pos[keep] + (n - k)
            common = keys if common is None else np.intersect1d(common, keys)
            if not len(common):
                return _NO_IDS, _NO_WEIGHTS
        assert common is not None
        found = np.unique(common >> 24)
        if not len(found):
            return _NO_IDS, _NO_WEIGHTS
        out = np.zeros(len(found), dtype=np.float32)
        for s, (ids, ws, _) in zip(stems_, lists, strict=True):
            idf = self.searcher.idf("body", s) * (BM25_K1 + 1)
            pos = np.searchsorted(ids, found)
            w = ws[pos]
            out += idf * w / (w + seg.norm[found])
        return found, out

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
                (edit_distance(t, leaf.value[0]), t)
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


def _filter_mask(
    seg: _Segment,
    facets: _Facets,
    flt: Any,
    gcode: np.ndarray | None,
    names: list[str],
    *,
    exclude: bool,
) -> np.ndarray:
    """Documents of ``seg`` passing a filter: its facet values (a mask kept per segment and
    filter) and its grades (read from the in-memory grades); with ``exclude``, the documents
    any part of the filter names."""
    key, wanted, grades = flt
    ok = seg.masks.get(key)
    if ok is None and wanted:
        parts = [
            facets.with_conditions(values)[seg.cond_id]
            if name == "condition"
            else facets.having(name, values)[seg.attr_id]
            for name, values in wanted.items()
        ]
        ok = seg.masks[key] = (
            np.logical_or.reduce(parts) if exclude else np.logical_and.reduce(parts)
        )
    if grades is not None:
        codes = [i for i, g in enumerate(names) if g in grades]
        by_grade: np.ndarray = (
            np.asarray(np.isin(gcode, codes), dtype=bool)
            if gcode is not None
            else np.zeros(seg.n, dtype=bool)
        )
        if ok is None:
            return by_grade
        both: np.ndarray = (ok | by_grade) if exclude else (ok & by_grade)
        return both
    if ok is None:
        return np.zeros(seg.n, dtype=bool) if exclude else np.ones(seg.n, dtype=bool)
    return ok


def edit_distance(a: str, b: str) -> int:
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
