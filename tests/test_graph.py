"""The graph: typed nodes and edges, and a lossless node-link round trip."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from kb import KnowledgeBase
from kb.graph import EDGE_TYPES, NODE_TYPES, export, from_node_link, neighbours, to_node_link


def test_graph_has_every_node_and_edge_type(real_kb: KnowledgeBase) -> None:
    g = real_kb.graph
    assert {d["type"] for _, d in g.nodes(data=True)} == set(NODE_TYPES)
    assert {d["type"] for *_, d in g.edges(data=True)} == set(EDGE_TYPES)
    assert g.number_of_nodes() >= len(real_kb.claims) + len(real_kb.references)


def test_condition_hierarchy_is_in_the_graph(real_kb: KnowledgeBase) -> None:
    g = real_kb.graph
    assert g.has_edge("condition:crps", "condition:neuropathic-pain", key="part-of")
    assert g.has_edge("condition:crps", "condition:centralized-pain", key="part-of")


def test_neighbours_of_a_seed_claim(real_kb: KnowledgeBase) -> None:
    seen = {
        (n["direction"], n["type"], n["node"])
        for n in neighbours(real_kb.graph, "claim:seed-neuropathic-64pct-response")
    }
    assert ("out", "cites", "ref:praxis2025_regimen") in seen
    assert ("out", "traced-to-primary", "ref:mckenziebrown2023") in seen
    assert ("out", "part-of", "article:ldn-chronic-pain") in seen
    assert ("out", "about", "condition:neuropathic-pain") in seen


def test_node_link_round_trip(real_kb: KnowledgeBase) -> None:
    g = real_kb.graph
    back = from_node_link(to_node_link(g))
    assert isinstance(back, nx.MultiDiGraph)
    assert dict(back.nodes(data=True)) == dict(g.nodes(data=True))
    assert sorted(back.edges(keys=True, data=True), key=repr) == sorted(
        g.edges(keys=True, data=True), key=repr
    )


def test_graphml_export_reads_back(real_kb: KnowledgeBase, tmp_path: Path) -> None:
    out = tmp_path / "kb.graphml"
    export(real_kb.graph, out, "graphml")
    back = nx.read_graphml(out, force_multigraph=True)
    assert back.number_of_nodes() == real_kb.graph.number_of_nodes()
    assert back.number_of_edges() == real_kb.graph.number_of_edges()
