"""Editorial accounts: names, roles and Argon2 password hashes, kept outside ``data/``."""

from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .editorial import ROLES
from .errors import InvalidQuery, UserExists, UserNotFound
from .storage import load_json, write_json_atomic

USERS_FILE = "users.json"
_NAME = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    name: str
    role: str

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role}


class Accounts:
    """The account file ``<instance>/users.json``; every change is written atomically."""

    def __init__(self, instance_dir: str | Path) -> None:
        self.path = Path(instance_dir) / USERS_FILE
        self._hasher = PasswordHasher()
        self._lock = threading.Lock()

    def _read(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        data = load_json(self.path)
        return {u["name"]: u for u in data}

    def _write(self, users: dict[str, dict[str, str]]) -> None:
        write_json_atomic(self.path, sorted(users.values(), key=lambda u: u["name"]))

    def list(self) -> list[User]:
        return [User(u["name"], u["role"]) for u in self._read().values()]

    def get(self, name: str) -> User:
        users = self._read()
        if name not in users:
            raise UserNotFound(name)
        return User(name, users[name]["role"])

    def add(self, name: str, role: str, password: str) -> User:
        """Create an account; the password is stored only as an Argon2id hash."""
        if not _NAME.match(name):
            raise InvalidQuery("a user name is 2-40 letters, digits, '.', '_' or '-'")
        if role not in ROLES or role == "reader":
            raise InvalidQuery(
                f"role must be one of {', '.join(r for r in ROLES if r != 'reader')}"
            )
        if len(password) < MIN_PASSWORD:
            raise InvalidQuery(f"a password needs at least {MIN_PASSWORD} characters")
        with self._lock:
            users = self._read()
            if name in users:
                raise UserExists(f"a user named {name!r} already exists")
            users[name] = {"name": name, "role": role, "hash": self._hasher.hash(password)}
            self._write(users)
        return User(name, role)

    def remove(self, name: str) -> None:
        with self._lock:
            users = self._read()
            if name not in users:
                raise UserNotFound(name)
            del users[name]
            self._write(users)

    def authenticate(self, name: str, password: str) -> User | None:
        """The user, if the password is right; None otherwise (never says which part failed)."""
        record = self._read().get(name)
        if record is None:
            # Spend the same time as a real check, so names cannot be probed by timing.
            with contextlib.suppress(VerificationError, InvalidHashError):
                self._hasher.verify(self._hasher.hash("x" * MIN_PASSWORD), password)
            return None
        try:
            self._hasher.verify(record["hash"], password)
        except (VerificationError, InvalidHashError):
            return None
        return User(name, record["role"])
