"""``kb summary``: the GRADE summary of findings, one row per (intervention, condition, outcome)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from .common import emit, get_kb, json_option

if TYPE_CHECKING:
    from ..summary import SummaryPage


@click.command()
@click.option("--condition", help="Only this condition and the conditions below it (an id).")
@json_option
@click.pass_context
def summary(ctx: click.Context, condition: str | None, as_json: bool) -> None:
    """Certainty of the evidence per outcome, with the reason for each step (as /api/summary)."""
    from .. import summary as summary_mod

    emit(summary_mod.summary_page(get_kb(ctx), condition), as_json, _print_summary)


def _print_summary(data: SummaryPage) -> None:
    bodies = data["bodies"]
    if data["condition"]:
        click.echo(f"Summary of findings: {data['condition']['label']}")
    if not bodies:
        click.echo("No body of evidence for this condition.")
        return
    for body in bodies:
        n = body["participants"]
        size = f"{n} participants" if n is not None else "participants not reported"
        click.echo(
            f"\n{body['outcome_label']} · {body['condition_label']} · {body['intervention']}"
        )
        click.echo(f"  {body['certainty']}: {body['statement']}")
        studies = len(body["studies"])
        click.echo(
            f"  {size} ({studies} {'study' if studies == 1 else 'studies'}); effect: {body['effect']}"
        )
        for reason in body["reasons"]:
            change = f"{reason['change']:+d}" if reason["change"] else " 0"
            click.echo(f"    {change} {reason['domain']}: {reason['text']}")
