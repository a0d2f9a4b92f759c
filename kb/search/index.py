"""The search index on disk: its Whoosh schema, building it, keeping it in step, locking.

One Whoosh index (2.7 API) in an index directory outside ``data/`` holds one document per
claim and per reference (see :mod:`kb.search.document`). It stores only what a result needs to
be found again — the key (``claim:<id>`` / ``reference:<id>``) and a content hash — plus a
small facet column (type, kind, grade, design, direction, conditions, evidence weight).
Everything shown comes from the :class:`~kb.KnowledgeBase` in memory.

It is built on first use and brought up to date whenever the data differ: a fingerprint of the
claims, references, conditions, grades and vocabulary is kept next to the index; when it
changes, every document's hash is compared and only changed documents are rewritten (deleted
ones removed). One process writes at a time (a lock with a timeout); readers keep searching the
last committed index meanwhile, and a process that cannot get the lock searches that index too
and says so (with no index at all yet it raises :class:`~kb.errors.IndexBusy`).
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from whoosh import columns, fields, formats, index
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.codec.whoosh3 import W3Codec
from whoosh.util.filelock import FileLock
from whoosh.writing import CLEAR, LockError

from .. import paths
from ..errors import IndexBusy, KBError
from ..storage import load_json, write_json_atomic
from .concepts import CONCEPT_PREFIX
from .document import BOOST_SEP, SECTION_SEP, Doc, build_vocabulary, documents
from .query import DEFAULT_LIMIT, as_list, filter_spec, page_bounds, parse
from .ranking import TIME_LIMIT, OpenSearcher, SearchRun
from .results import FACETS, page_json

if TYPE_CHECKING:
    from ..knowledgebase import KnowledgeBase
    from .concepts import Vocabulary

SCHEMA_VERSION = 3  # 2: no grades or weights in the index, keys in a column; 3: conditions column
STATE_FILE = "kb-search.json"
SYNC_LOCK = "KB_SYNC"
LOCK_TIMEOUT = 30.0  # seconds to wait for another process's index update
PARALLEL_MIN = 20_000  # build with two processes from this many documents

_SECTION_GAP = 16  # positions between parts, so a phrase never spans two
_ONE_MAX = 1024
_ONE_POSITION = [struct.pack("<I", i) for i in range(_ONE_MAX)]  # most tokens occur once


# -- schema -------------------------------------------------------------------------------
class _BodyFormat(formats.Positions):
    """Positions, for values that arrive already analysed (see :func:`.document._body`).

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
        for part in value.split(SECTION_SEP):
            boost, _, tokens = part.partition(BOOST_SEP)
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
        return [
            (
                tok.encode("utf-8"),
                len(plist),
                weights[tok],
                one[plist[0]] if len(plist) == 1 and plist[0] < _ONE_MAX else encode(plist),
            )
            for tok, plist in poses.items()
        ]

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
    for block skipping; that lookup was a fifth of build time, and :class:`SearchRun` scores whole
    posting lists rather than skipping blocks. Uncompressed blocks (about twice the size on
    disk) save a zlib call per 128 postings read.
    """

    length_stats = False

    def __init__(self) -> None:
        super().__init__(compression=0)


def _schema() -> fields.Schema:
    return fields.Schema(
        key=fields.ID(stored=True, unique=True, sortable=True),  # a column: read in bulk
        hash=fields.STORED(),
        body=_BodyField(),
        spell=fields.KEYWORD(scorable=False),  # words as written, for "did you mean"
        facets=fields.COLUMN(columns.RefBytesColumn()),  # type, kind, design, direction
        conds=fields.COLUMN(columns.RefBytesColumn()),  # conditions and those above them
    )


def fingerprint(kb: KnowledgeBase, vocab: Vocabulary) -> str:
    """A digest of everything the index is built from (compared before any per-document work).

    Grades and editorial verdicts are not part of it: they are not indexed (ranking reads them
    from memory), so an editorial decision never makes the index out of date.
    """
    h = hashlib.sha1(f"v{SCHEMA_VERSION}|{vocab.signature}|".encode())
    for c in kb.claims.values():
        h.update(repr(_indexed(c)).encode())
    h.update(repr([r.csl for r in kb.references.values()]).encode())
    h.update(repr(kb.conditions.to_records()).encode())
    return h.hexdigest()


# What a claim document is built from (see kb.search.document): not its verdict or grade.
_INDEXED_CLAIM_KEYS = (
    "id",
    "text",
    "plain_text",
    "kind",
    "intervention",
    "conditions",
    "value",
    "reported_numbers",
    "citations",
    "direction",
)


def _indexed(claim: Any) -> list[Any]:
    rec = claim.record
    primary = rec.get("primary")
    return [rec.get(k) for k in _INDEXED_CLAIM_KEYS] + [
        primary.get("ref") if isinstance(primary, dict) else None
    ]


@dataclass
class IndexedRecords:
    """The record objects an index was last checked against (references, not copies), and
    the knowledge base's records generation then."""

    claims: dict[str, Any]
    references: dict[str, Any]
    conditions: Any
    records: int = -1  # the knowledge base's records_generation when checked (unique)

    @classmethod
    def of(cls, kb: KnowledgeBase) -> IndexedRecords:
        return cls(dict(kb.claims), dict(kb.references), kb.conditions, kb.records_generation)

    def same_index_content(self, kb: KnowledgeBase) -> bool:
        """Whether ``kb`` would give the index the same documents: the same record objects,
        or replaced ones that differ only where the index does not look (about 10 ms at 100k
        claims, against seconds to fingerprint every record)."""
        if (
            kb.conditions is not self.conditions
            or len(kb.claims) != len(self.claims)
            or len(kb.references) != len(self.references)
        ):
            return False
        seen = self.references
        if any(seen.get(rid) is not ref for rid, ref in kb.references.items()):
            return False
        seen = self.claims
        for cid, claim in kb.claims.items():
            old = seen.get(cid)
            if old is claim:
                continue
            if old is None or _indexed(old) != _indexed(claim):
                return False
        return True


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
        return {
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "rebuilt": self.rebuilt,
            "documents": self.documents,
            "seconds": round(self.seconds, 3),
            "note": self.note,
        }


def default_index_dir(data_dir: str | os.PathLike[str]) -> Path:
    """``<data_dir>/../instance/index``: next to the data, never inside it."""
    return paths.index_dir(data_dir)


class SearchIndex:
    """The search index of one index directory: sync with a knowledge base, then search.

    Thread-safe (searches are serialised: Whoosh readers share file handles); any number of
    processes may open the same directory.
    """

    def __init__(
        self,
        index_dir: str | os.PathLike[str],
        *,
        lock_timeout: float = LOCK_TIMEOUT,
        time_limit: float = TIME_LIMIT,
    ) -> None:
        self.index_dir = Path(index_dir)
        self.lock_timeout = lock_timeout
        self.time_limit = time_limit
        self.last_sync = SyncReport()
        self._lock = threading.RLock()
        self._generation = 0  # counts searchers opened: a result cache key
        self._state: OpenSearcher | None = None
        self._vocab: Vocabulary | None = None
        self._synced: int | None = None  # KnowledgeBase.generation last synced
        self._seen: IndexedRecords | None = None  # the records the index was last checked against
        self.result_cache_size = 256  # result pages kept per knowledge base; 0 turns it off
        self.cache_hits = self.cache_misses = 0
        self._fp = ""
        self._stale = False

    # -- keeping the index in step with the data ------------------------------------------
    def ensure(self, kb: KnowledgeBase) -> None:
        """Make sure the index reflects ``kb`` (cheap when nothing changed since last time).

        Changes are noticed by :attr:`KnowledgeBase.generation`; a new generation whose
        indexed records are the same objects as before, or differ only where the index does not
        look (a verdict, a grade, an article's review status), needs no work: grades are not
        indexed. A reloaded or amended knowledge base is checked again.
        """
        with self._lock:
            if kb.generation != self._synced:
                if self._seen is not None and (
                    # only re-gradings since (a verdict, a board decision): no record check
                    self._seen.records == kb.records_generation or self._seen.same_index_content(kb)
                ):
                    self._synced = kb.generation
                    self._seen.records = kb.records_generation
                else:
                    hint = kb.index_fingerprint
                    usable = hint is not None and (
                        hint[1].records == kb.records_generation  # untouched since loaded
                        or hint[1].same_index_content(kb)
                    )
                    self.sync(kb, fingerprint_hint=hint[0] if hint is not None and usable else None)
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

    def sync(
        self, kb: KnowledgeBase, *, rebuild: bool = False, fingerprint_hint: str | None = None
    ) -> SyncReport:
        """Bring the index up to date with ``kb``: build it, or rewrite only changed documents.

        With ``rebuild`` every document is rewritten. Waits up to ``lock_timeout`` seconds for
        another process's update; after that, searches the last committed index (if there is
        one) and says so in :attr:`last_sync`, else raises :class:`IndexBusy`.
        ``fingerprint_hint``: the fingerprint of ``kb`` as loaded, when a snapshot of the data
        files vouches for it (:mod:`kb.snapshot`), which saves hashing every record.
        """
        with self._lock:
            started = time.perf_counter()
            vocab = build_vocabulary(kb)
            fp = fingerprint_hint or fingerprint(kb, vocab)
            self._vocab, self._fp = vocab, fp
            report = SyncReport()
            if not rebuild and self._state_matches(fp):
                report.unchanged = report.documents = self._open().searcher.doc_count()
            else:
                lock = self._acquire()
                if lock is None:
                    if not index.exists_in(self.index_dir):
                        raise IndexBusy(
                            f"the search index in {self.index_dir} is being built "
                            "by another process; try again shortly"
                        )
                    report.note = (
                        "another process is updating the search index; results may be out of date"
                    )
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
            self._synced = kb.generation
            self._seen = IndexedRecords.of(kb)
            return report

    def _state_matches(self, fp: str) -> bool:
        try:
            state = load_json(self.index_dir / STATE_FILE)
        except KBError:
            return False
        return (
            isinstance(state, dict)
            and state.get("fingerprint") == fp
            and state.get("version") == SCHEMA_VERSION
            and index.exists_in(self.index_dir)
        )

    def _acquire(self, timeout: float | None = None) -> FileLock | None:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.index_dir / SYNC_LOCK))
        deadline = time.monotonic() + (self.lock_timeout if timeout is None else timeout)
        while not lock.acquire(blocking=False):
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)
        return lock

    def _update(
        self, kb: KnowledgeBase, vocab: Vocabulary, fp: str, *, rebuild: bool
    ) -> SyncReport:
        # Millions of small, acyclic objects: the cyclic collector would rescan them over and
        # over (superlinear), so it is paused for the update.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._update_unpaused(kb, vocab, fp, rebuild=rebuild)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _update_unpaused(
        self, kb: KnowledgeBase, vocab: Vocabulary, fp: str, *, rebuild: bool
    ) -> SyncReport:
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
                        writer.update_document(
                            key=d.key,
                            hash=d.hash,
                            body=d.body,
                            spell=" ".join(d.spell),
                            facets=d.facets,
                            conds=d.conds,
                        )
                except BaseException:
                    writer.cancel()
                    raise
                writer.commit()
        write_json_atomic(
            self.index_dir / STATE_FILE,
            {
                "version": SCHEMA_VERSION,
                "fingerprint": fp,
                "documents": total,
                "vocabulary": vocab.signature,
            },
        )
        return report

    def _write_all(self, ix: Any, docs: Iterable[Doc], count: int, *, clear: bool) -> None:
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
                writer.add_document(
                    key=d.key,
                    hash=d.hash,
                    body=d.body,
                    spell=" ".join(new),
                    facets=d.facets,
                    conds=d.conds,
                )
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR if clear else None)

    def _writer(self, ix: Any, *, procs: int, limitmb: int = 128) -> Any:
        try:
            if procs > 1:
                return ix.writer(
                    procs=procs,
                    multisegment=True,
                    limitmb=limitmb,
                    timeout=self.lock_timeout,
                    codec=_Codec(),
                )
            return ix.writer(limitmb=limitmb, timeout=self.lock_timeout, codec=_Codec())
        except LockError:
            raise IndexBusy(
                f"the search index in {self.index_dir} is locked by another writer"
            ) from None

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

    def prepare_edits(self, kb: KnowledgeBase) -> None:
        """Index where each claim's document lies now: the first edit's update of evidence
        weights reads it (a tenth of a second at 100k claims)."""
        with self._lock:
            self.ensure(kb)
            self._open().evidence_for(kb).claim_doc  # noqa: B018 - built on first access

    def _open(self) -> OpenSearcher:
        """The current searcher; reopened when another process has committed since."""
        state = self._state
        if state is not None and not state.searcher.up_to_date():
            # Not Searcher.refresh(): it reuses readers of segments whose ids did not change,
            # and so misses documents deleted from them since.
            state.searcher.close()
            state = None
        if state is None:
            state = OpenSearcher.open(index.open_dir(str(self.index_dir)).searcher())
            self._generation += 1
        self._state = state
        return state

    def close(self) -> None:
        """Close the open searcher (a later search reopens it)."""
        with self._lock:
            if self._state is not None:
                self._state.searcher.close()
                self._state = None

    # -- searching --------------------------------------------------------------------------
    def search(
        self,
        kb: KnowledgeBase,
        text: str,
        *,
        kind: Any = None,
        condition: Any = None,
        grade: Any = None,
        design: Any = None,
        limit: int = DEFAULT_LIMIT,
        page: int = 1,
    ) -> dict[str, Any]:
        """Search ``kb``: see :meth:`KnowledgeBase.search`."""
        limit, page = page_bounds(limit, page)
        with self._lock:
            self.ensure(kb)
            if self._state is not None:
                self._open()  # a commit by any process since opens a new generation
            editorial = kb.editorial
            # Popular queries repeat: recent result pages are kept on the knowledge base they
            # were computed for, keyed by the query, the filters, the searcher generation and
            # the editorial state (flags show in results; verdicts move grades).
            results = kb.cache("search.results", lambda kb: _ResultCache())
            key = (
                text,
                _frozen(kind),
                _frozen(condition),
                _frozen(grade),
                _frozen(design),
                limit,
                page,
                self._generation,
                len(editorial.events) if editorial is not None else 0,
                kb.generation,  # grades move with it
            )
            results.size = self.result_cache_size
            hit = results.get(key) if self._state is not None and results.size else None
            if hit is not None:
                self.cache_hits += 1
                return hit
            self.cache_misses += 1
            assert self._vocab is not None
            parsed = parse(text, self._vocab)
            if parsed.nothing is not None:  # only common words: say so, find nothing
                return _empty_page(parsed, limit, page)
            for name, value in (
                ("kind", kind),
                ("condition", condition),
                ("grade", grade),
                ("design", design),
            ):
                parsed.filters.setdefault(name, []).extend(as_list(value))
            keep = filter_spec(kb, self._vocab, parsed.filters)
            drop = filter_spec(kb, self._vocab, parsed.exclude_filters, exclude=True)
            try:
                state = self._open()
            except index.EmptyIndexError:  # the index was deleted under us: build it again
                self._synced = None
                self.ensure(kb)
                state = self._open()
            evidence = state.evidence_for(kb)
            run = SearchRun(
                state, self._vocab, parsed, time.monotonic() + self.time_limit, evidence
            )
            hits, total, per_value = run.execute(keep, drop, page * limit)
            warnings = list(parsed.notes) + run.warnings
            if self._stale or self.last_sync.note:
                warnings.append(self.last_sync.note or "results may be out of date")
            result = page_json(
                kb,
                run,
                hits[(page - 1) * limit : page * limit],
                total,
                per_value,
                page=page,
                limit=limit,
                warnings=warnings,
            )
            if results.size and not run.warnings and not self._stale and self._generation == key[7]:
                results.put(key, result)
            return result


def _empty_page(parsed: Any, limit: int, page: int) -> dict[str, Any]:
    return {
        "query": parsed.text,
        "total": 0,
        "page": page,
        "limit": limit,
        "results": [],
        "facets": {name: {} for name in FACETS},
        "suggestion": None,
        "warnings": [parsed.nothing],
    }


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


class _ResultCache:
    """A small thread-safe LRU of result pages, kept serialised: every hit is a fresh copy
    (callers may edit it), and storing costs one C-speed dump, not a deep copy. ``marshal``
    (plain dicts, lists, strings and numbers, in memory only, never read from a file) dumps
    about 6× faster than JSON: storing is paid by every fresh query."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[Any, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any) -> dict[str, Any] | None:
        with self._lock:
            hit = self._items.get(key)
            if hit is None:
                return None
            self._items.move_to_end(key)
        return dict(marshal.loads(hit))

    def put(self, key: Any, value: dict[str, Any]) -> None:
        try:
            blob = marshal.dumps(value)
        except ValueError:  # a value marshal cannot hold: not cached rather than wrong
            return
        with self._lock:
            self._items[key] = blob
            while len(self._items) > self.size:
                self._items.popitem(last=False)
