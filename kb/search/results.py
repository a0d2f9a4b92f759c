"""The page a search answers with: results as shown, highlights, facet counts, "did you mean".

``{query, total, page, limit, results, facets, suggestion, warnings}``. A claim result is
:func:`kb.shapes.claim_json` plus ``type``, ``score`` and ``highlight``; a reference result is
:func:`reference_json` plus ``score`` and ``highlight``. Only the page shown is highlighted
(:meth:`~kb.search.concepts.Vocabulary.highlight`); facets count every match.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .. import evidence as evidence_mod
from .. import shapes
from ..text import stem
from .ranking import edit_distance

if TYPE_CHECKING:
    from ..knowledgebase import KnowledgeBase
    from .concepts import Vocabulary
    from .query import ParsedQuery
    from .ranking import SearchRun

FACETS = ("kind", "condition", "grade", "design")


def page_json(
    kb: KnowledgeBase,
    run: SearchRun,
    hits: list[tuple[float, int]],
    total: int,
    per_value: dict[str, Any],
    *,
    page: int,
    limit: int,
    warnings: list[str],
) -> dict[str, Any]:
    """The answer to one search, given the hits of the page shown as (score, docnum)."""
    results = [_hit(kb, run, docnum, score) for score, docnum in hits]
    return {
        "query": run.parsed.text,
        "total": total,
        "page": page,
        "limit": limit,
        "results": [r for r in results if r is not None],
        "facets": _facet_counts(run, per_value),
        "suggestion": suggestion(run.parsed, run.vocab, run.reader),
        "warnings": warnings,
    }


def _hit(kb: KnowledgeBase, run: SearchRun, docnum: int, score: float) -> dict[str, Any] | None:
    key = run.state.stored_key(docnum)
    kind, _, ident = key.partition(":")
    if kind == "claim" and ident in kb.claims:
        claim = kb.claims[ident]
        return {
            "type": "claim",
            **shapes.claim_json(kb, ident),
            "score": round(score, 4),
            "highlight": run.vocab.highlight(claim.text, run.marks),
        }
    if kind == "reference" and ident in kb.references:
        return {
            **reference_json(kb, ident),
            "score": round(score, 4),
            "highlight": run.vocab.highlight(kb.references[ident].title, run.marks),
        }
    return None  # the index is ahead of this (older) copy of the data


def reference_json(kb: KnowledgeBase, ref_id: str) -> dict[str, Any]:
    """A reference as a search result shows it (``type`` is ``"reference"``)."""
    ref = kb.reference(ref_id)
    desc = evidence_mod.DESIGNS.get(ref.design)
    return {
        "type": "reference",
        "id": ref.id,
        "label": ref.label,
        "title": ref.title,
        "citation": ref.citation(),
        "year": ref.year,
        "doi": ref.doi,
        "pmid": ref.pmid,
        "url": ref.public_url,
        "design": ref.design,
        "design_label": desc[2] if desc else ref.design,
        "role": ref.role,
        "conditions": ref.condition_ids,
    }


def suggestion(parsed: ParsedQuery, vocab: Vocabulary, reader: Any) -> str | None:
    """The query with unknown words replaced by the closest indexed word, if any."""
    replacements: dict[str, str] = {}
    for w in parsed.words:
        surface = w.surface.lower()
        if (
            len(surface) < 4
            or not surface.isalpha()
            or surface in replacements
            or vocab.concept_of([w.stem])
            or reader.doc_frequency("body", w.stem)
        ):
            continue
        best: tuple[int, int, str] | None = None
        for cand in reader.terms_within("spell", surface, 2, prefix=1):
            freq = reader.doc_frequency("body", stem(cand))
            if freq:
                key = (edit_distance(cand, surface), -freq, cand)
                best = key if best is None or key < best else best
        if best is not None:
            replacements[surface] = best[2]
    if not replacements:
        return None
    text = parsed.text
    for surface, new in replacements.items():
        text = re.sub(rf"(?<!\w){re.escape(surface)}(?!\w)", new, text, flags=re.IGNORECASE)
    return text


def _facet_counts(run: SearchRun, counted: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Counts per kind, condition (with the conditions above), grade and design. Grades and
    designs in their natural order (High → Very low → Not graded; designs strongest first, as
    :data:`kb.evidence.DESIGNS` lists them), kinds and conditions most frequent first."""
    counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
    counts.update(run.state.facets.count(counted["attr"], counted["set"]))
    if run.evidence is not None:
        names = run.evidence.grades
        for code in counted["grade"].nonzero()[0]:
            if code < len(names):
                counts["grade"][names[code]] = int(counted["grade"][code])
    orders = {
        "design": {d: i for i, d in enumerate(evidence_mod.DESIGNS)},
        "grade": {g: i for i, g in enumerate(evidence_mod.GRADE_ORDER)},
    }
    out: dict[str, dict[str, int]] = {}
    for name, c in counts.items():
        order = orders.get(name)
        if order is None:
            items = sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))
        else:
            items = sorted(c.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))
        out[name] = dict(items)
    return out
