"""Answering a question from the knowledge base's claims only."""

from __future__ import annotations

from typing import Any

import click

from .common import board_flag, emit, get_kb, json_option


@click.command()
@click.argument("question")
@json_option
@click.pass_context
def ask(ctx: click.Context, question: str, as_json: bool) -> None:
    """Answer QUESTION from knowledge-base claims only (the same answer as /api/ask)."""
    from .. import answer as answer_mod

    emit(answer_mod.ask(get_kb(ctx), question), as_json, _print_answer)


def _print_answer(data: dict[str, Any]) -> None:
    click.echo(data["question"])
    if not data["relevant"]:
        click.echo(f"  {data['message']}")
        return
    bottom = data["bottom_line"]
    origin = (
        f"article {bottom['article_id']}" if bottom["source"] == "article" else "evidence summary"
    )
    click.echo(f"\nBottom line ({origin}):")
    if bottom["claims"]:
        for c in bottom["claims"]:
            click.echo(f"  - [{c['evidence']['grade']}] {c['text']}{board_flag(c)}")
    else:
        click.echo(f"  {bottom['text']}")
    for sec in data["sections"]:
        click.echo(f"\n{sec['label']}:")
        for c in sec["claims"]:
            sources = ", ".join(cit["label"] for cit in c["citations"]) or "uncited"
            flag = ("  [contested]" if c["conflicts"] else "") + board_flag(c)
            click.echo(f"  - [{c['evidence']['grade']}] {c['text']} ({sources}){flag}")
    if data["contested"]:
        click.echo(f"\nContested ({len(data['contested'])}):")
        for cf in data["contested"]:
            click.echo(f"  - {cf['explanation']}")
    if data["follow_ups"]:
        click.echo("\nFollow-up questions:")
        for q in data["follow_ups"]:
            click.echo(f"  - {q}")
