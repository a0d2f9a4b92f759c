"""Full-text search over claims and references, on a Whoosh index, ranked with the evidence.

The index
---------
One Whoosh index (2.7 API) in an index directory outside ``data/`` holds one document per
claim and per reference. It stores only what a result needs to be found again — the key
(``claim:<id>`` / ``reference:<id>``) and a content hash — plus a small facet column (type,
kind, grade, design, direction, conditions, evidence weight). Everything shown comes from the
:class:`~kb.KnowledgeBase` in memory.

It is built on first use and brought up to date whenever the data differ: a fingerprint of the
claims, references, conditions, grades and vocabulary is kept next to the index; when it
changes, every document's hash is compared and only changed documents are rewritten (deleted
ones removed). One process writes at a time (a lock with a timeout); readers keep searching the
last committed index meanwhile, and a process that cannot get the lock searches that index too
and says so.

What a claim document holds (one ``body`` field, each part with a weight; see
:mod:`kb.vocab.concepts` for words and concepts): the claim text (weight 1), its plain-language
text (0.5), its numbers with units — the headline value and the reported numbers (0.5) — the
concepts of its kind, intervention and conditions (0.5), and at 0.25 the conditions above them
("neuropathic pain" finds CRPS claims), the design of the study it rests on and the label of
each cited reference (authors, year, journal). Grade and direction are filters and facets. A
reference document holds its title (1), its DOI, PMID and PMCID (1), authors, journal and year
(0.5), and the concepts of its conditions and design.

Ranking
-------
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
the matching documents by evidence weight.

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
Queries are parsed by :mod:`kb.vocab.query` (bounded length, terms and nesting; no leading
wildcards; wildcards and fuzzy terms expand to at most :data:`MAX_EXPANSIONS` index terms, at
edit distance at most 2). Each search has a deadline (:data:`TIME_LIMIT`), checked like
Whoosh's ``TimeLimitCollector`` checks its flag, but per posting list and per thousand phrase
candidates rather than per document; a search past it stops and returns what it has, with a
warning.
"""

from __future__ import annotations

import fnmatch
import functools
import gc
import hashlib
import heapq
import itertools
import os
import re
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import columns, fields, formats, index
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util.filelock import FileLock
from whoosh.writing import CLEAR, LockError

from . import evidence as evidence_mod
from . import shapes
from .claims import KINDS
from .errors import InvalidQuery, KBError
from .storage import load_json, write_json_atomic
from .vocab.concepts import CONCEPT_PREFIX, WORD, Vocabulary, stem
from .vocab.query import Leaf, Node, ParsedQuery, Tree, parse, resolve_filters

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

SCHEMA_VERSION = 1
STATE_FILE = "kb-search.json"
SYNC_LOCK = "KB_SYNC"
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_RESULTS = 1000          # page × limit: deeper pages are refused
MAX_EXPANSIONS = 50         # index terms one wildcard or fuzzy term may expand to
TIME_LIMIT = 2.0            # seconds of scoring and counting per search
LOCK_TIMEOUT = 30.0         # seconds to wait for another process's index update
PARALLEL_MIN = 20_000       # build with two processes from this many documents
BM25_B, BM25_K1 = 0.75, 1.2  # Whoosh's BM25F defaults
FACETS = ("kind", "condition", "grade", "design")

_SECTION, _BOOST, _FACET = "\x1e", "\x1f", "\x1f"
_SECTION_GAP = 16  # positions between parts, so a phrase never spans two
_ONE_MAX = 1024
_ONE_POSITION = [struct.pack("<I", i) for i in range(_ONE_MAX)]  # most tokens occur once


class IndexBusy(KBError):
    """The search index does not exist yet and another process is still building it."""


# -- schema -------------------------------------------------------------------------------
class _BodyFormat(formats.Positions):
    """Positions, for values that arrive already analysed (see :func:`_body`).

    A value is parts joined by ``\\x1e``; each part is ``<weight>\\x1f<tokens>``. A token's
    weight adds up across parts; concept tokens (``§…``) take no position of their own.
    Positions are stored as plain little-endian integers (Whoosh pickles them, which is
    several times slower to write and to read back for phrases).
    """

    def word_values(self, value: str, analyzer: Any, **kwargs: Any) -> Iterator[Any]:
        for tok, freq, weight, vbytes in self.postings(value):
            yield tok.decode("utf-8"), freq, weight, vbytes

    def postings(self, value: str) -> list[tuple[bytes, int, float, bytes]]:
        """``(token bytes, frequency, weight, encoded positions)`` per distinct token (the
        indexing hot path: one pass, no generators)."""
        poses: dict[str, list[int]] = {}
        weights: dict[str, float] = {}
        pos = 0
        for part in value.split(_SECTION):
            boost, _, tokens = part.partition(_BOOST)
            weight = float(boost)
            for tok in tokens.split():
                if tok[0] == CONCEPT_PREFIX:
                    p = pos - 1 if pos else 0
                else:
                    p = pos
                    pos += 1
                plist = poses.get(tok)
                if plist is None:
                    poses[tok] = [p]
                    weights[tok] = weight
                else:
                    plist.append(p)
                    weights[tok] += weight
            pos += _SECTION_GAP
        one, encode = _ONE_POSITION, self.encode
        return [(tok.encode("utf-8"), len(plist), weights[tok],
                 one[plist[0]] if len(plist) == 1 and plist[0] < _ONE_MAX else encode(plist))
                for tok, plist in poses.items()]

    def encode(self, poslist: Sequence[int]) -> bytes:
        return struct.pack(f"<{len(poslist)}I", *poslist)

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return list(struct.unpack(f"<{len(valuestring) // 4}I", valuestring))

    def decode_frequency(self, valuestring: bytes) -> int:
        return len(valuestring) // 4

    def decode_weight(self, valuestring: bytes) -> float:
        return float(len(valuestring) // 4)

    def decode_position_boosts(self, valuestring: bytes) -> list[tuple[int, float]]:
        return [(p, 1.0) for p in self.decode_positions(valuestring)]

    def combine(self, vs: Iterable[bytes]) -> bytes:
        return self.encode(sorted({p for v in vs for p in self.decode_positions(v)}))


class _BodyField(fields.TEXT):
    def __init__(self) -> None:
        super().__init__(analyzer=SpaceSeparatedTokenizer(), phrase=True)
        self.format = _BodyFormat()

    def index(self, value: Any, **kwargs: Any) -> list[tuple[bytes, int, float, bytes]]:
        return self.format.postings(value)


class _Codec(W3Codec):
    """Whoosh's codec, without per-document length statistics and without compression.

    Whoosh looks up every posting's document length while writing, to bound scores per block
    for block skipping; that lookup was a fifth of build time, and :class:`_Run` scores whole
    posting lists rather than skipping blocks. Uncompressed blocks (about twice the size on
    disk) save a zlib call per 128 postings read.
    """

    length_stats = False

    def __init__(self) -> None:
        super().__init__(compression=0)


def _schema() -> fields.Schema:
    return fields.Schema(
        key=fields.ID(stored=True, unique=True),
        hash=fields.STORED(),
        body=_BodyField(),
        spell=fields.KEYWORD(scorable=False),  # words as written, for "did you mean"
        facets=fields.COLUMN(columns.RefBytesColumn()),
    )


# -- documents ----------------------------------------------------------------------------
def evidence_weight(start: int, grade: int) -> float:
    """The ranking multiplier of the module docstring (0.6 … 1.0)."""
    return round(0.6 + 0.25 * (start - 1) / 3 + 0.15 * (grade - 1) / 3, 4)


@dataclass
class _Doc:
    key: str
    body: str
    facets: bytes
    spell: list[str]
    hash: str = ""

    def __post_init__(self) -> None:
        digest = hashlib.sha1(self.body.encode("utf-8") + b"\0" + self.facets)
        self.hash = digest.hexdigest()[:20]


def _body(parts: Iterable[tuple[float, str]]) -> str:
    return _SECTION.join(f"{w:g}{_BOOST}{toks}" for w, toks in parts if toks)


def _spellable(*texts: str | None) -> list[str]:
    """Distinct words of four letters or more, lower-cased: the "did you mean" vocabulary."""
    return list(dict.fromkeys(w for t in texts if t for w in WORD.findall(t.lower())
                              if len(w) >= 4 and w.isalpha()))


def _facet_bytes(*values: str) -> bytes:
    return _FACET.join(values).encode("utf-8")


def _claim_doc(kb: KnowledgeBase, vocab: Vocabulary, cid: str, labels: dict[str, str],
               analyze_meta: Any) -> _Doc:
    claim = kb.claims[cid]
    grade = kb.grades[cid]
    source = evidence_mod.evidence_source(kb, claim)
    design = source.design if source else ""
    start = evidence_mod.DESIGNS.get(design, evidence_mod.DESIGNS["secondary-summary"])[0] \
        if source else 1
    direct = list(claim.conditions)
    above = sorted(kb.conditions.with_ancestors(direct) - set(direct))
    linked = vocab.linked
    numbers = [claim.value_text or "", (claim.value or {}).get("as_stated", "")]
    numbers += [v for v in claim.record.get("reported_numbers", {}).values()
                if isinstance(v, (str, int, float)) and not isinstance(v, bool)]
    main_meta = [t for c in direct for t in linked("conditions", c)]
    main_meta += linked("kinds", claim.kind) + linked("interventions", claim.intervention)
    side_meta = [t for c in above for t in linked("conditions", c)]
    side_meta += linked("designs", design) if design else []
    side_text = " ".join(labels[r] for r in claim.cited_refs)
    text_words = WORD.findall(claim.text.lower())
    plain_words = WORD.findall(claim.plain_text.lower()) if claim.plain_text else []
    body = _body([
        (1.0, vocab.analyze(claim.text, text_words)),
        (0.5, vocab.analyze("", plain_words)),
        (0.5, analyze_meta(" ".join(str(n) for n in numbers))),
        (0.5, " ".join(main_meta)),
        (0.25, " ".join(side_meta) + " " + analyze_meta(side_text)),
    ])
    facets = _facet_bytes("claim", claim.kind, grade.grade, design, claim.direction,
                          " ".join(sorted(kb.conditions.with_ancestors(direct))),
                          f"{evidence_weight(start, grade.level):g}")
    spell = list(dict.fromkeys(w for w in text_words + plain_words
                               if len(w) >= 4 and w.isalpha()))
    return _Doc(f"claim:{cid}", body, facets, spell)


def _ref_label(kb: KnowledgeBase, rid: str) -> str:
    csl = kb.references[rid].csl
    names = [a.get("family") or a.get("literal") or "" for a in (csl.get("author") or [])[:3]]
    year = kb.references[rid].year
    return " ".join([*names, str(year or ""), csl.get("container-title") or
                     csl.get("publisher") or ""])


def _reference_doc(kb: KnowledgeBase, vocab: Vocabulary, rid: str) -> _Doc:
    ref = kb.references[rid]
    csl = ref.csl
    start = evidence_mod.DESIGNS.get(ref.design, evidence_mod.DESIGNS["secondary-summary"])[0]
    conds = sorted(kb.conditions.with_ancestors(c for c in ref.condition_ids
                                                if c in kb.conditions))
    authors = " ".join(" ".join(filter(None, (a.get("given"), a.get("family"), a.get("literal"))))
                       for a in csl.get("author") or [])
    literal = [f"doi:{ref.doi.lower()}" if ref.doi else "", ref.pmid or "",
               (ref.pmcid or "").lower()]
    meta = [t for c in conds for t in vocab.linked("conditions", c)]
    meta += vocab.linked("designs", ref.design)
    body = _body([
        (1.0, vocab.analyze(ref.title)),
        (1.0, " ".join(x for x in literal if x.isprintable() and " " not in x)),
        (0.5, vocab.analyze(" ".join([authors, csl.get("container-title") or "",
                                      ref.publisher or "", str(ref.year or "")]))),
        (0.25, " ".join(meta)),
    ])
    facets = _facet_bytes("reference", "", "", ref.design, "", " ".join(conds),
                          f"{evidence_weight(start, start):g}")
    return _Doc(f"reference:{rid}", body, facets, _spellable(ref.title))


def build_vocabulary(kb: KnowledgeBase) -> Vocabulary:
    """The concepts for ``kb``: synonyms.json plus its conditions, kinds, interventions and
    designs."""
    return Vocabulary.build(kb.conditions, kinds=KINDS,
                            interventions={c.intervention for c in kb.claims.values()},
                            designs=evidence_mod.DESIGNS)


def documents(kb: KnowledgeBase, vocab: Vocabulary) -> Iterator[_Doc]:
    """Every document of ``kb``'s index: claims, then references."""
    labels = {rid: _ref_label(kb, rid) for rid in kb.references}
    analyze_meta = functools.lru_cache(maxsize=1 << 16)(vocab.analyze)  # labels repeat a lot
    for cid in kb.claims:
        yield _claim_doc(kb, vocab, cid, labels, analyze_meta)
    for rid in kb.references:
        yield _reference_doc(kb, vocab, rid)


def fingerprint(kb: KnowledgeBase, vocab: Vocabulary) -> str:
    """A digest of everything the index is built from (compared before any per-document work)."""
    h = hashlib.sha1(f"v{SCHEMA_VERSION}|{vocab.signature}|".encode())
    h.update(repr([c.record for c in kb.claims.values()]).encode())
    h.update(repr([r.csl for r in kb.references.values()]).encode())
    h.update(repr(kb.conditions.to_records()).encode())
    h.update(repr([(k, g.level) for k, g in kb.grades.items()]).encode())
    return h.hexdigest()


# -- per-searcher state -------------------------------------------------------------------
@dataclass(frozen=True)
class _Facet:
    type: str
    kind: str
    grade: str
    design: str
    direction: str
    conditions: tuple[str, ...]
    weight: float

    @classmethod
    def parse(cls, raw: bytes) -> _Facet:
        parts = raw.decode("utf-8").split(_FACET) if raw else []
        if len(parts) != 7:
            return cls("", "", "", "", "", (), 0.0)
        t, k, g, d, r, c, w = parts
        return cls(t, k, g, d, r, tuple(c.split()), float(w))


class _Segment:
    """One index segment with its per-document arrays: facets, evidence weight and the BM25
    length norm (read once per searcher; everything a search touches per posting)."""

    def __init__(self, reader: Any, offset: int, facet: dict[bytes, _Facet], avgfl: float
                 ) -> None:
        self.reader, self.offset = reader, offset
        n = reader.doc_count_all()
        self.values: list[bytes] = list(reader.column_reader("facets")) \
            if reader.has_column("facets") else [b""] * n
        for raw in set(self.values):
            if raw not in facet:
                facet[raw] = _Facet.parse(raw)
        self.weights = [facet[raw].weight for raw in self.values]
        self.deleted = frozenset(d for d in range(n) if reader.is_deleted(d)) \
            if reader.has_deletions() else frozenset()
        length = reader.doc_field_length
        k1, b = BM25_K1, BM25_B
        self.norm = [k1 * ((1 - b) + b * (length(d, "body", 0) or 0) / avgfl) for d in range(n)]
        self.allowed: dict[Any, set[int]] = {}

    def postings(self, token: str, values: bool = False
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
        segments = [_Segment(sub.reader(), offset, facet, avgfl)
                    for sub, offset in searcher.leaf_searchers()]
        return cls(searcher, segments, facet)

    def stored_key(self, docnum: int) -> str:
        return str(self.searcher.stored_fields(docnum).get("key", ""))


# -- sync ---------------------------------------------------------------------------------
@dataclass
class SyncReport:
    """What the last update of the index did."""

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    rebuilt: bool = False
    seconds: float = 0.0
    documents: int = 0
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"added": self.added, "updated": self.updated, "deleted": self.deleted,
                "unchanged": self.unchanged, "rebuilt": self.rebuilt,
                "documents": self.documents, "seconds": round(self.seconds, 3),
                "note": self.note}


def default_index_dir(data_dir: str | os.PathLike[str]) -> Path:
    """``<data_dir>/../instance/index``: next to the data, never inside it."""
    return Path(data_dir).absolute().parent / "instance" / "index"


class SearchIndex:
    """The search index of one index directory: sync with a knowledge base, then search.

    Thread-safe (searches are serialised: Whoosh readers share file handles); any number of
    processes may open the same directory.
    """

    def __init__(self, index_dir: str | os.PathLike[str], *, lock_timeout: float = LOCK_TIMEOUT,
                 time_limit: float = TIME_LIMIT) -> None:
        self.index_dir = Path(index_dir)
        self.lock_timeout = lock_timeout
        self.time_limit = time_limit
        self.last_sync = SyncReport()
        self._lock = threading.RLock()
        self._state: _Searcher | None = None
        self._vocab: Vocabulary | None = None
        self._synced: tuple[int, int] | None = None
        self._fp = ""
        self._stale = False

    # -- keeping the index in step with the data ------------------------------------------
    def ensure(self, kb: KnowledgeBase) -> None:
        """Make sure the index reflects ``kb`` (cheap when nothing changed since last time).

        Changes are noticed per knowledge-base object and grading (a reloaded or re-graded
        knowledge base is checked again); after editing records in place call :meth:`sync`.
        """
        with self._lock:
            if (id(kb), id(kb.grades)) != self._synced:
                self.sync(kb)
            elif self._stale:  # another process was updating: has it finished?
                self._catch_up(kb)

    def _catch_up(self, kb: KnowledgeBase) -> None:
        if self._state_matches(self._fp):
            self._stale, self.last_sync.note = False, None
            return
        lock = self._acquire(timeout=0.0)
        if lock is not None:
            try:
                assert self._vocab is not None
                self.last_sync = self._update(kb, self._vocab, self._fp, rebuild=False)
                self._stale = False
                self.close()
            finally:
                lock.release()

    def sync(self, kb: KnowledgeBase, *, rebuild: bool = False) -> SyncReport:
        """Bring the index up to date with ``kb``: build it, or rewrite only changed documents.

        With ``rebuild`` every document is rewritten. Waits up to ``lock_timeout`` seconds for
        another process's update; after that, searches the last committed index (if there is
        one) and says so in :attr:`last_sync`, else raises :class:`IndexBusy`.
        """
        with self._lock:
            started = time.perf_counter()
            vocab = build_vocabulary(kb)
            fp = fingerprint(kb, vocab)
            self._vocab, self._fp = vocab, fp
            report = SyncReport()
            if not rebuild and self._state_matches(fp):
                report.unchanged = report.documents = self._open().searcher.doc_count()
            else:
                lock = self._acquire()
                if lock is None:
                    if not index.exists_in(self.index_dir):
                        raise IndexBusy(f"the search index in {self.index_dir} is being built "
                                        "by another process; try again shortly")
                    report.note = ("another process is updating the search index; "
                                   "results may be out of date")
                    self._stale = True
                else:
                    try:
                        if rebuild or not self._state_matches(fp):
                            report = self._update(kb, vocab, fp, rebuild=rebuild)
                            self.close()
                        self._stale = False
                    finally:
                        lock.release()
                report.documents = self._open().searcher.doc_count()
            report.seconds = time.perf_counter() - started
            self.last_sync = report
            self._synced = (id(kb), id(kb.grades))
            return report

    def _state_matches(self, fp: str) -> bool:
        try:
            state = load_json(self.index_dir / STATE_FILE)
        except KBError:
            return False
        return (isinstance(state, dict) and state.get("fingerprint") == fp
                and state.get("version") == SCHEMA_VERSION and index.exists_in(self.index_dir))

    def _acquire(self, timeout: float | None = None) -> FileLock | None:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.index_dir / SYNC_LOCK))
        deadline = time.monotonic() + (self.lock_timeout if timeout is None else timeout)
        while not lock.acquire(blocking=False):
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)
        return lock

    def _update(self, kb: KnowledgeBase, vocab: Vocabulary, fp: str, *,
                rebuild: bool) -> SyncReport:
        # Millions of small, acyclic objects: the cyclic collector would rescan them over and
        # over (superlinear), so it is paused for the update.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._update_unpaused(kb, vocab, fp, rebuild=rebuild)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _update_unpaused(self, kb: KnowledgeBase, vocab: Vocabulary, fp: str, *,
                         rebuild: bool) -> SyncReport:
        report = SyncReport()
        total = len(kb.claims) + len(kb.references)
        ix = self._open_index()
        if ix is None or rebuild:
            report.rebuilt = True
            report.added = total
            existing = ix is not None
            if ix is None:
                ix = index.create_in(str(self.index_dir), _schema())
            # Rebuilding over an existing index replaces its segments in one commit, so
            # readers see the old index until the new one is complete.
            self._write_all(ix, documents(kb, vocab), total, clear=existing)
        else:
            docs = list(documents(kb, vocab))
            with ix.searcher() as s:
                old = {f["key"]: f["hash"] for f in s.reader().all_stored_fields()}
            changed = [d for d in docs if d.key in old and old[d.key] != d.hash]
            added = [d for d in docs if d.key not in old]
            gone = set(old) - {d.key for d in docs}
            report.updated, report.added, report.deleted = len(changed), len(added), len(gone)
            report.unchanged = len(docs) - len(changed) - len(added)
            if changed or added or gone:
                writer = self._writer(ix, procs=1)
                try:
                    for key in gone:
                        writer.delete_by_term("key", key)
                    for d in changed + added:
                        writer.update_document(key=d.key, hash=d.hash, body=d.body,
                                               spell=" ".join(d.spell), facets=d.facets)
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit()
        write_json_atomic(self.index_dir / STATE_FILE,
                          {"version": SCHEMA_VERSION, "fingerprint": fp,
                           "documents": total, "vocabulary": vocab.signature})
        return report

    def _write_all(self, ix: Any, docs: Iterable[_Doc], count: int, *, clear: bool) -> None:
        procs = 2 if count >= PARALLEL_MIN and (os.cpu_count() or 1) > 1 else 1
        # Whoosh spills postings to temporary files past ``limitmb`` and merges them back in
        # Python (3-4x slower); size the pool to hold a build (~170 bytes by its estimate per
        # posting, ~50 postings per document), capped.
        limitmb = min(max(128, count * 50 * 170 // procs // 2**20 + 64), 2048)
        writer = self._writer(ix, procs=procs, limitmb=limitmb)
        seen: set[str] = set()
        try:
            for d in docs:
                # A word needs one posting to be suggestible; later documents skip it.
                new = [w for w in d.spell if w not in seen]
                seen.update(new)
                writer.add_document(key=d.key, hash=d.hash, body=d.body, spell=" ".join(new),
                                    facets=d.facets)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR if clear else None)

    def _writer(self, ix: Any, *, procs: int, limitmb: int = 128) -> Any:
        try:
            if procs > 1:
                return ix.writer(procs=procs, multisegment=True, limitmb=limitmb,
                                 timeout=self.lock_timeout, codec=_Codec())
            return ix.writer(limitmb=limitmb, timeout=self.lock_timeout, codec=_Codec())
        except LockError:
            raise IndexBusy(f"the search index in {self.index_dir} is locked by another "
                            "writer") from None

    def _open_index(self) -> Any | None:
        if not index.exists_in(self.index_dir):
            return None
        try:
            ix = index.open_dir(str(self.index_dir))
        except Exception:  # an index from another schema version or a damaged one: rebuild
            return None
        if set(ix.schema.names()) != set(_schema().names()):
            return None
        return ix

    def _open(self) -> _Searcher:
        """The current searcher; reopened when another process has committed since."""
        state = self._state
        if state is not None and not state.searcher.up_to_date():
            # Not Searcher.refresh(): it reuses readers of segments whose ids did not change,
            # and so misses documents deleted from them since.
            state.searcher.close()
            state = None
        if state is None:
            state = _Searcher.open(index.open_dir(str(self.index_dir)).searcher())
        self._state = state
        return state

    def close(self) -> None:
        """Close the open searcher (a later search reopens it)."""
        with self._lock:
            if self._state is not None:
                self._state.searcher.close()
                self._state = None

    # -- searching --------------------------------------------------------------------------
    def search(self, kb: KnowledgeBase, text: str, *, kind: Any = None, condition: Any = None,
               grade: Any = None, design: Any = None, limit: int = DEFAULT_LIMIT,
               page: int = 1) -> dict[str, Any]:
        """Search ``kb``: see :meth:`KnowledgeBase.search`."""
        limit, page = _bounds(limit, page)
        with self._lock:
            self.ensure(kb)
            assert self._vocab is not None
            parsed = parse(text, self._vocab)
            for name, value in (("kind", kind), ("condition", condition), ("grade", grade),
                                ("design", design)):
                parsed.filters.setdefault(name, []).extend(_as_list(value))
            keep = _filter(kb, self._vocab, parsed.filters)
            drop = _filter(kb, self._vocab, parsed.exclude_filters, exclude=True)
            try:
                state = self._open()
            except index.EmptyIndexError:  # the index was deleted under us: build it again
                self._synced = None
                self.ensure(kb)
                state = self._open()
            run = _Run(state, self._vocab, parsed, time.monotonic() + self.time_limit)
            hits, total, per_value = run.execute(keep, drop, page * limit)
            page_hits = hits[(page - 1) * limit:page * limit]
            results = [self._hit(kb, run, state, docnum, score) for score, docnum in page_hits]
            warnings = list(parsed.notes) + run.warnings
            if self._stale or self.last_sync.note:
                warnings.append(self.last_sync.note or "results may be out of date")
            return {
                "query": parsed.text,
                "total": total,
                "page": page,
                "limit": limit,
                "results": [r for r in results if r is not None],
                "facets": _facet_counts(state.facet, per_value),
                "suggestion": run.suggestion(),
                "warnings": warnings,
            }

    def _hit(self, kb: KnowledgeBase, run: _Run, state: _Searcher, docnum: int,
             score: float) -> dict[str, Any] | None:
        key = state.stored_key(docnum)
        kind, _, ident = key.partition(":")
        if kind == "claim" and ident in kb.claims:
            claim = kb.claims[ident]
            return {"type": "claim", **shapes.claim_json(kb, ident), "score": round(score, 4),
                    "highlight": run.highlight(claim.text)}
        if kind == "reference" and ident in kb.references:
            return {**reference_json(kb, ident), "score": round(score, 4),
                    "highlight": run.highlight(kb.references[ident].title)}
        return None  # the index is ahead of this (older) copy of the data


def reference_json(kb: KnowledgeBase, ref_id: str) -> dict[str, Any]:
    """A reference as a search result shows it (``type`` is ``"reference"``)."""
    ref = kb.reference(ref_id)
    desc = evidence_mod.DESIGNS.get(ref.design)
    return {"type": "reference", "id": ref.id, "label": ref.label, "title": ref.title,
            "citation": ref.citation(), "year": ref.year, "doi": ref.doi, "pmid": ref.pmid,
            "url": ref.public_url, "design": ref.design,
            "design_label": desc[2] if desc else ref.design, "role": ref.role,
            "conditions": ref.condition_ids}


# -- one search ---------------------------------------------------------------------------
class _Timeout(Exception):
    pass


class _Run:
    """The work of one search: evaluate the query over each segment, rank, count, present.

    Scoring is term-at-a-time over whole posting lists (see :func:`_read_postings`) with
    Whoosh's BM25F formula and statistics, times the evidence weight: the same scores Whoosh's
    own ``BM25F`` gives, computed per block rather than per document. The clock is checked
    per posting list and every few thousand phrase candidates; past the deadline the search
    stops and returns what it has, with a warning.
    """

    def __init__(self, state: _Searcher, vocab: Vocabulary, parsed: ParsedQuery,
                 deadline: float) -> None:
        self.state, self.vocab, self.parsed, self.deadline = state, vocab, parsed, deadline
        self.searcher = state.searcher
        self.reader = state.searcher.reader()
        self.marks: set[str] = set()   # stems and concept tokens to highlight
        self.warnings: list[str] = []
        self.expansions: dict[Leaf, list[str]] = {}

    def execute(self, keep: Any, drop: Any, top: int
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
                    pool = (range(len(seg.values)) if allow is None else allow)
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
            self.warnings.append("the search took too long and was cut short; results are "
                                 "incomplete — try more specific words")
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
        return {d: idf * w / (w + norm[d]) for d, w in zip(ids, ws)}

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
            keys = set()
            add = keys.add
            for d, v in zip(ids, vs):
                if d in candidates:
                    if len(v) == 4:
                        add((d << 24) + int.from_bytes(v, "little") + shift)
                    else:
                        keys.update((d << 24) + p + shift for p in _decode_positions(v))
            keysets.append(keys)
        found = {key >> 24 for key in keysets[0].intersection(*keysets[1:])}
        norm = seg.norm
        out = dict.fromkeys(found, 0.0)
        for s, (ids, ws, _) in zip(stems_, lists):
            idf = self.searcher.idf("body", s) * (BM25_K1 + 1)
            for d, w in zip(ids, ws):
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
                        self.warnings.append(f"{leaf.typed!r} matches many words; only the "
                                             f"first {MAX_EXPANSIONS} were searched")
                        break
        else:
            found = self.reader.terms_within("body", leaf.value[0], leaf.distance, prefix=1)
            ranked = sorted((_distance(t, leaf.value[0]), t) for t in found
                            if not t.startswith((CONCEPT_PREFIX, "doi:")))
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

    # presenting
    def highlight(self, text: str) -> str:
        """``text`` with what matched marked (see :meth:`Vocabulary.highlight`)."""
        return self.vocab.highlight(text, self.marks)

    def suggestion(self) -> str | None:
        """The query with unknown words replaced by the closest indexed word, if any."""
        reader = self.reader
        replacements: dict[str, str] = {}
        for w in self.parsed.words:
            surface = w.surface.lower()
            if (len(surface) < 4 or not surface.isalpha() or surface in replacements
                    or self.vocab.concept_of([w.stem]) or reader.doc_frequency("body", w.stem)):
                continue
            best: tuple[int, int, str] | None = None
            for cand in reader.terms_within("spell", surface, 2, prefix=1):
                freq = reader.doc_frequency("body", stem(cand))
                if freq:
                    key = (_distance(cand, surface), -freq, cand)
                    best = key if best is None or key < best else best
            if best is not None:
                replacements[surface] = best[2]
        if not replacements:
            return None
        text = self.parsed.text
        for surface, new in replacements.items():
            text = re.sub(rf"(?<!\w){re.escape(surface)}(?!\w)", new, text, flags=re.IGNORECASE)
        return text


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


# -- filters and facets -------------------------------------------------------------------
def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value if v not in (None, "")]
    raise InvalidQuery(f"could not understand the filter value {value!r}")


def _bounds(limit: Any, page: Any) -> tuple[int, int]:
    try:
        limit, page = int(limit), int(page)
    except (TypeError, ValueError):
        raise InvalidQuery("could not understand the query: limit and page must be "
                           "whole numbers") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"could not understand the query: limit must be 1 to {MAX_LIMIT}")
    if page < 1:
        raise InvalidQuery("could not understand the query: page must be 1 or more")
    if page * limit > MAX_RESULTS:
        raise InvalidQuery(f"could not understand the query: only the first {MAX_RESULTS} "
                           "results can be paged through; add words or filters")
    return limit, page


def _filter(kb: KnowledgeBase, vocab: Vocabulary, filters: dict[str, list[str]], *,
            exclude: bool = False) -> tuple[Any, Any] | None:
    """(cache key, predicate over facets), or None when nothing filters. Values of one
    filter are alternatives; different filters must all hold (with ``exclude``: any
    excludes)."""
    wanted = resolve_filters(filters, kb.conditions, vocab.design_filters)
    if not wanted:
        return None

    def test(f: _Facet) -> bool:
        hits = []
        for name, ok in wanted.items():
            if name == "condition":
                hits.append(bool(ok.intersection(f.conditions)))
            else:
                hits.append(getattr(f, name) in ok)
        return any(hits) if exclude else all(hits)

    key = (exclude, tuple(sorted((k, tuple(sorted(v))) for k, v in wanted.items())))
    return key, test


def _facet_counts(facet: dict[bytes, _Facet], per_value: Counter[bytes]
                  ) -> dict[str, dict[str, int]]:
    """Counts per kind, condition (with the conditions above), grade and design."""
    counts: dict[str, Counter[str]] = {name: Counter() for name in FACETS}
    for raw, n in per_value.items():
        f = facet[raw]
        if f.kind:
            counts["kind"][f.kind] += n
        if f.grade:
            counts["grade"][f.grade] += n
        if f.design:
            counts["design"][f.design] += n
        for c in f.conditions:
            counts["condition"][c] += n
    return {name: dict(sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))
            for name, c in counts.items()}
