"""Import and export (issue 6): answer documents in; references, citations, claims and the
graph out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .. import export
from .common import call_with, emit, get_kb, json_option, output_option, progress


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Parse, match and validate, but write nothing.")
@json_option
@click.pass_context
def import_cmd(ctx: click.Context, file: Path, dry_run: bool, as_json: bool) -> None:
    """Import the answer document FILE as a new article (review status: submitted).

    Prints what was (or, with --dry-run, would be) imported: claims, new and matched
    references, unresolved citation numbers, lines not understood, skipped page furniture and
    the conflicts the new claims take part in. Importing the same file again changes nothing.
    """
    from datetime import date

    from .. import importer
    from ..knowledgebase import KnowledgeBase

    # Import into the data as stored, not as the editorial journal shows it: the importer
    # writes every record back, and the board's decisions belong in the journal until
    # `kb compact` folds them.
    with progress("Import", ["reading the data", f"importing {file.name}"], quiet=as_json) as prog:
        prog.step()
        stored = KnowledgeBase.load(ctx.find_root().obj["data_dir"])
        prog.step()
        report = call_with(
            importer.import_file, prog, stored, file, today=date.today(), dry_run=dry_run
        )
    if report.written:
        ctx.find_root().obj["kb"] = None
    emit(report.to_dict(), as_json, _print_import_report)


def _print_import_report(data: dict[str, Any]) -> None:
    counts = data["counts"]
    if data["unchanged"]:
        head = (
            f"Unchanged: {data['file']} is already article {data['article_id']}; nothing written."
        )
    elif data["dry_run"]:
        head = (
            f"Dry run: {data['file']} would become article {data['article_id']}; nothing written."
        )
    else:
        head = f"Imported {data['file']} as article {data['article_id']} (submitted)."
    click.echo(head)
    click.echo(
        f"  {data['title']} — last updated {data['last_updated']} "
        f"({'from the document' if data['last_updated_from'] == 'document' else 'today'})"
    )
    click.echo(
        f"  {counts['claims']} claims, {counts['references_new']} new references, "
        f"{counts['references_matched']} matched, {counts['unresolved_citations']} "
        f"unresolved citation numbers, {counts['not_understood']} lines not understood, "
        f"{counts['skipped_furniture']} lines of page furniture skipped"
    )
    for c in data["claims"]:
        value = f" {c['value_text']}" if c["value_text"] else ""
        click.echo(f"    {c['id']} [{c['kind']} / {c['outcome']}{value}] {c['text']}")
    if data["references_new"]:
        click.echo("  new references:")
        for r in data["references_new"]:
            click.echo(f"    [{r['number']}] {r['ref']} — {r['title']} ({r['year']})")
    if data["references_matched"]:
        click.echo("  matched references:")
        for r in data["references_matched"]:
            click.echo(f"    [{r['number']}] {r['ref']} (by {r['matched_by']})")
    for u in data["unresolved_citations"]:
        click.echo(
            f"  unresolved: [{u['number']}] cited at line(s) "
            f"{', '.join(str(n) for n in u['lines'])} is not in the document's list"
        )
    if data["not_understood"]:
        click.echo("  not understood:")
        for item in data["not_understood"]:
            click.echo(f"    line {item['line']}: {item['text']} ({item['reason']})")
    for w in data["warnings"]:
        click.echo(f"  warning: {w}")
    if data["conflicts"]:
        click.echo(f"  conflicts ({len(data['conflicts'])}):")
        for cf in data["conflicts"]:
            click.echo(f"    {cf['id']} {cf['type']}: {cf['explanation']}")


@click.group("export")
def export_group() -> None:
    """Export references, formatted citations, claims or the graph."""


def _deliver(text: str, output: Path | None, what: str) -> None:
    from ..storage import write_text_atomic

    if output is None:
        click.echo(text, nl=False)
    else:
        write_text_atomic(output, text)
        click.echo(f"wrote {what} to {output}", err=True)


@export_group.command("references")
@click.option("--format", "fmt", type=click.Choice(export.REFERENCE_FORMATS), required=True)
@output_option
@click.pass_context
def export_references_cmd(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Every reference as CSL-JSON, BibTeX or RIS."""
    from .. import export as export_mod

    kb = get_kb(ctx)
    _deliver(
        export_mod.export_references(kb, fmt), output, f"{len(kb.references)} references ({fmt})"
    )


@export_group.command("citations")
@click.option(
    "--style",
    type=click.Choice(export.CITATION_STYLES),
    default="harvard",
    show_default=True,
    help="harvard: citeproc-py with its bundled CSL style.",
)
@output_option
@click.pass_context
def export_citations_cmd(ctx: click.Context, style: str, output: Path | None) -> None:
    """Every reference as a formatted citation, one "[id] citation" per line."""
    from .. import export as export_mod

    kb = get_kb(ctx)
    _deliver(
        export_mod.citations_text(kb, style=style),
        output,
        f"{len(kb.references)} citations ({style})",
    )


@export_group.command("claims")
@click.option(
    "--format", "fmt", type=click.Choice(export.CLAIM_FORMATS), default="csv", show_default=True
)
@output_option
@click.pass_context
def export_claims_cmd(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Every claim as one CSV row, with its computed grade and conflicts."""
    from .. import export as export_mod

    kb = get_kb(ctx)
    _deliver(export_mod.claims_csv(kb), output, f"{len(kb.claims)} claims ({fmt})")


@export_group.command("graph")
@click.option("--format", "fmt", type=click.Choice(export.GRAPH_FORMATS), required=True)
@output_option
@click.pass_context
def export_graph_cmd(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """The knowledge graph as GraphML or networkx node-link JSON (as `kb graph export`)."""
    from .. import export as export_mod

    kb = get_kb(ctx)
    g = kb.graph
    _deliver(
        export_mod.export_graph(kb, fmt),
        output,
        f"{g.number_of_nodes()} nodes and {g.number_of_edges()} edges ({fmt})",
    )
