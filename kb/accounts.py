"""Editorial accounts: names, roles and Argon2 password hashes, kept outside ``data/``.

``<instance>/users.json`` (mode 0600: it holds password hashes) lists each account with its
role, its hash, whether it is disabled, and its *session generation*: a random token that a
login's session carries and that changes on logout, password change, role change, disabling
and removal, so every older session of that account stops working at once (a stolen cookie
too). Removing an account and adding the same name again gives a new token, never the old one.

Every change made through :func:`administer` is also journaled as an editorial event on
``user:<name>`` (never with a password or hash), so the board's history shows who changed
which account. Writers in any process serialise on an ``flock`` of ``users.json.lock``.
"""

from __future__ import annotations

import fcntl
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .editorial import ACCOUNT_ROLES, ACTIONS
from .errors import Forbidden, InvalidQuery, UserExists, UserNotFound
from .storage import load_json, write_json_atomic

if TYPE_CHECKING:
    from .editorial import Editor

USERS_FILE = "users.json"
# Letters, digits, '.', '_', '-' only: no whitespace, no control characters (fullmatch, so a
# trailing newline is refused too).
_NAME = re.compile(r"[A-Za-z0-9_.-]{2,40}")
MIN_PASSWORD = 8
MAX_PASSWORD = 1000


@dataclass(frozen=True)
class User:
    name: str
    role: str
    generation: str = ""
    disabled: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role}


def check_name(name: str) -> str:
    """``name`` if it is a valid account name, else an :class:`InvalidQuery`."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise InvalidQuery(
            "a user name is 2-40 letters, digits, '.', '_' or '-' (no spaces or control characters)"
        )
    return name


def _check_role(role: str) -> None:
    if role not in ACCOUNT_ROLES:
        raise InvalidQuery(f"role must be one of {', '.join(ACCOUNT_ROLES)}")


def _check_password(password: str) -> None:
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidQuery(
            f"a password needs at least {MIN_PASSWORD} characters (and at most {MAX_PASSWORD})"
        )


def _token() -> str:
    return secrets.token_hex(8)


class Accounts:
    """The account file ``<instance>/users.json``; every change is written atomically."""

    def __init__(self, instance_dir: str | Path) -> None:
        self.path = Path(instance_dir) / USERS_FILE
        self._hasher = PasswordHasher()
        self._lock = threading.Lock()
        self._dummy: str | None = None

    # -- the file ------------------------------------------------------------------------------
    def _read(self) -> dict[str, dict[str, Any]]:
        if not self.path.exists():
            return {}
        data = load_json(self.path)
        return {u["name"]: u for u in data}

    def _write(self, users: dict[str, dict[str, Any]]) -> None:
        write_json_atomic(self.path, sorted(users.values(), key=lambda u: u["name"]), mode=0o600)

    @contextmanager
    def _changing(self) -> Iterator[dict[str, dict[str, Any]]]:
        """The accounts, read under the thread and process locks; written back on success."""
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path.with_name(USERS_FILE + ".lock"), "a") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)  # blocks: account changes are rare and short
                try:
                    users = self._read()
                    yield users
                    self._write(users)
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)

    @staticmethod
    def _user(record: dict[str, Any]) -> User:
        return User(
            record["name"],
            record["role"],
            str(record.get("generation", "")),
            bool(record.get("disabled", False)),
        )

    # -- reading -------------------------------------------------------------------------------
    def list(self) -> list[User]:
        return [self._user(u) for u in self._read().values()]

    def get(self, name: str) -> User:
        users = self._read()
        if name not in users:
            raise UserNotFound(name)
        return self._user(users[name])

    def session_user(self, session_id: str) -> User | None:
        """The active account a session id (``name:generation``) belongs to, or None when
        the account is gone or disabled or its generation moved on (the session was revoked)."""
        name, _, generation = session_id.partition(":")
        record = self._read().get(name)
        if record is None or record.get("disabled") or not generation:
            return None
        if not secrets.compare_digest(str(record.get("generation", "")), generation):
            return None
        return self._user(record)

    # -- changing ------------------------------------------------------------------------------
    def add(self, name: str, role: str, password: str) -> User:
        """Create an account; the password is stored only as an Argon2id hash."""
        check_name(name)
        _check_role(role)
        _check_password(password)
        hashed = self._hasher.hash(password)
        with self._changing() as users:
            if name in users:
                raise UserExists(f"a user named {name!r} already exists")
            users[name] = {"name": name, "role": role, "hash": hashed, "generation": _token()}
        return self.get(name)

    def remove(self, name: str) -> None:
        with self._changing() as users:
            if name not in users:
                raise UserNotFound(name)
            del users[name]

    def _update(self, name: str, **changes: Any) -> User:
        with self._changing() as users:
            if name not in users:
                raise UserNotFound(name)
            users[name].update(changes, generation=_token())
            record = users[name]
        return self._user(record)

    def set_role(self, name: str, role: str) -> User:
        """Change the role; the account's sessions end (it logs in again with the new role)."""
        _check_role(role)
        return self._update(name, role=role)

    def set_password(self, name: str, password: str) -> User:
        """Replace the password; every session of the account ends."""
        _check_password(password)
        return self._update(name, hash=self._hasher.hash(password))

    def set_disabled(self, name: str, disabled: bool) -> User:
        """Disable (no login, sessions end) or enable an account."""
        return self._update(name, disabled=disabled)

    def end_sessions(self, name: str) -> None:
        """End every session of ``name`` (logging out); nothing if it no longer exists."""
        with suppress(UserNotFound):
            self._update(name)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user, if the password is right and the account enabled; None otherwise (never
        says which part failed). Exactly one Argon2 check whatever the name: an unknown name
        is checked against a dummy hash, so names cannot be told apart by timing."""
        record = self._read().get(name)
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_hex(16))
        try:
            self._hasher.verify(record["hash"] if record else self._dummy, password)
        except (VerificationError, InvalidHashError):
            return None
        if record is None or record.get("disabled"):
            return None
        return self._user(record)


# The account changes, as editorial actions (see kb.editorial.ACTIONS: admins only).
ADMIN_ACTIONS: tuple[str, ...] = (
    "user_add",
    "user_role",
    "user_password",
    "user_disable",
    "user_enable",
    "user_remove",
)


def administer(
    accounts: Accounts,
    editor: Editor | None,
    actor: str,
    actor_role: str,
    action: str,
    name: str,
    *,
    role: str | None = None,
    password: str | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """Change an account as ``actor`` and journal it (``user:<name>``, no secrets); returns
    the account as :meth:`User.to_dict` plus ``disabled`` (``None`` after removal).

    ``action`` is one of :data:`ADMIN_ACTIONS`; only admins may (a :class:`Forbidden`
    otherwise). With ``editor`` None (no journal open) the change is made but not journaled.
    An admin cannot disable, demote or remove their own account (so one admin always stays).
    """
    spec = ACTIONS.get(action)
    if action not in ADMIN_ACTIONS or spec is None:
        raise InvalidQuery(f"unknown account action {action!r}")
    if not spec.allows(actor_role):
        raise Forbidden(f"a {actor_role} may not manage accounts; it needs the admin role")
    check_name(name)
    if name == actor and action in ("user_role", "user_disable", "user_remove"):
        raise InvalidQuery("an admin cannot disable, demote or remove their own account")
    after: dict[str, Any] = {}
    user: User | None
    if action == "user_add":
        user = accounts.add(name, str(role), str(password or ""))
        after["role"] = user.role
    elif action == "user_role":
        after["from_role"] = accounts.get(name).role
        user = accounts.set_role(name, str(role))
        after["role"] = user.role
    elif action == "user_password":
        user = accounts.set_password(name, str(password or ""))
    elif action in ("user_disable", "user_enable"):
        user = accounts.set_disabled(name, action == "user_disable")
    else:
        accounts.remove(name)
        user = None
    if editor is not None:
        editor.record(actor, actor_role, action, f"user:{name}", reason=reason, after=after)
    return (
        {**user.to_dict(), "disabled": user.disabled} if user else {"name": name, "removed": True}
    )
