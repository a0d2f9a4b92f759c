"""Helpers shared by the web tests: the docs templates render, an article's statements, CSRF
tokens and API login."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, template_rendered
from flask.testing import FlaskClient

PASSWORD = "correct horse battery"  # the password of every account in conftest.USERS


@contextmanager
def rendered_docs(app: Flask) -> Iterator[list[Any]]:
    """The ``doc`` each template rendered during the block."""
    docs: list[Any] = []

    def record(sender: Flask, template: Any, context: dict[str, Any], **extra: Any) -> None:
        docs.append(context.get("doc"))

    template_rendered.connect(record, app)
    try:
        yield docs
    finally:
        template_rendered.disconnect(record, app)


def csrf(client: FlaskClient) -> str:
    return client.get("/api/csrf").get_json()["csrf_token"]


def login(client: FlaskClient, name: str) -> str:
    """Log in over the API; returns the CSRF token of the new session."""
    r = client.post(
        "/api/login",
        json={"name": name, "password": PASSWORD},
        headers={"X-CSRFToken": csrf(client)},
    )
    assert r.status_code == 200, r.get_json()
    return r.get_json()["csrf_token"]


def statements(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of an article page's doc: the bottom line, then all sections'."""
    out = list(doc["bottom_line"])
    stack = list(doc["sections"])
    while stack:
        sec = stack.pop()
        out.extend(sec["statements"])
        stack.extend(sec["subsections"])
    return out


def assert_accessible(html: str) -> None:
    """One h1, headings that never skip a level, unique ids, labelled controls, no script or
    inline style, and a CSRF token in every POST form."""
    assert len(re.findall(r"<h1[ >]", html)) == 1
    assert "<script" not in html and " style=" not in html
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    for control_id in re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', html):
        assert f'for="{control_id}"' in html, control_id
    levels = [int(n) for n in re.findall(r"<h([1-6])[ >]", html)]
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1, levels
    for form_html in re.findall(r'<form[^>]*method="post".*?</form>', html, re.S):
        assert 'name="csrf_token"' in form_html
