"""Source tracing: claim → cited reference → primary study → verdict, and the reverse."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .claims import VERDICT_LABELS

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase
    from .references import Reference


def ref_summary(ref: Reference) -> dict[str, Any]:
    """The few fields a reader needs to recognise and open a reference."""
    return {
        "id": ref.id,
        "label": ref.label,
        "title": ref.title,
        "design": ref.design,
        "role": ref.role,
        "doi": ref.doi,
        "pmid": ref.pmid,
        "url": ref.public_url,
    }


def trace(kb: KnowledgeBase, claim_id: str) -> dict[str, Any]:
    """Follow a claim to what it cites and on to the primary study, with the verdict.

    One step per citation, in order. A seed number the article's own list lacks ([6], [7])
    is shown as unresolved, with the reviewable resolution tracing proposed, if any.
    """
    claim = kb.claim(claim_id)
    articles = [kb.articles[a] for a in kb.articles_containing(claim_id)]
    steps = []
    for cit in claim.citations:
        number = cit.get("number")
        step: dict[str, Any] = {
            "number": number,
            "cited": None,
            "unresolved": False,
            "proposed_resolution": None,
            "traces_to": [],
        }
        if cit.get("ref"):
            ref = kb.references[cit["ref"]]
            step["cited"] = ref_summary(ref)
            step["traces_to"] = [ref_summary(kb.references[t]) for t in ref.traced_to]
        else:
            step["unresolved"] = True
            for art in articles:
                res = art.resolution_for(number) if number is not None else None
                if res:
                    step["proposed_resolution"] = {
                        "article": art.id,
                        "confidence": res["confidence"],
                        "status": res["status"],
                        "basis": res.get("basis"),
                        "note": res.get("note"),
                        "ref": ref_summary(kb.references[res["ref"]]),
                    }
                    break
        steps.append(step)
    primary: dict[str, Any] | None
    if claim.primary is not None:
        p = claim.primary
        primary = {
            "ref": ref_summary(kb.references[p["ref"]]) if p.get("ref") else None,
            "verdict": p["verdict"],
            "verdict_label": VERDICT_LABELS[p["verdict"]],
            "note": p["note"],
            "basis": p["basis"],
        }
    elif claim.cited_refs:
        ref = kb.references[claim.cited_refs[0]]
        primary = {
            "ref": ref_summary(ref),
            "verdict": None,
            "verdict_label": None,
            "note": (
                "This claim is a finding of the cited study itself"
                + (", read in a secondary report." if claim.reported_in == "secondary" else ".")
            ),
            "basis": "dossier",
        }
    else:
        primary = None
    return {"claim": claim.id, "origin": claim.origin, "steps": steps, "primary": primary}


def dependents(kb: KnowledgeBase, ref_id: str) -> dict[str, Any]:
    """Every claim and article that would be affected if ``ref_id`` were retracted.

    A claim depends on a reference when it cites it, when tracing names it as the claim's
    primary study, when it cites a secondary summary whose numbers trace to it, or when it
    cites a number whose proposed resolution is this reference.
    """
    ref = kb.reference(ref_id)
    claims: dict[str, list[str]] = {}

    def add(cid: str, how: str) -> None:
        claims.setdefault(cid, [])
        if how not in claims[cid]:
            claims[cid].append(how)

    secondaries = [r for r in kb.references.values() if ref_id in r.traced_to]
    for cid in kb.claims_citing(ref_id):
        add(cid, "cites it")
    for sec in secondaries:
        for cid in kb.claims_citing(sec.id):
            add(cid, f"cites {sec.label}, which traces to it")
    for claim in kb.claims.values():
        if claim.primary and claim.primary.get("ref") == ref_id:
            add(claim.id, "traced to it as primary study")
    articles: dict[str, list[str]] = {}
    for art in kb.articles.values():
        hows = []
        if art.source_ref == ref_id:
            hows.append("is this reference")
        if any(item["ref"] == ref_id for item in art.reference_list):
            hows.append("lists it")
        for res in art.citation_resolutions:
            if res["ref"] == ref_id:
                hows.append(f"proposed resolution of [{res['number']}]")
                for cid in art.claim_ids():
                    if any(
                        c.get("number") == res["number"] and c.get("ref") is None
                        for c in kb.claims[cid].citations
                    ):
                        add(cid, f"cites [{res['number']}], proposed to be this reference")
        art_claims = set(art.claim_ids())
        if art_claims & claims.keys():
            hows.append("contains dependent claims")
        if hows:
            articles[art.id] = hows
    return {
        "reference": ref_summary(ref),
        "claims": [
            {"id": cid, "text": kb.claims[cid].text, "how": hows}
            for cid, hows in sorted(claims.items())
        ],
        "articles": [
            {"id": aid, "title": kb.articles[aid].title, "how": hows}
            for aid, hows in sorted(articles.items())
        ],
    }
