"""Bad data files give an error naming file, record and field, and are never modified."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from kb import InvalidData, KnowledgeBase
from kb.cli import cli


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _edit(path: Path, change: Callable[[list[dict[str, Any]]], None]) -> None:
    records = json.loads(path.read_text("utf-8"))
    change(records)
    path.write_text(json.dumps(records, indent=2), "utf-8")


def _claim(records: list[dict[str, Any]], cid: str) -> dict[str, Any]:
    return next(r for r in records if r["id"] == cid)


CASES = [
    # (file, how to break it, expected record, expected field, words in the message)
    (
        "claims.json",
        lambda r: _claim(r, "seed-max-dose").update(value={"type": "quantity", "value": 4.5}),
        "seed-max-dose",
        "value.unit",
        "unit",
    ),
    (
        "claims.json",
        lambda r: _claim(r, "younger2013-f1").update(conditions="fibromyalgia"),
        "younger2013-f1",
        "conditions",
        "not of type 'array'",
    ),
    (
        "claims.json",
        lambda r: _claim(r, "younger2013-f1")["citations"][0].update(ref="nobody2099"),
        "younger2013-f1",
        "citations.0.ref",
        "unknown reference 'nobody2099'",
    ),
    (
        "claims.json",
        lambda r: r.append(dict(_claim(r, "younger2013-f1"))),
        "younger2013-f1",
        "id",
        "duplicate id",
    ),
    (
        "claims.json",
        lambda r: _claim(r, "cree2010-f1").update(kind="anecdote"),
        "cree2010-f1",
        "kind",
        "anecdote",
    ),
    (
        "claims.json",
        lambda r: _claim(r, "cree2010-f1").update(conditions=["gout"]),
        "cree2010-f1",
        "conditions",
        "unknown condition 'gout'",
    ),
    ("references.json", lambda r: r.append(dict(r[0])), "younger2009", "id", "duplicate id"),
    (
        "references.json",
        lambda r: r[1].update(PMID=38226027),
        "younger2013",
        "PMID",
        "not of type 'string'",
    ),
    (
        "articles.json",
        lambda r: r[0]["bottom_line"].append("seed-nonexistent"),
        "ldn-chronic-pain",
        "bottom_line.4",
        "unknown claim 'seed-nonexistent'",
    ),
    (
        "conditions.json",
        lambda r: r[1].update(parents=["nowhere"]),
        "neuropathic-pain",
        "parents",
        "unknown parent",
    ),
]


@pytest.mark.parametrize("filename,change,record,field,words", CASES)
def test_bad_record_is_named_and_files_are_untouched(
    data_dir: Path, filename: str, change: Callable[..., None], record: str, field: str, words: str
) -> None:
    _edit(data_dir / filename, change)
    before = _digest(data_dir)
    with pytest.raises(InvalidData) as err:
        KnowledgeBase.load(data_dir)
    assert (err.value.file, err.value.record, err.value.field) == (filename, record, field)
    assert words in str(err.value)
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "validate"], obj={})
    assert result.exit_code == 1
    assert filename in result.output and record in result.output
    assert _digest(data_dir) == before


def test_truncated_file_names_file_and_position(data_dir: Path) -> None:
    path = data_dir / "claims.json"
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    before = _digest(data_dir)
    with pytest.raises(InvalidData, match=r"claims.json: not valid JSON: .* line \d+"):
        KnowledgeBase.load(data_dir)
    result = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "stats"], obj={})
    assert result.exit_code == 1 and "claims.json" in result.output
    assert "Traceback" not in result.output
    assert _digest(data_dir) == before


@pytest.mark.parametrize("content", [b"", b"\xff\xfe\x00binary", b'{"not": "a list"}'])
def test_empty_binary_or_wrong_shape_file(data_dir: Path, content: bytes) -> None:
    (data_dir / "references.json").write_bytes(content)
    with pytest.raises(InvalidData, match=r"references\.json"):
        KnowledgeBase.load(data_dir)


def test_missing_data_dir_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "nope"), "validate"], obj={})
    assert result.exit_code == 1
    assert "data directory not found" in result.output
