"""The `kb` command line: readable by default, the library's JSON with --json."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner, Result

from kb import KnowledgeBase
from kb.cli import cli
from kb.shapes import claim_json

CLAIM_KEYS = {
    "id",
    "kind",
    "text",
    "intervention",
    "conditions",
    "value",
    "direction",
    "citations",
    "primary_verdict",
    "evidence",
    "conflicts",
}


def run(data_dir: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    base = [] if env else ["--data-dir", str(data_dir)]
    return CliRunner().invoke(cli, [*base, *args], obj={}, env=env)


def test_validate(data_dir: Path) -> None:
    result = run(data_dir, "validate")
    assert result.exit_code == 0 and "valid" in result.output
    data = json.loads(run(data_dir, "validate", "--json").output)
    assert data["valid"] is True and data["claims"] > 150


def test_data_dir_from_environment(data_dir: Path) -> None:
    result = run(data_dir, "validate", env={"KB_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output


def test_stats_matches_the_library(data_dir: Path, kb: KnowledgeBase) -> None:
    data = json.loads(run(data_dir, "stats", "--json").output)
    assert data == json.loads(json.dumps(kb.stats()))
    assert "conflicts" in run(data_dir, "stats").output


def test_trace_text_and_json(data_dir: Path, kb: KnowledgeBase) -> None:
    text = run(data_dir, "trace", "seed-neuropathic-64pct-response").output
    assert "[5] Praxis Medical Insights 2025" in text
    assert "McKenzie-Brown 2023" in text and "not supported as worded" in text
    data = json.loads(run(data_dir, "trace", "seed-neuropathic-64pct-response", "--json").output)
    assert set(data["claim"]) >= CLAIM_KEYS
    assert data["claim"] == json.loads(json.dumps(claim_json(kb, data["claim"]["id"])))
    cit = data["claim"]["citations"][0]
    assert (cit["ref"], cit["number"], cit["label"]) == (
        "praxis2025_regimen",
        5,
        "Praxis Medical Insights 2025",
    )


def test_claim_json_carries_doi_pmid_and_conflicts(kb: KnowledgeBase) -> None:
    data = claim_json(kb, "younger2013-f1")
    assert data["citations"] == [
        {"ref": "younger2013", "label": "Younger 2013", "doi": "10.1002/art.37734", "pmid": None}
    ]
    assert data["primary_verdict"] is None
    assert set(data["evidence"]) == {
        "grade",
        "cebm_level",
        "reasons",
        "basis_ref",
        "body",
        "role",
    }
    assert data["conflicts"] and all(c in kb.conflicts for c in data["conflicts"])


def test_unknown_claim_is_a_clean_error(data_dir: Path) -> None:
    result = run(data_dir, "trace", "no-such-claim")
    assert result.exit_code == 1
    assert "no claim with id 'no-such-claim'" in result.output
    assert "Traceback" not in result.output


def test_dependents(data_dir: Path) -> None:
    text = run(data_dir, "dependents", "mckenziebrown2023").output
    assert "seed-neuropathic-64pct-response" in text and "ldn-chronic-pain: " in text
    data = json.loads(run(data_dir, "dependents", "rassimariani2024", "--json").output)
    assert "seed-systematic-review-2024-no-effect" in {c["id"] for c in data["claims"]}
    assert run(data_dir, "dependents", "nobody2099").exit_code == 1


def test_contested(data_dir: Path, kb: KnowledgeBase) -> None:
    data = json.loads(run(data_dir, "contested", "--json").output)
    assert len(data) == len(kb.conflicts)
    first = data[0]
    assert {"id", "type", "scope", "sides", "explanation"} <= set(first)
    assert {"id", "text", "grade", "sources"} <= set(first["sides"][0]["claims"][0])
    only = json.loads(
        run(data_dir, "contested", "--type", "recommendation_strength", "--json").output
    )
    assert only and {c["type"] for c in only} == {"recommendation_strength"}
    assert "capsaicin 8% patch" in run(data_dir, "contested").output


def test_integrity(data_dir: Path) -> None:
    data = json.loads(run(data_dir, "integrity", "--json").output)
    numbers = {(u["number"], u["proposed_ref"]) for u in data["unresolved_citations"]}
    assert numbers == {(6, "hivma_idsa2017"), (7, "rassimariani2024")}
    assert {s["ref"] for s in data["secondary_sources_traced_elsewhere"]} == {
        "droracle2025_overview",
        "praxis2025_regimen",
    }
    assert data["self_citations"][0]["ref"] == "droracle2025_overview"
    assert "seed-stop-worsening" in data["claims_without_citation"]
    assert any(
        m["ref"] == "srinivasan2021" and "DOI" in m["missing"] for m in data["missing_identifiers"]
    )
    assert "Unresolved citations: 4" in run(data_dir, "integrity").output


@pytest.mark.parametrize("fmt", ["graphml", "node-link"])
def test_graph_export(data_dir: Path, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"graph.{fmt}"
    result = run(data_dir, "graph", "export", "--format", fmt, "--output", str(out))
    assert result.exit_code == 0, result.output
    if fmt == "graphml":
        g = nx.read_graphml(out)
    else:
        g = nx.node_link_graph(json.loads(out.read_text()), edges="edges")
    assert "claim:seed-max-dose" in g


def test_graph_export_to_stdout(data_dir: Path) -> None:
    result = run(data_dir, "graph", "export", "--format", "node-link")
    assert json.loads(result.output)["multigraph"] is True


def test_read_commands_never_write(data_dir: Path) -> None:
    before = {p.name: p.stat().st_mtime_ns for p in data_dir.iterdir()}
    for args in (
        ["validate"],
        ["stats"],
        ["contested"],
        ["integrity"],
        ["trace", "seed-max-dose"],
        ["dependents", "spargo2025"],
    ):
        assert run(data_dir, *args).exit_code == 0
    assert {p.name: p.stat().st_mtime_ns for p in data_dir.iterdir()} == before
