"""The editorial workflow over HTTP: login, CSRF, roles, stale edits, escaping, and what
readers see after the board decides (Flask test client; CSRF protection on throughout)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jsonschema import Draft202012Validator

from kb.editorial import Editor

from helpers.web_client import PASSWORD, assert_accessible, csrf, login, rendered_docs, statements

ARTICLE = "ldn-chronic-pain"
CLAIM = "seed-max-dose"  # in the article; in exactly one computed conflict
CONFLICT = "cf-a3afa3cc53"  # that conflict (incompatible values)
EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


# -- helpers -----------------------------------------------------------------------------------
def api(client: FlaskClient, token: str, path: str, **body: Any) -> Any:
    return client.post(f"/api/editorial/{path}", json=body, headers={"X-CSRFToken": token})


def form(client: FlaskClient, token: str, path: str, **fields: Any) -> Any:
    return client.post(f"/editorial/{path}", data={"csrf_token": token, **fields})


def board_version(client: FlaskClient, kind: str, target: str) -> int:
    return client.get(f"/api/{kind}/{target}").get_json()["board"]["version"]


def spec_validator(client: FlaskClient, schema: str) -> Draft202012Validator:
    spec = client.get("/api/openapi.json").get_json()
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{schema}", "components": spec["components"]}
    )


# -- authentication, CSRF, roles ---------------------------------------------------------------
def test_a_write_without_login_is_refused(editorial_client: FlaskClient) -> None:
    token = csrf(editorial_client)  # an anonymous session may hold a token; it is not a login
    r = api(editorial_client, token, f"claims/{CLAIM}/flag", reason="r", base_version=0)
    assert r.status_code == 401 and r.get_json()["error"]["status"] == 401
    editorial_client.get(f"/claims/{CLAIM}")
    r = form(editorial_client, token, f"claims/{CLAIM}/flag", reason="r", base_version=0)
    assert r.status_code == 302 and r.headers["Location"].startswith("/login?next=")
    assert editorial_client.get("/api/editorial").status_code == 401
    r = editorial_client.get("/editorial")
    assert r.status_code == 302 and r.headers["Location"] == "/login?next=/editorial"
    assert editorial_client.get(f"/api/claims/{CLAIM}").get_json()["board"]["flags"] == []


def test_a_write_without_csrf_token_is_400(editorial_client: FlaskClient) -> None:
    login(editorial_client, "eve")
    r = editorial_client.post(
        f"/api/editorial/claims/{CLAIM}/flag", json={"reason": "r", "base_version": 0}
    )
    assert r.status_code == 400 and "CSRF" in r.get_json()["error"]["message"]
    r = editorial_client.post(
        f"/api/editorial/claims/{CLAIM}/flag",
        json={"reason": "r", "base_version": 0},
        headers={"X-CSRFToken": "forged"},
    )
    assert r.status_code == 400
    r = editorial_client.post(
        f"/editorial/claims/{CLAIM}/flag", data={"reason": "r", "base_version": "0"}
    )
    assert r.status_code == 400 and r.mimetype == "text/html" and "CSRF" in r.text
    r = editorial_client.post("/logout")
    assert r.status_code == 400
    fresh = editorial_client.application.test_client()
    r = fresh.post("/login", data={"name": "eve", "password": PASSWORD})
    assert r.status_code == 400
    assert editorial_client.get(f"/api/claims/{CLAIM}").get_json()["board"]["flags"] == []


def test_a_reviewer_may_flag_but_not_decide(editorial_client: FlaskClient) -> None:
    token = login(editorial_client, "rita")
    r = api(editorial_client, token, f"claims/{CLAIM}/flag", reason="6 mg in FINAL", base_version=0)
    assert r.status_code == 201
    r = api(
        editorial_client,
        token,
        f"articles/{ARTICLE}/set-status",
        status="approved",
        acknowledge="known conflicts",
        base_version=0,
    )
    assert r.status_code == 403 and "editor role" in r.get_json()["error"]["message"]
    r = form(
        editorial_client, token, f"claims/{CLAIM}/set-verdict", verdict="supported", base_version=1
    )
    assert r.status_code == 403 and r.mimetype == "text/html"
    r = api(editorial_client, token, f"conflicts/{CONFLICT}/dismiss", base_version=0)
    assert r.status_code == 403
    assert editorial_client.get(f"/api/articles/{ARTICLE}").get_json()["review"]["pending"]
    # The dashboard is for reviewers and above; a reviewer sees no editor controls.
    html = editorial_client.get("/editorial").text
    assert "Flagged claims" in html and "6 mg in FINAL" in html
    assert "Mark resolved" not in html and "Move to Approved" not in html


def test_a_stale_edit_is_409_with_the_current_state(editorial_client: FlaskClient) -> None:
    token = login(editorial_client, "eve")
    r = api(
        editorial_client,
        token,
        f"articles/{ARTICLE}/set-status",
        status="approved",
        reason="checked",
        acknowledge="known conflicts",
        base_version=0,
    )
    assert r.status_code == 201
    body = r.get_json()
    spec_validator(editorial_client, "EditResult").validate(body)
    assert body["current"] == {
        "target": f"article:{ARTICLE}",
        "version": 1,
        "review_status": "approved",
    }
    # A second editor's form was based on version 0: refused, with what it looks like now.
    r = api(
        editorial_client,
        token,
        f"articles/{ARTICLE}/set-status",
        status="under_review",
        base_version=0,
    )
    assert r.status_code == 409
    body = r.get_json()
    spec_validator(editorial_client, "StaleEdit").validate(body)
    assert body["current"]["review_status"] == "approved" and body["current"]["version"] == 1
    r = form(
        editorial_client,
        token,
        f"articles/{ARTICLE}/set-status",
        status="under_review",
        base_version=0,
    )
    assert r.status_code == 409 and "What it looks like now" in r.text and "approved" in r.text
    # A missing base_version is a bad request, not a blind overwrite.
    r = api(editorial_client, token, f"articles/{ARTICLE}/set-status", status="under_review")
    assert r.status_code == 400 and "base_version" in r.get_json()["error"]["message"]


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        (f"claims/{CLAIM}/flag", {"base_version": 0}, 400),  # no reason
        (f"claims/{CLAIM}/comment", {"base_version": 0, "text": " "}, 400),
        (f"claims/{CLAIM}/set-verdict", {"base_version": 0, "verdict": "maybe"}, 400),
        (f"articles/{ARTICLE}/set-status", {"base_version": 0, "status": "submitted"}, 200),
        (f"articles/{ARTICLE}/set-status", {"base_version": 0, "status": "published"}, 400),
        (f"claims/{CLAIM}/base_version", {"base_version": 0}, 404),  # unknown action
        ("claims/nope/flag", {"base_version": 0, "reason": "r"}, 404),
        ("conflicts/cf-nope/dismiss", {"base_version": 0}, 404),
        (f"claims/{CLAIM}/flag", {"base_version": "x", "reason": "r"}, 400),
    ],
)
def test_bad_edits_are_refused(
    editorial_client: FlaskClient, path: str, body: dict[str, Any], status: int
) -> None:
    token = login(editorial_client, "eve")
    r = api(editorial_client, token, path, **body)
    expected = 201 if status == 200 else status
    assert r.status_code == expected, r.get_json()


def test_an_article_moves_one_step_at_a_time(editorial_client: FlaskClient) -> None:
    token = login(editorial_client, "eve")
    r = api(
        editorial_client,
        token,
        f"articles/{ARTICLE}/set-status",
        status="submitted",
        base_version=0,
    )
    assert r.status_code == 201
    r = api(
        editorial_client,
        token,
        f"articles/{ARTICLE}/set-status",
        status="approved",
        acknowledge="known conflicts",
        base_version=1,
    )
    assert r.status_code == 400 and "one step at a time" in r.get_json()["error"]["message"]


# -- what readers see -------------------------------------------------------------------------
def test_an_approved_article_loses_the_pending_banner(editorial_client: FlaskClient) -> None:
    assert "Pending review." in editorial_client.get(f"/articles/{ARTICLE}").text
    token = login(editorial_client, "eve")
    version = board_version(editorial_client, "articles", ARTICLE)
    r = form(
        editorial_client,
        token,
        f"articles/{ARTICLE}/set-status",
        status="approved",
        reason="checked against the dossier",
        acknowledge="the conflicts are explained in the text",
        base_version=version,
    )
    assert r.status_code == 302 and r.headers["Location"] == f"/articles/{ARTICLE}#board"
    editorial_client.post("/logout", data={"csrf_token": token})
    reader = editorial_client.application.test_client()
    html = reader.get(f"/articles/{ARTICLE}").text
    assert "Pending review." not in html and html.count('class="step step-done"') == 2
    doc = reader.get(f"/api/articles/{ARTICLE}").get_json()
    assert doc["review"] == {**doc["review"], "status": "approved", "pending": False}
    assert reader.get("/api/").get_json()["articles"][0]["review_status"] == "approved"
    history = reader.get(f"/api/articles/{ARTICLE}/history").get_json()
    open_then = len(history["events"][0]["after"]["at_approval"]["active_conflicts"])
    assert open_then > 0
    assert history["events"][0]["change"] == (
        f"review status: Under review → Approved; approved over {open_then} active conflicts; "
        "acknowledged: the conflicts are explained in the text"
    )
    assert history["events"][0]["reason"] == "checked against the dossier"


def test_a_flagged_claim_is_marked_wherever_it_appears(editorial_client: FlaskClient) -> None:
    token = login(editorial_client, "rita")
    reason = "the FINAL trial used 6 mg"
    r = form(editorial_client, token, f"claims/{CLAIM}/flag", reason=reason, base_version=0)
    assert r.status_code == 302 and r.headers["Location"] == f"/claims/{CLAIM}#board"
    reader = editorial_client.application.test_client()
    notice = f'Contested — flagged by the editorial board:</strong> <span class="board-flag-reason">{reason}'
    pages = {
        "article": f"/articles/{ARTICLE}",
        "claim": f"/claims/{CLAIM}",
        "search": "/search?q=ceiling+dose",
        "ask": "/ask?q=What+is+the+maximum+dose+of+LDN%3F",
    }
    for where, url in pages.items():
        html = reader.get(url).text
        assert notice in html, where
    claim = reader.get(f"/api/claims/{CLAIM}").get_json()["claim"]
    assert claim["editorial"]["contested_by_board"] is True
    assert [(f["reason"], f["by"]) for f in claim["editorial"]["flags"]] == [(reason, "rita")]
    hits = reader.get("/api/search?q=ceiling+dose").get_json()["results"]
    hit = next(h for h in hits if h["id"] == CLAIM)
    assert (
        hit["editorial"]["contested_by_board"] and hit["editorial"]["flags"][0]["reason"] == reason
    )
    answer = reader.get("/api/ask?q=What+is+the+maximum+dose+of+LDN%3F").get_json()
    shown = [c for s in answer["sections"] for c in s["claims"]] + (
        answer["bottom_line"] or {}
    ).get("claims", [])
    assert any(c["id"] == CLAIM and c["editorial"]["contested_by_board"] for c in shown)
    article = reader.get(f"/api/articles/{ARTICLE}").get_json()
    assert article["counts"]["flagged_by_board"] == 1
    others = [s for s in statements(article) if s["id"] != CLAIM]
    assert not any(s["editorial"]["contested_by_board"] for s in others)
    # Resolving the flag removes the notice everywhere.
    eve = editorial_client.application.test_client()
    token = login(eve, "eve")
    board = eve.get(f"/api/claims/{CLAIM}").get_json()["board"]
    r = api(
        eve,
        token,
        f"claims/{CLAIM}/resolve-flag",
        flag=board["flags"][0]["id"],
        reason="the 4.5 mg ceiling is the article's own",
        base_version=board["version"],
    )
    assert r.status_code == 201
    assert "flagged by the editorial board" not in reader.get(f"/articles/{ARTICLE}").text
    assert not reader.get(f"/api/claims/{CLAIM}").get_json()["claim"]["editorial"]["flags"]


def test_a_script_tag_in_a_comment_is_shown_as_text(editorial_client: FlaskClient) -> None:
    token = login(editorial_client, "rita")
    r = form(editorial_client, token, f"claims/{CLAIM}/comment", text=EVIL, base_version=0)
    assert r.status_code == 302
    r = form(editorial_client, token, f"claims/{CLAIM}/flag", reason=EVIL, base_version=1)
    assert r.status_code == 302
    for url in (
        f"/claims/{CLAIM}",
        f"/claims/{CLAIM}/history",
        f"/articles/{ARTICLE}/history",
        f"/articles/{ARTICLE}",
        "/editorial",
        "/search?q=ceiling+dose",
    ):
        html = editorial_client.get(url).text
        assert "<script" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;alert(" in html, url
    assert (
        editorial_client.get(f"/api/claims/{CLAIM}").get_json()["board"]["comments"][0]["text"]
        == EVIL
    )


def test_a_dismissed_conflict_is_no_longer_highlighted_but_stays_in_history(
    editorial_client: FlaskClient,
) -> None:
    before = editorial_client.get(f"/api/articles/{ARTICLE}").get_json()
    assert CONFLICT in {c["id"] for c in before["conflicts"]}
    assert 'id="claim-seed-max-dose"' in editorial_client.get(f"/articles/{ARTICLE}").text
    token = login(editorial_client, "eve")
    r = form(
        editorial_client,
        token,
        f"conflicts/{CONFLICT}/dismiss",
        reason="a maximum is not a dose level",
        base_version=0,
        next=f"/claims/{CLAIM}",
    )
    assert r.status_code == 302 and r.headers["Location"] == f"/claims/{CLAIM}"
    reader = editorial_client.application.test_client()
    doc = reader.get(f"/api/articles/{ARTICLE}").get_json()
    assert CONFLICT not in {c["id"] for c in doc["conflicts"]}
    st = next(s for s in statements(doc) if s["id"] == CLAIM)
    assert st["contested"] is False and st["conflicts"] == []
    assert doc["counts"]["contested"] < before["counts"]["contested"]
    html = reader.get(f"/articles/{ARTICLE}").text
    item = re.search(r'<li class="statement[^"]*" id="claim-seed-max-dose">', html)
    assert item and "contested" not in item.group(0)
    assert f'id="conflict-{CONFLICT}"' not in html
    assert CONFLICT not in {
        c["id"] for g in reader.get("/api/conflicts").get_json()["groups"] for c in g["conflicts"]
    }
    assert reader.get(f"/api/claims/{CLAIM}").get_json()["contradicted_by"] == []
    # ... but the decision stays in the history of the claim and of the article.
    for url in (f"/api/claims/{CLAIM}/history", f"/api/articles/{ARTICLE}/history"):
        events = reader.get(url).get_json()["events"]
        assert [(e["action"], e["target"], e["actor"], e["reason"]) for e in events] == [
            ("dismiss_conflict", f"conflict:{CONFLICT}", "eve", "a maximum is not a dose level")
        ]
        assert events[0]["change"] == "conflict: active → dismissed"
    assert "a maximum is not a dose level" in reader.get(f"/claims/{CLAIM}/history").text
    board = reader.get(f"/api/claims/{CLAIM}").get_json()["board"]
    assert [c["id"] for c in board["dismissed_conflicts"]] == [CONFLICT]
    # Restoring it highlights it again.
    r = api(editorial_client, token, f"conflicts/{CONFLICT}/restore", base_version=1)
    assert r.status_code == 201
    assert CONFLICT in reader.get(f"/api/claims/{CLAIM}").get_json()["claim"]["conflicts"]


def test_a_hand_added_conflict_is_highlighted(
    editorial_app: Flask, editorial_client: FlaskClient
) -> None:
    kb = editorial_app.extensions["kb"]
    calm = [c for c in kb.article(ARTICLE).claim_ids() if not kb.conflicts_by_claim.get(c)]
    a, b = calm[0], calm[1]
    token = login(editorial_client, "eve")
    editorial_client.get(f"/claims/{a}")
    r = editorial_client.post(
        "/editorial/conflicts",
        data={
            "csrf_token": token,
            "type": "opposite_direction",
            "explanation": "These disagree.",
            "label_a": "First",
            "claims_a": a,
            "label_b": "Second",
            "claims_b": f" {b}, ",
            "reason": "read both sources",
        },
    )
    assert r.status_code == 302 and r.headers["Location"] == f"/claims/{a}#contra-title"
    reader = editorial_app.test_client()
    doc = reader.get(f"/api/articles/{ARTICLE}").get_json()
    added = [c for c in doc["conflicts"] if c["source"] == "editor"]
    assert len(added) == 1 and added[0]["id"].startswith("cf-ed-")
    assert [s["label"] for s in added[0]["sides"]] == ["First", "Second"]
    for cid in (a, b):
        st = next(s for s in statements(doc) if s["id"] == cid)
        assert st["contested"] and st["conflicts"] == [added[0]["id"]]
    html = reader.get(f"/articles/{ARTICLE}").text
    assert re.search(rf'<li class="statement contested[^"]*" id="claim-{a}">', html)
    assert "added by the editorial board" in html
    assert added[0]["id"] in {
        c["id"] for g in reader.get("/api/conflicts").get_json()["groups"] for c in g["conflicts"]
    }
    assert reader.get(f"/api/claims/{b}").get_json()["contradicted_by"][0]["id"] == added[0]["id"]
    # The same conflict twice is a stale edit; a bad one is a 400.
    r = api(
        editorial_client,
        token,
        "conflicts",
        type="opposite_direction",
        explanation="x",
        sides=[{"claims": [b]}, {"claims": [a]}],
    )
    assert r.status_code == 409
    r = api(
        editorial_client,
        token,
        "conflicts",
        type="nope",
        explanation="x",
        sides=[{"claims": [a]}, {"claims": [b]}],
    )
    assert r.status_code == 400
    rita = editorial_app.test_client()
    r = api(
        rita,
        login(rita, "rita"),
        "conflicts",
        type="opposite_direction",
        explanation="x",
        sides=[{"claims": [a]}, {"claims": [calm[2]]}],
    )
    assert r.status_code == 403


def test_edits_by_another_process_are_seen_on_the_next_request(
    editorial_app: Flask, editorial_client: FlaskClient, data_dir: Path, instance_dir: Path
) -> None:
    from kb import KnowledgeBase

    other = Editor.open(KnowledgeBase.load(data_dir), instance_dir)
    other.record("cli", "editor", "flag", f"claim:{CLAIM}", reason="from elsewhere")
    claim = editorial_client.get(f"/api/claims/{CLAIM}").get_json()["claim"]
    assert claim["editorial"]["flags"][0]["reason"] == "from elsewhere"


# -- login -------------------------------------------------------------------------------------
def test_login_throttling_gives_429(editorial_client: FlaskClient) -> None:
    token = csrf(editorial_client)
    for _ in range(5):
        r = editorial_client.post(
            "/login", data={"csrf_token": token, "name": "eve", "password": "wrong password"}
        )
        assert r.status_code == 401 and "do not match" in r.text
    r = editorial_client.post(
        "/login", data={"csrf_token": token, "name": "eve", "password": PASSWORD}
    )
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert "too many failed logins" in r.text
    r = editorial_client.post(
        "/api/login", json={"name": "eve", "password": PASSWORD}, headers={"X-CSRFToken": token}
    )
    assert r.status_code == 429 and r.get_json()["error"]["status"] == 429
    # Another account from the same address is not locked out by eve's failures.
    r = editorial_client.post(
        "/api/login", json={"name": "rita", "password": PASSWORD}, headers={"X-CSRFToken": token}
    )
    assert r.status_code == 200


def test_login_logout_and_session_cookie_flags(editorial_client: FlaskClient) -> None:
    r = editorial_client.get("/login?next=/claims/seed-max-dose")
    assert r.status_code == 200 and 'name="csrf_token"' in r.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
    r = editorial_client.post(
        "/login",
        data={
            "csrf_token": token,
            "name": "eve",
            "password": PASSWORD,
            "next": "/claims/seed-max-dose",
        },
    )
    assert r.status_code == 302 and r.headers["Location"] == "/claims/seed-max-dose"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert editorial_client.get("/api/csrf").get_json()["user"] == {"name": "eve", "role": "editor"}
    html = editorial_client.get("/claims/seed-max-dose").text
    assert "Log out" in html and "Set the verdict" in html and "Flag as contested" in html
    token = csrf(editorial_client)
    r = editorial_client.post("/logout", data={"csrf_token": token})
    assert r.status_code == 302
    assert editorial_client.get("/api/csrf").get_json()["user"] is None
    assert "Flag as contested" not in editorial_client.get("/claims/seed-max-dose").text


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_login_never_redirects_off_site(editorial_client: FlaskClient, target: str) -> None:
    token = csrf(editorial_client)
    r = editorial_client.post(
        "/login", data={"csrf_token": token, "name": "eve", "password": PASSWORD, "next": target}
    )
    assert r.status_code == 302 and r.headers["Location"] == "/"


def test_a_removed_account_is_logged_out(
    editorial_app: Flask, editorial_client: FlaskClient
) -> None:
    token = login(editorial_client, "rita")
    editorial_app.extensions["accounts"].remove("rita")
    r = api(editorial_client, token, f"claims/{CLAIM}/flag", reason="r", base_version=0)
    assert r.status_code == 401


# -- pages and their twins ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("page", "twin"),
    [
        (f"/claims/{CLAIM}/history", f"/api/claims/{CLAIM}/history"),
        (f"/articles/{ARTICLE}/history", f"/api/articles/{ARTICLE}/history"),
        ("/editorial", "/api/editorial"),
        (f"/claims/{CLAIM}", f"/api/claims/{CLAIM}"),
        (f"/articles/{ARTICLE}", f"/api/articles/{ARTICLE}"),
    ],
)
def test_editorial_pages_agree_with_their_twins_and_are_accessible(
    editorial_app: Flask, editorial_client: FlaskClient, page: str, twin: str
) -> None:
    token = login(editorial_client, "eve")
    api(editorial_client, token, f"claims/{CLAIM}/flag", reason="check the ceiling", base_version=0)
    api(editorial_client, token, f"claims/{CLAIM}/comment", text="a comment", base_version=1)
    api(editorial_client, token, f"conflicts/{CONFLICT}/dismiss", reason="r", base_version=0)
    data = editorial_client.get(twin).get_json()
    with rendered_docs(editorial_app) as docs:
        r = editorial_client.get(page)
    assert r.status_code == 200
    assert editorial_app.json.loads(editorial_app.json.dumps(docs[0])) == data
    assert_accessible(r.text)


@pytest.mark.parametrize(
    ("path", "schema"),
    [
        (f"/api/claims/{CLAIM}/history", "History"),
        (f"/api/articles/{ARTICLE}/history", "History"),
        ("/api/editorial", "Dashboard"),
        (f"/api/claims/{CLAIM}", "ClaimPage"),
        (f"/api/articles/{ARTICLE}", "Article"),
        ("/api/csrf", "Csrf"),
    ],
)
def test_editorial_responses_match_openapi(
    editorial_client: FlaskClient, path: str, schema: str
) -> None:
    token = login(editorial_client, "eve")
    api(editorial_client, token, f"claims/{CLAIM}/flag", reason="r", base_version=0)
    api(editorial_client, token, f"conflicts/{CONFLICT}/dismiss", reason="r", base_version=0)
    api(
        editorial_client,
        token,
        f"articles/{ARTICLE}/set-status",
        status="approved",
        acknowledge="known conflicts",
        base_version=0,
    )
    spec_validator(editorial_client, schema).validate(editorial_client.get(path).get_json())


def test_login_page_is_accessible(editorial_client: FlaskClient) -> None:
    html = editorial_client.get("/login").text
    assert len(re.findall(r"<h1[ >]", html)) == 1
    for control_id in re.findall(r'<input[^>]* id="([^"]+)"', html):
        assert f'for="{control_id}"' in html
    assert 'autocomplete="current-password"' in html


def test_a_busy_journal_is_503_with_retry_after(
    editorial_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb import dashboard
    from kb.errors import EditorialBusy

    def busy(*args: Any, **kwargs: Any) -> Any:
        raise EditorialBusy("the editorial journal is busy; try again")

    token = login(editorial_client, "eve")
    monkeypatch.setattr(dashboard, "submit", busy)
    r = api(editorial_client, token, f"claims/{CLAIM}/flag", reason="r", base_version=0)
    assert r.status_code == 503 and r.headers["Retry-After"] == "1"
    assert r.get_json()["error"]["message"] == "the editorial journal is busy; try again"


# -- approval safeguards -----------------------------------------------------------------------
def test_approving_over_open_conflicts_needs_an_acknowledgement(
    editorial_client: FlaskClient,
) -> None:
    token = login(editorial_client, "eve")
    r = api(
        editorial_client, token, f"articles/{ARTICLE}/set-status", status="approved", base_version=0
    )
    message = r.get_json()["error"]["message"]
    assert r.status_code == 400 and "active conflicts" in message and "acknowledge" in message
    assert editorial_client.get(f"/api/articles/{ARTICLE}").get_json()["review"]["pending"]
    html = editorial_client.get(f"/articles/{ARTICLE}").text
    assert "Approving anyway needs an acknowledgement" in html
    r = api(
        editorial_client,
        token,
        f"articles/{ARTICLE}/set-status",
        status="approved",
        reason="read it twice",
        acknowledge="the conflicts are between studies, and the text says so",
        base_version=0,
    )
    assert r.status_code == 201
    event = r.get_json()["event"]
    assert (
        event["after"]["acknowledge"] == "the conflicts are between studies, and the text says so"
    )
    assert event["after"]["at_approval"]["active_conflicts"]  # what was open is kept
    change = editorial_client.get(f"/api/articles/{ARTICLE}/history").get_json()["events"][0]
    assert "acknowledged: the conflicts are between studies" in change["change"]
    assert (
        "acknowledged: the conflicts are between studies"
        in editorial_client.get(f"/articles/{ARTICLE}/history").text
    )


def test_a_flag_after_approval_marks_the_article_changed(editorial_client: FlaskClient) -> None:
    token = login(editorial_client, "eve")
    r = api(
        editorial_client,
        token,
        f"articles/{ARTICLE}/set-status",
        status="approved",
        acknowledge="known conflicts",
        base_version=0,
    )
    assert r.status_code == 201
    reader = editorial_client.application.test_client()
    review = reader.get(f"/api/articles/{ARTICLE}").get_json()["review"]
    assert review["approval"]["changed"] is False
    assert "Changed since approval" not in reader.get(f"/articles/{ARTICLE}").text
    # A reviewer flags one of its claims, an editor changes a verdict: both are listed.
    rita = editorial_client.application.test_client()
    assert api(rita, login(rita, "rita"), f"claims/{CLAIM}/flag", reason="6 mg in FINAL",
               base_version=0).status_code == 201  # fmt: skip
    assert api(editorial_client, token, f"claims/{CLAIM}/set-verdict", verdict="not_stated",
               base_version=1).status_code == 201  # fmt: skip
    review = reader.get(f"/api/articles/{ARTICLE}").get_json()["review"]
    assert review["status"] == "approved" and review["approval"]["changed"] is True
    assert [(c["action"], c["actor"]) for c in review["approval"]["changes"]] == [
        ("flag", "rita"),
        ("set_verdict", "eve"),
    ]
    html = reader.get(f"/articles/{ARTICLE}").text
    assert "Changed since approval." in html and "6 mg in FINAL" in html
    assert "changed since approval" in editorial_client.get("/editorial").text
    # The board approves it again (a step allowed only when it changed): the banner goes.
    board = editorial_client.get(f"/api/articles/{ARTICLE}").get_json()["board"]
    assert {"status": "approved", "label": "Approved", "direction": "again"} in board["moves"]
    r = api(
        editorial_client,
        token,
        f"articles/{ARTICLE}/set-status",
        status="approved",
        acknowledge="flag kept open on purpose",
        base_version=board["version"],
    )
    assert r.status_code == 201
    assert (
        reader.get(f"/api/articles/{ARTICLE}").get_json()["review"]["approval"]["changed"] is False
    )
    assert "Changed since approval" not in reader.get(f"/articles/{ARTICLE}").text


# -- retraction and expression of concern -----------------------------------------------------
REF = "rassimariani2024"  # its claims include seed-systematic-review-2024-no-effect (article)
REF_CLAIM = "seed-systematic-review-2024-no-effect"


def test_a_retracted_reference_marks_and_downgrades_every_dependent_claim(
    editorial_client: FlaskClient,
) -> None:
    reader = editorial_client.application.test_client()
    dependents = [c["id"] for c in reader.get(f"/api/references/{REF}").get_json()["claims"]]
    assert REF_CLAIM in dependents
    before = {c: reader.get(f"/api/claims/{c}").get_json()["claim"]["evidence"] for c in dependents}
    assert any(g["grade"] != "Very low" for g in before.values())
    # A reviewer may not mark a reference; an editor may.
    rita = editorial_client.application.test_client()
    r = api(rita, login(rita, "rita"), f"references/{REF}/mark", status="retracted",
            reason="r", base_version=0)  # fmt: skip
    assert r.status_code == 403
    token = login(editorial_client, "eve")
    r = api(editorial_client, token, f"references/{REF}/mark", status="withdrawn", reason="r",
            base_version=0)  # fmt: skip
    assert r.status_code == 400
    r = api(editorial_client, token, f"references/{REF}/mark", status="retracted",
            base_version=0)  # fmt: skip
    assert r.status_code == 400 and "reason" in r.get_json()["error"]["message"]
    reason = "hypothetical retraction, for this test only"
    r = form(
        editorial_client,
        token,
        f"references/{REF}/mark",
        status="retracted",
        reason=reason,
        notice="https://example.org/notice",
        base_version=0,
    )
    assert r.status_code == 302 and r.headers["Location"] == f"/references/{REF}"
    # Every dependent claim carries the mark and is graded Very low, with the reason.
    for cid in dependents:
        claim = reader.get(f"/api/claims/{cid}").get_json()["claim"]
        (mark,) = claim["editorial"]["reference_marks"]
        assert (mark["ref"], mark["status"], mark["reason"]) == (REF, "retracted", reason)
        assert mark["notice"] == "https://example.org/notice"
        # (a study-conduct statement stays "Not graded": it was never evidence)
        assert claim["evidence"]["grade"] in ("Very low", "Not graded")
        assert any("retracted" in why for why in claim["evidence"]["reasons"])
    # The reference page, the article (banner), the claim page and search results show it.
    assert "Retracted." in reader.get(f"/references/{REF}").text
    html = reader.get(f"/articles/{ARTICLE}").text
    assert 'class="banner banner-error reference-mark"' in html and reason in html
    review = reader.get(f"/api/articles/{ARTICLE}").get_json()["review"]
    assert REF_CLAIM in review["reference_marks"][0]["claims"]
    assert "Retracted:</strong> this statement rests on" in reader.get(f"/claims/{REF_CLAIM}").text
    hits = reader.get("/api/search?q=systematic+review").get_json()["results"]
    hit = next(h for h in hits if h["id"] in dependents)
    assert hit["editorial"]["reference_marks"][0]["status"] == "retracted"
    assert "Retracted:</strong>" in reader.get("/search?q=systematic+review").text
    question = "What dose of low-dose naltrexone is used for fibromyalgia?"
    answer = reader.get("/api/ask", query_string={"q": question}).get_json()
    shown = [c for s in answer["sections"] for c in s["claims"]] + (
        answer["bottom_line"] or {}
    ).get("claims", [])
    marked = [c for c in shown if c["id"] in dependents]
    assert marked and all(c["editorial"]["reference_marks"] for c in marked)
    assert "Retracted:</strong>" in reader.get("/ask", query_string={"q": question}).text
    history = reader.get(f"/api/claims/{REF_CLAIM}/history").get_json()["events"]
    assert history[0]["action"] == "mark_reference" and history[0]["reason"] == reason
    # Undo is another event: the mark goes, the grades come back, the history keeps both.
    r = api(editorial_client, token, f"references/{REF}/clear", reason="mistaken", base_version=1)
    assert r.status_code == 201
    for cid in dependents:
        claim = reader.get(f"/api/claims/{cid}").get_json()["claim"]
        assert claim["editorial"]["reference_marks"] == []
        assert claim["evidence"] == before[cid]
    assert "reference-mark" not in reader.get(f"/articles/{ARTICLE}").text
    actions = [
        e["action"] for e in reader.get(f"/api/claims/{REF_CLAIM}/history").get_json()["events"]
    ]
    assert actions == ["clear_reference", "mark_reference"]


def test_an_expression_of_concern_lowers_by_one_level(editorial_client: FlaskClient) -> None:
    reader = editorial_client.application.test_client()
    levels = ["Very low", "Low", "Moderate", "High"]
    before = reader.get(f"/api/claims/{REF_CLAIM}").get_json()["claim"]["evidence"]["grade"]
    token = login(editorial_client, "eve")
    r = api(editorial_client, token, f"references/{REF}/mark", status="concern",
            reason="hypothetical concern, for this test only", base_version=0)  # fmt: skip
    assert r.status_code == 201
    claim = reader.get(f"/api/claims/{REF_CLAIM}").get_json()["claim"]
    assert claim["editorial"]["reference_marks"][0]["status_label"] == "Expression of concern"
    assert claim["evidence"]["grade"] == levels[max(levels.index(before) - 1, 0)]


# -- picking claims for a conflict ---------------------------------------------------------------
def test_an_editor_picks_the_claims_of_a_new_conflict_by_searching(
    editorial_app: Flask, editorial_client: FlaskClient
) -> None:
    import html as html_lib

    login(editorial_client, "eve")
    # Step one is a GET form on the claim page, with the claim already on side A.
    page = editorial_client.get(f"/claims/{CLAIM}").text
    assert 'action="/editorial/conflicts/new" method="get"' in page
    r = editorial_client.get(f"/editorial/conflicts/new?a={CLAIM}&q=vivid+dreams")
    assert r.status_code == 200
    assert_accessible(r.text)
    links = [html_lib.unescape(u) for u in re.findall(r'href="([^"]+)">Add to side B', r.text)]
    assert links, "search results offer to add each claim to a side"
    # Following a link (no script) adds the claim to side B; the conflict can then be described.
    r = editorial_client.get(links[0])
    picked_b = re.search(r'name="pick_b" value="([^"]+)"', r.text).group(1)
    assert picked_b != CLAIM and 'name="pick_a" value="seed-max-dose"' in r.text
    assert "Describe the conflict" in r.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)
    r = editorial_client.post(
        "/editorial/conflicts",
        data={
            "csrf_token": token,
            "type": "opposite_direction",
            "explanation": "Picked, not typed.",
            "pick_a": CLAIM,
            "pick_b": picked_b,
            "label_a": "A",
            "label_b": "B",
        },
    )
    assert r.status_code == 302
    conflicts = editorial_client.get(f"/api/claims/{picked_b}").get_json()["claim"]["conflicts"]
    added = [c for c in conflicts if c.startswith("cf-ed-")]
    assert len(added) == 1
    # An exact claim id finds that claim first; unknown picked ids are dropped, not a 500.
    r = editorial_client.get(f"/editorial/conflicts/new?q={CLAIM}&a=nope")
    assert r.status_code == 200 and f"({CLAIM})" in r.text and "(nope)" not in r.text


def test_a_reviewer_cannot_open_the_claim_picker(editorial_client: FlaskClient) -> None:
    login(editorial_client, "rita")
    assert editorial_client.get("/editorial/conflicts/new?q=dose").status_code == 403


# -- accounts ------------------------------------------------------------------------------------
def _cookie(client: FlaskClient) -> str:
    return client.get_cookie("session").value


def test_a_copied_session_cookie_stops_working_after_logout(
    editorial_app: Flask, editorial_client: FlaskClient
) -> None:
    token = login(editorial_client, "rita")
    thief = editorial_app.test_client()
    thief.set_cookie("session", _cookie(editorial_client))
    assert thief.get("/api/csrf").get_json()["user"] == {"name": "rita", "role": "reviewer"}
    editorial_client.post("/logout", data={"csrf_token": token})
    assert thief.get("/api/csrf").get_json()["user"] is None
    r = api(thief, token, f"claims/{CLAIM}/flag", reason="r", base_version=0)
    assert r.status_code == 401


def test_removing_and_adding_an_account_again_does_not_revive_old_cookies(
    editorial_app: Flask, editorial_client: FlaskClient
) -> None:
    token = login(editorial_client, "rita")
    accounts = editorial_app.extensions["accounts"]
    accounts.remove("rita")
    accounts.add("rita", "reviewer", PASSWORD)
    r = api(editorial_client, token, f"claims/{CLAIM}/flag", reason="r", base_version=0)
    assert r.status_code == 401


def test_the_admin_page_manages_accounts_and_journals_each_change(
    editorial_app: Flask, editorial_client: FlaskClient
) -> None:
    rita = editorial_app.test_client()
    login(rita, "rita")
    assert rita.get("/editorial/users").status_code == 403
    eve = editorial_app.test_client()
    login(eve, "eve")
    assert eve.get("/editorial/users").status_code == 403
    token = login(editorial_client, "adam")
    page = editorial_client.get("/editorial/users")
    assert page.status_code == 200 and "rita" in page.text and "$argon2" not in page.text
    assert_accessible(page.text)

    def post(path: str, **fields: str) -> Any:
        return editorial_client.post(path, data={"csrf_token": token, **fields})

    r = post("/editorial/users", name="nina", role="reviewer", password=PASSWORD, reason="new")
    assert r.status_code == 302 and r.headers["Location"] == "/editorial/users"
    assert post("/editorial/users", name="bad name", role="reviewer",
                password=PASSWORD).status_code == 400  # fmt: skip
    assert post("/editorial/users/rita/role", role="editor").status_code == 302
    assert rita.get("/api/csrf").get_json()["user"] is None  # a role change ends its sessions
    assert post("/editorial/users/eve/password", password="a new password").status_code == 302
    assert eve.get("/api/csrf").get_json()["user"] is None  # so does a password reset
    r = eve.post("/api/login", json={"name": "eve", "password": "a new password"},
                 headers={"X-CSRFToken": csrf(eve)})  # fmt: skip
    assert r.status_code == 200
    assert post("/editorial/users/eve/disable").status_code == 302
    assert eve.get("/api/csrf").get_json()["user"] is None
    r = eve.post("/api/login", json={"name": "eve", "password": "a new password"},
                 headers={"X-CSRFToken": csrf(eve)})  # fmt: skip
    assert r.status_code == 401
    assert post("/editorial/users/adam/remove").status_code == 400  # never one's own account
    assert post("/editorial/users/nina/explode").status_code == 404
    html = editorial_client.get("/editorial/users").text
    assert "disabled" in html
    for words in ("added an account", "changed an account&#39;s role", "reset a password",
                  "disabled an account", "role: reviewer → editor"):  # fmt: skip
        assert words in html, words
    assert a_new_password_is_nowhere(editorial_app)


def a_new_password_is_nowhere(app: Flask) -> bool:
    instance = app.extensions["instance_dir"]
    return all("a new password" not in p.read_text() for p in instance.glob("*.json*"))


def test_concurrent_wrong_logins_never_check_more_passwords_than_the_limit(
    editorial_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    accounts = editorial_app.extensions["accounts"]
    checks: list[str] = []
    real = accounts.authenticate

    def counted(name: str, password: str) -> Any:
        checks.append(name)
        return real(name, password)

    monkeypatch.setattr(accounts, "authenticate", counted)
    clients = [editorial_app.test_client() for _ in range(40)]
    tokens = [csrf(c) for c in clients]
    start = threading.Barrier(40)
    statuses: list[int] = []

    def attempt(client: FlaskClient, token: str) -> None:
        start.wait()
        r = client.post("/api/login", json={"name": "eve", "password": "wrong password"},
                        headers={"X-CSRFToken": token})  # fmt: skip
        statuses.append(r.status_code)

    threads = [
        threading.Thread(target=attempt, args=ct) for ct in zip(clients, tokens, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    limit = editorial_app.config["LOGIN_MAX_FAILURES"]
    assert len(checks) <= limit
    assert statuses.count(401) == len(checks) and statuses.count(429) == 40 - len(checks)
