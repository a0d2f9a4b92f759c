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
        ("eve\n", "editor", "long enough"),  # a trailing newline
        ("eve\x00x", "editor", "long enough"),  # a control character
        ("e\tve", "editor", "long enough"),  # a tab
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


def test_users_file_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path)
    accounts.add("eve", "editor", "long enough")
    assert (tmp_path / "users.json").stat().st_mode & 0o777 == 0o600
    accounts.set_role("eve", "admin")  # every rewrite keeps it so
    assert (tmp_path / "users.json").stat().st_mode & 0o777 == 0o600


def test_known_and_unknown_names_cost_one_password_check_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from argon2 import PasswordHasher

    accounts = Accounts(tmp_path)
    accounts.add("eve", "editor", "long enough")
    accounts.authenticate("warm-up", "x")  # the dummy hash is made once, on first use
    calls: list[str] = []
    for method in ("hash", "verify"):
        real = getattr(PasswordHasher, method)

        def counted(self: PasswordHasher, *args: object, _m: str = method, _r=real) -> object:
            calls.append(_m)
            return _r(self, *args)

        monkeypatch.setattr(PasswordHasher, method, counted)
    work = {}
    for name in ("eve", "nobody"):
        calls.clear()
        assert accounts.authenticate(name, "wrong password") is None
        work[name] = list(calls)
    assert work["eve"] == work["nobody"] == ["verify"]


def test_session_generation_moves_on_every_change(tmp_path: Path) -> None:
    accounts = Accounts(tmp_path)
    user = accounts.add("eve", "editor", "long enough")
    session = f"eve:{user.generation}"
    assert accounts.session_user(session).name == "eve"
    for change in (
        lambda: accounts.end_sessions("eve"),  # logout
        lambda: accounts.set_password("eve", "another password"),
        lambda: accounts.set_role("eve", "reviewer"),
        lambda: accounts.set_disabled("eve", True),
    ):
        session = f"eve:{accounts.get('eve').generation}"
        change()
        assert accounts.session_user(session) is None
    assert accounts.session_user(f"eve:{accounts.get('eve').generation}") is None  # disabled
    assert accounts.authenticate("eve", "another password") is None  # disabled: no login
    accounts.set_disabled("eve", False)
    assert accounts.authenticate("eve", "another password").role == "reviewer"
    # Removed and added again: the old session does not come back.
    old = f"eve:{accounts.get('eve').generation}"
    accounts.remove("eve")
    accounts.add("eve", "editor", "long enough")
    assert accounts.session_user(old) is None
    assert accounts.session_user("eve") is None and accounts.session_user("eve:") is None


def test_administer_journals_changes_and_needs_an_admin(data_dir: Path, tmp_path: Path) -> None:
    from kb import KnowledgeBase
    from kb.accounts import administer
    from kb.editorial import Editor
    from kb.errors import Forbidden

    instance = tmp_path / "instance"
    accounts = Accounts(instance)
    editor = Editor.open(KnowledgeBase.load(data_dir), instance)
    administer(accounts, editor, "adam", "admin", "user_add", "rita", role="reviewer",
               password="long enough", reason="joins the board")  # fmt: skip
    administer(accounts, editor, "adam", "admin", "user_role", "rita", role="editor")
    administer(accounts, editor, "adam", "admin", "user_password", "rita", password="new one!")
    with pytest.raises(Forbidden):
        administer(accounts, editor, "eve", "editor", "user_disable", "rita")
    with pytest.raises(InvalidQuery):
        administer(accounts, editor, "adam", "admin", "user_remove", "adam")
    events = editor.state.history("user:rita")
    assert [(e["actor"], e["action"]) for e in events] == [
        ("adam", "user_add"),
        ("adam", "user_role"),
        ("adam", "user_password"),
    ]
    assert events[1]["after"] == {"from_role": "reviewer", "role": "editor"}
    journal = (instance / "journal.jsonl").read_text()
    assert "new one!" not in journal and "$argon2" not in journal
