"""The integrity report: what a reviewer should look at before trusting the data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase
    from .shapes import Integrity

IDENTIFIERS = ("DOI", "PMID")  # PMCID only exists for papers in PubMed Central


def _publisher(csl: dict[str, Any]) -> set[str]:
    names = {csl.get("publisher") or ""}
    names |= {a.get("literal", "") for a in csl.get("author") or []}
    return {n for n in names if n}


def report(kb: KnowledgeBase) -> Integrity:
    """Unresolved citations, secondary sources that trace elsewhere, self-citation, uncited
    claims, unused references, missing identifiers and seed statements the primary source
    does not support."""
    return {
        "unresolved_citations": unresolved_citations(kb),
        "secondary_sources_traced_elsewhere": secondary_sources(kb),
        "self_citations": self_citations(kb),
        "claims_without_citation": [c.id for c in kb.claims.values() if not c.citations],
        "unused_references": sorted(set(kb.references) - used_references(kb)),
        "missing_identifiers": missing_identifiers(kb),
        "seed_claims_not_supported": [
            {"claim": c.id, "verdict": c.primary["verdict"], "note": c.primary["note"]}
            for c in kb.claims.values()
            if c.primary and c.primary["verdict"] in ("not_supported_as_worded", "not_stated")
        ],
    }


def unresolved_citations(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Citations of an article's claims that name no reference, with the proposed one."""
    out: list[dict[str, Any]] = []
    for art in kb.articles.values():
        for cid in art.claim_ids():
            for cit in kb.claims[cid].citations:
                if cit.get("ref") is not None:
                    continue
                res = art.resolution_for(cit["number"]) if "number" in cit else None
                out.append(
                    {
                        "article": art.id,
                        "claim": cid,
                        "number": cit.get("number"),
                        "proposed_ref": res["ref"] if res else None,
                        "confidence": res["confidence"] if res else None,
                        "status": res["status"] if res else None,
                    }
                )
    return out


def used_references(kb: KnowledgeBase) -> set[str]:
    """References a claim cites, traces to through a cited source, or names as primary."""
    used: set[str] = set()
    for claim in kb.claims.values():
        for rid in claim.cited_refs:
            used.add(rid)
            used.update(kb.references[rid].traced_to)
        if claim.primary and claim.primary.get("ref"):
            used.add(claim.primary["ref"])
    return used


def secondary_sources(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Secondary summaries that trace their statements to other references."""
    return [
        {
            "ref": r.id,
            "label": r.label,
            "traced_to": r.traced_to,
            "cited_by": len(kb.claims_citing(r.id)),
        }
        for r in kb.references.values()
        if r.role == "secondary-summary" and r.traced_to
    ]


def self_citations(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """Reference-list entries published by the same body as the article citing them."""
    out = []
    for art in kb.articles.values():
        if not art.source_ref:
            continue
        own = _publisher(kb.references[art.source_ref].csl)
        for item in art.reference_list:
            shared = own & _publisher(kb.references[item["ref"]].csl)
            if shared:
                out.append(
                    {
                        "article": art.id,
                        "number": item["number"],
                        "ref": item["ref"],
                        "publisher": sorted(shared)[0],
                    }
                )
    return out


def missing_identifiers(kb: KnowledgeBase) -> list[dict[str, Any]]:
    """References lacking a DOI or PMID."""
    out = []
    for ref in kb.references.values():
        lacks = [k for k in IDENTIFIERS if not ref.csl.get(k)]
        if lacks:
            out.append({"ref": ref.id, "label": ref.label, "missing": lacks, "role": ref.role})
    return out
