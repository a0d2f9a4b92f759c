"""The knowledge graph: claims, references, conditions, interventions, articles and conflicts.

A :class:`networkx.MultiDiGraph` whose node ids are prefixed by type (``claim:…``, ``ref:…``,
``condition:…``, ``intervention:…``, ``article:…``, ``conflict:…``) and whose edges carry a
``type``, also used as the edge key:

- ``cites``: claim → reference (with the as-cited ``number``); article → reference (its list).
- ``traced-to-primary``: claim → primary study (with ``verdict``); secondary summary → the
  primary study its numbers trace to; article → reference for a proposed citation resolution
  (with ``number``, ``confidence``, ``status``).
- ``about``: claim → condition, claim → intervention.
- ``part-of``: claim → article; condition → its parent condition.
- ``conflicts-with``: claim → conflict node (with ``side``). Conflicts are nodes rather than
  claim-to-claim edges so that a conflict with many claims per side stays linear in size.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import networkx as nx

from .errors import KBError, NotFound

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

EDGE_TYPES = ("cites", "traced-to-primary", "about", "part-of", "conflicts-with")
NODE_TYPES = ("claim", "ref", "condition", "intervention", "article", "conflict")


def node_id(kind: str, item_id: str) -> str:
    return f"{kind}:{item_id}"


def build_graph(kb: KnowledgeBase) -> nx.MultiDiGraph:
    """Build the graph of ``kb`` (see the module docstring for node and edge types)."""
    g = nx.MultiDiGraph()
    _add_conditions(g, kb)
    _add_references(g, kb)
    _add_claims(g, kb)
    _add_articles(g, kb)
    _add_conflicts(g, kb)
    return g


def _edge(g: nx.MultiDiGraph, u: str, v: str, etype: str, **attrs: Any) -> None:
    # The type doubles as the key, so one pair of nodes holds at most one edge of each type.
    g.add_edge(u, v, key=etype, type=etype, **attrs)


def _add_conditions(g: nx.MultiDiGraph, kb: KnowledgeBase) -> None:
    for cond in kb.conditions.conditions.values():
        g.add_node(node_id("condition", cond.id), type="condition", label=cond.label)
    for cond in kb.conditions.conditions.values():
        for parent in cond.parents:
            _edge(g, node_id("condition", cond.id), node_id("condition", parent), "part-of")


def _add_references(g: nx.MultiDiGraph, kb: KnowledgeBase) -> None:
    for ref in kb.references.values():
        g.add_node(
            node_id("ref", ref.id), type="ref", label=ref.label, role=ref.role, design=ref.design
        )
    for ref in kb.references.values():
        for target in ref.traced_to:
            _edge(g, node_id("ref", ref.id), node_id("ref", target), "traced-to-primary")


def _add_claims(g: nx.MultiDiGraph, kb: KnowledgeBase) -> None:
    grades = kb.grades
    for claim in kb.claims.values():
        cn = node_id("claim", claim.id)
        g.add_node(
            cn, type="claim", label=claim.text, kind=claim.kind, grade=grades[claim.id].grade
        )
        for cit in claim.citations:
            if cit.get("ref"):
                attrs = {"number": cit["number"]} if "number" in cit else {}
                _edge(g, cn, node_id("ref", cit["ref"]), "cites", **attrs)
        primary = claim.primary
        if primary and primary.get("ref"):
            _edge(
                g,
                cn,
                node_id("ref", primary["ref"]),
                "traced-to-primary",
                verdict=primary["verdict"],
            )
        for cid in claim.conditions:
            _edge(g, cn, node_id("condition", cid), "about")
        inode = node_id("intervention", claim.intervention)
        if inode not in g:
            g.add_node(inode, type="intervention", label=claim.intervention)
        _edge(g, cn, inode, "about")


def _add_articles(g: nx.MultiDiGraph, kb: KnowledgeBase) -> None:
    for art in kb.articles.values():
        an = node_id("article", art.id)
        g.add_node(an, type="article", label=art.title, review_status=art.review_status)
        for cid in art.claim_ids():
            _edge(g, node_id("claim", cid), an, "part-of")
        for item in art.reference_list:
            _edge(g, an, node_id("ref", item["ref"]), "cites", number=item["number"])
        for item in art.citation_resolutions:
            _edge(
                g,
                an,
                node_id("ref", item["ref"]),
                "traced-to-primary",
                number=item["number"],
                confidence=item["confidence"],
                status=item["status"],
            )


def _add_conflicts(g: nx.MultiDiGraph, kb: KnowledgeBase) -> None:
    for conflict in kb.conflicts.values():
        xn = node_id("conflict", conflict.id)
        g.add_node(xn, type="conflict", label=conflict.explanation, conflict_type=conflict.type)
        for side in conflict.sides:
            for cid in side.claims:
                _edge(g, node_id("claim", cid), xn, "conflicts-with", side=side.label)


def neighbours(g: nx.MultiDiGraph, node: str) -> list[dict[str, Any]]:
    """Every edge touching ``node``: its type, direction and the node at the other end."""
    if node not in g:
        raise NotFound(node)

    def row(direction: str, other: str, etype: str) -> dict[str, Any]:
        return {
            "direction": direction,
            "type": etype,
            "node": other,
            "node_type": g.nodes[other]["type"],
            "label": g.nodes[other].get("label"),
        }

    return [row("out", v, data["type"]) for _, v, data in g.out_edges(node, data=True)] + [
        row("in", u, data["type"]) for u, _, data in g.in_edges(node, data=True)
    ]


def to_node_link(g: nx.MultiDiGraph) -> dict[str, Any]:
    """Plain-JSON form of the graph (networkx node-link, edges under ``edges``)."""
    data: dict[str, Any] = nx.node_link_data(g, edges="edges")
    return data


def from_node_link(data: dict[str, Any]) -> nx.MultiDiGraph:
    return nx.node_link_graph(data, directed=True, multigraph=True, edges="edges")


def export(g: nx.MultiDiGraph, path: Path, fmt: str) -> None:
    """Write the graph as ``graphml`` or ``node-link`` JSON (atomically)."""
    from .storage import write_json_atomic, write_text_atomic

    if fmt == "node-link":
        write_json_atomic(path, to_node_link(g))
    elif fmt == "graphml":
        clean = nx.MultiDiGraph()
        for n, attrs in g.nodes(data=True):
            clean.add_node(n, **{k: v for k, v in attrs.items() if v is not None})
        for u, v, k, attrs in g.edges(keys=True, data=True):
            clean.add_edge(u, v, key=k, **{a: b for a, b in attrs.items() if b is not None})
        write_text_atomic(path, "\n".join(nx.generate_graphml(clean)) + "\n")
    else:
        raise KBError(f"unknown graph format {fmt!r} (use graphml or node-link)")


def dumps_node_link(g: nx.MultiDiGraph) -> str:
    return json.dumps(to_node_link(g), sort_keys=True, ensure_ascii=False)
