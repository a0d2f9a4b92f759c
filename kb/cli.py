"""The ``kb`` command line: a thin click layer, one library call per command.

Every command reads ``--data-dir`` (default ``$KB_DATA_DIR`` or ``./data``), prints a readable
summary by default and the library's JSON with ``--json``. Library errors become a one-line
message and exit status 1; nothing is ever written to the data files by a read command.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from . import integrity as integrity_mod
from . import shapes
from . import trace as trace_mod
from .errors import KBError
from .knowledgebase import KnowledgeBase


class KBGroup(click.Group):
    """Maps every :class:`KBError` to a clean CLI error, once, for all commands."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KBError as exc:
            raise click.ClickException(str(exc)) from None


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _kb(ctx: click.Context) -> KnowledgeBase:
    obj = ctx.find_root().obj
    if obj.get("kb") is None:
        obj["kb"] = KnowledgeBase.load(obj["data_dir"])
    return obj["kb"]


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group(cls=KBGroup)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="KB_DATA_DIR", default="data", show_default=True,
              help="Folder with references.json, claims.json, articles.json, conditions.json "
                   "(env KB_DATA_DIR).")
@click.version_option(package_name="ldn-kb")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path) -> None:
    """Evidence-aware clinical knowledge base: claims, references, grades and conflicts."""
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    ctx.obj.setdefault("kb", None)


@cli.command()
@json_option
@click.pass_context
def validate(ctx: click.Context, as_json: bool) -> None:
    """Check every data file against its schema and every id against the others."""
    kb = _kb(ctx)
    result = {"valid": True, "data_dir": str(kb.data_dir), "claims": len(kb.claims),
              "references": len(kb.references), "articles": len(kb.articles)}
    if as_json:
        _emit_json(result)
    else:
        click.echo(f"OK: {kb.data_dir} — {len(kb.claims)} claims, {len(kb.references)} "
                   f"references, {len(kb.articles)} articles are valid.")


@cli.command()
@json_option
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Counts of claims, references, grades and conflicts."""
    data = _kb(ctx).stats()
    if as_json:
        _emit_json(data)
        return
    for key, value in data.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for k, v in value.items():
                click.echo(f"  {k:<28} {v}")
        else:
            click.echo(f"{key:<30} {value}")


@cli.command()
@click.argument("claim_id")
@json_option
@click.pass_context
def trace(ctx: click.Context, claim_id: str, as_json: bool) -> None:
    """Follow CLAIM_ID to its cited reference, the primary study and the verdict."""
    kb = _kb(ctx)
    data = trace_mod.trace(kb, claim_id)
    if as_json:
        _emit_json({**data, "claim": shapes.claim_json(kb, claim_id)})
        return
    claim = kb.claim(claim_id)
    click.echo(f"{claim.id}: {claim.text}")
    grade = kb.grades[claim_id]
    click.echo(f"  evidence: {grade.grade} (CEBM level {grade.cebm_level})")
    for step in data["steps"]:
        num = f"[{step['number']}] " if step["number"] is not None else ""
        if step["cited"]:
            click.echo(f"  cites {num}{step['cited']['label']} — {step['cited']['title']}")
            for t in step["traces_to"]:
                click.echo(f"    whose numbers trace to {t['label']}")
        else:
            click.echo(f"  cites {num}— not in the article's own reference list")
            res = step["proposed_resolution"]
            if res:
                click.echo(f"    proposed resolution ({res['confidence']}, {res['status']}): "
                           f"{res['ref']['label']}")
    if not data["steps"]:
        click.echo("  cites nothing")
    primary = data["primary"]
    if primary:
        label = primary["ref"]["label"] if primary["ref"] else "no primary study identified"
        click.echo(f"  primary study: {label}")
        if primary["verdict"]:
            click.echo(f"  verdict: {primary['verdict_label']}")
        click.echo(f"  note: {primary['note']}")


@cli.command()
@click.argument("ref_id")
@json_option
@click.pass_context
def dependents(ctx: click.Context, ref_id: str, as_json: bool) -> None:
    """Every claim and article that would be affected if REF_ID were retracted."""
    data = trace_mod.dependents(_kb(ctx), ref_id)
    if as_json:
        _emit_json(data)
        return
    click.echo(f"{data['reference']['label']}: {len(data['claims'])} claims, "
               f"{len(data['articles'])} articles depend on it")
    for item in data["claims"]:
        click.echo(f"  claim {item['id']} ({'; '.join(item['how'])})")
    for item in data["articles"]:
        click.echo(f"  article {item['id']} ({'; '.join(item['how'])})")


@cli.command()
@click.option("--type", "ctype", help="Only conflicts of this type.")
@json_option
@click.pass_context
def contested(ctx: click.Context, ctype: str | None, as_json: bool) -> None:
    """Every computed conflict: its type, scope, sides and a one-line explanation."""
    kb = _kb(ctx)
    items = [shapes.conflict_json(kb, cid) for cid, c in kb.conflicts.items()
             if ctype is None or c.type == ctype]
    if as_json:
        _emit_json(items)
        return
    click.echo(f"{len(items)} conflicts")
    for c in items:
        click.echo(f"\n{c['id']}  {c['type']}  [{c['scope']} scope: {c['condition_label']}]")
        click.echo(f"  {c['topic']}")
        click.echo(f"  {c['explanation']}")
        for side in c["sides"]:
            click.echo(f"  - {side['label']}:")
            for cl in side["claims"]:
                click.echo(f"      {cl['id']} ({cl['grade']}; {', '.join(cl['sources'])})")


@cli.command()
@json_option
@click.pass_context
def integrity(ctx: click.Context, as_json: bool) -> None:
    """Unresolved citations, secondary sources, self-citation, gaps in the data."""
    data = integrity_mod.report(_kb(ctx))
    if as_json:
        _emit_json(data)
        return
    for key, items in data.items():
        click.echo(f"{key.replace('_', ' ')}: {len(items)}")
        for item in items:
            click.echo(f"  {json.dumps(item, ensure_ascii=False) if isinstance(item, dict) else item}")


@cli.group()
def graph() -> None:
    """The knowledge graph."""


@graph.command("export")
@click.option("--format", "fmt", type=click.Choice(["graphml", "node-link"]), required=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
              help="File to write (default: standard output).")
@click.pass_context
def graph_export(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Export the graph as GraphML or networkx node-link JSON."""
    from . import graph as graph_mod

    g = _kb(ctx).graph
    if output is not None:
        graph_mod.export(g, output, fmt)
        click.echo(f"wrote {g.number_of_nodes()} nodes and {g.number_of_edges()} edges "
                   f"to {output}", err=True)
    elif fmt == "node-link":
        click.echo(graph_mod.dumps_node_link(g))
    else:
        import networkx as nx
        for line in nx.generate_graphml(g):
            click.echo(line)


def main() -> None:  # pragma: no cover - console entry point
    cli(obj={}, prog_name="kb")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
