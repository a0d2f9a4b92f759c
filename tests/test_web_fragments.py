"""Kept fragments (conflict cards, evidence pictures): a repeat view reuses them, and what a
reader sees is exactly what a fresh render draws, after any edit and under any URL prefix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb import pages as kb_pages
from kb.evidence import GRADES
from web import create_app

ARTICLE = "/articles/ldn-chronic-pain"


def _card_badge(html: str, conflict_id: str, claim_id: str) -> str:
    """The grade badge next to ``claim_id`` in the full card of ``conflict_id``."""
    start = html.index(f'id="conflict-{conflict_id}"')
    card = html[start : html.index("</section>", start)]
    found = re.search(
        rf'<span class="badge grade-[\w-]+">([^<]+)</span>\s*<a href="/claims/{claim_id}">', card
    )
    assert found, f"{claim_id} is not listed in the card of {conflict_id}"
    return found.group(1)


def test_a_repeat_view_reuses_fragments_and_draws_the_same_page(
    app: Flask, client: FlaskClient
) -> None:
    fragments = app.extensions["fragments"]
    first = client.get(ARTICLE).data
    drawn = fragments.stats()
    assert drawn["misses"] > 0 and drawn["kept"] > 0  # cards and pictures were drawn
    again = client.get(ARTICLE).data
    assert again == first
    assert fragments.stats()["hits"] >= drawn["kept"]  # ... and reused, not drawn again
    # With nothing kept, every fragment is drawn afresh: the page is byte for byte the same.
    fresh = create_app({"TESTING": True, "KB": app.extensions["kb"], "FRAGMENT_BUDGET": 0})
    assert fresh.test_client().get(ARTICLE).data == first
    assert fresh.extensions["fragments"].stats() == {
        "hits": 0,
        "misses": drawn["misses"],
        "kept": 0,
        "chars": 0,
    }


def test_a_budget_that_is_not_a_number_is_refused_by_name(app: Flask, tmp_path: Path) -> None:
    config = {"TESTING": True, "KB": app.extensions["kb"], "KB_INSTANCE_DIR": str(tmp_path)}
    with pytest.raises(ValueError, match="FRAGMENT_BUDGET"):
        create_app({**config, "FRAGMENT_BUDGET": "lots"})


def test_a_verdict_shows_in_the_conflict_cards_at_once(app: Flask, client: FlaskClient) -> None:
    kb = app.extensions["kb"]
    client.get(ARTICLE)  # the cards are drawn and kept
    doc = kb_pages.article(kb, "ldn-chronic-pain")
    # The best-graded claim in a card: a verdict that it is not stated must lower it.
    cf, claim = max(
        ((cf, c["id"]) for cf in doc["conflicts"] for s in cf["sides"] for c in s["claims"]),
        key=lambda pair: kb.grade(pair[1]).level,
    )
    before = _card_badge(client.get(ARTICLE).get_data(as_text=True), cf["id"], claim)
    assert before == kb.grade(claim).grade
    app.extensions["editor"].record(
        "eve",
        "editor",
        "set_verdict",
        f"claim:{claim}",
        after={"verdict": "not_stated", "note": "checked against the primary source"},
    )
    after_grade = kb.grade(claim).grade
    assert after_grade != before and after_grade in GRADES.values()
    assert _card_badge(client.get(ARTICLE).get_data(as_text=True), cf["id"], claim) == after_grade


def test_kept_cards_link_under_the_prefix_the_site_is_served_at(client: FlaskClient) -> None:
    plain = client.get(ARTICLE).get_data(as_text=True)
    assert 'href="/claims/' in plain
    prefixed = client.get(ARTICLE, base_url="http://localhost/kb").get_data(as_text=True)
    cards = re.findall(r'<section class="conflict".*?</section>', prefixed, flags=re.S)
    assert cards, "the article shows conflict cards"
    links = [h for card in cards for h in re.findall(r'href="([^"#]+)"', card)]
    assert links and all(h.startswith("/kb/") for h in links)
    emap = prefixed[prefixed.index('id="article-map"') :]
    assert 'href="/kb/references/' in emap and 'href="/references/' not in emap
