"""The JSON shapes every adapter (CLI, web API) returns, built once here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .claims import VERDICT_LABELS
from .editorial import claim_reference_marks

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase


def citation_json(kb: KnowledgeBase, claim_id: str) -> list[dict[str, Any]]:
    claim = kb.claim(claim_id)
    out = []
    for cit in claim.citations:
        item: dict[str, Any] = {"ref": cit.get("ref")}
        if "number" in cit:
            item["number"] = cit["number"]
        if cit.get("ref"):
            ref = kb.references[cit["ref"]]
            item.update(label=ref.label, doi=ref.doi, pmid=ref.pmid)
        else:
            item.update(
                label=f"[{cit.get('number')}] not in the article's reference list",
                doi=None,
                pmid=None,
            )
        out.append(item)
    return out


def claim_json(kb: KnowledgeBase, claim_id: str) -> dict[str, Any]:
    """A claim as every JSON output shows it (documented in README.md)."""
    claim = kb.claim(claim_id)
    grade = kb.grades[claim_id]
    primary = None
    if claim.primary is not None:
        p = claim.primary
        ref = kb.references[p["ref"]] if p.get("ref") else None
        primary = {
            "ref": p.get("ref"),
            "label": ref.label if ref else None,
            "verdict": p["verdict"],
            "verdict_label": VERDICT_LABELS[p["verdict"]],
            "note": p["note"],
        }
    return {
        "id": claim.id,
        "origin": claim.origin,
        "kind": claim.kind,
        "text": claim.text,
        "plain_text": claim.plain_text,
        "intervention": claim.intervention,
        "conditions": list(claim.conditions),
        "outcome": claim.outcome,
        "value": claim.value,
        "value_text": claim.value_text,
        "direction": claim.direction,
        "citations": citation_json(kb, claim_id),
        "primary_verdict": primary,
        "evidence": grade.to_dict(),
        "conflicts": kb.active_conflict_ids(claim_id),
        "editorial": editorial_json(kb, claim_id),
    }


def editorial_json(kb: KnowledgeBase, claim_id: str) -> dict[str, Any]:
    """What the editorial board says about a claim, as readers see it: its open flags
    (reason, by, at), whether any makes it contested by the board, and the marks on the
    references it rests on (``reference_marks``: retracted or expression of concern)."""
    state = kb.editorial
    flags = (
        []
        if state is None
        else [
            {"reason": f["reason"], "by": f["by"], "at": f["at"]}
            for f in state.open_flags(claim_id)
        ]
    )
    # Marks on the references it rests on (retracted, expression of concern): see
    # kb.editorial.claim_reference_marks.
    return {
        "flags": flags,
        "contested_by_board": bool(flags),
        "reference_marks": claim_reference_marks(kb, claim_id),
    }


def conflict_json(kb: KnowledgeBase, conflict_id: str) -> dict[str, Any]:
    """A conflict with each side's claims expanded to id, label, text and grade."""
    conflict = kb.conflict(conflict_id)
    data = conflict.to_dict()
    for side in data["sides"]:
        side["claims"] = [
            {
                "id": cid,
                "text": kb.claims[cid].text,
                "grade": kb.grades[cid].grade,
                "sources": [c["label"] for c in citation_json(kb, cid)],
            }
            for cid in side["claims"]
        ]
    data["condition_label"] = (
        kb.conditions.label(conflict.condition)
        if conflict.condition in kb.conditions
        else conflict.condition
    )
    return data
