"""Downloads: the references, citations, claims and graph as files, byte for byte what
``kb export …`` writes (each one :mod:`kb.export` call on the served knowledge base, with the
editorial journal replayed, as the CLI has it).

Served at ``/downloads/<name>`` (linked from the ``/downloads`` page) and, the same response,
at ``/api/downloads/<name>``; ``/api/downloads`` lists them. Every file is sent as an
attachment with its media type and an ETag (a repeated request with ``If-None-Match`` gets a
304).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Response, request, url_for

from kb import export
from kb.errors import DownloadNotFound
from kb.knowledgebase import KnowledgeBase

from . import current_kb, params


@dataclass(frozen=True)
class Download:
    """One downloadable file: its name, media type, what it holds and how it is made."""

    name: str
    media_type: str
    label: str
    description: str
    command: str  # the ``kb`` command that prints the same bytes
    make: Callable[[KnowledgeBase, str], str]  # (knowledge base, citation style) -> text


def _citations(kb: KnowledgeBase, style: str) -> str:
    return export.citations_text(kb, style=style)


DOWNLOADS: tuple[Download, ...] = (
    Download(
        "references.json",
        "application/vnd.citationstyles.csl+json",
        "References (CSL-JSON)",
        "Every reference as its stored CSL-JSON item (project fields under custom); "
        "for Zotero, citeproc and pandoc.",
        "kb export references --format csl-json",
        lambda kb, _: export.export_references(kb, "csl-json"),
    ),
    Download(
        "references.bib",
        "application/x-bibtex; charset=utf-8",
        "References (BibTeX)",
        "One entry per reference, keyed by its id; UTF-8, for biber or bibtex8.",
        "kb export references --format bibtex",
        lambda kb, _: export.export_references(kb, "bibtex"),
    ),
    Download(
        "references.ris",
        "application/x-research-info-systems; charset=utf-8",
        "References (RIS)",
        "For EndNote, Zotero, Mendeley and reference managers.",
        "kb export references --format ris",
        lambda kb, _: export.export_references(kb, "ris"),
    ),
    Download(
        "citations.txt",
        "text/plain; charset=utf-8",
        "Formatted citations",
        'One "[id] citation" per line: Harvard (citeproc-py) by default, Vancouver '
        "with ?style=vancouver.",
        "kb export citations --style harvard",
        _citations,
    ),
    Download(
        "claims.csv",
        "text/csv; charset=utf-8",
        "Claims (CSV)",
        "One row per claim with its kind, conditions, value, direction, citations, "
        "computed grade and conflicts.",
        "kb export claims --format csv",
        lambda kb, _: export.claims_csv(kb),
    ),
    Download(
        "graph.graphml",
        "application/graphml+xml; charset=utf-8",
        "Graph (GraphML)",
        "Claims, references, articles and conditions with their links; for Gephi, "
        "Cytoscape or networkx.",
        "kb export graph --format graphml",
        lambda kb, _: export.export_graph(kb, "graphml"),
    ),
    Download(
        "graph.json",
        "application/json",
        "Graph (node-link JSON)",
        "The same graph as networkx node-link JSON.",
        "kb export graph --format node-link",
        lambda kb, _: export.export_graph(kb, "node-link"),
    ),
)
BY_NAME = {d.name: d for d in DOWNLOADS}


def listing() -> dict[str, Any]:
    """The /downloads page's dict: every file with its link, media type and CLI equivalent."""
    kb = current_kb()
    return {
        "downloads": [
            {
                "name": d.name,
                "url": url_for("pages.download", name=d.name),
                "label": d.label,
                "description": d.description,
                "media_type": d.media_type,
                "command": d.command,
            }
            for d in DOWNLOADS
        ],
        "citation_styles": list(export.CITATION_STYLES),
        "counts": {"references": len(kb.references), "claims": len(kb.claims)},
    }


def send(name: str) -> Response:
    """The file ``name`` as an attachment (``?style=`` picks the citation style)."""
    download = BY_NAME.get(name)
    if download is None:
        raise DownloadNotFound(name)
    style = "harvard"
    filename = name
    if name == "citations.txt":
        style = params.choice("style", export.CITATION_STYLES, "harvard")
        filename = name if style == "harvard" else f"citations-{style}.txt"
    body = download.make(current_kb(), style).encode("utf-8")
    response = Response(body, content_type=download.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "no-cache"  # the data change with imports and edits
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    return response.make_conditional(request)
