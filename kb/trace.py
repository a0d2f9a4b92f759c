"""Source tracing: claim → cited reference → primary study → verdict, and the reverse."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .claims import VERDICT_LABELS

if TYPE_CHECKING:
    from .articles import Article
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
    claims = _claims_depending_on(kb, ref_id)
    articles: dict[str, list[str]] = {}
    for art in kb.articles.values():
        # Walked in order: an article's resolutions may add claims that later articles see.
        hows = _article_dependence(kb, art, ref_id, claims)
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


def _add_how(claims: dict[str, list[str]], cid: str, how: str) -> None:
    hows = claims.setdefault(cid, [])
    if how not in hows:
        hows.append(how)


def _claims_depending_on(kb: KnowledgeBase, ref_id: str) -> dict[str, list[str]]:
    """Claims that cite ``ref_id``, cite a secondary tracing to it, or name it as primary."""
    claims: dict[str, list[str]] = {}
    for cid in kb.claims_citing(ref_id):
        _add_how(claims, cid, "cites it")
    for sec in kb.references.values():
        if ref_id in sec.traced_to:
            for cid in kb.claims_citing(sec.id):
                _add_how(claims, cid, f"cites {sec.label}, which traces to it")
    for claim in kb.claims.values():
        if claim.primary and claim.primary.get("ref") == ref_id:
            _add_how(claims, claim.id, "traced to it as primary study")
    return claims


def _article_dependence(
    kb: KnowledgeBase, art: Article, ref_id: str, claims: dict[str, list[str]]
) -> list[str]:
    """How ``art`` depends on ``ref_id``; adds to ``claims`` the ones its resolutions reach."""
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
                    _add_how(claims, cid, f"cites [{res['number']}], proposed to be this reference")
    if set(art.claim_ids()) & claims.keys():
        hows.append("contains dependent claims")
    return hows
