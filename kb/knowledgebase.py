"""The :class:`KnowledgeBase`: one object, built from explicit paths, that owns all the data."""

from __future__ import annotations

import gc
import itertools
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from . import conflicts as conflicts_mod
from . import evidence as evidence_mod
from . import summary as summary_mod
from .articles import Article, ArticleRecord
from .claims import Claim, ClaimRecord
from .conditions import ConditionTree
from .errors import ArticleNotFound, ClaimNotFound, ConflictNotFound, InvalidData, ReferenceNotFound
from .locking import data_lock
from .references import Reference
from .schema import validate_records
from .storage import files_stamp, load_json, write_json_atomic

T = TypeVar("T")

if TYPE_CHECKING:
    from .editorial import EditorialState

_GENERATIONS = itertools.count(1)


@cache
def _derived_views() -> tuple[str, ...]:
    """The names of KnowledgeBase's cached derived views (its ``cached_property`` members)."""
    return tuple(n for n, v in vars(KnowledgeBase).items() if isinstance(v, cached_property))


REFERENCES_FILE = "references.json"
CLAIMS_FILE = "claims.json"
ARTICLES_FILE = "articles.json"
CONDITIONS_FILE = "conditions.json"
LOAD_ATTEMPTS = 5  # reads of the files before giving up on a consistent snapshot


def _read_records(
    data_dir: Path,
    file: str,
    schema: str,
    wrap: Callable[[Any], T],
    *,
    key: Callable[[dict[str, Any]], str] = lambda rec: rec["id"],
) -> dict[str, T]:
    """Read one data file, validate it against ``schema`` and index its records by id."""
    raw = load_json(data_dir / file)
    validate_records(file, schema, raw)
    out: dict[str, T] = {}
    for rec in raw:
        rid = key(rec)
        if rid in out:
            raise InvalidData(file, "duplicate id", record=rid, field="id")
        out[rid] = wrap(rec)
    return out


@dataclass
class KnowledgeBase:
    """Claims, references, articles and conditions of one data directory.

    Build it with :meth:`load`; derived views (graph, conflicts, evidence grades: every
    ``cached_property`` below) are computed once, on first use, and cached. Other modules keep
    what they derive from it with :meth:`cache`, never as attributes of their own. Records are
    never changed in place: :meth:`amend_claim` and :meth:`amend_article` replace one and call
    :meth:`invalidate`, which drops every derived view and moves :attr:`generation` on.
    ``editorial`` is the replayed editorial state (:class:`kb.editorial.EditorialState`, set
    by :meth:`kb.editorial.Editor.open`), or None when no editorial journal is open: then
    readers see the computed conflicts unchanged.
    """

    data_dir: Path
    conditions: ConditionTree
    references: dict[str, Reference]
    claims: dict[str, Claim]
    articles: dict[str, Article]
    index_dir: Path | None = None  # where the search index lives (see kb.search)
    editorial: EditorialState | None = field(default=None, repr=False)
    # Unique across every KnowledgeBase of the process, new after each invalidate(): anything
    # derived from a knowledge base is fresh while the generation it was built at is current.
    generation: int = field(default_factory=lambda: next(_GENERATIONS), init=False)
    _caches: dict[str, tuple[int, Any]] = field(default_factory=dict, init=False, repr=False)
    _record_caches: dict[str, tuple[int, Any]] = field(default_factory=dict, init=False, repr=False)
    _search_index: Any = field(default=None, init=False, repr=False)
    # The generation at which the records last changed in a way a derived view may depend on
    # (invalidate() of everything); a re-grading (regrade()) does not move it.
    records_generation: int = field(default_factory=lambda: next(_GENERATIONS), init=False)
    # speed: how the derived state was had ("used", "missing", "stale", "damaged": see
    # kb.snapshot; None without a snapshot) and the last few incremental re-gradings
    snapshot_status: str | None = field(default=None, init=False, repr=False)
    # (search-index fingerprint, the records it was computed for) from the snapshot
    index_fingerprint: tuple[str, Any] | None = field(default=None, init=False, repr=False)
    _regrade_log: list[tuple[Any, Any, list[str]]] = field(
        default_factory=list, init=False, repr=False
    )

    # -- derived state ---------------------------------------------------------------------
    def invalidate(self, *views: str) -> None:
        """Forget the derived ``views`` named (every one when none is: after the records
        changed) and every :meth:`cache`, and move :attr:`generation` on."""
        unknown = set(views) - set(_derived_views())
        if unknown:
            raise ValueError(f"not derived views of KnowledgeBase: {sorted(unknown)}")
        for name in views or _derived_views():
            self.__dict__.pop(name, None)
        self._caches.clear()
        self.generation = next(_GENERATIONS)
        if not views:
            self._record_caches.clear()
            self.records_generation = self.generation

    def cache(
        self, name: str, factory: Callable[[KnowledgeBase], T], *, records: bool = False
    ) -> T:
        """The value kept under ``name`` for the current generation, built by ``factory(kb)``
        when missing or stale. How other modules keep state derived from this knowledge base
        (ask's vocabulary, search's result pages); ``name`` is namespaced by its owner.

        With ``records`` the value is kept for as long as the records stay the same
        (:attr:`records_generation`): across re-gradings, verdicts and editorial decisions.
        Only for state read from the records alone — never from grades, conflicts or a
        claim's ``primary`` (a verdict changes it in place) — rebuilding Ask's vocabulary after
        every verdict cost seconds at 100k claims."""
        store = self._record_caches if records else self._caches
        generation = self.records_generation if records else self.generation
        held = store.get(name)
        if held is not None and held[0] == generation:
            return cast(T, held[1])
        value = factory(self)
        store[name] = (generation, value)
        return value

    def amend_claim(self, claim_id: str, **changes: Any) -> Claim:
        """Replace claim ``claim_id`` by a copy whose record has ``changes`` (top-level keys)."""
        old = self.claim(claim_id)
        record: dict[str, Any] = {**old.record, **changes}
        claim = Claim(cast(ClaimRecord, record))
        self.claims[claim_id] = claim
        if set(changes) == {"primary"} and _ref_of(old.primary) == _ref_of(claim.primary):
            # speed: a verdict moves grades (and what caches hold), nothing else
            self.regrade([claim_id])
        else:
            self.invalidate()
        return claim

    def regrade(self, claim_ids: Iterable[str], *, views: tuple[str, ...] = ()) -> list[str]:
        """After an edit that changes only how ``claim_ids`` are graded (a verdict) or whether
        their conflicts lower grades (a board decision): grade again just the claims it can
        affect (:func:`kb.evidence.regrade`), drop ``views`` and move :attr:`generation` on.
        Returns the ids whose grade changed."""
        claim_ids = list(claim_ids)
        old = self.__dict__.get("grades")
        self.invalidate("grades", *views)
        if old is None:
            return []
        new, changed = evidence_mod.regrade(self, old, claim_ids)
        self.__dict__["grades"] = new
        # lets search and summaries redo only these (the last few edits: several may land
        # between two readers); the named claims too, whose records may have changed (a verdict)
        self._regrade_log.append((old, new, list(dict.fromkeys([*changed, *claim_ids]))))
        del self._regrade_log[:-4]
        if old is not new:
            evidence_mod.drop_bases(old)  # only the current grades are re-graded from
        return changed

    def regraded_since(self, grades: dict[str, evidence_mod.Grade]) -> list[str] | None:
        """The claims re-graded since ``grades`` was :attr:`grades` (through :meth:`regrade`
        only: those whose grade changed and those it named), or None when that is not known
        (then assume any)."""
        if grades is self.__dict__.get("grades"):
            return []
        out: list[str] = []
        current = grades
        for old, new, changed in self._regrade_log:
            if old is current:
                out.extend(changed)
                current = new
        return out if current is self.__dict__.get("grades") else None

    def adopt(self, **views: Any) -> None:
        """Install derived views computed elsewhere for exactly these records (a snapshot
        of them, :mod:`kb.snapshot`), as if computed here."""
        unknown = set(views) - set(_derived_views())
        if unknown:
            raise ValueError(f"not derived views of KnowledgeBase: {sorted(unknown)}")
        self.__dict__.update(views)

    def amend_article(self, article_id: str, **changes: Any) -> Article:
        """Replace article ``article_id`` by a copy whose record has ``changes``."""
        record: dict[str, Any] = {**self.article(article_id).record, **changes}
        article = Article(cast(ArticleRecord, record))
        self.articles[article_id] = article
        self.invalidate()
        return article

    # -- loading ---------------------------------------------------------------------------
    @classmethod
    def load(
        cls,
        data_dir: str | os.PathLike[str],
        index_dir: str | os.PathLike[str] | None = None,
        *,
        snapshot: bool = False,
    ) -> KnowledgeBase:
        """Load and validate every file of ``data_dir`` (schema, then referential integrity).

        Raises :class:`InvalidData` naming the file, record and field of the first problem.
        Nothing is written. ``index_dir`` is where the search index lives (default
        ``<data_dir>/../instance/index``); it is only touched by a search. With ``snapshot``
        the validated records, grades and conflicts come from a snapshot next to the index
        when it matches the files (:mod:`kb.snapshot`; written when it does not).
        """
        data_dir = Path(data_dir)
        if not data_dir.is_dir():
            raise InvalidData(str(data_dir), "data directory not found")
        if snapshot:  # speed: derived state kept between processes (kb/snapshot.py)
            from . import paths
            from . import snapshot as snapshot_mod

            # paths, not kb.search: the snapshot starts hashing the data files first
            where = Path(index_dir) if index_dir is not None else paths.index_dir(data_dir)
            kb, status = snapshot_mod.load(cls, data_dir, where)
            kb.snapshot_status = status
            kb.index_dir = where
            return kb
        # Bulk loading creates millions of objects and no cycles; the cyclic collector would
        # rescan them again and again (superlinear at 100k claims), so pause it meanwhile.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            kb = cls._load_snapshot(data_dir)
        finally:
            if gc_was_enabled:
                gc.enable()
        from .search import default_index_dir

        kb.index_dir = Path(index_dir) if index_dir is not None else default_index_dir(data_dir)
        return kb

    @classmethod
    def _load_snapshot(cls, data_dir: Path) -> KnowledgeBase:
        """One consistent version of the four files: a writer (an import, a compaction)
        replaces several files one after the other, so a load that overlapped a write (the
        files' stamps changed meanwhile) is read again rather than mixing two versions."""
        names = (CONDITIONS_FILE, REFERENCES_FILE, CLAIMS_FILE, ARTICLES_FILE)
        for _attempt in range(LOAD_ATTEMPTS - 1):
            before = files_stamp(data_dir, names)
            try:
                kb = cls._load(data_dir)
            except InvalidData:
                if files_stamp(data_dir, names) == before:
                    raise  # really invalid, not caught half-way through a write
                continue
            if files_stamp(data_dir, names) == before:
                return kb
        return cls._load(data_dir)

    @classmethod
    def _load(cls, data_dir: Path) -> KnowledgeBase:
        raw_conditions = load_json(data_dir / CONDITIONS_FILE)
        validate_records(CONDITIONS_FILE, "conditions.schema.json", raw_conditions)
        conditions = ConditionTree.from_records(raw_conditions, file=CONDITIONS_FILE)

        references = _read_records(
            data_dir, REFERENCES_FILE, "csl-data.json", Reference, key=lambda rec: str(rec["id"])
        )
        claims = _read_records(data_dir, CLAIMS_FILE, "claims.schema.json", Claim)
        articles = _read_records(data_dir, ARTICLES_FILE, "articles.schema.json", Article)

        kb = cls(data_dir, conditions, references, claims, articles)
        kb.check_references()
        return kb

    def check_references(self) -> None:
        """Referential integrity: every id a record names must exist.

        Raises :class:`InvalidData` naming the file, record and field of the first dangling id.
        The loader runs it; so does the importer on the knowledge base it is about to write.
        """
        _check_reference_links(self)
        _check_claim_links(self)
        _check_article_links(self)

    # -- saving ----------------------------------------------------------------------------
    def save(self, data_dir: str | os.PathLike[str] | None = None) -> None:
        """Write all four files canonically and atomically (to ``data_dir`` or where loaded),
        holding the folder's writer lock (:func:`kb.locking.data_lock`). Writes this object's
        records as they are: a writer that must not lose others' work re-reads under the lock
        first (as imports and compaction do)."""
        target = Path(data_dir) if data_dir is not None else self.data_dir
        target.mkdir(parents=True, exist_ok=True)
        with data_lock(target):
            write_json_atomic(target / CONDITIONS_FILE, self.conditions.to_records())
            write_json_atomic(target / REFERENCES_FILE, [r.csl for r in self.references.values()])
            write_json_atomic(target / CLAIMS_FILE, [c.record for c in self.claims.values()])
            write_json_atomic(target / ARTICLES_FILE, [a.record for a in self.articles.values()])

    # -- lookups ---------------------------------------------------------------------------
    def claim(self, claim_id: str) -> Claim:
        try:
            return self.claims[claim_id]
        except KeyError:
            raise ClaimNotFound(claim_id) from None

    def reference(self, ref_id: str) -> Reference:
        try:
            return self.references[ref_id]
        except KeyError:
            raise ReferenceNotFound(ref_id) from None

    def article(self, article_id: str) -> Article:
        try:
            return self.articles[article_id]
        except KeyError:
            raise ArticleNotFound(article_id) from None

    def claims_citing(self, ref_id: str) -> list[str]:
        """Ids of claims that cite ``ref_id`` directly."""
        self.reference(ref_id)
        return list(self._claims_by_ref.get(ref_id, []))

    @cached_property
    def _claims_by_ref(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for claim in self.claims.values():
            for cit in claim.citations:
                if cit.get("ref") is not None:
                    out.setdefault(cit["ref"], []).append(claim.id)
        return out

    def articles_containing(self, claim_id: str) -> list[str]:
        return [a.id for a in self.articles.values() if claim_id in self._article_claims[a.id]]

    @cached_property
    def claims_by_topic(self) -> dict[tuple[str, str], list[str]]:
        """Claim ids grouped by (intervention, outcome), in data order; computed once."""
        out: dict[tuple[str, str], list[str]] = {}
        for claim in self.claims.values():
            out.setdefault((claim.intervention, claim.outcome), []).append(claim.id)
        return out

    @cached_property
    def _article_claims(self) -> dict[str, frozenset[str]]:
        return {a.id: frozenset(a.claim_ids()) for a in self.articles.values()}

    # -- derived views (computed once) -----------------------------------------------------
    # Two names, so no output can pick the wrong set by accident: ``conflicts`` is what
    # readers see (every page, API, export, graph, stat and grade uses it);
    # ``computed_conflicts`` is what detection finds, whatever the board decided.
    @cached_property
    def computed_conflicts(self) -> dict[str, conflicts_mod.Conflict]:
        """Every conflict detection finds in the data, by id, dismissed or not."""
        return {c.id: c for c in conflicts_mod.detect(self)}

    @cached_property
    def computed_conflicts_by_claim(self) -> dict[str, list[str]]:
        """Ids of the computed conflicts each claim takes part in."""
        out: dict[str, list[str]] = {}
        for conflict in self.computed_conflicts.values():
            for cid in conflict.claim_ids():
                out.setdefault(cid, []).append(conflict.id)
        return out

    @property
    def conflicts(self) -> dict[str, conflicts_mod.Conflict]:
        """The conflicts readers see, by id: the computed ones and those editors added by
        hand, less those the editorial board dismissed or resolved (kept in the history)."""
        views = self._editorial_views()
        return views.active if views is not None else self.computed_conflicts

    @property
    def conflicts_by_claim(self) -> dict[str, list[str]]:
        """Ids of the conflicts readers see that each claim takes part in (computed first)."""
        views = self._editorial_views()
        return (
            views.active_by_claim(self) if views is not None else self.computed_conflicts_by_claim
        )

    def conflict(self, conflict_id: str) -> conflicts_mod.Conflict:
        """A computed or hand-added conflict, whether the board dismissed it or not."""
        found = self.computed_conflicts.get(conflict_id) or self.manual_conflicts().get(conflict_id)
        if found is None:
            raise ConflictNotFound(conflict_id)
        return found

    # -- conflicts as readers see them (computed, less dismissed, plus hand-added) --------
    def _editorial_views(self) -> _EditorialViews | None:
        """Hand-added conflicts and the active set, rebuilt only after a new editorial event."""
        state = self.editorial
        if state is None:
            return None
        # Another thread may be applying an event: counting the decisions and hand-added
        # conflicts too makes a view built half-way through an event go stale once it lands.
        key = (
            len(state.events),
            len(state.conflict_decisions),
            len(state.manual_conflicts),
        )
        views = self._caches.get("kb.editorial_views")
        if (
            views is None
            or views[0] != self.generation
            or views[1].state is not state
            or views[1].key != key
        ):
            views = (self.generation, _EditorialViews.build(self, state, key))
            self._caches["kb.editorial_views"] = views
        return cast(_EditorialViews, views[1])

    def manual_conflicts(self) -> dict[str, conflicts_mod.Conflict]:
        """Conflicts an editor added by hand (``add_conflict`` events), by id, with
        ``source == "editor"``; dismissed ones included."""
        views = self._editorial_views()
        return views.manual if views is not None else {}

    def active_conflicts(self) -> dict[str, conflicts_mod.Conflict]:
        """The same as :attr:`conflicts` (kept for existing callers)."""
        return self.conflicts

    def active_conflict_ids(self, claim_id: str) -> list[str]:
        """Ids of the conflicts readers see that ``claim_id`` takes part in (computed first)."""
        return list(self.conflicts_by_claim.get(claim_id, []))

    def conflict_ids_of(self, claim_id: str) -> list[str]:
        """Ids of every conflict ``claim_id`` takes part in, active or dismissed."""
        views = self._editorial_views()
        manual = views.manual_by_claim.get(claim_id, []) if views is not None else []
        return list(self.computed_conflicts_by_claim.get(claim_id, [])) + list(manual)

    @cached_property
    def grades(self) -> dict[str, evidence_mod.Grade]:
        """The computed evidence grade of every claim, by claim id."""
        return evidence_mod.grade_all(self)

    @property
    def summaries(self) -> dict[str, summary_mod.Body]:
        """Every body of evidence (GRADE summary of findings row), by id; see :mod:`kb.summary`.
        Kept per generation, so it follows every re-grading and editorial mark."""
        return self.cache("kb.summaries", summary_mod.build)

    def grade(self, claim_id: str) -> evidence_mod.Grade:
        self.claim(claim_id)
        return self.grades[claim_id]

    @property
    def graph(self) -> Any:
        """The networkx graph, built once per generation and set of conflicts readers see (a
        dismissal removes that conflict's node)."""
        from .graph import build_graph

        views = self._editorial_views()
        key = views.conflicts_key if views is not None else None
        graphs: dict[Any, Any] = self.cache("kb.graphs", lambda kb: {})  # per generation
        if key not in graphs:
            graphs.clear()
            graphs[key] = build_graph(self)
        return graphs[key]

    def stats(self) -> dict[str, Any]:
        """Counts a reader would want at a glance."""
        return {
            "claims": len(self.claims),
            "references": len(self.references),
            "articles": len(self.articles),
            "conditions": len(self.conditions.conditions),
            "claims_by_origin": dict(Counter(c.origin for c in self.claims.values())),
            "claims_by_kind": dict(sorted(Counter(c.kind for c in self.claims.values()).items())),
            "claims_by_grade": dict(Counter(g.grade for g in self.grades.values())),
            "conflicts": len(self.conflicts),
            "conflicts_by_type": dict(Counter(c.type for c in self.conflicts.values())),
        }

    # -- search (kb.search) ----------------------------------------------------------------
    @property
    def search_index(self) -> Any:
        """The :class:`kb.search.SearchIndex` of :attr:`index_dir` (opened on first use)."""
        from .search import SearchIndex, default_index_dir

        index_dir = self.index_dir or default_index_dir(self.data_dir)
        current = self._search_index
        if current is None or current.index_dir != Path(index_dir):
            current = self._search_index = SearchIndex(index_dir)
        return current

    @search_index.setter
    def search_index(self, index: Any) -> None:
        """Use ``index`` (a :class:`kb.search.SearchIndex`, e.g. with another lock timeout)."""
        self._search_index = index

    def search(
        self,
        query: str,
        *,
        kind: str | list[str] | None = None,
        condition: str | list[str] | None = None,
        grade: str | list[str] | None = None,
        design: str | list[str] | None = None,
        limit: int = 10,
        page: int = 1,
    ) -> dict[str, Any]:
        """Search claims and references; the JSON shape every adapter returns.

        ``query`` understands synonyms, phrases, ``kind:`` / ``condition:`` / ``grade:`` /
        ``design:`` filters and more (see :mod:`kb.search.query`); the keyword filters add to
        those typed. Returns ``{query, total, page, limit, results, facets, suggestion,
        warnings}``; each result is :func:`kb.shapes.claim_json` (or a reference) with
        ``type``, ``score`` and ``highlight``. Raises :class:`InvalidQuery` for a query that
        cannot be understood. The index is built or updated first when the data changed.
        """
        results: dict[str, Any] = self.search_index.search(
            self,
            query,
            kind=kind,
            condition=condition,
            grade=grade,
            design=design,
            limit=limit,
            page=page,
        )
        return results

    def prepare_edits(self) -> None:
        """Decode now what re-grading after an edit builds on (a snapshot defers it), so the
        first editorial decision costs what every later one does."""
        evidence_mod.bases_of(self.grades)
        summary_mod.prepare_edits(self)
        if self._search_index is not None:  # open already: where each claim's document lies
            self._search_index.prepare_edits(self)

    def search_warm(self) -> None:
        """Build, update or open the search index now rather than on the first search."""
        self.search_index.ensure(self)

    def reindex(self, *, rebuild: bool = False) -> dict[str, Any]:
        """Bring the search index up to date (``rebuild``: rewrite every document); a report."""
        report: dict[str, Any] = self.search_index.sync(self, rebuild=rebuild).to_dict()
        return report


# -- referential integrity, one function per data file -----------------------------------------
def _check_reference_links(kb: KnowledgeBase) -> None:
    refs, conds = kb.references, kb.conditions
    for ref in refs.values():
        for cid in ref.condition_ids:
            if cid not in conds:
                raise InvalidData(
                    REFERENCES_FILE,
                    f"unknown condition {cid!r}",
                    record=ref.id,
                    field="custom.condition_ids",
                )
        for target in ref.traced_to:
            if target not in refs:
                raise InvalidData(
                    REFERENCES_FILE,
                    f"unknown reference {target!r}",
                    record=ref.id,
                    field="custom.traced_to",
                )


def _check_claim_links(kb: KnowledgeBase) -> None:
    refs, conds = kb.references, kb.conditions
    for claim in kb.claims.values():
        for cid in claim.conditions:
            if cid not in conds:
                raise InvalidData(
                    CLAIMS_FILE, f"unknown condition {cid!r}", record=claim.id, field="conditions"
                )
        for i, cit in enumerate(claim.citations):
            rid = cit.get("ref")
            if rid is not None and rid not in refs:
                raise InvalidData(
                    CLAIMS_FILE,
                    f"unknown reference {rid!r}",
                    record=claim.id,
                    field=f"citations.{i}.ref",
                )
        primary = claim.primary
        if primary and primary.get("ref") is not None and primary["ref"] not in refs:
            raise InvalidData(
                CLAIMS_FILE,
                f"unknown reference {primary['ref']!r}",
                record=claim.id,
                field="primary.ref",
            )


def _check_article_links(kb: KnowledgeBase) -> None:
    refs = kb.references
    for art in kb.articles.values():
        if art.source_ref is not None and art.source_ref not in refs:
            raise InvalidData(
                ARTICLES_FILE,
                f"unknown reference {art.source_ref!r}",
                record=art.id,
                field="source_ref",
            )
        for i, cid in enumerate(art.bottom_line):
            if cid not in kb.claims:
                raise InvalidData(
                    ARTICLES_FILE,
                    f"unknown claim {cid!r}",
                    record=art.id,
                    field=f"bottom_line.{i}",
                )
        for path, sec in art.walk_sections():
            for cid in sec.get("claims", []):
                if cid not in kb.claims:
                    raise InvalidData(
                        ARTICLES_FILE,
                        f"unknown claim {cid!r} in section {' / '.join(path)!r}",
                        record=art.id,
                        field="sections",
                    )
        for key in ("reference_list", "citation_resolutions"):
            for i, item in enumerate(art.record[key]):
                if item["ref"] not in refs:
                    raise InvalidData(
                        ARTICLES_FILE,
                        f"unknown reference {item['ref']!r}",
                        record=art.id,
                        field=f"{key}.{i}.ref",
                    )


def _ref_of(primary: dict[str, Any] | None) -> Any:
    return primary.get("ref") if primary else None


@dataclass
class _EditorialViews:
    """What the editorial state does to the conflicts, for one version of that state."""

    state: EditorialState
    key: tuple[int, ...]
    manual: dict[str, conflicts_mod.Conflict]
    manual_by_claim: dict[str, list[str]]
    active: dict[str, conflicts_mod.Conflict]
    conflicts_key: tuple[frozenset[str], frozenset[str]]  # what ``active`` depends on
    _by_claim: dict[str, list[str]] | None = None

    def active_by_claim(self, kb: KnowledgeBase) -> dict[str, list[str]]:
        """Active conflict ids per claim (computed ones first), built on first use."""
        if self._by_claim is None:
            computed = kb.computed_conflicts_by_claim
            if self.active is kb.computed_conflicts:
                self._by_claim = computed
            else:
                out: dict[str, list[str]] = {}
                for cid in computed.keys() | self.manual_by_claim.keys():
                    ids = [cf for cf in computed.get(cid, []) if cf in self.active]
                    ids += [cf for cf in self.manual_by_claim.get(cid, []) if cf in self.active]
                    if ids:
                        out[cid] = ids
                self._by_claim = out
        return self._by_claim

    @classmethod
    def build(
        cls, kb: KnowledgeBase, state: EditorialState, key: tuple[int, ...]
    ) -> _EditorialViews:
        manual: dict[str, conflicts_mod.Conflict] = {}
        by_claim: dict[str, list[str]] = {}
        # Snapshots: another thread may be applying an event meanwhile.
        for cid, data in list(state.manual_conflicts.items()):
            conflict = _manual_conflict(kb, cid, data)
            if conflict is not None:
                manual[cid] = conflict
                for claim_id in dict.fromkeys(conflict.claim_ids()):
                    by_claim.setdefault(claim_id, []).append(cid)
        decided = {
            cid
            for cid, d in list(state.conflict_decisions.items())
            if d.get("decision") in ("dismissed", "resolved")
        }
        if decided or manual:
            active = {cid: c for cid, c in kb.computed_conflicts.items() if cid not in decided}
            active.update((cid, c) for cid, c in manual.items() if cid not in decided)
        else:
            active = kb.computed_conflicts
        return cls(state, key, manual, by_claim, active, (frozenset(decided), frozenset(manual)))


def _manual_conflict(
    kb: KnowledgeBase, conflict_id: str, data: dict[str, Any]
) -> conflicts_mod.Conflict | None:
    """A conflict an editor added (``add_conflict`` data: type, explanation, sides, topic) as a
    :class:`~kb.conflicts.Conflict` with ``source == "editor"``; None once fewer than two of
    its sides still hold a claim of this knowledge base."""
    sides = []
    for i, side in enumerate(data.get("sides") or []):
        claims = tuple(c for c in side.get("claims", []) if c in kb.claims)
        if claims:
            sides.append(conflicts_mod.Side(str(side.get("label") or f"Side {i + 1}"), claims))
    if len(sides) < 2:
        return None
    first = kb.claims[sides[0].claims[0]]
    scopes = [{c for cid in side.claims for c in kb.claims[cid].conditions} for side in sides]
    shared = set.intersection(*scopes)
    condition = sorted(shared)[0] if shared else (first.conditions[0] if first.conditions else "")
    scope = kb.conditions.relation(scopes[0], scopes[1])
    topic = data.get("topic") or conflicts_mod.topic_of(first)
    return conflicts_mod.Conflict(
        conflict_id,
        str(data.get("type") or "opposite_direction"),
        topic,
        first.intervention,
        first.kind,
        first.outcome,
        condition,
        scope,
        tuple(sides),
        str(data.get("explanation") or ""),
        source="editor",
    )
