"""The editorial commands: kb users add/list/remove, kb compact, kb history, --instance-dir."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from kb import KnowledgeBase
from kb.accounts import Accounts
from kb.cli import cli
from kb.editorial import Editor

PASSWORD = "correct horse battery"


def run(
    data_dir: Path,
    *args: str,
    input: str | None = None,
    env: dict[str, str] | None = None,
) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["--data-dir", str(data_dir), *args], input=input, obj={}, env=env
    )
    return result.exit_code, result.output


def test_users_add_list_remove(data_dir: Path, instance_dir: Path) -> None:
    code, out = run(
        data_dir,
        "users",
        "add",
        "eve",
        "--role",
        "editor",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert code == 0, out
    assert "Added eve (editor)" in out
    # Accounts live in the instance folder beside the data, never in it.
    assert (instance_dir / "users.json").exists() and not (data_dir / "users.json").exists()
    assert PASSWORD not in (instance_dir / "users.json").read_text()
    assert Accounts(instance_dir).authenticate("eve", PASSWORD).role == "editor"
    code, out = run(
        data_dir, "users", "add", "rita", "--role", "reviewer", input=f"{PASSWORD}\n{PASSWORD}\n"
    )  # prompted twice, hidden
    assert code == 0, out
    assert PASSWORD not in out
    code, out = run(data_dir, "users", "list", "--json")
    assert code == 0 and json.loads(out) == [
        {"name": "eve", "role": "editor"},
        {"name": "rita", "role": "reviewer"},
    ]
    code, out = run(data_dir, "users", "list")
    assert code == 0 and "rita" in out and "reviewer" in out and "$argon2" not in out
    code, out = run(data_dir, "users", "remove", "rita")
    assert code == 0 and "Removed rita" in out
    assert [u.name for u in Accounts(instance_dir).list()] == ["eve"]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["eve", "--role", "editor", "--password-stdin"], "short\n", "at least 8 characters"),
        (["eve", "--role", "reader", "--password-stdin"], PASSWORD + "\n", "Invalid value"),
        (["e", "--role", "editor", "--password-stdin"], PASSWORD + "\n", "user name"),
        (
            ["eve", "--role", "editor"],
            f"{PASSWORD}\nsomething else\n{PASSWORD}\n{PASSWORD}\n",
            None,
        ),  # a mismatch is asked again
    ],
)
def test_users_add_refuses_bad_input(
    data_dir: Path, args: list[str], stdin: str, message: str | None
) -> None:
    code, out = run(data_dir, "users", "add", *args, input=stdin)
    if message is None:
        assert code == 0 and "do not match" in out, out
    else:
        assert code != 0 and message in out, out


def test_users_errors_are_one_line(data_dir: Path) -> None:
    run(
        data_dir,
        "users",
        "add",
        "eve",
        "--role",
        "editor",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    code, out = run(
        data_dir,
        "users",
        "add",
        "eve",
        "--role",
        "admin",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert code == 1 and out.strip() == "Error: a user named 'eve' already exists"
    code, out = run(data_dir, "users", "remove", "nobody")
    assert code == 1 and out.strip() == "Error: no user with id 'nobody'"


def test_instance_dir_option_and_environment(data_dir: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    code, out = run(
        data_dir,
        "--instance-dir",
        str(elsewhere),
        "users",
        "add",
        "eve",
        "--role",
        "editor",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert code == 0, out
    assert (elsewhere / "users.json").exists()
    code, out = run(data_dir, "users", "list", "--json", env={"KB_INSTANCE_DIR": str(elsewhere)})
    assert code == 0 and json.loads(out) == [{"name": "eve", "role": "editor"}]
    code, out = run(data_dir, "users", "list", "--json")
    assert code == 0 and json.loads(out) == []


def test_compact_folds_the_journal(data_dir: Path, instance_dir: Path) -> None:
    editor = Editor.open(KnowledgeBase.load(data_dir), instance_dir)
    editor.record(
        "eve",
        "editor",
        "set_status",
        "article:ldn-chronic-pain",
        after={"status": "approved", "acknowledge": "known conflicts, explained in the text"},
        base_version=0,
    )
    editor.record("rita", "reviewer", "flag", "claim:seed-max-dose", reason="6 mg in FINAL")
    code, out = run(data_dir, "compact")
    assert code == 0, out
    assert out.startswith("Folded 2 events into ")
    # no events left: only the header line naming the new generation
    assert len((instance_dir / "journal.jsonl").read_text().splitlines()) == 1
    assert json.loads((data_dir / "articles.json").read_text())[0]["review_status"] == "approved"
    assert len(json.loads((data_dir / "editorial.json").read_text())["events"]) == 2
    code, out = run(data_dir, "compact")
    assert code == 0 and out.startswith("Folded 0 events")
    # Read commands replay the folded events as the site does.
    code, out = run(data_dir, "trace", "seed-max-dose", "--json")
    assert json.loads(out)["claim"]["editorial"]["flags"][0]["reason"] == "6 mg in FINAL"


def test_history_lists_who_changed_what(data_dir: Path, instance_dir: Path) -> None:
    editor = Editor.open(KnowledgeBase.load(data_dir), instance_dir)
    editor.record(
        "eve",
        "editor",
        "set_status",
        "article:ldn-chronic-pain",
        after={"status": "approved", "acknowledge": "known conflicts, explained in the text"},
        reason="checked",
        base_version=0,
    )
    editor.record("rita", "reviewer", "comment", "claim:seed-max-dose", after={"text": "see FINAL"})
    code, out = run(data_dir, "history", "article:ldn-chronic-pain")
    assert code == 0, out
    assert "eve (editor) changed the review status" in out
    assert "review status: Under review → Approved" in out and "why: checked" in out
    assert "[claim:seed-max-dose]" in out and "see FINAL" in out
    code, out = run(data_dir, "history", "seed-max-dose", "--json")
    data = json.loads(out)
    assert data["target"]["kind"] == "claim" and data["total"] == 1
    assert data["events"][0]["actor"] == "rita"
    code, out = run(data_dir, "history", "conflict:cf-x")
    assert code == 2 and "claim:ID or article:ID" in out
    code, out = run(data_dir, "history", "claim:nope")
    assert code == 1 and "no claim with id 'nope'" in out


def test_read_commands_write_nothing_to_the_instance(data_dir: Path, instance_dir: Path) -> None:
    code, _ = run(data_dir, "stats")
    assert code == 0
    assert not instance_dir.exists() or not (instance_dir / "journal.jsonl").exists()


def test_ask_and_search_show_the_board_flag(data_dir: Path, instance_dir: Path) -> None:
    editor = Editor.open(KnowledgeBase.load(data_dir), instance_dir)
    editor.record("rita", "reviewer", "flag", "claim:seed-max-dose", reason="6 mg in FINAL")
    code, out = run(
        data_dir,
        "--index-dir",
        str(instance_dir.parent / "index"),
        "ask",
        "What is the maximum dose of LDN?",
    )
    assert code == 0, out
    assert "[contested — flagged by the editorial board: 6 mg in FINAL]" in out
    code, out = run(
        data_dir, "--index-dir", str(instance_dir.parent / "index"), "search", "ceiling dose"
    )
    assert code == 0 and "flagged by the editorial board: 6 mg in FINAL" in out, out


def test_contested_lists_the_active_conflicts(data_dir: Path, instance_dir: Path) -> None:
    kb = KnowledgeBase.load(data_dir)
    editor = Editor.open(kb, instance_dir)
    dismissed = next(iter(kb.conflicts))
    editor.record("eve", "editor", "dismiss_conflict", f"conflict:{dismissed}", reason="same data")
    code, out = run(data_dir, "contested", "--json")
    ids = {c["id"] for c in json.loads(out)}
    assert code == 0 and dismissed not in ids and len(ids) == len(kb.computed_conflicts) - 1


def test_users_passwd_role_disable_are_journaled(data_dir: Path, instance_dir: Path) -> None:
    code, out = run(data_dir, "users", "add", "eve", "--role", "editor", "--password-stdin",
                    input=PASSWORD + "\n")  # fmt: skip
    assert code == 0, out
    old = Accounts(instance_dir).get("eve").generation
    code, out = run(data_dir, "users", "passwd", "eve", input="a brand new one\na brand new one\n")
    assert code == 0 and "every session it had has ended" in out, out
    assert "a brand new one" not in out
    accounts = Accounts(instance_dir)
    assert accounts.authenticate("eve", "a brand new one").role == "editor"
    assert accounts.authenticate("eve", PASSWORD) is None
    assert accounts.get("eve").generation != old
    code, out = run(data_dir, "users", "role", "eve", "--role", "reviewer")
    assert code == 0 and accounts.get("eve").role == "reviewer"
    code, out = run(data_dir, "users", "disable", "eve")
    assert code == 0 and accounts.authenticate("eve", "a brand new one") is None
    code, out = run(data_dir, "users", "list")
    assert "(disabled)" in out
    code, out = run(data_dir, "users", "passwd", "nobody", "--password-stdin", input="whatever1\n")
    assert code != 0 and "nobody" in out and "Traceback" not in out
    code, out = run(data_dir, "history", "claim:seed-max-dose")  # still works beside them
    assert code == 0
    journal = (instance_dir / "journal.jsonl").read_text()
    events = [json.loads(line) for line in journal.splitlines()]
    actions = [e["action"] for e in events if "action" in e]  # the first line is the header
    assert actions == ["user_add", "user_password", "user_role", "user_disable"]
    assert "a brand new one" not in journal and "$argon2" not in journal
