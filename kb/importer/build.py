"""Building an article, claims and references from a document, validating, and writing them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ..articles import Article
from ..claims import Claim, format_value
from ..errors import InvalidDocument
from ..knowledgebase import ARTICLES_FILE, CLAIMS_FILE, REFERENCES_FILE, KnowledgeBase
from ..locking import data_lock
from ..references import Reference
from ..schema import validate_records
from ..storage import write_json_atomic
from ..text import ascii_words, fold
from .classify import Classifier
from .document import MAX_BYTES, Document, RefEntry, Section, decode_document, parse_document
from .values import extract_values, headline
from .vocabularies import rules, vocab

PRIMARY_NOTE = "Imported; not yet traced to a primary source."
# Statement role of an imported answer-page statement (kb.claims.ROLES): advice on what to do is
# a recommendation, a proposed mechanism is background, anything else reports a finding.
_ADVICE_KINDS = frozenset({"treatment_line", "dose", "titration", "patient_selection"})


def _role(kind: str) -> str:
    if kind in _ADVICE_KINDS:
        return "recommendation"
    return "background" if kind == "mechanism" else "finding"


# -- the report --------------------------------------------------------------------------------
@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do). ``to_dict`` is the JSON shape."""

    file: str
    article_id: str
    title: str
    question: str
    last_updated: str
    last_updated_from: str
    dry_run: bool
    unchanged: bool = False
    written: bool = False
    claims: list[dict[str, Any]] = field(default_factory=list)
    references_new: list[dict[str, Any]] = field(default_factory=list)
    references_matched: list[dict[str, Any]] = field(default_factory=list)
    unresolved_citations: list[dict[str, Any]] = field(default_factory=list)
    not_understood: list[dict[str, Any]] = field(default_factory=list)
    skipped_furniture: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    knowledge_base: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: every field but the resulting knowledge base, plus counts."""
        data = {k: v for k, v in self.__dict__.items() if k != "knowledge_base"}
        data["counts"] = {
            "claims": len(self.claims),
            "references_new": len(self.references_new),
            "references_matched": len(self.references_matched),
            "unresolved_citations": len(self.unresolved_citations),
            "not_understood": len(self.not_understood),
            "skipped_furniture": len(self.skipped_furniture),
            "conflicts": len(self.conflicts),
        }
        copy: dict[str, Any] = json.loads(json.dumps(data))  # a deep, JSON-clean copy
        return copy


# -- building records --------------------------------------------------------------------------
def article_id_for(doc: Document) -> str:
    """The article id: a slug of the title plus a digest of the content (same file, same id)."""
    slug = "-".join(ascii_words(doc.title)[:6])[:48].strip("-") or "document"
    return f"{slug}-{doc.digest[:8]}"


def normalise_title(title: str) -> str:
    """Case, punctuation (dashes of every kind), whitespace and a trailing period removed."""
    return fold(title)


def normalise_doi(doi: str) -> str:
    doi = doi.strip().lower()
    return re.sub(r"^(doi:\s*|https?://(dx\.)?doi\.org/)", "", doi)


def _new_ref_id(entry: RefEntry, taken: set[str]) -> str:
    stop = set(vocab("ask_cues.json")["stopwords"])
    source = next((w for w in ascii_words(entry.source) if w not in stop), "source")
    words = [w for w in ascii_words(entry.title) if w not in stop][:3] or ["untitled"]
    base = f"{source}{entry.year}_{'-'.join(words)}"
    rid, n = base, 2
    while rid in taken:
        rid, n = f"{base}-{n}", n + 1
    return rid


def _resolve_references(
    kb: KnowledgeBase, doc: Document, report: ImportReport
) -> tuple[dict[int, str], list[dict[str, Any]]]:
    """Each list entry → an existing reference (DOI, or title and year) or a new CSL item."""
    by_doi: dict[str, str] = {}
    by_title: dict[tuple[str, int], str] = {}
    for ref in sorted(kb.references.values(), key=lambda r: r.id):
        if ref.doi:
            by_doi.setdefault(normalise_doi(ref.doi), ref.id)
        if ref.year is not None and ref.title:
            by_title.setdefault((normalise_title(ref.title), ref.year), ref.id)
    kinds = {k.casefold(): v for k, v in rules()["reference_kinds"].items()}
    taken = set(kb.references)
    numbers: dict[int, str] = {}
    new: list[dict[str, Any]] = []
    for e in doc.references:
        key = (normalise_title(e.title), e.year)
        rid, how = None, None
        if e.doi and normalise_doi(e.doi) in by_doi:
            rid, how = by_doi[normalise_doi(e.doi)], "doi"
        elif key in by_title:
            rid, how = by_title[key], "title and year"
        if rid is not None:
            numbers[e.number] = rid
            report.references_matched.append(
                {
                    "number": e.number,
                    "line": e.line,
                    "ref": rid,
                    "title": e.title,
                    "year": e.year,
                    "matched_by": how,
                }
            )
            continue
        spec = kinds.get((e.kind or "").casefold(), rules()["reference_kind_default"])
        rid = _new_ref_id(e, taken)
        taken.add(rid)
        csl: dict[str, Any] = {
            "id": rid,
            "type": spec["type"],
            "title": e.title,
            "container-title": e.source,
            "issued": {"date-parts": [[e.year]]},
            "custom": {
                "role": spec["role"],
                "design": "not stated",
                "n": "not stated",
                "verification": "imported",
                "provenance": [],
                "traced_to": [],
                "condition_ids": [],
                "conditions": [],
            },
        }
        if e.kind:
            csl["custom"]["kind_as_stated"] = e.kind
        if e.doi:  # only a DOI the document itself gives; identifiers are never invented
            csl["DOI"] = e.doi
        new.append(csl)
        numbers[e.number] = rid
        by_title[key] = rid
        if e.doi:
            by_doi[normalise_doi(e.doi)] = rid
        report.references_new.append(
            {
                "number": e.number,
                "line": e.line,
                "ref": rid,
                "title": e.title,
                "year": e.year,
                "type": spec["type"],
                "role": spec["role"],
            }
        )
    return numbers, new


def _build(
    kb: KnowledgeBase, doc: Document, report: ImportReport
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """The new references, claims and article of ``doc`` (not yet validated)."""
    numbers, new_refs = _resolve_references(kb, doc, report)
    cls = Classifier(kb, doc)
    aid = report.article_id
    claims: list[dict[str, Any]] = []
    ids: dict[int, str] = {}  # id(Statement) → claim id
    unresolved: dict[int, dict[str, Any]] = {}
    for st in doc.statements():
        values = extract_values(st.core)
        ko = cls.kind_outcome(st, values)
        if ko is None:
            report.not_understood.append(
                {"line": st.line, "text": st.text, "reason": "no rule gives the kind of statement"}
            )
            continue
        kind, outcome = ko
        cid = f"imp-{aid}-{len(claims) + 1}"
        citations = []
        for n in dict.fromkeys(st.citations):
            citations.append({"ref": numbers.get(n), "number": n})
            if n not in numbers:
                item = unresolved.setdefault(n, {"number": n, "lines": [], "claims": []})
                item["lines"].append(st.line)
                item["claims"].append(cid)
        value = headline(values, outcome, st.core)
        rec = {
            "id": cid,
            "origin": "import",
            "kind": kind,
            "text": st.text,
            "intervention": cls.intervention(st, kind),
            "conditions": cls.conditions_of(st),
            "outcome": outcome,
            "value": value,
            "reported_numbers": {"as_stated": [v.record["as_stated"] for v in values]}
            if values
            else {},
            "direction": cls.direction(st, kind, outcome),
            "citations": citations,
            "reported_in": "secondary",
            "seen_at": None,
            "recommendation": cls.recommendation(st, kind),
            "role": _role(kind),
            "primary": {
                "ref": None,
                "verdict": "not_assessed",
                "note": PRIMARY_NOTE,
                "basis": "import",
            },
        }
        claims.append(rec)
        ids[id(st)] = cid
        report.claims.append(
            {
                "id": cid,
                "line": st.line,
                "kind": kind,
                "outcome": outcome,
                "intervention": rec["intervention"],
                "conditions": rec["conditions"],
                "value_text": format_value(value),
                "direction": rec["direction"],
                "citations": [c["number"] for c in citations],
                "text": st.text,
            }
        )
    if not claims:
        raise InvalidDocument(doc.name, "no statement could be classified; nothing to import")
    report.unresolved_citations = [unresolved[n] for n in sorted(unresolved)]
    report.not_understood.sort(key=lambda item: item["line"])

    def section(sec: Section) -> dict[str, Any]:
        out: dict[str, Any] = {
            "heading": sec.heading,
            "claims": [ids[id(s)] for s in sec.statements if id(s) in ids],
        }
        if sec.subsections:
            out["subsections"] = [section(s) for s in sec.subsections]
        return out

    article = {
        "id": aid,
        "title": doc.title,
        "question": doc.question or doc.title,
        "source_ref": None,
        "review_status": "submitted",
        "last_updated": report.last_updated,
        "bottom_line": [ids[id(s)] for s in doc.bottom_line if id(s) in ids],
        "sections": [section(s) for s in doc.sections],
        "reference_list": [{"number": n, "ref": r} for n, r in sorted(numbers.items())],
        "citation_resolutions": [],
    }
    return new_refs, claims, article


def _assemble(
    kb: KnowledgeBase,
    refs: list[dict[str, Any]],
    claims: list[dict[str, Any]],
    article: dict[str, Any],
) -> KnowledgeBase:
    """The whole resulting knowledge base, validated in memory as loading would validate it."""
    new_ids = {c["id"] for c in claims}
    # Claims left by an interrupted earlier import of this document are replaced, not doubled.
    # Records as plain dicts: the new ones are checked against the schemas just below.
    claim_recs: list[Any] = [c.record for c in kb.claims.values() if c.id not in new_ids] + claims
    ref_recs = [r.csl for r in kb.references.values()] + refs
    art_recs: list[Any] = [a.record for a in kb.articles.values()] + [article]
    validate_records(REFERENCES_FILE, "csl-data.json", ref_recs)
    validate_records(CLAIMS_FILE, "claims.schema.json", claim_recs)
    validate_records(ARTICLES_FILE, "articles.schema.json", art_recs)
    new_kb = KnowledgeBase(
        data_dir=kb.data_dir,
        conditions=kb.conditions,
        references={str(r["id"]): Reference(r) for r in ref_recs},
        claims={c["id"]: Claim(c) for c in claim_recs},
        articles={a["id"]: Article(a) for a in art_recs},
    )
    new_kb.check_references()  # the loader's referential-integrity pass
    if getattr(kb, "index_dir", None) is not None:
        new_kb.index_dir = kb.index_dir
    return new_kb


def _conflicts_of(kb: KnowledgeBase, claim_ids: set[str]) -> list[dict[str, Any]]:
    out = []
    for conflict in kb.conflicts.values():
        mine = [c for c in conflict.claim_ids() if c in claim_ids]
        if mine:
            out.append(
                {
                    "id": conflict.id,
                    "type": conflict.type,
                    "explanation": conflict.explanation,
                    "claims": mine,
                    "with": [c for c in conflict.claim_ids() if c not in claim_ids],
                }
            )
    return out


# -- entry points ------------------------------------------------------------------------------
def import_document(
    kb: KnowledgeBase, text: str, *, name: str, today: date, dry_run: bool = False
) -> ImportReport:
    """Import the answer document ``text`` into ``kb``'s data directory.

    ``today`` is the article's last-updated date when the document states none. With
    ``dry_run`` nothing is written and ``kb`` is used as given. Otherwise the data folder's
    writer lock (:func:`kb.locking.data_lock`) is held and the data files are read again under
    it, so an import never writes back an older copy than another writer (an import in
    another process, a compaction) left. The report's ``knowledge_base`` is the resulting
    knowledge base. Raises :class:`InvalidDocument` for a document that cannot be imported,
    :class:`InvalidData` if the result would not validate, :class:`~kb.errors.DataBusy` when
    another writer holds the lock too long and :class:`~kb.errors.StorageError` when the disk
    refuses the write; in every case nothing is written.
    """
    doc = parse_document(text, name=name)
    if dry_run:
        return _import(kb, doc, name=name, today=today, dry_run=True)
    with data_lock(kb.data_dir):
        stored = KnowledgeBase.load(kb.data_dir, index_dir=kb.index_dir)
        return _import(stored, doc, name=name, today=today, dry_run=False)


def _import(
    kb: KnowledgeBase, doc: Document, *, name: str, today: date, dry_run: bool
) -> ImportReport:
    aid = article_id_for(doc)
    report = ImportReport(
        file=name,
        article_id=aid,
        title=doc.title,
        question=doc.question or doc.title,
        last_updated=doc.last_updated or today.isoformat(),
        last_updated_from="document" if doc.last_updated else "caller",
        dry_run=dry_run,
        not_understood=list(doc.not_understood),
        skipped_furniture=list(doc.furniture),
        warnings=list(doc.warnings),
    )
    if aid in kb.articles:  # the same document again: report what it holds, change nothing
        report.unchanged = True
        report.knowledge_base = kb
        art = kb.articles[aid]
        _build(kb, doc, report)  # the same rules give the same claims (reported, not saved)
        report.conflicts = _conflicts_of(kb, set(art.claim_ids()))
        return report
    refs, claims, article = _build(kb, doc, report)
    new_kb = _assemble(kb, refs, claims, article)
    report.conflicts = _conflicts_of(new_kb, {c["id"] for c in claims})
    report.knowledge_base = new_kb
    if not dry_run:
        # Only the three changed files, each atomically, in dependency order: a crash between
        # writes leaves unused references or article-less claims, never dangling ids.
        for fname, records in (
            (REFERENCES_FILE, [r.csl for r in new_kb.references.values()]),
            (CLAIMS_FILE, [c.record for c in new_kb.claims.values()]),
            (ARTICLES_FILE, [a.record for a in new_kb.articles.values()]),
        ):
            write_json_atomic(kb.data_dir / fname, records)
        report.written = True
    return report


def import_bytes(
    kb: KnowledgeBase, data: bytes, *, name: str, today: date, dry_run: bool = False
) -> ImportReport:
    """:func:`import_document` for raw bytes (an upload): checked and decoded first."""
    return import_document(
        kb, decode_document(data, name=name), name=name, today=today, dry_run=dry_run
    )


def import_file(
    kb: KnowledgeBase, path: str | Path, *, today: date, dry_run: bool = False
) -> ImportReport:
    """:func:`import_document` for a file; a file over 1 MB is refused before it is read."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise InvalidDocument(path.name, "is a folder, not a document")
        if size > MAX_BYTES:
            raise InvalidDocument(
                path.name,
                f"the file is {size:,} bytes; an answer document "
                f"may be at most {MAX_BYTES:,} bytes (1 MB)",
            )
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidDocument(path.name, "file not found") from None
    except OSError as exc:
        raise InvalidDocument(path.name, f"cannot be read ({exc.strerror})") from None
    return import_bytes(kb, data, name=path.name, today=today, dry_run=dry_run)
