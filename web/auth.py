"""Logging in and out (Flask-Login over :class:`kb.accounts.Accounts`), roles, the session key.

Accounts live in ``<instance>/users.json`` (``kb users add``). A login sets a signed session
cookie (HttpOnly, SameSite=Lax, Secure unless configured off) that lasts
``PERMANENT_SESSION_LIFETIME``; the account and its session generation are looked up again on
every request, so logging out, a password or role change, disabling or removing the account
ends every session it had (a copied cookie stops working too). Login attempts are counted per
name and address *before* the password is checked (:mod:`web.throttle`): past the limit the
answer is 429 without checking. Unknown and known names cost the same one Argon2 check.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import (
    AnonymousUserMixin,
    LoginManager,
    UserMixin,
    current_user,
    login_user,
    logout_user,
)
from flask_wtf.csrf import generate_csrf

from kb import dashboard
from kb.accounts import Accounts, User, administer
from kb.editorial import ACTIONS, ROLES
from kb.errors import Forbidden, InvalidQuery, NotFound

from . import live, params
from .errors import respond
from .throttle import LoginThrottle

bp = Blueprint("auth", __name__)
F = TypeVar("F", bound=Callable[..., Any])
SECRET_FILE = "secret_key"


class SessionUser(UserMixin):
    """The logged-in account as Flask-Login holds it. Its id carries the account's session
    generation (``name:generation``), so a logout, password or role change, disabling or
    removal (each moves the generation on) ends every session made before."""

    def __init__(self, user: User) -> None:
        self.name, self.role, self.generation = user.name, user.role, user.generation

    def get_id(self) -> str:
        return f"{self.name}:{self.generation}"

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role}


class Reader(AnonymousUserMixin):
    """Anyone not logged in: a reader, who may read everything and change nothing."""

    name = None
    role = "reader"


def accounts() -> Accounts:
    return current_app.extensions["accounts"]


def has_role(role: str) -> bool:
    """True when the current user's role is ``role`` or above."""
    return ROLES.index(current_user.role) >= ROLES.index(role)


def can(action: str) -> bool:
    """True when the current user may do the editorial ``action`` (for showing its form)."""
    return bool(current_user.is_authenticated) and ACTIONS[action].allows(current_user.role)


def require_role(role: str) -> Callable[[F], F]:
    """A view decorator: log in first (401 / redirect), then have ``role`` or above (403)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined]
            if not has_role(role):
                raise Forbidden(f"this needs the {role} role; you are a {current_user.role}")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def local_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site (never another host), else ``default``."""
    if not target:
        return default
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not parts.path.startswith("/")
        or parts.path.startswith("//")
        or "\\" in target
    ):
        return default
    return (
        parts.path
        + (f"?{parts.query}" if parts.query else "")
        + (f"#{parts.fragment}" if parts.fragment else "")
    )


def _unauthorized() -> Any:
    if request.path == "/api" or request.path.startswith("/api/"):
        return respond(401, "log in first: this needs an editorial account")
    here = request.full_path.rstrip("?") if request.method == "GET" else request.referrer
    return redirect(url_for("auth.login", next=local_path(here)))


def _throttle() -> LoginThrottle:
    return current_app.extensions["login_throttle"]


def _attempt(name: str, password: str) -> tuple[SessionUser | None, int]:
    """(the user, 0) on success; (None, seconds to wait) when throttled; (None, 0) when the
    name or password is wrong."""
    address = request.remote_addr or "unknown"
    wait = _throttle().attempt(name, address)  # counted before the check: no race
    if wait:
        return None, wait
    user = accounts().authenticate(name, password)
    if user is None:
        return None, 0
    _throttle().succeeded(name, address)
    session.clear()  # a fresh session (and CSRF token) for the new identity
    session.permanent = True
    login_user(SessionUser(user))
    return SessionUser(user), 0


def _too_many(wait: int) -> str:
    minutes = max(1, round(wait / 60))
    return (
        f"too many failed logins; try again in about {minutes} minute{'s' if minutes > 1 else ''}"
    )


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The login form; on success, back to where the user came from."""
    next_url = local_path(request.values.get("next"))
    if request.method == "GET":
        return render_template("login.html", doc=None, next=next_url, error=None)
    name = request.form.get("name", "").strip()[:100]
    user, wait = _attempt(name, request.form.get("password", "")[:1000])
    if user is not None:
        flash(f"Logged in as {user.name} ({user.role}).", "info")
        return redirect(next_url)
    status, error = (
        (429, _too_many(wait))
        if wait
        else (401, "That name and password do not match an editorial account.")
    )
    response = Response(
        render_template("login.html", doc=None, next=next_url, error=error, name=name),
        status=status,
    )
    if wait:
        response.headers["Retry-After"] = str(wait)
    return response


@bp.post("/logout")
def logout() -> Any:
    """Log out (a POST with the CSRF token, so no other site can log a user out). Every
    session of the account ends, so a copied cookie stops working too."""
    _end_sessions()
    logout_user()
    session.clear()
    flash("Logged out.", "info")
    return redirect(url_for("pages.home"))


def _end_sessions() -> None:
    if current_user.is_authenticated:
        accounts().end_sessions(current_user.name)


@bp.get("/api/csrf")
def api_csrf() -> Response:
    """A CSRF token for this session (send it as the X-CSRFToken header) and who is logged in."""
    user = current_user.to_dict() if current_user.is_authenticated else None
    return jsonify({"csrf_token": generate_csrf(), "user": user})


@bp.post("/api/login")
def api_login() -> Any:
    """Log in with JSON ``{"name", "password"}``; the session cookie carries the login."""
    try:
        body = params.json_object()
    except InvalidQuery:
        return respond(400, 'send JSON {"name": ..., "password": ...}')
    name = str(body.get("name") or "").strip()[:100]
    password = str(body.get("password") or "")[:1000]
    user, wait = _attempt(name, password)
    if user is not None:
        return jsonify({"user": user.to_dict(), "csrf_token": generate_csrf()})
    if wait:
        response, status = respond(429, _too_many(wait))
        response = current_app.make_response((response, status))
        response.headers["Retry-After"] = str(wait)
        return response
    return respond(401, "that name and password do not match an editorial account")


@bp.post("/api/logout")
def api_logout() -> Response:
    """Log out (every session of the account ends)."""
    _end_sessions()
    logout_user()
    session.clear()
    return jsonify({"user": None})


# -- the admin's account page ------------------------------------------------------------------
USER_OPS = {
    "role": "user_role",
    "password": "user_password",
    "disable": "user_disable",
    "enable": "user_enable",
    "remove": "user_remove",
}


@bp.get("/editorial/users")
@require_role("admin")
def users_page() -> str:
    """Every account, with forms to add one, change a role, reset a password, disable,
    enable or remove; each change is journaled."""
    doc = dashboard.users_page(live().kb, accounts().list())
    return render_template("users.html", doc=doc)


def _administer(action: str, name: str, **kwargs: Any) -> Response:
    administer(
        accounts(),
        live().editor,
        current_user.name,
        current_user.role,
        action,
        name,
        reason=request.form.get("reason", "").strip()[:2000],
        **kwargs,
    )
    flash(ACTIONS[action].done, "info")
    return redirect(url_for("auth.users_page"))


@bp.post("/editorial/users")
@require_role("admin")
def add_user() -> Response:
    """Add an account (name, role, password)."""
    form = request.form
    return _administer(
        "user_add",
        form.get("name", "").strip(),
        role=form.get("role", ""),
        password=form.get("password", ""),
    )


@bp.post("/editorial/users/<name>/<op>")
@require_role("admin")
def change_user(name: str, op: str) -> Response:
    """role (``role``), password (``password``), disable, enable, remove."""
    if op not in USER_OPS:
        raise NotFound(f"users/{name}/{op}")
    kwargs: dict[str, str] = {}
    if op == "role":
        kwargs["role"] = request.form.get("role", "")
    if op == "password":
        kwargs["password"] = request.form.get("password", "")
    return _administer(USER_OPS[op], name, **kwargs)


def secret_key(instance_dir: Path) -> str:
    """The key that signs session cookies: ``<instance>/secret_key``, made once (mode 0600)
    so that every process and every restart shares it."""
    path = instance_dir / SECRET_FILE
    try:
        return path.read_text("ascii").strip()
    except FileNotFoundError:
        pass
    instance_dir.mkdir(parents=True, exist_ok=True)
    tmp = instance_dir / f".{SECRET_FILE}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, secrets.token_hex(32).encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process made it first: then use theirs
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text("ascii").strip()


def register(app: Flask, instance_dir: Path) -> None:
    """Install Flask-Login, the accounts of ``instance_dir`` and the login throttle."""
    app.extensions["accounts"] = Accounts(instance_dir)
    app.extensions["login_throttle"] = LoginThrottle(
        max_failures=app.config["LOGIN_MAX_FAILURES"], window=app.config["LOGIN_WINDOW"]
    )
    manager = LoginManager()
    manager.anonymous_user = Reader
    manager.init_app(app)

    @manager.user_loader
    def load_user(session_id: str) -> SessionUser | None:
        user = accounts().session_user(session_id)
        return SessionUser(user) if user is not None else None

    manager.unauthorized_handler(_unauthorized)
    app.add_template_global(can)
    app.add_template_global(has_role)
    app.register_blueprint(bp)
