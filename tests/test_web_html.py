"""The HTML pages: content a reader needs, accessibility basics, escaping and headers."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from web import create_app
from web.headers import CSP

ARTICLE = "/articles/ldn-chronic-pain"
PAGES = [
    "/",
    ARTICLE,
    f"{ARTICLE}?audience=patient",
    "/claims/seed-max-dose",
    "/references/mckenziebrown2023",
    "/search",
    "/search?q=CRPS+response",
    "/ask",
    "/ask?q=Does+LDN+work+for+fibromyalgia%3F",
    "/ask?q=metformin+dose",
    "/contested",
    "/contested?type=opposite_direction",
    "/matrix",
    "/matrix?article=ldn-chronic-pain",
    "/matrix?condition=fibromyalgia",
    "/integrity",
    "/policy",
    "/glossary",
]


@pytest.mark.parametrize("url", PAGES)
def test_page_is_accessible_html_without_scripts(real_client: FlaskClient, url: str) -> None:
    r = real_client.get(url)
    assert r.status_code == 200, r.text[:500]
    assert r.mimetype == "text/html"
    html = r.text
    assert '<html lang="en">' in html and '<a class="skip-link" href="#main">' in html
    assert '<main id="main"' in html
    assert len(re.findall(r"<h1[ >]", html)) == 1
    assert "<script" not in html and " style=" not in html and " on" + "click=" not in html
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    # Every form control has a label.
    for control_id in re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', html):
        assert f'for="{control_id}"' in html
    # Headings never skip a level going down.
    levels = [int(n) for n in re.findall(r"<h([1-6])[ >]", html)]
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, (url, levels)


@pytest.mark.parametrize("url", ["/", ARTICLE, "/api/", "/api/claims/nope", "/nope"])
def test_security_headers(real_client: FlaskClient, url: str) -> None:
    r = real_client.get(url)
    assert r.headers["Content-Security-Policy"] == CSP
    assert "default-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Referrer-Policy"]


def test_stylesheet_has_focus_and_print_styles(real_client: FlaskClient) -> None:
    with real_client.get("/static/style.css") as r:
        css = r.text
    assert ":focus-visible" in css and "@media print" in css and ".skip-link:focus" in css


def test_article_page_shows_what_the_seed_page_shows_and_more(real_client: FlaskClient) -> None:
    html = real_client.get(ARTICLE).text
    assert "Low-Dose Naltrexone Dosing for Chronic Pain" in html
    assert "Bottom line" in html
    # Sections in the article's order.
    order = [
        html.index(h)
        for h in (
            "Dosing Algorithm",
            "Patient Selection Criteria",
            "Mechanism and Positioning",
            "Safety Profile",
            "Critical Caveats",
        )
    ]
    assert order == sorted(order)
    # Citation numbers link to the numbered reference list.
    assert 'href="#ref-1"' in html and 'id="ref-1"' in html and 'id="ref-7"' in html
    # Grade badge with reasons one click away.
    assert '<details class="grade">' in html and "Evidence: Very low" in html
    # The primary-source verdict where a statement is not supported as worded.
    assert "not supported as worded" in html and 'class="caveat caveat-verdict caveat-warn' in html
    # Contradictions highlighted in place, with a panel showing both sides.
    assert 'class="statement contested' in html and '<mark class="contested-text">' in html
    assert '<details class="conflict-panel">' in html and 'class="sides"' in html
    # Review stepper and pending banner, last updated, disclaimer, editorial policy.
    for label in ("Submitted", "Under review", "Approved"):
        assert f'<span class="step-label">{label}</span>' in html
    assert 'aria-current="step"' in html and "Pending review." in html
    assert '<time datetime="2026-01-14">14 January 2026</time>' in html
    assert "Disclaimer" in html and 'href="/policy"' in html


def test_patient_view_uses_plain_text_and_glossary(real_client: FlaskClient, real_kb) -> None:
    clinician = real_client.get(ARTICLE).text
    patient = real_client.get(f"{ARTICLE}?audience=patient").text
    claim = real_kb.claims["seed-start-dose"]
    assert claim.plain_text and claim.plain_text in patient and claim.plain_text not in clinician
    assert "Words used on this page" in patient and "Words used on this page" not in clinician
    assert 'class="term" href="#term-' in patient and 'id="term-crps"' in patient
    assert 'aria-current="true" class="active">Patient or carer' in patient


def test_approved_article_has_no_pending_banner(data_dir: Path, index_dir: Path) -> None:
    path = data_dir / "articles.json"
    articles = json.loads(path.read_text("utf-8"))
    articles[0]["review_status"] = "approved"
    path.write_text(json.dumps(articles), "utf-8")
    app = create_app(
        {"TESTING": True, "KB_DATA_DIR": str(data_dir), "KB_INDEX_DIR": str(index_dir)}
    )
    html = app.test_client().get(ARTICLE).text
    assert "Pending review." not in html
    assert html.count('class="step step-done"') == 2


def test_claim_page_shows_trace_contradictions_and_related(real_client: FlaskClient) -> None:
    html = real_client.get("/claims/seed-neuropathic-64pct-response").text
    assert "64%" in html and '<details class="grade" open>' in html
    assert 'class="trace-cited" href="/references/praxis2025_regimen"' in html
    assert 'class="trace-primary-link" href="/references/mckenziebrown2023"' in html
    assert "not supported as worded" in html
    html = real_client.get("/claims/seed-fibromyalgia-rct-benefit").text
    assert "What contradicts this?" in html and 'class="this-claim"' in html
    assert "Related claims" in html and 'href="/claims/hegde2025-f2"' in html


def test_reference_page_lists_links_and_dependents(real_client: FlaskClient) -> None:
    html = real_client.get("/references/younger2009").text
    assert "Younger J, Mackey S." in html  # the formatted citation
    assert 'href="https://doi.org/10.1111/j.1526-4637.2009.00613.x"' in html
    assert 'href="https://pubmed.ncbi.nlm.nih.gov/19453963/"' in html
    assert "pilot randomised trial" in html and "<dd>10</dd>" in html
    assert 'href="/claims/younger2009-f1"' in html


def test_search_page_has_facets_snippets_and_paging(real_client: FlaskClient) -> None:
    html = real_client.get("/search?q=LDN").text
    assert 'class="facets"' in html and "kind=" in html and "grade=" in html
    assert 'class="badge grade-' in html
    assert 'aria-label="Result pages"' in html and "page=2" in html
    html2 = real_client.get("/search?q=LDN&page=2").text
    assert '<span aria-current="page">2</span>' in html2
    assert "<mark>" in real_client.get("/search?q=vivid+dreams").text


def test_search_page_offers_a_suggestion(real_client: FlaskClient) -> None:
    data = real_client.get("/api/search?q=fibromyalgai").get_json()
    html = real_client.get("/search?q=fibromyalgai").text
    if data["suggestion"]:
        assert "Did you mean" in html and data["suggestion"] in html


def test_search_facet_links_filter(real_client: FlaskClient) -> None:
    html = real_client.get("/search?q=LDN&kind=dose").text
    assert "remove" in html
    data = real_client.get("/api/search?q=LDN&kind=dose").get_json()
    assert all(
        hit.get("kind") == "dose" for hit in data["results"] if hit.get("type") != "reference"
    )


def test_ask_page_refuses_plainly(real_client: FlaskClient) -> None:
    html = real_client.get("/ask?q=sumatriptan+for+migraine").text
    assert "holds no evidence" in html and 'href="/claims/' not in html


def test_contested_page_is_grouped_and_filterable(real_client: FlaskClient) -> None:
    html = real_client.get("/contested").text
    assert 'class="topic"' in html and "type=opposite_direction" in html
    assert "condition=fibromyalgia" in html
    narrowed = real_client.get("/contested?condition=fibromyalgia").text
    assert narrowed.count('class="conflict"') < html.count('class="conflict"')


def test_matrix_page(real_client: FlaskClient) -> None:
    html = real_client.get("/matrix?article=ldn-chronic-pain").text
    assert '<table class="matrix">' in html and "[1] Dr.Oracle" in html
    assert 'class="cell cell-primary"' in html and 'class="cell cell-cites"' in html


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/claims/nope", 404),
        ("/references/nope", 404),
        ("/articles/nope", 404),
        ("/nope", 404),
        (f"{ARTICLE}?audience=robot", 400),
        ("/search?q=LDN&page=zero", 400),
        ("/search?q=LDN&page=0", 400),
        ("/contested?type=nope", 400),
        ("/matrix?article=nope", 400),
        ("/matrix?article=ldn-chronic-pain&condition=crps", 400),
    ],
)
def test_errors_render_an_error_page(real_client: FlaskClient, url: str, status: int) -> None:
    r = real_client.get(url)
    assert r.status_code == status
    assert r.mimetype == "text/html" and 'class="error-message"' in r.text


def test_claim_text_is_escaped(data_dir: Path, index_dir: Path) -> None:
    path = data_dir / "claims.json"
    claims = json.loads(path.read_text("utf-8"))
    evil = '<script>alert("x")</script> <img src=x onerror=alert(1)>'
    for rec in claims:
        if rec["id"] == "seed-max-dose":
            rec["text"] = evil + " The maximum dose is 4.5 mg."
            rec["plain_text"] = evil
    path.write_text(json.dumps(claims), "utf-8")
    client = create_app(
        {"TESTING": True, "KB_DATA_DIR": str(data_dir), "KB_INDEX_DIR": str(index_dir)}
    ).test_client()
    for url in (
        ARTICLE,
        f"{ARTICLE}?audience=patient",
        "/claims/seed-max-dose",
        "/search?q=alert+maximum+dose",
        "/matrix?article=ldn-chronic-pain",
    ):
        html = client.get(url).text
        assert "<script>" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url


def test_matrix_headers_stay_in_view_with_short_labels(real_client: FlaskClient) -> None:
    html = real_client.get("/matrix?article=ldn-chronic-pain").text
    # Short column labels; the full one stays available to screen readers and on hover.
    assert ">[1] Dr.Oracle 2025<" in html
    assert "(Dr.Oracle Medical Advisory Board &amp; Editors 2025)" in html
    with real_client.get("/static/style.css") as r:
        css = r.text
    assert ".matrix thead th { position: sticky; top: 0;" in css
    assert '.matrix th[scope="row"] { position: sticky; left: 0;' in css
