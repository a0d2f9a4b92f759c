"""Importing answer documents through the site (/import, /api/import) and the downloads
(/downloads/…): roles, CSRF, bad uploads, dry runs, the reload that shows an import at once,
one import at a time, and files byte-identical to `kb export` (CSRF protection on)."""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from werkzeug.datastructures import FileStorage
from werkzeug.test import TestResponse, encode_multipart

from kb import KnowledgeBase
from kb.cli import cli
from kb.locking import LOCK_FILE

from helpers.web_client import assert_accessible, csrf, login, rendered_docs

FIXTURES = Path(__file__).parent / "fixtures" / "import"
SCHEDULE = "bulleted-kinds-commas.txt"  # another schedule and maximum than the seed article
SEED = "ldn-chronic-pain"


# -- helpers -----------------------------------------------------------------------------------
def fixture(name: str = SCHEDULE) -> bytes:
    return (FIXTURES / name).read_bytes()


def multipart(fields: dict[str, Any], data: bytes, name: str) -> tuple[bytes, str]:
    """A multipart body built in memory (the test client would spool a large one to a
    temporary file it never closes)."""
    values = {
        **fields,
        "file": FileStorage(io.BytesIO(data), filename=name, content_type="text/plain"),
    }
    boundary, body = encode_multipart(values)
    return body, f"multipart/form-data; boundary={boundary}"


def upload_form(
    client: FlaskClient,
    token: str | None,
    data: bytes,
    *,
    name: str = "doc.txt",
    dry_run: bool = False,
) -> TestResponse:
    fields = {"csrf_token": token} if token is not None else {}
    if dry_run:
        fields["dry_run"] = "1"
    body, content_type = multipart(fields, data, name)
    return client.post("/import", data=body, content_type=content_type)


def upload_api(
    client: FlaskClient,
    token: str | None,
    data: bytes,
    *,
    name: str = "doc.txt",
    dry_run: bool = False,
    extra: dict[str, str] | None = None,
) -> TestResponse:
    fields = {"dry_run": "true"} if dry_run else {}
    body, content_type = multipart({**fields, **(extra or {})}, data, name)
    headers = {"X-CSRFToken": token} if token is not None else {}
    return client.post("/api/import", data=body, headers=headers, content_type=content_type)


def digest(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.iterdir())
        if p.is_file() and p.name != LOCK_FILE  # the writer lock's (empty) file
    }


def validator(client: FlaskClient, schema: str) -> Draft202012Validator:
    spec = client.get("/api/openapi.json").get_json()
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": spec["components"]}
    )


def cli_output(data_dir: Path, index_dir: Path, *args: str) -> str:
    """What `kb … export` prints, byte for byte (``output`` would turn CRLF into LF)."""
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "--index-dir", str(index_dir), *args], obj={}
    )
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")


# -- who may import ----------------------------------------------------------------------------
def test_an_anonymous_upload_is_refused(editorial_client: FlaskClient, data_dir: Path) -> None:
    before = digest(data_dir)
    r = editorial_client.get("/import")
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=/import"
    token = csrf(editorial_client)  # an anonymous session may hold a token; it is no login
    r = upload_form(editorial_client, token, fixture())
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    r = upload_api(editorial_client, token, fixture())
    assert r.status_code == 401 and r.get_json()["error"]["status"] == 401
    assert digest(data_dir) == before


def test_a_reviewer_may_not_import(editorial_client: FlaskClient, data_dir: Path) -> None:
    before = digest(data_dir)
    token = login(editorial_client, "rita")
    assert editorial_client.get("/import").status_code == 403
    r = upload_form(editorial_client, token, fixture())
    assert r.status_code == 403 and r.mimetype == "text/html"
    r = upload_api(editorial_client, token, fixture())
    assert r.status_code == 403 and "editor role" in r.get_json()["error"]["message"]
    assert 'href="/import"' not in editorial_client.get("/").text  # no link for a reviewer
    assert digest(data_dir) == before


def test_an_upload_without_csrf_token_is_400(editorial_client: FlaskClient, data_dir: Path) -> None:
    before = digest(data_dir)
    login(editorial_client, "eve")
    r = upload_form(editorial_client, None, fixture())
    assert r.status_code == 400 and r.mimetype == "text/html" and "CSRF" in r.text
    r = upload_api(editorial_client, None, fixture())
    assert r.status_code == 400 and "CSRF" in r.get_json()["error"]["message"]
    r = upload_api(editorial_client, "forged", fixture())
    assert r.status_code == 400
    assert digest(data_dir) == before


# -- importing ---------------------------------------------------------------------------------
def test_an_editor_imports_and_the_site_shows_it_at_once(
    editorial_app: Flask, editorial_client: FlaskClient, data_dir: Path
) -> None:
    token = login(editorial_client, "eve")
    page = editorial_client.get("/import")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert 'name="dry_run"' in page.text and 'href="/import"' in page.text  # nav link
    old_kb = editorial_app.extensions["kb"]
    r = upload_form(editorial_client, token, fixture(), name="schedule.txt")
    assert r.status_code == 200, r.text
    html = r.text
    assert "Imported schedule.txt as article" in html
    aid = re.search(r'href="/articles/([^"#]+)"', html.split("Import report")[1]).group(1)
    assert aid in KnowledgeBase.load(data_dir).articles  # written
    # The report: claims, new and matched references, furniture, conflicts with the seed.
    for needle in (
        "Claims (6)",
        "New references (2)",
        "References already held (1)",
        "bruun2024_final",
        "Page furniture skipped (14)",
        'href="/claims/seed-max-dose"',
        'href="/claims/seed-titration-schedule"',
    ):
        assert needle in html, needle
    assert_accessible(html)
    # A new knowledge base (and editor) serves the next request: no restart needed.
    assert editorial_app.extensions["kb"] is not old_kb
    assert editorial_app.extensions["editor"].kb is editorial_app.extensions["kb"]
    reader = editorial_app.test_client()
    article = reader.get(f"/api/articles/{aid}").get_json()
    assert article["review"]["status"] == "submitted"
    with_seed = [
        c["id"]
        for c in article["conflicts"]
        if any(cl["id"] == "seed-max-dose" for s in c["sides"] for cl in s["claims"])
    ]
    assert with_seed
    page = reader.get(f"/articles/{aid}")
    assert page.status_code == 200 and f'id="conflict-{with_seed[0]}"' in page.text
    assert "seed-max-dose" in page.text
    # ... and the seed article now shows the conflict with the imported one.
    seed = reader.get(f"/api/articles/{SEED}").get_json()
    assert with_seed[0] in {c["id"] for c in seed["conflicts"]}
    assert aid in {a["id"] for a in reader.get("/api/").get_json()["articles"]}
    hits = reader.get("/api/search?q=weekly+titration").get_json()["results"]
    assert any(h["id"].startswith(f"imp-{aid}-") for h in hits)  # the search index too
    # The same document again changes nothing.
    after = digest(data_dir)
    r = upload_api(editorial_client, token, fixture(), name="schedule.txt")
    assert r.status_code == 200 and r.get_json()["unchanged"] and not r.get_json()["written"]
    assert digest(data_dir) == after


def test_the_json_twin_returns_the_report(editorial_client: FlaskClient, data_dir: Path) -> None:
    token = login(editorial_client, "eve")
    r = upload_api(editorial_client, token, fixture("unresolved-number.txt"))
    assert r.status_code == 201
    report = r.get_json()
    validator(editorial_client, "ImportReport").validate(report)
    assert report["written"] and not report["dry_run"] and report["file"] == "doc.txt"
    assert [u["number"] for u in report["unresolved_citations"]] == [3]
    assert report["not_understood"]
    assert report["article_id"] in KnowledgeBase.load(data_dir).articles
    r = editorial_client.get(f"/articles/{report['article_id']}")
    assert r.status_code == 200


def test_the_page_renders_the_dict_its_twin_returns(
    editorial_app: Flask, editorial_client: FlaskClient
) -> None:
    token = login(editorial_client, "eve")
    data = upload_api(editorial_client, token, fixture(), name="a.txt", dry_run=True).get_json()
    with rendered_docs(editorial_app) as docs:
        r = upload_form(editorial_client, token, fixture(), name="a.txt", dry_run=True)
    assert r.status_code == 200
    assert editorial_app.json.loads(editorial_app.json.dumps(docs[0])) == data
    assert "Dry run: a.txt would become article" in r.text
    for line in data["not_understood"] + data["skipped_furniture"]:
        assert f"Line {line['line']}:" in r.text


def test_a_dry_run_writes_nothing(
    editorial_app: Flask, editorial_client: FlaskClient, data_dir: Path
) -> None:
    before = digest(data_dir)
    old_kb = editorial_app.extensions["kb"]
    token = login(editorial_client, "eve")
    r = upload_api(editorial_client, token, fixture(), dry_run=True)
    assert r.status_code == 200
    report = r.get_json()
    assert report["dry_run"] and not report["written"] and report["counts"]["claims"] == 6
    assert any("seed-max-dose" in c["with"] for c in report["conflicts"])
    r = upload_form(editorial_client, token, fixture("plain-no-kinds-spaces.txt"), dry_run=True)
    assert r.status_code == 200 and "nothing was written" in r.text
    assert digest(data_dir) == before
    assert editorial_app.extensions["kb"] is old_kb  # nothing to reload
    assert editorial_client.get(f"/api/articles/{report['article_id']}").status_code == 404


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "empty.txt", "the file is empty"),
        (b"  \n\n \t\n", "blank.txt", "the file is empty"),
        (b"Question?\x00\x01\x02binary", "bin.txt", "binary file"),
        (
            "Is it safe?\nT\u00edtulo caf\u00e9 \u2022 1\n".encode("latin-1", "replace"),
            "latin1.txt",
            "not UTF-8",
        ),
        ("What?\nTitle\n".encode("utf-16"), "utf16.txt", "UTF-16"),
        (
            "What?\nTitle\n\u00e2\u20ac\u00a2 A statement 1\n".encode("utf-8"),
            "mojibake.txt",
            "wrongly encoded",
        ),
        (b"x" * 1_000_001, "big.txt", "at most 1,000,000 bytes"),
        (b"x" * 3_000_000, "huge.txt", "at most 1,000,000 bytes"),  # refused before it is read
        (b"Just a line of text.\n", "prose.txt", "does not look like an answer document"),
    ],
)
def test_bad_uploads_are_400_and_write_nothing(
    editorial_client: FlaskClient, data_dir: Path, data: bytes, name: str, message: str
) -> None:
    before = digest(data_dir)
    token = login(editorial_client, "eve")
    r = upload_api(editorial_client, token, data, name=name)
    assert r.status_code == 400, r.get_json()
    assert message in r.get_json()["error"]["message"]
    r = upload_form(editorial_client, token, data, name=name)
    assert r.status_code == 400 and r.mimetype == "text/html"
    assert "othing was imported" in r.text and message in r.text
    assert digest(data_dir) == before


def test_a_missing_file_or_bad_flag_is_400(editorial_client: FlaskClient, data_dir: Path) -> None:
    before = digest(data_dir)
    token = login(editorial_client, "eve")
    r = editorial_client.post(
        "/api/import",
        data={"dry_run": "true"},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    assert r.status_code == 400 and "choose a file" in r.get_json()["error"]["message"]
    r = upload_api(editorial_client, token, fixture(), extra={"dry_run": "maybe"})
    assert r.status_code == 400 and "dry_run" in r.get_json()["error"]["message"]
    r = editorial_client.post(
        "/import", data={"csrf_token": token}, content_type="multipart/form-data"
    )
    assert r.status_code == 400 and "choose a file" in r.text
    assert digest(data_dir) == before


def test_editorial_decisions_are_not_written_into_the_data_files(
    editorial_client: FlaskClient, data_dir: Path
) -> None:
    token = login(editorial_client, "eve")
    r = editorial_client.post(
        f"/api/editorial/articles/{SEED}/set-status",
        # The bundled article has active conflicts: approving it needs an acknowledgement.
        json={"status": "approved", "base_version": 0, "acknowledge": "conflicts explained"},
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 201
    assert upload_api(editorial_client, token, fixture()).status_code == 201
    stored = {a["id"]: a for a in json.loads((data_dir / "articles.json").read_text("utf-8"))}
    assert stored[SEED]["review_status"] == "under_review"  # the journal holds the approval
    # ... which the reloaded site still applies.
    assert (
        editorial_client.get(f"/api/articles/{SEED}").get_json()["review"]["status"] == "approved"
    )


def test_a_failed_reload_is_reported_not_hidden(
    editorial_client: FlaskClient, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.errors import InvalidData
    from web import imports

    def broken(app: Flask) -> None:
        raise InvalidData("claims.json", "unreadable")

    monkeypatch.setattr(imports, "reload_kb", broken)
    token = login(editorial_client, "eve")
    r = upload_api(editorial_client, token, fixture())
    assert r.status_code == 201
    report = r.get_json()
    assert report["written"] and "could not load the knowledge base again" in report["warnings"][-1]
    assert report["article_id"] in KnowledgeBase.load(data_dir).articles


# -- one import at a time, and a safe swap ------------------------------------------------------
def test_a_second_import_while_one_runs_is_409(
    editorial_client: FlaskClient, data_dir: Path
) -> None:
    from web import imports

    before = digest(data_dir)
    token = login(editorial_client, "eve")
    with imports.IMPORT_LOCK:  # an import in progress
        r = upload_api(editorial_client, token, fixture())
        assert r.status_code == 409 and "being imported" in r.get_json()["error"]["message"]
        r = upload_form(editorial_client, token, fixture())
        assert r.status_code == 409 and "being imported" in r.text
    assert digest(data_dir) == before
    assert upload_api(editorial_client, token, fixture()).status_code == 201


def test_readers_are_served_throughout_an_import(
    editorial_app: Flask, editorial_client: FlaskClient
) -> None:
    token = login(editorial_client, "eve")
    stop = threading.Event()
    failures: list[str] = []
    served = [0]

    def read() -> None:
        client = editorial_app.test_client()
        while not stop.is_set():
            for url in (
                "/api/health",
                f"/api/articles/{SEED}",
                "/api/search?q=titration",
                "/contested",
            ):
                r = client.get(url)
                served[0] += 1
                if r.status_code != 200:
                    failures.append(f"{url}: {r.status_code}")

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        for name in (SCHEDULE, "plain-no-kinds-spaces.txt", "dash-bullets-numbered-refs.txt"):
            assert upload_api(editorial_client, token, fixture(name)).status_code == 201
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert failures == [] and served[0] > 0
    assert editorial_client.get("/api/").get_json()["counts"]["articles"] == 4


# -- downloads ---------------------------------------------------------------------------------
DOWNLOADS = [
    (
        "references.json",
        "application/vnd.citationstyles.csl+json",
        ("export", "references", "--format", "csl-json"),
    ),
    (
        "references.bib",
        "application/x-bibtex; charset=utf-8",
        ("export", "references", "--format", "bibtex"),
    ),
    (
        "references.ris",
        "application/x-research-info-systems; charset=utf-8",
        ("export", "references", "--format", "ris"),
    ),
    ("citations.txt", "text/plain; charset=utf-8", ("export", "citations")),
    ("claims.csv", "text/csv; charset=utf-8", ("export", "claims")),
    (
        "graph.graphml",
        "application/graphml+xml; charset=utf-8",
        ("export", "graph", "--format", "graphml"),
    ),
    ("graph.json", "application/json", ("export", "graph", "--format", "node-link")),
]


@pytest.mark.parametrize(
    ("name", "media_type", "command"), DOWNLOADS, ids=[d[0] for d in DOWNLOADS]
)
def test_downloads_are_attachments_equal_to_kb_export(
    editorial_client: FlaskClient,
    data_dir: Path,
    index_dir: Path,
    name: str,
    media_type: str,
    command: tuple[str, ...],
) -> None:
    r = editorial_client.get(f"/downloads/{name}")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == media_type
    assert r.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert r.data.decode("utf-8") == cli_output(data_dir, index_dir, *command)
    twin = editorial_client.get(f"/api/downloads/{name}")
    assert twin.data == r.data and twin.headers["Content-Type"] == media_type
    again = editorial_client.get(f"/downloads/{name}", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304


def test_downloads_follow_imports_and_editorial_decisions(
    editorial_client: FlaskClient, data_dir: Path, index_dir: Path
) -> None:
    token = login(editorial_client, "eve")
    r = editorial_client.post(
        "/api/editorial/claims/seed-max-dose/set-verdict",
        json={"verdict": "supported", "base_version": 0},
        headers={"X-CSRFToken": token},
    )
    assert r.status_code == 201
    report = upload_api(editorial_client, token, fixture()).get_json()
    new_ref = report["references_new"][0]["ref"]
    bib = editorial_client.get("/downloads/references.bib").data.decode("utf-8")
    assert f"{{{new_ref}," in bib
    assert bib == cli_output(data_dir, index_dir, "export", "references", "--format", "bibtex")
    claims = editorial_client.get("/downloads/claims.csv").data.decode("utf-8")
    assert report["claims"][0]["id"] in claims
    assert claims == cli_output(data_dir, index_dir, "export", "claims")


def test_citation_style_and_unknown_downloads(
    editorial_client: FlaskClient, data_dir: Path, index_dir: Path
) -> None:
    r = editorial_client.get("/downloads/citations.txt?style=vancouver")
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == 'attachment; filename="citations-vancouver.txt"'
    assert r.data.decode("utf-8") == cli_output(
        data_dir, index_dir, "export", "citations", "--style", "vancouver"
    )
    assert editorial_client.get("/downloads/citations.txt?style=apa").status_code == 400
    assert editorial_client.get("/downloads/nope.zip").status_code == 404
    r = editorial_client.get("/api/downloads/nope.zip")
    assert r.status_code == 404 and r.get_json()["error"]["status"] == 404


def test_downloads_page_agrees_with_its_twin_and_is_linked(
    editorial_app: Flask, editorial_client: FlaskClient
) -> None:
    data = editorial_client.get("/api/downloads").get_json()
    validator(editorial_client, "Downloads").validate(data)
    assert [d["name"] for d in data["downloads"]] == [d[0] for d in DOWNLOADS]
    with rendered_docs(editorial_app) as docs:
        r = editorial_client.get("/downloads")
    assert r.status_code == 200
    assert editorial_app.json.loads(editorial_app.json.dumps(docs[0])) == data
    for d in data["downloads"]:
        assert f'href="{d["url"]}"' in r.text and d["command"] in r.text
    assert 'rel="alternate" type="application/json" href="/api/downloads"' in r.text
    assert_accessible(r.text)
    home = editorial_client.get("/").text
    main, footer = home.split('<footer class="site-footer">')
    assert 'href="/downloads"' in main and 'href="/downloads"' in footer


def test_a_second_server_serves_an_import_made_through_the_first(
    editorial_client: FlaskClient, editorial_app: Flask, data_dir: Path, instance_dir: Path
) -> None:
    """Two site processes over one data folder (here two apps): an import through one is
    served by the other on its next request, without a restart."""
    from web import create_app

    other = create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": str(data_dir),
            "KB_INDEX_DIR": str(data_dir.parent / "index2"),
            "KB_INSTANCE_DIR": str(instance_dir),
        }
    ).test_client()
    token = login(editorial_client, "eve")
    r = upload_api(editorial_client, token, fixture())
    assert r.status_code == 201
    article = r.get_json()["article_id"]
    assert editorial_client.get(f"/api/articles/{article}").status_code == 200
    assert other.get(f"/api/articles/{article}").status_code == 200
    assert editorial_client.get(f"/api/articles/{article}").status_code == 200
