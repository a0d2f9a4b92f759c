"""One notion of the conflicts readers see: once the board dismisses a conflict, no output —
page, API, evidence matrix, related claims, claims.csv, graph export, stats, grades — shows
it any more; ``computed_conflicts`` still holds it, and restoring it brings it back."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from kb import KnowledgeBase
from kb.editorial import Editor

ARTICLE = "ldn-chronic-pain"


def _isolated_conflict(kb: KnowledgeBase) -> tuple[str, str, str]:
    """A conflict whose claims take part in no other conflict, with one claim in the article
    (so that claim is uncontested once it is dismissed): (conflict, claim in article, other)."""
    for cf, conflict in kb.computed_conflicts.items():
        ids = list(dict.fromkeys(conflict.claim_ids()))
        if all(kb.computed_conflicts_by_claim[c] == [cf] for c in ids):
            in_article = [c for c in ids if ARTICLE in kb.articles_containing(c)]
            if in_article:
                other = next(c for c in ids if c != in_article[0])
                return cf, in_article[0], other
    raise AssertionError("the bundled data has no isolated conflict in the article")


def _cli(data_dir: Path, instance: Path, *args: str) -> str:
    from kb.cli import cli

    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "--instance-dir", str(instance), *args], obj={}
    )
    assert result.exit_code == 0, result.output
    return result.output


def _outputs(data_dir: Path, instance: Path, cf: str, claim: str, other: str) -> dict[str, Any]:
    """Where the conflict shows, output by output, read as a reader (site, API, CLI) reads."""
    from web import create_app

    app = create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": str(data_dir),
            "KB_INDEX_DIR": str(instance / "index"),
            "KB_INSTANCE_DIR": str(instance),
        }
    )
    client = app.test_client()
    page = client.get(f"/claims/{claim}").get_data(as_text=True)
    api = client.get(f"/api/claims/{claim}").get_json()
    listing = json.dumps(client.get("/api/conflicts").get_json())
    matrix = client.get(f"/api/matrix?article={ARTICLE}").get_json()
    row = next(r for r in matrix["rows"] if r["id"] == claim)
    related = client.get(f"/api/claims/{other}").get_json()["related"]
    csv_rows = {
        r["id"]: r
        for r in csv.DictReader(io.StringIO(_cli(data_dir, instance, "export", "claims")))
    }
    conflict_column = next(k for k in csv_rows[claim] if "conflict" in k)
    graph = json.loads(_cli(data_dir, instance, "export", "graph", "--format", "node-link"))
    stats = json.loads(_cli(data_dir, instance, "stats", "--json"))
    grade = api["claim"]["evidence"]
    return {
        "claim page": 'class="claim-text contested' in page,
        "claim API": cf in api["claim"]["conflicts"]
        or any(x["id"] == cf for x in api["contradicted_by"]),
        "conflicts API": cf in listing,
        "evidence matrix": row["contested"],
        "related claims": any(f"in conflict {cf}" in r["why"] for r in related),
        "claims.csv": cf in csv_rows[claim][conflict_column],
        "graph export": any(cf in str(n.get("id")) for n in graph["nodes"]),
        "stats": stats["conflicts"],
        "grade": any(r.startswith("Inconsistency") for r in grade["reasons"]),
    }


def test_a_dismissed_conflict_leaves_every_output(data_dir: Path, tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    kb = KnowledgeBase.load(data_dir)
    cf, claim, other = _isolated_conflict(kb)
    total = len(kb.computed_conflicts)
    before = _outputs(data_dir, instance, cf, claim, other)
    assert before["stats"] == total
    shown = [name for name, value in before.items() if value is True]
    # Before: every output shows it (the claim's grade is lowered for it, too).
    assert shown == [name for name in before if name != "stats"]

    editor = Editor.open(kb, instance)
    editor.record("eve", "editor", "dismiss_conflict", f"conflict:{cf}", reason="same data")
    assert cf not in kb.conflicts and cf in kb.computed_conflicts
    after = _outputs(data_dir, instance, cf, claim, other)
    assert after["stats"] == total - 1
    still = [name for name in shown if after[name] is True]
    assert still == [], f"outputs still showing the dismissed conflict: {still}"

    editor.record("eve", "editor", "restore_conflict", f"conflict:{cf}", reason="on reflection")
    assert _outputs(data_dir, instance, cf, claim, other) == before
