"""Exports for reviewers' and authors' tools: references, citations, claims and the graph.

- references as CSL-JSON, BibTeX and RIS for reference managers — two small serialisers here,
  since each is a few lines of mapping; every format carries only the fields the dossier has
  (never an empty or guessed one) and, as its link, the public one (DOI, else PubMed), never
  the page the metadata was read on;
- formatted citations: ``harvard`` through citeproc-py and the CSL style it ships
  (Harvard "Cite Them Right"), or ``vancouver`` from :meth:`Reference.citation`;
- claims as CSV, one row per claim, with the computed grade and conflicts;
- the graph as GraphML or networkx node-link JSON (:mod:`kb.graph`).

Every function returns text; :func:`write_text_atomic` puts it in a file.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import KBError
from .storage import write_text_atomic  # noqa: F401  (re-exported: exports are written with it)

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase
    from .references import Reference

REFERENCE_FORMATS = ("csl-json", "bibtex", "ris")
CITATION_STYLES = ("harvard", "vancouver")
CLAIM_FORMATS = ("csv",)
GRAPH_FORMATS = ("graphml", "node-link")
CLAIM_COLUMNS = (
    "id",
    "origin",
    "kind",
    "text",
    "intervention",
    "conditions",
    "outcome",
    "value_text",
    "direction",
    "citations",
    "grade",
    "cebm_level",
    "conflicts",
)

_BIBTEX_TYPES = {
    "article-journal": "article",
    "book": "book",
    "chapter": "incollection",
    "report": "techreport",
    "thesis": "phdthesis",
    "paper-conference": "inproceedings",
}
_RIS_TYPES = {
    "article-journal": "JOUR",
    "book": "BOOK",
    "chapter": "CHAP",
    "report": "RPRT",
    "thesis": "THES",
    "webpage": "ELEC",
    "paper-conference": "CPAPER",
}
_BIBTEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


# -- references --------------------------------------------------------------------------------
def _present(value: Any) -> bool:
    """A field worth exporting: not missing, not empty (an empty author list is no author)."""
    return value not in (None, "", [], {})


def csl_item(ref: Reference) -> dict[str, Any]:
    """A reference as a reference manager should receive it: the standard CSL fields the
    dossier has (none empty, none guessed), ``URL`` the public link (DOI, else PubMed) or
    absent, and no project fields."""
    item = {k: v for k, v in ref.csl.items() if k not in ("custom", "URL") and _present(v)}
    if ref.citation_url:
        item["URL"] = ref.citation_url
    return item


def references_csl_json(kb: KnowledgeBase) -> str:
    """Every reference as a CSL-JSON item (:func:`csl_item`), valid against
    ``kb/schemas/csl-data.json``."""
    return (
        json.dumps(
            [csl_item(r) for r in kb.references.values()],
            indent=2,
            sort_keys=True,
            ensure_ascii=False,
        )
        + "\n"
    )


def _one_line(text: Any) -> str:
    return " ".join(str(text).split())


def _names(ref: Reference, *, literal_braces: bool) -> list[str]:
    out = []
    for a in ref.csl.get("author") or []:
        if "literal" in a:
            out.append("{" + a["literal"] + "}" if literal_braces else a["literal"])
        else:
            given = f", {a['given']}" if a.get("given") else ""
            out.append(f"{a.get('family', '')}{given}")
    return out


def _bibtex_escape(text: str) -> str:
    return "".join(_BIBTEX_SPECIAL.get(ch, ch) for ch in _one_line(text))


def _bibtex_entry(ref: Reference) -> str:
    csl = ref.csl
    etype = _BIBTEX_TYPES.get(csl.get("type", ""), "misc")
    fields: list[tuple[str, str]] = []
    names = _names(ref, literal_braces=True)
    if names:
        fields.append(
            (
                "author",
                " and ".join(
                    _bibtex_escape(n).replace(r"\{", "{").replace(r"\}", "}") for n in names
                ),
            )
        )
    # Double braces keep the title's capitals (LDN, CRPS) as written.
    fields.append(("title", "{" + _bibtex_escape(ref.title) + "}"))
    container = csl.get("container-title")
    if container:
        key = {"article": "journal", "incollection": "booktitle", "inproceedings": "booktitle"}.get(
            etype, "howpublished"
        )
        fields.append((key, _bibtex_escape(container)))
    if ref.publisher:
        fields.append(
            ("institution" if etype == "techreport" else "publisher", _bibtex_escape(ref.publisher))
        )
    if ref.year:
        fields.append(("year", str(ref.year)))
    for csl_key, bib_key in (("volume", "volume"), ("issue", "number")):
        if csl.get(csl_key):
            fields.append((bib_key, _bibtex_escape(csl[csl_key])))
    if csl.get("page"):
        fields.append(("pages", _bibtex_escape(re.sub(r"\s*[-–]\s*", "--", csl["page"]))))
    # Identifiers and links are verbatim fields in biblatex: no escaping, only one line.
    if ref.doi:
        fields.append(("doi", _one_line(ref.doi)))
    if ref.pmid:
        fields.append(("pmid", _one_line(ref.pmid)))
    if ref.citation_url:
        fields.append(("url", _one_line(ref.citation_url)))
    key = re.sub(r"[^A-Za-z0-9_:.-]", "_", ref.id)
    body = ",\n".join(f"  {k} = {{{v}}}" for k, v in fields)
    return f"@{etype}{{{key},\n{body}\n}}\n"


def references_bibtex(kb: KnowledgeBase) -> str:
    """Every reference as a BibTeX entry keyed by its id (UTF-8; for biber or bibtex8)."""
    return "\n".join(_bibtex_entry(r) for r in kb.references.values())


def _ris_record(ref: Reference) -> str:
    csl = ref.csl
    ris_type = _RIS_TYPES.get(csl.get("type", ""), "GEN")
    lines = [("TY", ris_type), ("ID", ref.id)]
    lines += [("AU", n) for n in _names(ref, literal_braces=False)]
    lines.append(("TI", ref.title))
    if csl.get("container-title"):
        lines.append(("T2", csl["container-title"]))
        if ris_type == "JOUR":
            lines.append(("JO", csl["container-title"]))
    if ref.publisher:
        lines.append(("PB", ref.publisher))
    parts = ((csl.get("issued") or {}).get("date-parts") or [[]])[0]
    if parts:
        lines.append(("PY", str(parts[0])))
        lines.append(
            (
                "DA",
                "/".join(f"{p:02d}" if i else str(p) for i, p in enumerate(parts))
                + "/" * (4 - len(parts)),
            )
        )
    if csl.get("volume"):
        lines.append(("VL", csl["volume"]))
    if csl.get("issue"):
        lines.append(("IS", csl["issue"]))
    if csl.get("page"):
        start, _, end = re.sub(r"\s*[-–]\s*", "-", csl["page"]).partition("-")
        lines.append(("SP", start))
        if end:
            lines.append(("EP", end))
    if ref.doi:
        lines.append(("DO", ref.doi))
    if ref.pmid:
        lines.append(("AN", ref.pmid))  # PubMed id as the accession number, as PubMed does
    if ref.citation_url:
        lines.append(("UR", ref.citation_url))
    lines.append(("ER", ""))
    return "".join(f"{tag}  - {_one_line(value)}\n" for tag, value in lines)


def references_ris(kb: KnowledgeBase) -> str:
    """Every reference as an RIS record (``ID`` is the reference id, ``AN`` the PMID)."""
    return "\n".join(_ris_record(r) for r in kb.references.values())


def export_references(kb: KnowledgeBase, fmt: str) -> str:
    """References in ``fmt``: ``csl-json``, ``bibtex`` or ``ris``."""
    writers = {"csl-json": references_csl_json, "bibtex": references_bibtex, "ris": references_ris}
    if fmt not in writers:
        raise KBError(f"unknown reference format {fmt!r} (use {', '.join(REFERENCE_FORMATS)})")
    return writers[fmt](kb)


# -- formatted citations -----------------------------------------------------------------------
def _citeproc_items(kb: KnowledgeBase) -> list[dict[str, Any]]:
    return [csl_item(ref) for ref in kb.references.values()]


def citation_list(kb: KnowledgeBase, *, style: str = "harvard") -> list[dict[str, str]]:
    """Every reference formatted as a bibliography entry, in the knowledge base's order.

    ``harvard`` renders with citeproc-py and the CSL style it bundles (Harvard "Cite Them
    Right"); ``vancouver`` uses :meth:`Reference.citation`. Returns ``[{"id", "citation"}]``.
    """
    if style == "vancouver":
        return [{"id": r.id, "citation": r.citation()} for r in kb.references.values()]
    if style != "harvard":
        raise KBError(f"unknown citation style {style!r} (use {', '.join(CITATION_STYLES)})")
    import citeproc
    from citeproc import (
        Citation,
        CitationItem,
        CitationStylesBibliography,
        CitationStylesStyle,
        formatter,
    )
    from citeproc.source.json import CiteProcJSON

    style_path = Path(citeproc.__file__).parent / "data" / "styles" / "harvard-cite-them-right.csl"
    bib = CitationStylesBibliography(
        CitationStylesStyle(str(style_path), validate=False),
        CiteProcJSON(_citeproc_items(kb)),
        formatter.plain,
    )
    ids = list(kb.references)
    for rid in ids:
        bib.register(Citation([CitationItem(rid)]))
    # citeproc lower-cases the keys it registers; map entries back by position.
    keys = [str(k) for k in bib.keys]
    texts = {k: str(entry) for k, entry in zip(keys, bib.bibliography(), strict=True)}
    return [{"id": rid, "citation": texts[rid.lower()]} for rid in ids]


def citations_text(kb: KnowledgeBase, *, style: str = "harvard") -> str:
    """The bibliography as plain text, one ``[id] citation`` per line."""
    return "".join(f"[{c['id']}] {c['citation']}\n" for c in citation_list(kb, style=style))


# -- claims ------------------------------------------------------------------------------------
def claims_csv(kb: KnowledgeBase) -> str:
    """One CSV row per claim (RFC 4180, header first): the columns of :data:`CLAIM_COLUMNS`.

    Lists are joined with "; ": conditions, citations (``[number] ref`` with ``unresolved`` for
    a number the article's list lacks) and conflict ids.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CLAIM_COLUMNS)
    grades = kb.grades
    by_claim = kb.conflicts_by_claim
    for claim in kb.claims.values():
        cites = []
        for cit in claim.citations:
            prefix = f"[{cit['number']}] " if "number" in cit else ""
            cites.append(prefix + (cit.get("ref") or "unresolved"))
        grade = grades[claim.id]
        writer.writerow(
            [
                claim.id,
                claim.origin,
                claim.kind,
                claim.text,
                claim.intervention,
                "; ".join(claim.conditions),
                claim.outcome,
                claim.value_text or "",
                claim.direction,
                "; ".join(cites),
                grade.grade,
                grade.cebm_level,
                "; ".join(by_claim.get(claim.id, [])),
            ]
        )
    return out.getvalue()


# -- graph -------------------------------------------------------------------------------------
def export_graph(kb: KnowledgeBase, fmt: str) -> str:
    """The graph as ``graphml`` or ``node-link`` JSON text (see :mod:`kb.graph`)."""
    from . import graph as graph_mod

    if fmt == "node-link":
        return graph_mod.dumps_node_link(kb.graph) + "\n"
    if fmt != "graphml":
        raise KBError(f"unknown graph format {fmt!r} (use {', '.join(GRAPH_FORMATS)})")
    with tempfile.TemporaryDirectory() as tmp:  # reuse graph.export's GraphML cleaning
        path = Path(tmp) / "graph.graphml"
        graph_mod.export(kb.graph, path, "graphml")
        return path.read_text("utf-8")
