"""`kb search` and `kb index`: readable by default, the library's JSON with --json."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result

from kb import KnowledgeBase
from kb.cli import cli


def run(data_dir: Path, index_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "--index-dir", str(index_dir), *args], obj={}
    )


def test_search_json_is_the_library_result(data_dir: Path, index_dir: Path) -> None:
    result = run(data_dir, index_dir, "search", "CRPS response", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"query", "total", "page", "results", "facets", "suggestion"} <= set(data)
    expected = KnowledgeBase.load(data_dir, index_dir=index_dir).search("CRPS response")
    assert data == json.loads(json.dumps(expected))
    assert data["results"][0]["type"] in ("claim", "reference")
    assert all({"score", "highlight"} <= set(hit) for hit in data["results"])


def test_search_text_output(data_dir: Path, index_dir: Path) -> None:
    result = run(data_dir, index_dir, "search", "vivid dreams", "--limit", "3")
    assert result.exit_code == 0, result.output
    assert "results for 'vivid dreams' (showing 1–3)" in result.output
    assert "adverse effect" in result.output and "kind: adverse_effect" in result.output
    assert "<mark>" not in result.output


def test_search_options_filter_and_page(data_dir: Path, index_dir: Path) -> None:
    data = json.loads(
        run(
            data_dir,
            index_dir,
            "search",
            "LDN",
            "--kind",
            "dose",
            "--grade",
            "Very low",
            "--limit",
            "2",
            "--page",
            "2",
            "--json",
        ).output
    )
    assert data["page"] == 2 and len(data["results"]) <= 2
    assert all(
        h["kind"] == "dose" and h["evidence"]["grade"] == "Very low" for h in data["results"]
    )
    cond = json.loads(
        run(
            data_dir,
            index_dir,
            "search",
            "LDN",
            "--condition",
            "CRPS",
            "--design",
            "case-report",
            "--json",
        ).output
    )
    assert cond["results"] and all(
        "crps" in h["conditions"] for h in cond["results"] if h["type"] == "claim"
    )


def test_search_suggests(data_dir: Path, index_dir: Path) -> None:
    result = run(data_dir, index_dir, "search", "fibromialgia")
    assert result.exit_code == 0 and "Did you mean: fibromyalgia" in result.output


def test_common_words_only_are_answered_with_a_note(data_dir: Path, index_dir: Path) -> None:
    result = run(data_dir, index_dir, "search", "the of")
    assert result.exit_code == 0, result.output
    assert "0 results" in result.output and "only very common words (the, of)" in result.output


def test_bad_queries_are_clean_errors(data_dir: Path, index_dir: Path) -> None:
    for args in (
        ["search", "*"],
        ["search", "LDN", "--grade", "superb"],
        ["search", ""],
    ):
        result = run(data_dir, index_dir, *args)
        assert result.exit_code == 1, args
        assert "could not understand the query" in result.output
        assert "Traceback" not in result.output


def test_index_builds_then_updates_only_changes(data_dir: Path, index_dir: Path) -> None:
    first = json.loads(run(data_dir, index_dir, "index", "--json").output)
    assert first["rebuilt"] and first["documents"] > 200
    assert first["index_dir"] == str(index_dir)
    again = run(data_dir, index_dir, "index")
    assert again.exit_code == 0 and "0 rewritten" in again.output
    rebuilt = json.loads(run(data_dir, index_dir, "index", "--rebuild", "--json").output)
    assert rebuilt["rebuilt"] and rebuilt["documents"] == first["documents"]


def test_index_dir_from_environment(data_dir: Path, tmp_path: Path) -> None:
    where = tmp_path / "elsewhere"
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "index"], obj={}, env={"KB_INDEX_DIR": str(where)}
    )
    assert result.exit_code == 0, result.output
    assert (where / "kb-search.json").exists()
    assert not (data_dir / "kb-search.json").exists()
