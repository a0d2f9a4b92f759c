"""Reading the knowledge base: validate, stats, trace, dependents, contested, integrity and
the graph export."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from .. import contested as contested_mod
from .. import export, shapes
from .. import integrity as integrity_mod
from .. import trace as trace_mod
from ..claims import VERDICT_LABELS
from ..knowledgebase import KnowledgeBase
from .common import emit, get_kb, json_option, output_option, plural, sources_label


@click.command()
@json_option
@click.pass_context
def validate(ctx: click.Context, as_json: bool) -> None:
    """Check every data file against its schema and every id against the others."""
    kb = get_kb(ctx)
    result = {
        "valid": True,
        "data_dir": str(kb.data_dir),
        "claims": len(kb.claims),
        "references": len(kb.references),
        "articles": len(kb.articles),
    }
    emit(result, as_json, _print_validate)


def _print_validate(data: dict[str, Any]) -> None:
    click.echo(
        f"OK: {data['data_dir']} — {plural(data['claims'], 'claim')}, "
        f"{plural(data['references'], 'reference')}, {plural(data['articles'], 'article')} "
        "are valid."
    )


@click.command()
@json_option
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Counts of claims, references, grades and conflicts."""
    emit(get_kb(ctx).stats(), as_json, _print_stats)


def _print_stats(data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, dict):
            click.echo(f"{key}:")
            for k, v in value.items():
                click.echo(f"  {k:<28} {v}")
        else:
            click.echo(f"{key:<30} {value}")


@click.command()
@click.argument("claim_id")
@json_option
@click.pass_context
def trace(ctx: click.Context, claim_id: str, as_json: bool) -> None:
    """Follow CLAIM_ID to its cited reference, the primary study and the verdict."""
    kb = get_kb(ctx)
    data = trace_mod.trace(kb, claim_id)
    emit({**data, "claim": shapes.claim_json(kb, claim_id)}, as_json, _print_trace)


def _print_trace(data: dict[str, Any]) -> None:
    claim = data["claim"]
    click.echo(f"{claim['id']}: {claim['text']}")
    grade = claim["evidence"]
    level = f" (CEBM level {grade['cebm_level']})" if grade["cebm_level"] else ""
    click.echo(f"  evidence: {grade['grade']}{level}")
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
                click.echo(
                    f"    proposed resolution ({res['confidence']}, {res['status']}): "
                    f"{res['ref']['label']}"
                )
    if not data["steps"]:
        click.echo("  cites nothing")
    primary = data["primary"]
    if primary:
        label = primary["ref"]["label"] if primary["ref"] else "no primary study identified"
        click.echo(f"  primary study: {label}")
        if primary["verdict"]:
            click.echo(f"  verdict: {primary['verdict_label']}")
        click.echo(f"  note: {primary['note']}")


@click.command()
@click.argument("ref_id")
@json_option
@click.pass_context
def dependents(ctx: click.Context, ref_id: str, as_json: bool) -> None:
    """Every claim and article that would be affected if REF_ID were retracted."""
    emit(trace_mod.dependents(get_kb(ctx), ref_id), as_json, _print_dependents)


def _print_dependents(data: dict[str, Any]) -> None:
    click.echo(
        f"{data['reference']['label']}: {plural(len(data['claims']), 'claim')} and "
        f"{plural(len(data['articles']), 'article')} depend on it"
    )
    if data["claims"]:
        click.echo("\nClaims:")
    for item in data["claims"]:
        click.echo(f"  {item['id']}: {item['text']}")
        click.echo(f"    how: {'; '.join(item['how'])}")
    if data["articles"]:
        click.echo("\nArticles:")
    for item in data["articles"]:
        click.echo(f"  {item['id']}: {item['title']}")
        click.echo(f"    how: {'; '.join(item['how'])}")


@click.command()
@click.option("--type", "ctype", help="Only conflicts of this type.")
@json_option
@click.pass_context
def contested(ctx: click.Context, ctype: str | None, as_json: bool) -> None:
    """Every active conflict (computed or added by an editor, less those the editorial board
    set aside), most relevant first: its title, sides, claim texts, grades and sources; then
    the indirect context (different populations), which never lowers a grade."""
    kb = get_kb(ctx)
    active = sorted(kb.conflicts.values(), key=lambda c: contested_mod.relevance(kb, c))
    items = [shapes.conflict_json(kb, c.id) for c in active if ctype is None or c.type == ctype]
    emit(items, as_json, _print_contested)


def _print_contested(items: list[dict[str, Any]]) -> None:
    conflicts = [c for c in items if not c.get("context")]
    context = [c for c in items if c.get("context")]
    click.echo(
        f"{plural(len(conflicts), 'conflict')}, {plural(len(context), 'piece')} of indirect context"
    )
    for heading, group in (("Conflicts", conflicts), ("Indirect context", context)):
        if not group:
            continue
        click.echo(f"\n== {heading} ==")
        for n, c in enumerate(group, start=1):
            kind = contested_mod.TYPE_LABELS.get(c["type"], c["type"])
            click.echo(f"\n{n}. {c.get('title') or c['topic']}")
            click.echo(f"   {kind}; {c['condition_label']} ({c['scope']} scope); id {c['id']}")
            click.echo(
                textwrap.fill(c["explanation"], 96, initial_indent="   ", subsequent_indent="   ")
            )
            for side in c["sides"]:
                click.echo(f"   - {side['label']}:")
                for cl in side["claims"]:
                    sources = sources_label(cl["sources"])
                    click.echo(
                        textwrap.fill(
                            f"{cl['text']} [{cl['grade']}; {sources}; {cl['id']}]",
                            96,
                            initial_indent="       * ",
                            subsequent_indent="         ",
                        )
                    )


@click.command()
@json_option
@click.pass_context
def integrity(ctx: click.Context, as_json: bool) -> None:
    """Unresolved citations, secondary sources, self-citation, gaps in the data."""
    kb = get_kb(ctx)
    emit(integrity_mod.report(kb), as_json, lambda data: _print_integrity(kb, data))


def _claim_line(kb: KnowledgeBase, claim_id: str) -> str:
    claim = kb.claims.get(claim_id)
    return f"{claim_id}: {claim.text}" if claim else claim_id


def _ref_name(kb: KnowledgeBase, ref_id: str | None) -> str:
    ref = kb.references.get(ref_id or "")
    return f"{ref.label} ({ref_id})" if ref else str(ref_id)


def _integrity_item(kb: KnowledgeBase, section: str, item: Any) -> list[str]:
    """One finding of the integrity report as readable lines (any shape is printed)."""
    if isinstance(item, str):
        if item in kb.claims:
            return [_claim_line(kb, item)]
        return [_ref_name(kb, item)]
    if section == "unresolved_citations":
        proposed = (
            f"proposed: {_ref_name(kb, item.get('proposed_ref'))} "
            f"({item.get('confidence')}, {item.get('status')})"
            if item.get("proposed_ref")
            else "no resolution proposed"
        )
        return [
            _claim_line(kb, item["claim"]),
            f"  cites [{item['number']}], missing from the list of {item['article']}; {proposed}",
        ]
    if section == "secondary_sources_traced_elsewhere":
        targets = ", ".join(_ref_name(kb, t) for t in item.get("traced_to", []))
        return [
            f"{_ref_name(kb, item['ref'])}, cited by {plural(item.get('cited_by', 0), 'claim')}: "
            f"its numbers trace to {targets}"
        ]
    if section == "self_citations":
        return [
            f"{item['article']} cites [{item['number']}] {_ref_name(kb, item['ref'])}, "
            f"published by {item.get('publisher')}, the article's own publisher"
        ]
    if section == "missing_identifiers":
        return [
            f"{_ref_name(kb, item['ref'])}, {str(item.get('role', '')).replace('-', ' ')}: "
            f"no {' or '.join(item['missing'])}"
        ]
    if section == "seed_claims_not_supported":
        label = VERDICT_LABELS.get(item.get("verdict", ""), item.get("verdict"))
        return [_claim_line(kb, item["claim"]), f"  {label}: {item.get('note', '')}"]
    return ["; ".join(f"{k}: {v}" for k, v in item.items())]


def _print_integrity(kb: KnowledgeBase, data: Mapping[str, Any]) -> None:
    for n, (key, items) in enumerate(data.items()):
        if n:
            click.echo("")
        title = key.replace("_", " ")
        click.echo(f"{title[:1].upper()}{title[1:]}: {len(items)}")
        for item in items:
            for line in _integrity_item(kb, key, item):
                click.echo(f"  {line}")


@click.group()
def graph() -> None:
    """The knowledge graph."""


@graph.command("export")
@click.option("--format", "fmt", type=click.Choice(export.GRAPH_FORMATS), required=True)
@output_option
@click.pass_context
def graph_export(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Export the graph as GraphML or networkx node-link JSON."""
    from .. import graph as graph_mod

    g = get_kb(ctx).graph
    if output is not None:
        graph_mod.export(g, output, fmt)
        click.echo(
            f"wrote {g.number_of_nodes()} nodes and {g.number_of_edges()} edges to {output}",
            err=True,
        )
    elif fmt == "node-link":
        click.echo(graph_mod.dumps_node_link(g))
    else:
        import networkx as nx

        for line in nx.generate_graphml(g):
            click.echo(line)
