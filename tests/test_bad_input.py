"""Bad input never gives a 500 or a traceback: bad data files give an error naming file,
record and field (and are never modified); hostile web requests get a 400 (or their own 4xx)."""

from __future__ import annotations

import hashlib
import json
import re
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


# -- the web: hostile requests are a 400 (or their own 4xx), never a 500 ------------------------
@pytest.mark.parametrize(
    "url",
    [
        "/?endpoint=x",
        "/search?q=dose&endpoint=x",
        "/claims/seed-max-dose?_method=x",
        "/claims/seed-max-dose?claim_id=x",
        "/articles/ldn-chronic-pain?article_id=other&_anchor=x",
        "/contested?_scheme=javascript&_external=1",
        "/search?q=dose&page=2&claim_id=y&values=z",
    ],
)
def test_unknown_query_parameters_never_reach_url_building(real_client: Any, url: str) -> None:
    r = real_client.get(url)
    assert r.status_code == 200, url
    # The page's link to its JSON twin keeps the arguments as a query string, nothing else.
    twin = re.search(r'href="(/api/[^"]*)"', r.text)
    assert twin is None or twin.group(1).startswith("/api/")


def test_external_urls_never_come_from_the_host_header(real_client: Any) -> None:
    r = real_client.get("/search?q=dose&_external=1", headers={"Host": "evil.example"})
    assert r.status_code == 200 and "evil.example" not in r.text


def test_trusted_hosts_refuse_other_hosts(data_dir: Path, index_dir: Path) -> None:
    from web import create_app

    app = create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": str(data_dir),
            "KB_INDEX_DIR": str(index_dir),
            "KB_WARM": False,
            "TRUSTED_HOSTS": ["kb.example.org"],
        }
    )
    client = app.test_client()
    assert client.get("/policy", headers={"Host": "kb.example.org"}).status_code == 200
    assert client.get("/policy", headers={"Host": "evil.example"}).status_code == 400


@pytest.mark.parametrize(
    "body,words",
    [
        ('{"reason": "r", "base_version": Infinity}', "Infinity"),
        ('{"reason": "r", "base_version": -Infinity}', "Infinity"),
        ('{"reason": "r", "base_version": NaN}', "NaN"),
        ('{"reason": "r", "base_version": 1e400}', "too large"),
        ('{"reason": "r", "base_version": ' + "9" * 5000 + "}", "too large"),
        ('{"reason": "r", "base_version": 99999999999999999}', "from 0 to"),
        ('{"reason": "r", "base_version": 1.5}', "whole number"),
        ('{"reason": "r", "base_version": -1}', "from 0 to"),
        ("[" * 100_000 + "]" * 100_000, "nested deeper"),
        ('{"a": ' * 40 + "1" + "}" * 40, "nested deeper"),
        ('{"reason": "\\ud800", "base_version": 0}', "Unicode"),
        ('{"reason": "ok", "text": "\\udfff", "base_version": 0}', "Unicode"),
        ('{"reason": "ok", "base_version": 0', "not acceptable JSON"),
        ("[1, 2]", "JSON object"),
    ],
)
def test_hostile_json_bodies_are_400(
    editorial_client: Any, instance_dir: Path, body: str, words: str
) -> None:
    from helpers.web_client import login

    token = login(editorial_client, "eve")
    r = editorial_client.post(
        "/api/editorial/claims/seed-max-dose/flag",
        data=body,
        headers={"X-CSRFToken": token, "Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.get_json()
    assert words in r.get_json()["error"]["message"]
    assert not (instance_dir / "journal.jsonl").exists()  # nothing was written


def test_hostile_login_bodies_are_400(editorial_client: Any) -> None:
    from helpers.web_client import csrf

    token = csrf(editorial_client)
    for body in ('{"name": "\\ud800", "password": "x"}', "[" * 100_000, "{" * 50_000):
        r = editorial_client.post(
            "/api/login",
            data=body,
            headers={"X-CSRFToken": token, "Content-Type": "application/json"},
        )
        assert r.status_code == 400


@pytest.mark.parametrize(
    "method,url,allowed",
    [("post", "/api/ask?q=LDN", "GET"), ("post", "/search", "GET"), ("get", "/logout", "POST")],
)
def test_405_says_which_methods_are_allowed(
    real_client: Any, method: str, url: str, allowed: str
) -> None:
    r = getattr(real_client, method)(url)
    assert r.status_code == 405
    assert allowed in {m.strip() for m in r.headers["Allow"].split(",")}


def test_hsts_only_over_https(real_client: Any) -> None:
    assert "Strict-Transport-Security" not in real_client.get("/policy").headers
    r = real_client.get("/policy", base_url="https://localhost")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")


def test_hsts_behind_a_trusted_proxy(data_dir: Path, index_dir: Path) -> None:
    from web import create_app

    def client(proxies: int) -> Any:
        app = create_app(
            {
                "TESTING": True,
                "KB_DATA_DIR": str(data_dir),
                "KB_INDEX_DIR": str(index_dir),
                "KB_WARM": False,
                "KB_TRUSTED_PROXIES": proxies,
            }
        )
        return app.test_client()

    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    assert "Strict-Transport-Security" in client(1).get("/policy", headers=forwarded).headers
    # Without a trusted proxy configured, a client cannot claim HTTPS by a header.
    assert "Strict-Transport-Security" not in client(0).get("/policy", headers=forwarded).headers
