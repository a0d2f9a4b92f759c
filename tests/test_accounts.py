"""Editorial accounts: hashed passwords, roles, atomic file outside data/."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.accounts import Accounts, UserExists, UserNotFound
from kb.errors import InvalidQuery


def test_password_is_stored_hashed_and_checked(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path)
    accounts.add("eve", "editor", "correct horse battery")
    raw = (tmp_path / "users.json").read_text()
    assert "correct horse battery" not in raw and "$argon2id$" in raw
    assert accounts.authenticate("eve", "correct horse battery").role == "editor"
    assert accounts.authenticate("eve", "wrong password") is None
    assert accounts.authenticate("nobody", "correct horse battery") is None


@pytest.mark.parametrize(
    "name,role,password",
    [
        ("e", "editor", "long enough"),  # name too short
        ("eve", "superuser", "long enough"),  # unknown role
        ("eve", "reader", "long enough"),  # readers are anonymous
        ("eve", "editor", "short"),  # password too short
        ("eve smith", "editor", "long enough"),  # space in name
    ],
)
def test_bad_accounts_are_refused(tmp_path: Path, name: str, role: str, password: str) -> None:
    with pytest.raises(InvalidQuery):
        Accounts(tmp_path).add(name, role, password)
    assert not (tmp_path / "users.json").exists()


def test_add_list_remove(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path)
    accounts.add("rita", "reviewer", "long enough")
    accounts.add("adam", "admin", "long enough")
    with pytest.raises(UserExists):
        accounts.add("rita", "editor", "long enough")
    assert [(u.name, u.role) for u in accounts.list()] == [("adam", "admin"), ("rita", "reviewer")]
    accounts.remove("rita")
    with pytest.raises(UserNotFound):
        accounts.remove("rita")
    assert [u["name"] for u in json.loads((tmp_path / "users.json").read_text())] == ["adam"]
