"""`kb import` and `kb export`: thin commands over kb.importer and kb.export."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path

import bibtexparser
import pytest
import rispy
from click.testing import CliRunner, Result

from kb import KnowledgeBase
from kb.cli import cli
from kb.locking import LOCK_FILE

FIXTURES = Path(__file__).parent / "fixtures" / "import"


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], obj={})


def _digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.name != LOCK_FILE  # the writer lock's file, empty, made by the first writer
    }


def test_import_then_import_again(data_dir: Path) -> None:
    fixture = str(FIXTURES / "bulleted-kinds-commas.txt")
    result = run(data_dir, "import", fixture, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["written"] and not report["unchanged"]
    assert report["counts"]["claims"] == 6
    assert report["article_id"] in KnowledgeBase.load(data_dir).articles
    after = _digest(data_dir)
    again = run(data_dir, "import", fixture)
    assert again.exit_code == 0
    assert again.output.startswith("Unchanged:")
    assert _digest(data_dir) == after


def test_import_text_report(data_dir: Path) -> None:
    result = run(data_dir, "import", str(FIXTURES / "unresolved-number.txt"))
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Imported unresolved-number.txt as article ")
    assert "unresolved: [3] cited at line(s) 5, 12" in out
    assert "line 7: Further details are in the test appendix." in out
    assert "[1] test2021_test-crossover-trial" in out


def test_dry_run_writes_nothing(data_dir: Path) -> None:
    before = _digest(data_dir)
    result = run(data_dir, "import", str(FIXTURES / "plain-no-kinds-spaces.txt"), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Dry run:")
    assert "safety_contradiction" in result.output
    assert _digest(data_dir) == before


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x00\x01\x02binary", "binary file"),
        ("Question?\nTitle caf\u00e9\n".encode("latin-1"), "not UTF-8 text"),
    ],
)
def test_bad_files_exit_1_with_one_line(
    data_dir: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    before = _digest(data_dir)
    result = run(data_dir, "import", str(path))
    assert result.exit_code == 1
    assert "bad.txt" in result.output and message in result.output
    assert "Traceback" not in result.output
    assert _digest(data_dir) == before


def test_missing_file_exits_1(data_dir: Path, tmp_path: Path) -> None:
    result = run(data_dir, "import", str(tmp_path / "nope.txt"))
    assert result.exit_code == 1 and "file not found" in result.output


def test_export_references_to_files(data_dir: Path, tmp_path: Path) -> None:
    n = len(KnowledgeBase.load(data_dir).references)
    bib = tmp_path / "refs.bib"
    result = run(data_dir, "export", "references", "--format", "bibtex", "-o", str(bib))
    assert result.exit_code == 0, result.output
    assert len(bibtexparser.parse_file(str(bib)).entries) == n
    ris = run(data_dir, "export", "references", "--format", "ris")
    assert len(rispy.loads(ris.output)) == n
    csl = run(data_dir, "export", "references", "--format", "csl-json")
    assert len(json.loads(csl.output)) == n


def test_export_claims_citations_and_graph(data_dir: Path, tmp_path: Path) -> None:
    kb = KnowledgeBase.load(data_dir)
    rows = list(csv.DictReader(io.StringIO(run(data_dir, "export", "claims").output)))
    assert len(rows) == len(kb.claims)
    cites = run(data_dir, "export", "citations", "--style", "vancouver").output
    assert len(cites.splitlines()) == len(kb.references)
    out = tmp_path / "g.json"
    assert run(data_dir, "export", "graph", "--format", "node-link", "-o", str(out)).exit_code == 0
    assert len(json.loads(out.read_text("utf-8"))["nodes"]) == kb.graph.number_of_nodes()


def test_export_after_import_includes_the_new_references(data_dir: Path) -> None:
    assert run(data_dir, "import", str(FIXTURES / "bulleted-kinds-commas.txt")).exit_code == 0
    ris = rispy.loads(run(data_dir, "export", "references", "--format", "ris").output)
    assert "test2025_test-guideline-titrating" in {r["id"] for r in ris}


def test_unknown_export_format_is_a_usage_error(data_dir: Path) -> None:
    result = run(data_dir, "export", "references", "--format", "endnote")
    assert result.exit_code == 2 and "endnote" in result.output


def test_import_leaves_editorial_decisions_in_the_journal(data_dir: Path) -> None:
    """An approval still in the journal must not be written into articles.json by an import."""
    from kb.editorial import Editor

    instance = data_dir.parent / "instance"
    kb = KnowledgeBase.load(data_dir)
    editor = Editor.open(kb, instance)
    editor.record(
        "eve",
        "editor",
        "set_status",
        "article:ldn-chronic-pain",
        after={"status": "approved", "acknowledge": "known conflicts, explained in the text"},
    )
    result = run(
        data_dir,
        "--instance-dir",
        str(instance),
        "import",
        str(FIXTURES / "bulleted-kinds-commas.txt"),
    )
    assert result.exit_code == 0, result.output
    stored = json.loads((data_dir / "articles.json").read_text("utf-8"))
    seed = next(a for a in stored if a["id"] == "ldn-chronic-pain")
    assert seed["review_status"] == "under_review"
    # ... while readers, who replay the journal, still see it approved.
    assert (
        Editor.open(KnowledgeBase.load(data_dir), instance)
        .kb.article("ldn-chronic-pain")
        .review_status
        == "approved"
    )
