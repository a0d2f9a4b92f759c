"""The integrity report: what a reviewer should look at before trusting the data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

IDENTIFIERS = ("DOI", "PMID")  # PMCID only exists for papers in PubMed Central


def _publisher(csl: dict[str, Any]) -> set[str]:
    names = {csl.get("publisher") or ""}
    names |= {a.get("literal", "") for a in csl.get("author") or []}
    return {n for n in names if n}


def report(kb: KnowledgeBase) -> dict[str, Any]:
    """Unresolved citations, secondary sources that trace elsewhere, self-citation, uncited
    claims, unused references, missing identifiers and seed statements the primary source
    does not support."""
    unresolved: list[dict[str, Any]] = []
    for art in kb.articles.values():
        for cid in art.claim_ids():
            for cit in kb.claims[cid].citations:
                if cit.get("ref") is None:
                    res = art.resolution_for(cit["number"]) if "number" in cit else None
                    unresolved.append(
                        {
                            "article": art.id,
                            "claim": cid,
                            "number": cit.get("number"),
                            "proposed_ref": res["ref"] if res else None,
                            "confidence": res["confidence"] if res else None,
                            "status": res["status"] if res else None,
                        }
                    )

    used: set[str] = set()
    for claim in kb.claims.values():
        for rid in claim.cited_refs:
            used.add(rid)
            used.update(kb.references[rid].traced_to)
        if claim.primary and claim.primary.get("ref"):
            used.add(claim.primary["ref"])

    secondary = [
        {
            "ref": r.id,
            "label": r.label,
            "traced_to": r.traced_to,
            "cited_by": len(kb.claims_citing(r.id)),
        }
        for r in kb.references.values()
        if r.role == "secondary-summary" and r.traced_to
    ]

    self_citing = []
    for art in kb.articles.values():
        if not art.source_ref:
            continue
        own = _publisher(kb.references[art.source_ref].csl)
        for item in art.reference_list:
            theirs = _publisher(kb.references[item["ref"]].csl)
            if own & theirs:
                self_citing.append(
                    {
                        "article": art.id,
                        "number": item["number"],
                        "ref": item["ref"],
                        "publisher": sorted(own & theirs)[0],
                    }
                )

    missing = []
    for ref in kb.references.values():
        lacks = [k for k in IDENTIFIERS if not ref.csl.get(k)]
        if lacks:
            missing.append({"ref": ref.id, "label": ref.label, "missing": lacks, "role": ref.role})

    unsupported = [
        {"claim": c.id, "verdict": c.primary["verdict"], "note": c.primary["note"]}
        for c in kb.claims.values()
        if c.primary and c.primary["verdict"] in ("not_supported_as_worded", "not_stated")
    ]
    return {
        "unresolved_citations": unresolved,
        "secondary_sources_traced_elsewhere": secondary,
        "self_citations": self_citing,
        "claims_without_citation": [c.id for c in kb.claims.values() if not c.citations],
        "unused_references": sorted(set(kb.references) - used),
        "missing_identifiers": missing,
        "seed_claims_not_supported": unsupported,
    }
