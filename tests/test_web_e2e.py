"""End to end in a real headless Chromium against `kb serve` (waitress) on a loopback port.

Needs the Debian ``chromium`` package (``.ci/install-browser``) and Playwright for Python; the
tests are skipped, saying why, when either is missing. Playwright only drives the system
browser (``executable_path``); it never downloads one. Screenshots go to
``$KB_SCREENSHOT_DIR`` or, by default, a ``screenshots/`` folder in pytest's temporary directory.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REPO = Path(__file__).resolve().parent.parent
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [pytest.mark.e2e]
if not CHROMIUM.exists():
    pytestmark.append(
        pytest.mark.skip(reason=f"{CHROMIUM} not installed (run .ci/install-browser)")
    )
try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    pytestmark.append(
        pytest.mark.skip(reason="Playwright for Python is not installed (pip install -e '.[test]')")
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(
                f"kb serve exited with {proc.returncode}: "
                f"{proc.stderr.read().decode() if proc.stderr else ''}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"kb serve did not answer {url} within {timeout} s")


@contextmanager
def _serve(root: Path, data: Path, env: dict[str, str]) -> Iterator[str]:
    """`kb serve` as a subprocess over ``data`` on a free loopback port; yields its base URL
    once it answers, and stops it afterwards."""
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kb.cli",
            "--data-dir",
            str(data),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--threads",
            "4",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=root,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/api/health", proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
        if proc.stderr:
            proc.stderr.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`kb serve` as a subprocess over a copy of the data; yields its base URL."""
    root = tmp_path_factory.mktemp("e2e")
    data = root / "data"
    shutil.copytree(REPO / "data", data, ignore=shutil.ignore_patterns("_parts"))
    env = {**os.environ, "KB_INDEX_DIR": str(root / "index")}
    with _serve(root, data, env) as base:
        yield base


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(
        os.environ.get("KB_SCREENSHOT_DIR") or tmp_path_factory.getbasetemp() / "screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def docs_shots(shots: Path) -> Path:
    """Where the README's screenshots go: ``docs/images/`` when ``KB_DOCS_SCREENSHOTS=1``
    (to refresh the committed ones), else the run's screenshot folder."""
    if os.environ.get("KB_DOCS_SCREENSHOTS") == "1":
        folder = REPO / "docs" / "images"
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return shots


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    problems: list[str] = []
    pg.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    pg.on("pageerror", lambda exc: problems.append(str(exc)))
    yield pg
    context.close()
    # No CSP violations, no script errors, no failed asset loads.
    assert problems == []


def test_search_claim_trace_to_primary_reference(page: Page, server: str, shots: Path) -> None:
    page.goto(f"{server}/")
    page.get_by_label("Search claims and references").fill("CRPS response")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/search?q=CRPS+response")
    assert "result" in page.locator("#results-title").inner_text()
    hits = page.locator(".hit h3 a[href^='/claims/']")
    assert hits.count() > 0
    page.screenshot(path=str(shots / "search-crps-response.png"), full_page=True)

    # Open claims from the results until one traces to a primary study, then follow it.
    hrefs = [hits.nth(i).get_attribute("href") for i in range(hits.count())]
    for href in hrefs:
        page.goto(f"{server}{href}")
        if page.locator("a.trace-primary-link").count():
            break
    else:  # pragma: no cover - the data always has one
        pytest.fail("no claim in the results traces to a primary study")
    claim_url = page.url
    assert page.locator("h1.claim-text").is_visible()
    assert page.locator("details.grade").count() >= 1
    page.screenshot(path=str(shots / "claim.png"), full_page=True)
    primary = page.locator("a.trace-primary-link")
    label = primary.inner_text()
    primary.click()
    page.wait_for_url("**/references/**")
    assert page.locator(".citation").is_visible()
    claim_id = claim_url.rsplit("/", 1)[1]
    assert page.locator(f"a[href='/claims/{claim_id}']").count() >= 1, label
    page.screenshot(path=str(shots / "primary-reference.png"), full_page=True)


def test_article_highlights_contradictions_and_pending_review(
    page: Page, server: str, shots: Path
) -> None:
    page.goto(f"{server}/articles/ldn-chronic-pain")
    banner = page.locator(".banner-pending")
    assert banner.is_visible() and "Pending review" in banner.inner_text()
    assert (
        page.locator(".stepper [aria-current='step']")
        .inner_text()
        .strip()
        .startswith("Under review")
    )
    contested = page.locator("li.statement.contested")
    assert contested.count() >= 1
    first = contested.first
    mark = first.locator("mark.contested-text")
    assert mark.is_visible()
    background = mark.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background not in ("rgba(0, 0, 0, 0)", "transparent")
    page.screenshot(path=str(shots / "article.png"), full_page=False)
    panel = first.locator("details.conflict-panel")
    panel.locator("summary").click()
    assert panel.locator(".sides").first.is_visible()
    assert panel.locator(".this-claim").count() >= 1
    first.scroll_into_view_if_needed()
    first.screenshot(path=str(shots / "article-contradiction-panel.png"))
    # The grade's reasons are one click (or Enter) away.
    grade = first.locator("details.grade")
    grade.locator("summary").focus()
    page.keyboard.press("Enter")
    assert grade.locator(".grade-reasons").is_visible()
    page.screenshot(path=str(shots / "article-full.png"), full_page=True)


def test_patient_view_and_print(page: Page, server: str, shots: Path) -> None:
    page.goto(f"{server}/articles/ldn-chronic-pain?audience=patient")
    assert page.locator("#glossary-title").is_visible()
    assert page.locator("a.term").count() >= 3
    page.screenshot(path=str(shots / "article-patient.png"), full_page=False)
    page.emulate_media(media="print")
    assert not page.locator(".site-header nav").is_visible()
    assert not page.locator(".follow-up form").is_visible()
    page.screenshot(path=str(shots / "article-print.png"), full_page=False)


@pytest.mark.parametrize(
    "path",
    ["/", "/contested", "/matrix?article=ldn-chronic-pain", "/policy", "/glossary", "/integrity"],
)
def test_pages_render_in_the_browser(page: Page, server: str, shots: Path, path: str) -> None:
    response = page.goto(f"{server}{path}")
    assert response is not None
    assert response.status == 200
    assert page.locator("h1").count() == 1 and page.locator("h1").is_visible()
    name = path.strip("/").split("?")[0].replace("/", "-") or "home"
    page.screenshot(path=str(shots / f"page-{name}.png"), full_page=False)


def test_keyboard_skip_link_and_no_javascript(browser: Any, server: str, shots: Path) -> None:
    context = browser.new_context(java_script_enabled=False)
    pg = context.new_page()
    try:
        pg.goto(f"{server}/ask")
        skip = pg.locator(".skip-link")
        assert skip.bounding_box()["y"] < 0  # off screen until focused
        pg.keyboard.press("Tab")
        # The first Tab shows it (poll: a CSS transition may still be running).
        deadline = time.monotonic() + 3
        while skip.bounding_box()["y"] < 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert skip.bounding_box()["y"] >= 0
        pg.keyboard.press("Enter")
        assert pg.url.endswith("#main")
        pg.get_by_label("Ask a question").fill("Does LDN work for fibromyalgia?")
        pg.keyboard.press("Enter")
        pg.wait_for_url("**/ask?q=*")
        assert pg.locator("#answer-title").is_visible()
        assert pg.locator(".conflict").count() >= 1
        pg.screenshot(path=str(shots / "ask.png"), full_page=True)
        pg.goto(f"{server}/contested?type=opposite_direction")
        assert pg.locator(".facet a[aria-current]").count() == 1
        pg.goto(f"{server}/api/claims/seed-max-dose")
        body = json.loads(pg.locator("body").inner_text())
        assert body["claim"]["id"] == "seed-max-dose"
    finally:
        context.close()


# -- evidence pictures, the matrix and the patient view (issue 14) ------------------------------
def test_evidence_map_is_labelled_and_its_marks_open_the_studies(
    page: Page, server: str, docs_shots: Path
) -> None:
    page.goto(f"{server}/articles/ldn-chronic-pain")
    page.screenshot(path=str(docs_shots / "article.png"), full_page=False)
    svg = page.locator("svg.evidence-map")
    assert svg.is_visible()
    # Labelled: aria-labelledby names its <title> and <desc>, both with words in them.
    title_id, desc_id = svg.get_attribute("aria-labelledby").split()
    assert "Evidence map" in page.locator(f"#{title_id}").text_content()
    assert "studies" in page.locator(f"#{desc_id}").text_content()
    marks = page.locator("svg.evidence-map a.mark-link")
    assert marks.count() >= 10
    assert all("participants" in (marks.nth(i).get_attribute("aria-label") or "") for i in range(3))
    page.locator("#article-map").scroll_into_view_if_needed()
    page.locator("#article-map").screenshot(path=str(docs_shots / "article-evidence-map.png"))
    # The table says the same thing.
    table = page.locator("#article-map details.picture-table")
    table.locator("summary").click()
    assert table.locator("tbody tr").count() == marks.count()
    # A mark is a link: keyboard focus and Enter open the study.
    href = marks.first.get_attribute("href")
    marks.first.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{href}")
    assert page.locator("h1").is_visible() and page.locator(".citation").is_visible()


def test_forest_plot_rows_open_their_claims(page: Page, server: str, docs_shots: Path) -> None:
    page.goto(f"{server}/articles/ldn-chronic-pain")
    plots = page.locator("svg.forest-plot")
    assert plots.count() >= 1 and plots.first.is_visible()
    title_id = plots.first.get_attribute("aria-labelledby").split()[0]
    assert page.locator(f"#{title_id}").text_content().strip()
    page.locator("#article-forest").scroll_into_view_if_needed()
    page.locator("#article-forest figure").first.screenshot(
        path=str(docs_shots / "article-forest-plot.png")
    )
    row = plots.first.locator("a").first
    href = row.get_attribute("href")
    assert href.startswith("/claims/")
    row.click()
    page.wait_for_url(f"**{href}")
    assert page.locator("h1.claim-text").is_visible()


def test_matrix_shows_every_column_at_1280_and_keeps_headers_in_view(
    page: Page, server: str, shots: Path
) -> None:
    page.goto(f"{server}/matrix?article=ldn-chronic-pain")
    wrap = page.locator(".matrix-wrap")
    scroll_width, client_width = wrap.evaluate("e => [e.scrollWidth, e.clientWidth]")
    assert scroll_width <= client_width + 1  # no reference column hidden behind a scroll
    header = page.locator(".matrix thead th").first
    wrap.evaluate("e => { e.scrollTop = 600; }")
    assert abs(header.bounding_box()["y"] - wrap.bounding_box()["y"]) < 3  # sticky
    page.screenshot(path=str(shots / "matrix-1280.png"), full_page=False)


def test_matrix_on_a_phone(browser: Any, server: str, shots: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    pg = context.new_page()
    try:
        pg.goto(f"{server}/matrix?article=ldn-chronic-pain")
        # The page itself never scrolls sideways; the grid scrolls inside its frame.
        assert pg.evaluate("document.documentElement.scrollWidth") <= 391
        wrap = pg.locator(".matrix-wrap")
        wrap.evaluate("e => { e.scrollLeft = 300; }")
        row_header = pg.locator(".matrix tbody th[scope='row']").first
        assert abs(row_header.bounding_box()["x"] - wrap.bounding_box()["x"]) < 3  # sticky
        pg.screenshot(path=str(shots / "matrix-phone.png"), full_page=False)
    finally:
        context.close()


def test_patient_view_is_written_for_patients(page: Page, server: str, docs_shots: Path) -> None:
    page.goto(f"{server}/articles/ldn-chronic-pain?audience=patient")
    main = page.locator("main")
    text = main.inner_text()
    assert "not medical advice" in page.locator(".patient-disclaimer").inner_text()
    assert "Written for health professionals" not in text
    assert "primary source" not in text.lower()
    safety = page.locator("#safety-title")
    assert safety.is_visible()
    assert safety.bounding_box()["y"] < page.locator("#bottom-line").bounding_box()["y"]
    # Nothing the checks reject is shown as plain fact.
    first = page.locator(".safety-first li.statement").first
    assert first.locator(".hedge").is_visible()
    assert page.locator(".box-help dt", has_text="Experts disagree").is_visible()
    page.screenshot(path=str(docs_shots / "article-patient.png"), full_page=False)


def test_ask_page_screenshot(page: Page, server: str, docs_shots: Path) -> None:
    page.goto(f"{server}/ask?q=Does+LDN+work+for+fibromyalgia%3F")
    assert page.locator("#answer-title").is_visible()
    page.screenshot(path=str(docs_shots / "ask.png"), full_page=False)


# -- the editorial workflow (issue 5) ----------------------------------------------------------
EDITOR_PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def editorial_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Its own `kb serve` over its own data copy (its edits must not reach the tests above),
    with an editor account made by `kb users add`."""
    root = tmp_path_factory.mktemp("e2e-editorial")
    data = root / "data"
    shutil.copytree(REPO / "data", data, ignore=shutil.ignore_patterns("_parts"))
    env = {**os.environ, "KB_INDEX_DIR": str(root / "index")}
    subprocess.run(
        [
            sys.executable,
            "-m",
            "kb.cli",
            "--data-dir",
            str(data),
            "users",
            "add",
            "eve",
            "--role",
            "editor",
            "--password-stdin",
        ],
        input=EDITOR_PASSWORD + "\n",
        text=True,
        check=True,
        env=env,
        cwd=root,
        capture_output=True,
    )
    with _serve(root, data, env) as base:
        yield base


def test_editor_flags_and_approves_then_a_reader_sees_it(
    browser: Any, page: Page, editorial_server: str, shots: Path
) -> None:
    server = editorial_server
    reason = "FINAL (2024) titrated to 6 mg, above this ceiling"
    # The editor logs in (the session cookie is Secure, HttpOnly, SameSite=Lax; Chromium
    # accepts a Secure cookie from http://127.0.0.1).
    page.goto(f"{server}/claims/seed-max-dose")
    page.get_by_role("link", name="Editor log in").click()
    page.get_by_label("Name").fill("eve")
    page.get_by_label("Password").fill(EDITOR_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/claims/seed-max-dose")
    assert "Logged in as eve (editor)" in page.locator(".banner-info").inner_text()
    cookie = next(c for c in page.context.cookies() if c["name"] == "session")
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    # ... flags a claim ...
    page.get_by_label("Reason (shown to readers wherever the claim appears)").fill(reason)
    page.get_by_role("button", name="Flag", exact=True).click()
    page.wait_for_url("**/claims/seed-max-dose#board")
    assert reason in page.locator("h1 + .board-flag").inner_text()
    page.screenshot(path=str(shots / "editorial-claim-flagged.png"), full_page=True)
    # ... and approves the article.
    page.goto(f"{server}/articles/ldn-chronic-pain")
    assert page.locator(".banner-pending").is_visible()
    page.get_by_label("Move the article to").select_option("approved")
    page.get_by_label("Why", exact=True).fill("checked against the dossier")
    page.get_by_label("Acknowledgement", exact=False).fill("conflicts explained in the text")
    page.get_by_role("button", name="Change review status").click()
    page.wait_for_url("**/articles/ldn-chronic-pain#board")
    assert page.locator(".banner-pending").count() == 0
    page.screenshot(path=str(shots / "editorial-article-approved.png"), full_page=False)
    page.goto(f"{server}/editorial")
    assert page.locator("h1").inner_text() == "Editorial dashboard"
    assert reason in page.locator("#queue-flags + ul").inner_text()
    page.screenshot(path=str(shots / "editorial-dashboard.png"), full_page=True)

    # A reader (a new browser, not logged in) sees the flag and no pending-review banner.
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    reader = context.new_page()
    try:
        reader.goto(f"{server}/articles/ldn-chronic-pain")
        assert reader.locator(".banner-pending").count() == 0
        assert (
            reader.locator(".stepper [aria-current='step']")
            .inner_text()
            .strip()
            .startswith("Approved")
        )
        notice = reader.locator("#claim-seed-max-dose .board-flag")
        assert notice.is_visible()
        assert notice.inner_text() == f"Contested — flagged by the editorial board: {reason}"
        assert reader.locator("text=Editor log in").is_visible()
        assert reader.locator("form[action^='/editorial/']").count() == 0
        reader.locator("#claim-seed-max-dose").scroll_into_view_if_needed()
        reader.screenshot(path=str(shots / "editorial-reader-article.png"), full_page=False)
        reader.goto(f"{server}/search?q=ceiling+dose")
        assert reason in reader.locator(".hit.board-flagged .board-flag").first.inner_text()
        reader.goto(f"{server}/claims/seed-max-dose/history")
        assert reader.locator(".event").count() == 1
        assert "flagged as contested" in reader.locator(".event").inner_text()
    finally:
        context.close()
