"""The editorial workflow (issue 5): accounts, folding the journal, a target's history."""

from __future__ import annotations

import sys
from typing import Any

import click

from ..editorial import ACCOUNT_ROLES
from .common import call_with, emit, get_editor, get_kb, instance_dir, json_option, progress


@click.group()
def users() -> None:
    """Editorial accounts (kept in INSTANCE_DIR/users.json, never in the data folder)."""


def _accounts(ctx: click.Context) -> Any:
    from ..accounts import Accounts

    return Accounts(instance_dir(ctx))


CLI_ACTOR = "cli"  # who account changes made at the terminal are journaled as


def _administer(ctx: click.Context, action: str, name: str, **kwargs: Any) -> dict[str, Any]:
    """Change an account as the terminal's admin and journal it."""
    from ..accounts import administer

    return administer(_accounts(ctx), get_editor(ctx), CLI_ACTOR, "admin", action, name, **kwargs)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))


PASSWORD_STDIN = click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of standard input (for scripts).",
)


ROLE_OPTION = click.option(
    "--role",
    type=click.Choice(list(ACCOUNT_ROLES)),
    required=True,
    help="reviewer: comment, flag, propose verdicts; editor: also decide; "
    "admin: also manage accounts.",
)


@users.command("add")
@click.argument("name")
@ROLE_OPTION
@PASSWORD_STDIN
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Create the account NAME; the password is asked twice (hidden) and stored hashed."""
    user = _administer(ctx, "user_add", name, role=role, password=_password(password_stdin))
    click.echo(f"Added {user['name']} ({user['role']}) to {_accounts(ctx).path}.")


@users.command("passwd")
@click.argument("name")
@PASSWORD_STDIN
@click.pass_context
def users_passwd(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Set a new password for NAME (asked twice, hidden); its sessions end."""
    _administer(ctx, "user_password", name, password=_password(password_stdin))
    click.echo(f"Changed the password of {name}; every session it had has ended.")


@users.command("role")
@click.argument("name")
@ROLE_OPTION
@click.pass_context
def users_role(ctx: click.Context, name: str, role: str) -> None:
    """Change the role of NAME; its sessions end (it logs in again)."""
    _administer(ctx, "user_role", name, role=role)
    click.echo(f"{name} is now {role}; every session it had has ended.")


@users.command("disable")
@click.argument("name")
@click.pass_context
def users_disable(ctx: click.Context, name: str) -> None:
    """Disable NAME: it cannot log in and its sessions end (its history stays)."""
    _administer(ctx, "user_disable", name)
    click.echo(f"Disabled {name}.")


@users.command("enable")
@click.argument("name")
@click.pass_context
def users_enable(ctx: click.Context, name: str) -> None:
    """Enable NAME again."""
    _administer(ctx, "user_enable", name)
    click.echo(f"Enabled {name}.")


@users.command("list")
@json_option
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """Every account with its role (never a password hash)."""
    emit(
        [
            {**u.to_dict(), **({"disabled": True} if u.disabled else {})}
            for u in _accounts(ctx).list()
        ],
        as_json,
        _print_users,
    )


def _print_users(items: list[dict[str, Any]]) -> None:
    if not items:
        click.echo("No accounts yet: add one with `kb users add NAME --role editor`.")
    for u in items:
        click.echo(f"{u['name']:<24} {u['role']}{'  (disabled)' if u.get('disabled') else ''}")


@users.command("remove")
@click.argument("name")
@click.pass_context
def users_remove(ctx: click.Context, name: str) -> None:
    """Delete the account NAME (its past decisions stay in the history)."""
    _administer(ctx, "user_remove", name)
    click.echo(f"Removed {name}.")


@click.command()
@click.pass_context
def compact(ctx: click.Context) -> None:
    """Fold the editorial journal into the data files, atomically.

    Review statuses and verdicts go into articles.json and claims.json, every event into
    DATA_DIR/editorial.json, then the journal is emptied; safe while the site is running.
    """
    with progress("Compact", ["replaying the journal", "folding it into the data"]) as prog:
        prog.step()
        editor = get_editor(ctx)
        prog.step()
        folded = call_with(editor.compact, prog)
    noun = "event" if folded == 1 else "events"
    click.echo(
        f"Folded {folded} {noun} into {editor.kb.data_dir}; "
        f"{len(editor.state.events)} in all; the journal is empty."
    )


@click.command()
@click.argument("target")
@json_option
@click.pass_context
def history(ctx: click.Context, target: str, as_json: bool) -> None:
    """The editorial history of TARGET: claim:ID or article:ID (a bare id is tried as both)."""
    from .. import dashboard

    kb = get_kb(ctx)
    kind, _, tid = target.rpartition(":")
    if not kind:
        kind = "article" if tid in kb.articles else "claim"
    if kind not in ("claim", "article"):
        raise click.BadParameter("expected claim:ID or article:ID", param_hint="TARGET")
    emit(dashboard.history(kb, f"{kind}s", tid), as_json, _print_history)


def _print_history(data: dict[str, Any]) -> None:
    t = data["target"]
    click.echo(f"{t['kind']} {t['id']} (version {t['version']}): {t['label']}")
    if not data["events"]:
        click.echo("  no editorial events")
    for e in data["events"]:
        on = "" if e["target"] == f"{t['kind']}:{t['id']}" else f" [{e['target']}]"
        click.echo(f"  {e['at']}  {e['actor']} ({e['role']}) {e['action_label']}{on}")
        click.echo(f"      {e['change']}")
        if e["reason"]:
            click.echo(f"      why: {e['reason']}")
