"""A snapshot of a knowledge base's derived state, so a process starts without recomputing it.

Loading 100k claims means reading and schema-validating four JSON files, checking every id,
grading every claim, detecting conflicts and fingerprinting the data for the search index:
seconds of work whose result depends only on the data files and on this code. A snapshot
keeps that result — the validated records, the grades, the conflicts, the index fingerprint —
in one file next to the search index (``<index_dir>.snapshot``), written atomically.

It is keyed by the SHA-1 of each data file and by :func:`code_version` (a digest of the source
of every module whose output it holds, plus :data:`SNAPSHOT_VERSION`); its payload carries its
own SHA-1. A snapshot whose key differs (data edited, code changed) or whose payload does not
check out (truncated, damaged) is never used: the data are loaded and validated as usual and
the snapshot is written again. Grades and conflicts in it are those of the data as stored,
before any editorial decision; the editor applies its journal on top, as without a snapshot.

Use it with ``KnowledgeBase.load(data_dir, index_dir, snapshot=True)`` (the web server does).
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import marshal
import os
import pickle
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import StorageError
from .storage import write_bytes_atomic

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

SNAPSHOT_VERSION = 3  # 2: reference designs; 3: bases deferred, strings shared, conflicts by claim
MAGIC = b"KB-SNAPSHOT\n"
DATA_FILES = ("conditions.json", "references.json", "claims.json", "articles.json")
# Modules whose results the snapshot holds: a change to any of them makes old snapshots stale.
_SOURCES = (
    "knowledgebase.py",
    "snapshot.py",
    "claims.py",
    "references.py",
    "articles.py",
    "conditions.py",
    "evidence.py",
    "conflicts.py",
    "schema.py",
    "search/index.py",
    "search/document.py",
    "search/concepts.py",
)

_code_version: str | None = None


def code_version() -> str:
    """A digest of the snapshot format and of the source of every module it depends on."""
    global _code_version
    if _code_version is None:
        here = Path(__file__).resolve().parent
        h = hashlib.sha1(f"snapshot-v{SNAPSHOT_VERSION}".encode())
        for name in _SOURCES:
            path = here / name
            h.update(name.encode() + b"\0" + (path.read_bytes() if path.exists() else b""))
        for schema in sorted((here / "schemas").glob("*.json")):
            h.update(schema.read_bytes())
        _code_version = h.hexdigest()
    return _code_version


def snapshot_path(index_dir: str | os.PathLike[str]) -> Path:
    """Where the snapshot of a knowledge base whose search index is ``index_dir`` lives."""
    index_dir = Path(index_dir)
    return index_dir.with_name(index_dir.name + ".snapshot")


def data_key(data_dir: Path) -> dict[str, Any]:
    """What a snapshot must match: the hash of each data file and the code version."""
    files: dict[str, str | None] = {}
    for name in DATA_FILES:
        try:
            files[name] = hashlib.sha1((data_dir / name).read_bytes()).hexdigest()
        except FileNotFoundError:
            files[name] = None
    return {"code": code_version(), "files": files}


def load(
    cls: type[KnowledgeBase], data_dir: Path, index_dir: Path, *, write: bool = True
) -> tuple[KnowledgeBase, str]:
    """The knowledge base of ``data_dir`` from its snapshot when that is current and intact;
    else loaded and validated from the files (and the snapshot written again when ``write``).
    Returns it with what happened: ``"used"``, ``"missing"``, ``"stale"`` or ``"damaged"``."""
    path = snapshot_path(index_dir)
    # The cyclic collector stays off until everything loaded is frozen (see _settle): turned
    # on earlier, its next young collection would walk the millions of objects just made.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        # Hashing the data files (112 MB at 100k claims) releases the GIL: it runs on the
        # other core while the snapshot is read, checked and unmarshalled.
        with ThreadPoolExecutor(1, thread_name_prefix="kb-snapshot-key") as pool:
            pending = pool.submit(data_key, data_dir)
            kb, status = _read(cls, path, data_dir, pending.result)
            key = pending.result()
        if kb is None:
            kb = _load_fresh(cls, data_dir)
            # The files may have changed while read: key the snapshot by what was read.
            if write and data_key(data_dir) == key:
                write_snapshot(kb, path, key)
        _settle()
    finally:
        if gc_was_enabled:
            gc.enable()
    return kb, status


def _settle() -> None:
    """Move everything alive now out of the cyclic collector's sight (``gc.freeze``).

    A loaded knowledge base is millions of long-lived, acyclic objects (records, grades):
    every full collection afterwards would walk them all again — seconds at 100k claims,
    paid by the first searches after a start. Frozen objects are still freed by reference
    counting; only a cycle among them would outlive its use, and records hold none. Frozen
    pages are also not written by the collector, which keeps preloaded server workers'
    memory shared. No collection first: it would walk them all once more, for the little
    cyclic garbage of imports."""
    gc.freeze()


def _load_fresh(cls: type[KnowledgeBase], data_dir: Path) -> KnowledgeBase:
    kb = cls._load(data_dir)
    kb.grades  # noqa: B018 - derived state the snapshot keeps
    getattr(kb, _conflicts_attr(cls))
    return kb


def _read(
    cls: type[KnowledgeBase], path: Path, data_dir: Path, key: Callable[[], dict[str, Any]]
) -> tuple[KnowledgeBase | None, str]:
    """The snapshot at ``path`` restored, if intact and keyed by ``key()`` (called only once
    the payload is unmarshalled: the data files' hashes are computed meanwhile)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return None, "missing"
    try:
        if not raw.startswith(MAGIC):
            return None, "damaged"
        header_end = raw.index(b"\n", len(MAGIC))
        header = json.loads(raw[len(MAGIC) : header_end])
        payload = memoryview(raw)[header_end + 1 :]
        # The checksum first: marshal is only ever given the bytes this module wrote.
        if len(payload) != header["bytes"] or hashlib.sha1(payload).hexdigest() != header["sha1"]:
            return None, "damaged"
        data = marshal.loads(payload)
        if header.get("key") != key():
            return None, "stale"
        return _restore(cls, data_dir, data), "used"
    except Exception:  # anything unexpected in a snapshot: never trust it, rebuild
        return None, "damaged"


def _restore(cls: type[KnowledgeBase], data_dir: Path, data: dict[str, Any]) -> KnowledgeBase:
    from .articles import Article
    from .claims import Claim
    from .conditions import ConditionTree
    from .evidence import Grade
    from .references import Reference

    conditions = ConditionTree.from_records(data["conditions"])
    references = {str(r["id"]): Reference(r) for r in data["references"]}
    claims = {r["id"]: Claim(r) for r in data["claims"]}
    articles = {r["id"]: Article(r) for r in data["articles"]}
    from .evidence import keep_bases
    from .search.index import IndexedRecords
    from .search.ranking import DESIGNS_CACHE

    kb = cls(data_dir, conditions, references, claims, articles)
    make = Grade._make
    grades: dict[str, Grade] = {cid: make(fields) for cid, fields in data["grades"]}
    if data.get("bases") is not None:  # marshalled apart: decoded at the first edit
        blob = data["bases"]
        grades = keep_bases(grades, lambda: dict(marshal.loads(blob)))
    views = {"grades": grades, _conflicts_attr(cls): pickle.loads(data["conflicts"])}
    if data.get("conflicts_by_claim") is not None and isinstance(
        getattr(cls, "computed_conflicts_by_claim", None), cached_property
    ):
        views["computed_conflicts_by_claim"] = dict(data["conflicts_by_claim"])
    kb.adopt(**views)
    if data.get("designs") is not None:  # what the first search would check again
        designs = dict(data["designs"])
        kb.cache(DESIGNS_CACHE, lambda _kb: designs)
    # the index fingerprint of these records, as long as they stay these records
    kb.index_fingerprint = (data["index_fingerprint"], IndexedRecords.of(kb))
    return kb


def _shared(value: Any, seen: dict[str, str]) -> Any:
    """``value`` with every equal string one object: marshal then writes a string once and
    refers back to it (claims repeat their kind, origin, conditions and citations), so the
    snapshot is a quarter smaller and loads with fewer objects to create."""
    if isinstance(value, str):
        return seen.setdefault(value, value)
    if isinstance(value, dict):
        return {
            (seen.setdefault(k, k) if isinstance(k, str) else k): _shared(v, seen)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_shared(v, seen) for v in value]
    if isinstance(value, tuple):
        return tuple(_shared(v, seen) for v in value)
    return value


def _conflicts_attr(cls: type[KnowledgeBase]) -> str:
    """The cached attribute holding the computed conflicts (before editorial decisions)."""
    return (
        "computed_conflicts"
        if isinstance(getattr(cls, "computed_conflicts", None), cached_property)
        else "conflicts"
    )


def write_snapshot(kb: KnowledgeBase, path: Path, key: dict[str, Any]) -> None:
    """Write ``kb``'s records and derived state to ``path`` atomically (best effort: a
    snapshot that cannot be written only costs the next start its time)."""
    from .search import build_vocabulary, fingerprint
    from .search.ranking import reference_designs

    grades = kb.grades
    from .evidence import bases_of

    bases = bases_of(grades)  # what kb.evidence.regrade builds on
    grade_fields = list(next(iter(grades.values()))._fields) if grades else []
    data = {
        "conditions": kb.conditions.to_records(),
        "references": [r.csl for r in kb.references.values()],
        "claims": [c.record for c in kb.claims.values()],
        "articles": [a.record for a in kb.articles.values()],
        "grades": [
            (cid, tuple(getattr(g, name) for name in grade_fields)) for cid, g in kb.grades.items()
        ],
        "conflicts": pickle.dumps(
            getattr(kb, _conflicts_attr(type(kb))), protocol=pickle.HIGHEST_PROTOCOL
        ),
        "conflicts_by_claim": list(getattr(kb, "computed_conflicts_by_claim", {}).items()),
        "index_fingerprint": fingerprint(kb, build_vocabulary(kb)),
        "bases": _shared(list(bases.items()), {}) if bases is not None else None,
        "designs": list(reference_designs(kb).items()),
    }
    try:
        if data["bases"] is not None:
            data["bases"] = marshal.dumps(data["bases"])
        payload = marshal.dumps(_shared(data, {}))
    except ValueError:  # a value marshal cannot hold: no snapshot rather than a wrong one
        return
    header = json.dumps(
        {"key": key, "bytes": len(payload), "sha1": hashlib.sha1(payload).hexdigest()}
    ).encode()
    # A snapshot that cannot be written is only a slower next start, never an error.
    with contextlib.suppress(StorageError):
        write_bytes_atomic(path, MAGIC + header + b"\n" + payload)
