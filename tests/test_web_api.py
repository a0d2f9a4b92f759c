"""The JSON API: each page's twin returns the very dict the page renders; errors; OpenAPI."""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from kb import KnowledgeBase
from kb.shapes import claim_json

from helpers.web_client import rendered_docs, statements

ARTICLE = "ldn-chronic-pain"


def _hit_ids(doc: dict[str, Any]) -> list[str]:
    return [h["id"] for h in doc["results"]]


# (page, API twin, what the page must show of the API's data: strings that must appear)
TWINS: list[tuple[str, str, Callable[[dict[str, Any]], list[str]]]] = [
    (
        "/",
        "/api/",
        lambda d: (
            [f"/articles/{a['id']}" for a in d["articles"]]
            + [f"<strong>{d['contested_count']}</strong>"]
        ),
    ),
    (
        f"/articles/{ARTICLE}",
        f"/api/articles/{ARTICLE}",
        lambda d: (
            [f'id="claim-{s["id"]}"' for s in d["bottom_line"]]
            # A bottom-line statement is shown once; its section points to it.
            + [
                f'id="{"in-section" if s.get("in_bottom_line") else "claim"}-{s["id"]}"'
                for s in statements(d)[len(d["bottom_line"]) :]
            ]
            + [f'id="ref-{r["number"]}"' for r in d["references"]]
            + [f'id="conflict-{c["id"]}"' for c in d["conflicts"]]
            + [f"{d['counts']['statements']} statements", f"{d['counts']['contested']} contested"]
        ),
    ),
    (
        f"/articles/{ARTICLE}?audience=patient",
        f"/api/articles/{ARTICLE}?audience=patient",
        lambda d: [f'id="term-{t["id"]}"' for t in d["glossary"]],
    ),
    (
        "/claims/seed-fibromyalgia-rct-benefit",
        "/api/claims/seed-fibromyalgia-rct-benefit",
        lambda d: (
            [f"/claims/{r['id']}" for r in d["related"]]
            + [f'id="conflict-{c["id"]}"' for c in d["contradicted_by"]]
            + [f"Evidence: {d['claim']['evidence']['grade']}"]
        ),
    ),
    (
        "/references/mckenziebrown2023",
        "/api/references/mckenziebrown2023",
        lambda d: (
            [f"/claims/{c['id']}" for c in d["claims"]]
            + [f"/articles/{a['id']}" for a in d["articles"]]
            + [f"Claims that depend on it ({d['claims_total']})"]
        ),
    ),
    (
        "/search?q=CRPS+response",
        "/api/search?q=CRPS+response",
        lambda d: (
            [f"/claims/{i}" for i in _hit_ids(d) if not i.startswith("ref")]
            + [f"{d['total']} result"]
        ),
    ),
    ("/search?q=LDN&page=2", "/api/search?q=LDN&page=2", lambda d: [f"{d['total']} result"]),
    (
        "/ask?q=Does+LDN+work+for+fibromyalgia%3F",
        "/api/ask?q=Does+LDN+work+for+fibromyalgia%3F",
        lambda d: (
            [f"/claims/{c['id']}" for s in d["sections"] for c in s["claims"]]
            + [f'id="conflict-{c["id"]}"' for c in d["contested"]]
        ),
    ),
    ("/ask?q=metformin+dose", "/api/ask?q=metformin+dose", lambda d: ["holds no evidence"]),
    (
        "/contested",
        "/api/conflicts",
        lambda d: (
            [f'id="conflict-{c["id"]}"' for g in d["groups"] for c in g["conflicts"]]
            + [f"{d['shown']} of {d['total']} conflicts"]
        ),
    ),
    (
        "/contested?type=divergent_estimates",
        "/api/conflicts?type=divergent_estimates",
        lambda d: [f'id="conflict-{c["id"]}"' for g in d["groups"] for c in g["conflicts"]],
    ),
    (
        "/matrix?article=ldn-chronic-pain",
        "/api/matrix?article=ldn-chronic-pain",
        lambda d: (
            [f"/claims/{r['id']}" for r in d["rows"]]
            + [f"/references/{r['id']}" for r in d["references"]]
        ),
    ),
    (
        "/matrix?condition=crps",
        "/api/matrix?condition=crps",
        lambda d: [f"/claims/{r['id']}" for r in d["rows"]],
    ),
    ("/integrity", "/api/integrity", lambda d: [f"({len(v)})" for v in d.values()]),
    ("/policy", "/api/policy", lambda d: [x["label"] for x in d["conflict_types"]]),
    ("/glossary", "/api/glossary", lambda d: [f'id="term-{t["id"]}"' for t in d["terms"]]),
]


@pytest.mark.parametrize(("page", "api", "shown"), TWINS, ids=[t[0] for t in TWINS])
def test_page_and_api_twin_agree(
    real_app: Flask, page: str, api: str, shown: Callable[[dict[str, Any]], list[str]]
) -> None:
    client = real_app.test_client()
    data = client.get(api).get_json()
    with rendered_docs(real_app) as docs:
        r = client.get(page)
    assert r.status_code == 200
    # The page rendered exactly the dict the API returned ...
    assert real_app.json.loads(real_app.json.dumps(docs[0])) == data
    # ... and shows its ids and counts.
    html = r.text
    for needle in shown(data):
        assert needle in html, needle
    alternate = re.search(r'rel="alternate" type="application/json" href="([^"]+)"', html)
    assert alternate is not None
    linked = urlsplit(html_lib.unescape(alternate.group(1)))
    assert (linked.path, parse_qs(linked.query)) == (
        urlsplit(api).path,
        parse_qs(urlsplit(api).query),
    )


def test_api_claims_match_the_library(real_client: FlaskClient, real_kb: KnowledgeBase) -> None:
    data = real_client.get("/api/claims/seed-max-dose").get_json()
    assert data["claim"] == claim_json(real_kb, "seed-max-dose")
    assert data["trace"]["claim"] == "seed-max-dose"
    assert {c["id"] for c in data["contradicted_by"]} == set(
        real_kb.conflicts_by_claim["seed-max-dose"]
    )


def test_api_article_counts(real_client: FlaskClient, real_kb: KnowledgeBase) -> None:
    data = real_client.get(f"/api/articles/{ARTICLE}").get_json()
    ids = [s["id"] for s in statements(data)]
    assert set(ids) == set(real_kb.article(ARTICLE).claim_ids())
    assert data["review"]["pending"] is True and data["review"]["status"] == "under_review"
    contested = {s["id"] for s in statements(data) if s["contested"]}
    assert contested == {c for c in ids if real_kb.conflicts_by_claim.get(c)}
    assert data["counts"]["contested"] == len(contested)


def test_api_conflicts_cover_every_conflict(
    real_client: FlaskClient, real_kb: KnowledgeBase
) -> None:
    data = real_client.get("/api/conflicts").get_json()
    ids = {c["id"] for g in data["groups"] for c in g["conflicts"]}
    assert ids == set(real_kb.conflicts) and data["total"] == len(real_kb.conflicts)
    home = real_client.get("/api/").get_json()
    assert home["contested_count"] == len(real_kb.conflicts)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/claims/nope", 404),
        ("/api/references/nope", 404),
        ("/api/articles/nope", 404),
        ("/api/nope", 404),
        ("/api/search", 400),
        ("/api/search?q=", 400),
        ("/api/search?q=LDN&page=x", 400),
        ("/api/search?q=LDN&page=-1", 400),
        ("/api/ask", 400),
        ("/api/ask?q=%20%20", 400),
        ("/api/ask?q=" + "a" * 1001, 400),
        (f"/api/articles/{ARTICLE}?audience=x", 400),
        ("/api/conflicts?type=x", 400),
        ("/api/conflicts?condition=x", 400),
        ("/api/matrix", 400),
        ("/api/matrix?condition=x", 400),
        ("/api/matrix?article=ldn-chronic-pain&limit=0", 400),
    ],
)
def test_api_errors_are_json(real_client: FlaskClient, url: str, status: int) -> None:
    r = real_client.get(url)
    assert r.status_code == status
    body = r.get_json()
    assert body["error"]["status"] == status and body["error"]["message"]


def test_wrong_method_is_405_not_500(real_client: FlaskClient) -> None:
    r = real_client.post("/api/ask?q=LDN")
    assert r.status_code == 405 and r.get_json()["error"]["status"] == 405


def test_openapi_document_is_valid_and_complete(real_client: FlaskClient, real_app: Flask) -> None:
    spec_validator = pytest.importorskip("openapi_spec_validator")
    spec = real_client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.1")
    spec_validator.validate(spec)
    documented = {re.sub(r"\{(\w+)\}", r"<\1>", p) for p in spec["paths"]}
    served = {rule.rule for rule in real_app.url_map.iter_rules() if rule.rule.startswith("/api/")}
    assert documented == {re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", s) for s in served}


SAMPLES = [
    ("/api/", "/api/"),
    ("/api/search", "/api/search?q=CRPS+response"),
    ("/api/ask", "/api/ask?q=How+common+are+side+effects+of+LDN%3F"),
    ("/api/ask", "/api/ask?q=sumatriptan+for+migraine"),
    ("/api/articles/{article_id}", f"/api/articles/{ARTICLE}?audience=patient"),
    ("/api/claims/{claim_id}", "/api/claims/seed-neuropathic-64pct-response"),
    ("/api/references/{ref_id}", "/api/references/spargo2025"),
    ("/api/conflicts", "/api/conflicts"),
    ("/api/matrix", "/api/matrix?condition=crps"),
    ("/api/integrity", "/api/integrity"),
    ("/api/policy", "/api/policy"),
    ("/api/glossary", "/api/glossary"),
    ("/api/health", "/api/health"),
]


@pytest.mark.parametrize(("path", "url"), SAMPLES)
def test_responses_match_their_openapi_schema(
    real_client: FlaskClient, path: str, url: str
) -> None:
    spec = real_client.get("/api/openapi.json").get_json()
    r = real_client.get(url)
    ref = spec["paths"][path]["get"]["responses"][str(r.status_code)]["content"][
        "application/json"
    ]["schema"]
    schema = {**ref, "components": spec["components"]}
    Draft202012Validator(schema).validate(r.get_json())


def test_error_body_matches_openapi_schema(real_client: FlaskClient) -> None:
    spec = real_client.get("/api/openapi.json").get_json()
    schema = {"$ref": "#/components/schemas/Error", "components": spec["components"]}
    Draft202012Validator(schema).validate(real_client.get("/api/claims/nope").get_json())


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(
    q=st.text(max_size=300),
    page=st.one_of(st.none(), st.text(max_size=5)),
    kind=st.one_of(st.none(), st.text(max_size=20)),
)
def test_search_never_fails_on_random_input(
    real_app: Flask, q: str, page: str | None, kind: str | None
) -> None:
    args = {
        "q": q,
        **({"page": page} if page is not None else {}),
        **({"kind": kind} if kind is not None else {}),
    }
    r = real_app.test_client().get("/api/search", query_string=args)
    assert r.status_code in (200, 400), r.get_json()
    assert r.is_json


@FUZZ
@given(q=st.text(max_size=600))
def test_ask_never_fails_on_random_input(real_app: Flask, q: str) -> None:
    r = real_app.test_client().get("/api/ask", query_string={"q": q})
    assert r.status_code in (200, 400), r.get_json()
    if r.status_code == 200:
        assert isinstance(r.get_json()["relevant"], bool)


@FUZZ
@given(q=st.text(max_size=100))
def test_html_search_and_ask_never_fail(real_app: Flask, q: str) -> None:
    client = real_app.test_client()
    for url in ("/search", "/ask"):
        assert client.get(url, query_string={"q": q}).status_code in (200, 400)


@FUZZ
@given(ident=st.text(min_size=1, max_size=60).filter(lambda s: "/" not in s))
def test_unknown_ids_are_404(real_app: Flask, ident: str) -> None:
    client = real_app.test_client()
    for prefix in ("/api/claims/", "/api/references/", "/api/articles/"):
        r = client.get(prefix + ident)
        assert r.status_code in (200, 404), (prefix, ident)


@pytest.mark.parametrize("question", ["Does LDN work for fibromyalgia?", "metformin dose"])
def test_cli_ask_returns_the_api_answer(real_app: Flask, question: str) -> None:
    from click.testing import CliRunner

    from kb.cli import cli

    data_dir = real_app.extensions["kb"].data_dir
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), "ask", question, "--json"], obj={}
    )
    assert result.exit_code == 0, result.output
    api = real_app.test_client().get("/api/ask", query_string={"q": question}).get_json()
    assert real_app.json.loads(result.output) == api
    text = CliRunner().invoke(cli, ["--data-dir", str(data_dir), "ask", question], obj={})
    assert text.exit_code == 0 and question in text.output


def test_cli_serve_is_documented() -> None:
    from click.testing import CliRunner

    from kb.cli import cli

    result = CliRunner().invoke(cli, ["serve", "--help"], obj={})
    assert result.exit_code == 0
    for option in ("--host", "--port", "--threads"):
        assert option in result.output


# A valid value for each path parameter, so a path can be requested for its query parameters.
PATH_VALUES = {
    "article_id": ARTICLE,
    "claim_id": "seed-max-dose",
    "ref_id": "spargo2025",
    "name": "citations.txt",
}


def _get_operations(spec: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for path, item in spec["paths"].items():
        op = item.get("get")
        if op and all(p["in"] != "path" or p["name"] in PATH_VALUES for p in op["parameters"]):
            url = re.sub(r"\{(\w+)\}", lambda m: PATH_VALUES[m.group(1)], path)
            out.append((url, op))
    return out


def test_the_app_enforces_what_the_spec_lists(real_client: FlaskClient) -> None:
    """A required query parameter left out, or a value outside a listed enum, is a 400 with a
    message naming the parameter; the spec marks `q` required on search and ask."""
    spec = real_client.get("/api/openapi.json").get_json()
    required = {
        (url, p["name"])
        for url, op in _get_operations(spec)
        for p in op["parameters"]
        if p["in"] == "query" and p["required"]
    }
    assert {("/api/search", "q"), ("/api/ask", "q")} <= required
    checked = 0
    for url, op in _get_operations(spec):
        query = [p for p in op["parameters"] if p["in"] == "query"]
        base = {p["name"]: "LDN" for p in query if p["required"]}
        if url == "/api/matrix":
            base["article"] = ARTICLE
        for p in query:
            cases = []
            if p["required"]:
                cases.append({k: v for k, v in base.items() if k != p["name"]})
            if "enum" in p["schema"]:
                cases.append({**base, p["name"]: "not-a-listed-value"})
            for args in cases:
                r = real_client.get(url, query_string=args)
                assert r.status_code == 400, (url, args)
                assert p["name"] in r.get_json()["error"]["message"], (url, args)
                checked += 1
    assert checked >= 5  # q twice, audience, conflict type, citation style


def test_every_page_of_the_registry_has_its_twin_and_its_spec(
    real_client: FlaskClient, real_app: Flask
) -> None:
    from web.pages import PAGES

    spec = real_client.get("/api/openapi.json").get_json()
    rules = {rule.endpoint: rule.rule for rule in real_app.url_map.iter_rules()}
    for page in PAGES:
        assert rules[f"api.{page.name}"] == page.api_rule
        if page.template is not None:
            assert rules[f"pages.{page.name}"] == page.path
        documented = re.sub(r"<(\w+)>", r"{\1}", page.api_rule)
        assert spec["paths"][documented]["get"]["operationId"] == page.name
