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
    click.echo(f"  {data['message']}")
    direct = data["answer"]
    click.echo(f"\nAnswer (certainty: {direct['certainty']}):")
    for s in direct["sentences"]:
        click.echo(f"  - {s['text']}  ({', '.join(s['claims'][:6])})")
    if direct.get("note"):
        click.echo(f"  Note: {direct['note']}")
    meter = data.get("meter")
    if meter:
        counts = ", ".join(f"{n} {side}" for side, n in meter["counts"].items() if n)
        noun = "study" if meter["studies"] == 1 else "studies"
        click.echo(f"\nEvidence meter: {meter['studies']} {noun} ({counts})")
        for e in meter.get("excluded") or []:
            click.echo(f"  not counted: {e['label']} ({e['status']})")
        for g in meter["groups"]:
            studies = "; ".join(
                f"{s['label']} ({s['side']}{', n=' + str(s['n']) if s['n'] else ''})"
                for s in g["studies"]
            )
            click.echo(f"  {g['label']}: {studies}")
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
