"""Import answer documents (the seed page's format) as a new article with claims and references.

A document is UTF-8 text laid out like the seed page:

1. a question line; page furniture (review-status widgets, "Personalize", "Last updated: …",
   the disclaimer, "Have a follow-up question?" …) anywhere, recognised and skipped;
2. a title, then a bottom-line paragraph ending in citation numbers ("… 1, 2" or "… 1 2");
3. section and sub-section headings with statements — bulleted (•, -, *) or not — each ending
   in its citation numbers;
4. a "References" list; per entry an optional kind line (Guideline, Research …), a title line,
   a "Source, Year" line and optionally a DOI line.

Everything is decided by rules: kinds, outcomes, directions and treatment lines by
``kb/vocab/import_rules.json``; interventions by ``kb/vocab/ask_cues.json`` and the names the
knowledge base already uses; conditions by ``conditions.json``. Citations resolve to references
already held when title and year (or DOI) match after normalisation, otherwise a new reference
is made from the entry; numbers the document's list lacks stay unresolved.

Nothing is written until the whole resulting knowledge base has validated in memory; then the
files are saved atomically. The article id is derived from the document's content, so
importing the same document again finds its article and changes nothing.
"""

from __future__ import annotations

from .build import (
    PRIMARY_NOTE,
    ImportReport,
    article_id_for,
    import_bytes,
    import_document,
    import_file,
    normalise_doi,
    normalise_title,
)
from .document import (
    CITATION_TAIL,
    MAX_BYTES,
    Document,
    RefEntry,
    Section,
    Statement,
    decode_document,
    parse_document,
    split_citations,
)
from .values import extract_values
from .vocabularies import rules

__all__ = [
    "CITATION_TAIL",
    "MAX_BYTES",
    "PRIMARY_NOTE",
    "Document",
    "ImportReport",
    "RefEntry",
    "Section",
    "Statement",
    "article_id_for",
    "decode_document",
    "extract_values",
    "import_bytes",
    "import_document",
    "import_file",
    "normalise_doi",
    "normalise_title",
    "parse_document",
    "rules",
    "split_citations",
]
