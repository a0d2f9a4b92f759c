"""Finding things: search and the search index (issue 3)."""

from __future__ import annotations

from typing import Any

import click

from .common import board_flag, call_with, emit, get_kb, json_option, progress


@click.command()
@click.argument("query")
@click.option("--kind", multiple=True, help="Only claims of this kind (repeatable).")
@click.option(
    "--condition",
    multiple=True,
    help="Only this condition or the conditions below it (id, label or synonym).",
)
@click.option("--grade", multiple=True, help="Only this evidence grade (High … Very low).")
@click.option(
    "--design",
    multiple=True,
    help="Only this study design of the evidence (e.g. rct, systematic-review).",
)
@click.option(
    "--limit", default=10, show_default=True, type=click.IntRange(1, 100), help="Results per page."
)
@click.option("--page", default=1, show_default=True, type=click.IntRange(1, None))
@json_option
@click.pass_context
def search(
    ctx: click.Context,
    query: str,
    kind: tuple[str, ...],
    condition: tuple[str, ...],
    grade: tuple[str, ...],
    design: tuple[str, ...],
    limit: int,
    page: int,
    as_json: bool,
) -> None:
    """Search claims and references for QUERY, strongest evidence first.

    QUERY understands clinical synonyms (CRPS, LDN, FM …), "quoted phrases", NOT/-word,
    word* and word~, and filters typed in it: kind: condition: grade: design:.
    """
    data = get_kb(ctx).search(
        query,
        kind=list(kind),
        condition=list(condition),
        grade=list(grade),
        design=list(design),
        limit=limit,
        page=page,
    )
    emit(data, as_json, _print_results)


def _print_results(data: dict[str, Any]) -> None:
    first = (data["page"] - 1) * data["limit"] + 1
    shown = len(data["results"])
    click.echo(
        f"{data['total']} results for {data['query']!r}"
        + (f" (showing {first}–{first + shown - 1})" if shown else "")
    )
    if data["suggestion"]:
        click.echo(f"Did you mean: {data['suggestion']}")
    for note in data["warnings"]:
        click.echo(f"Note: {note}")
    for i, hit in enumerate(data["results"], first):
        if hit["type"] == "reference":
            click.echo(f"\n{i}. [reference] {hit['id']} — {hit['label']}")
            click.echo(f"   {_plain_highlight(hit['highlight'])}")
        else:
            sources = ", ".join(c["label"] for c in hit["citations"]) or "uncited"
            click.echo(
                f"\n{i}. [{hit['evidence']['grade']}] {hit['id']} "
                f"({hit['kind'].replace('_', ' ')}; {sources}){board_flag(hit)}"
            )
            click.echo(f"   {_plain_highlight(hit['highlight'])}")
    facets = {k: v for k, v in data["facets"].items() if v}
    if facets:
        click.echo("")
        for name, counts in facets.items():
            top = ", ".join(f"{k} {n}" for k, n in list(counts.items())[:6])
            click.echo(f"{name}: {top}")


def _plain_highlight(snippet: str) -> str:
    """A search snippet for the terminal: matches in bold (plain text when not a tty)."""
    parts = snippet.replace("</mark>", "<mark>").split("<mark>")
    return "".join(click.style(p, bold=True) if i % 2 else p for i, p in enumerate(parts))


@click.command("index")
@click.option("--rebuild", is_flag=True, help="Rewrite every document, not only changed ones.")
@json_option
@click.pass_context
def index_cmd(ctx: click.Context, rebuild: bool, as_json: bool) -> None:
    """Build or update the search index (only what changed, unless --rebuild)."""
    steps = ["loading the knowledge base", "grading claims and finding conflicts", "indexing"]
    with progress("Search index", steps, quiet=as_json) as prog:
        prog.step()
        kb = get_kb(ctx)
        prog.step()
        kb.grades, kb.conflicts  # noqa: B018  (computed here so the bar shows where time goes)
        prog.step()
        data = call_with(kb.reindex, prog, rebuild=rebuild)
    emit({"index_dir": str(kb.index_dir), **data}, as_json, _print_index)


def _print_index(data: dict[str, Any]) -> None:
    if data["note"]:
        click.echo(f"Note: {data['note']}")
    what = "rebuilt" if data["rebuilt"] else "updated"
    click.echo(
        f"Search index {what} in {data['index_dir']}: {data['documents']} documents "
        f"({data['added']} added, {data['updated']} rewritten, {data['deleted']} "
        f"removed, {data['unchanged']} unchanged) in {data['seconds']:.1f} s."
    )
