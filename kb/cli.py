"""The ``kb`` command line: a thin click layer, one library call per command.

Every command reads ``--data-dir`` (default ``$KB_DATA_DIR`` or ``./data``), prints a readable
summary by default and the library's JSON with ``--json``. Library errors become a one-line
message and exit status 1; nothing is ever written to the data files by a read command.
``--instance-dir`` (default ``$KB_INSTANCE_DIR`` or ``DATA_DIR/../instance``) holds what is not
data: the editorial journal, the accounts, the session key and (by default) the search index.
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


def _instance_dir(ctx: click.Context) -> Path:
    obj = ctx.find_root().obj
    if obj.get("instance_dir") is not None:
        return Path(obj["instance_dir"])
    return Path(obj["data_dir"]).absolute().parent / "instance"


def _kb(ctx: click.Context) -> KnowledgeBase:
    """The knowledge base, with the editorial journal replayed (as the web site shows it)."""
    obj = ctx.find_root().obj
    if obj.get("kb") is None:
        index_dir = obj.get("index_dir")
        if index_dir is None and obj.get("instance_dir") is not None:
            index_dir = Path(obj["instance_dir"]) / "index"
        obj["kb"] = KnowledgeBase.load(obj["data_dir"], index_dir=index_dir)
        _editor(ctx)
    return obj["kb"]


def _editor(ctx: click.Context) -> Any:
    """The :class:`kb.editorial.Editor` of the knowledge base (replaying reads, never writes)."""
    from .editorial import Editor

    obj = ctx.find_root().obj
    if obj.get("editor") is None or obj["editor"].kb is not obj.get("kb"):
        obj["editor"] = Editor.open(_kb(ctx), _instance_dir(ctx))
    return obj["editor"]


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group(cls=KBGroup)
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="KB_DATA_DIR", default="data", show_default=True,
              help="Folder with references.json, claims.json, articles.json, conditions.json "
                   "(env KB_DATA_DIR).")
@click.option("--index-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="KB_INDEX_DIR", default=None,
              help="Folder of the search index (env KB_INDEX_DIR; default "
                   "INSTANCE_DIR/index).")
@click.option("--instance-dir", type=click.Path(file_okay=False, path_type=Path),
              envvar="KB_INSTANCE_DIR", default=None,
              help="Folder of the editorial journal, accounts and session key (env "
                   "KB_INSTANCE_DIR; default DATA_DIR/../instance).")
@click.version_option(package_name="ldn-kb")
@click.pass_context
def cli(ctx: click.Context, data_dir: Path, index_dir: Path | None,
        instance_dir: Path | None) -> None:
    """Evidence-aware clinical knowledge base: claims, references, grades and conflicts."""
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    ctx.obj["index_dir"] = index_dir
    ctx.obj["instance_dir"] = instance_dir
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
    """Every active conflict (computed or added by an editor, less those the editorial board
    set aside): its type, scope, sides and a one-line explanation."""
    kb = _kb(ctx)
    items = [shapes.conflict_json(kb, cid) for cid, c in kb.active_conflicts().items()
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


def _board_flag(claim: dict[str, Any]) -> str:
    """The editorial board's notice on a claim, for the terminal ("" when not flagged)."""
    if not claim["editorial"]["contested_by_board"]:
        return ""
    reasons = "; ".join(f["reason"] for f in claim["editorial"]["flags"])
    return f"  [contested — flagged by the editorial board: {reasons}]"


@cli.command()
@click.argument("question")
@json_option
@click.pass_context
def ask(ctx: click.Context, question: str, as_json: bool) -> None:
    """Answer QUESTION from knowledge-base claims only (the same answer as /api/ask)."""
    from . import answer as answer_mod

    data = answer_mod.ask(_kb(ctx), question)
    if as_json:
        _emit_json(data)
        return
    click.echo(data["question"])
    if not data["relevant"]:
        click.echo(f"  {data['message']}")
        return
    bottom = data["bottom_line"]
    origin = f"article {bottom['article_id']}" if bottom["source"] == "article" \
        else "evidence summary"
    click.echo(f"\nBottom line ({origin}):")
    if bottom["claims"]:
        for c in bottom["claims"]:
            click.echo(f"  - [{c['evidence']['grade']}] {c['text']}{_board_flag(c)}")
    else:
        click.echo(f"  {bottom['text']}")
    for sec in data["sections"]:
        click.echo(f"\n{sec['label']}:")
        for c in sec["claims"]:
            sources = ", ".join(cit["label"] for cit in c["citations"]) or "uncited"
            flag = ("  [contested]" if c["conflicts"] else "") + _board_flag(c)
            click.echo(f"  - [{c['evidence']['grade']}] {c['text']} ({sources}){flag}")
    if data["contested"]:
        click.echo(f"\nContested ({len(data['contested'])}):")
        for cf in data["contested"]:
            click.echo(f"  - {cf['explanation']}")
    if data["follow_ups"]:
        click.echo("\nFollow-up questions:")
        for q in data["follow_ups"]:
            click.echo(f"  - {q}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Worker threads of the WSGI server.")
@click.option("--secure-cookies/--no-secure-cookies", default=True, show_default=True,
              help="Send the session cookie over HTTPS only. Browsers accept such cookies "
                   "from http://127.0.0.1 and http://localhost too; turn it off only to log in "
                   "over plain HTTP on another address (never on a public network).")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, threads: int,
          secure_cookies: bool) -> None:
    """Serve the web site and JSON API on waitress (a production WSGI server).

    The knowledge base is loaded once, the editorial journal replayed and the search index
    built (first start) or opened before the server starts listening.
    """
    import waitress

    from web import create_app  # the web adapter; the kb library itself never imports Flask

    kb = _kb(ctx)
    click.echo(f"Loading {kb.data_dir} and warming the search index ...", err=True)
    app = create_app({"KB": kb, "KB_INSTANCE_DIR": str(_instance_dir(ctx)),
                      "SESSION_COOKIE_SECURE": secure_cookies})
    click.echo(f"Serving on http://{host}:{port}/ with {threads} threads (Ctrl-C to stop).",
               err=True)
    waitress.serve(app, host=host, port=port, threads=threads, ident="kb",
                   clear_untrusted_proxy_headers=True)


# -- editorial workflow (issue 5) -------------------------------------------------------------
@cli.group()
def users() -> None:
    """Editorial accounts (kept in INSTANCE_DIR/users.json, never in the data folder)."""


def _accounts(ctx: click.Context) -> Any:
    from .accounts import Accounts

    return Accounts(_instance_dir(ctx))


@users.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["reviewer", "editor", "admin"]), required=True,
              help="reviewer: comment, flag, propose verdicts; editor: also decide; "
                   "admin: also manage accounts.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
@click.pass_context
def users_add(ctx: click.Context, name: str, role: str, password_stdin: bool) -> None:
    """Create the account NAME; the password is asked twice (hidden) and stored hashed."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = _accounts(ctx).add(name, role, password)
    click.echo(f"Added {user.name} ({user.role}) to {_accounts(ctx).path}.")


@users.command("list")
@json_option
@click.pass_context
def users_list(ctx: click.Context, as_json: bool) -> None:
    """Every account with its role (never a password hash)."""
    items = [u.to_dict() for u in _accounts(ctx).list()]
    if as_json:
        _emit_json(items)
        return
    if not items:
        click.echo("No accounts yet: add one with `kb users add NAME --role editor`.")
    for u in items:
        click.echo(f"{u['name']:<24} {u['role']}")


@users.command("remove")
@click.argument("name")
@click.pass_context
def users_remove(ctx: click.Context, name: str) -> None:
    """Delete the account NAME (its past decisions stay in the history)."""
    _accounts(ctx).remove(name)
    click.echo(f"Removed {name}.")


@cli.command()
@click.pass_context
def compact(ctx: click.Context) -> None:
    """Fold the editorial journal into the data files, atomically.

    Review statuses and verdicts go into articles.json and claims.json, every event into
    DATA_DIR/editorial.json, then the journal is emptied; safe while the site is running.
    """
    editor = _editor(ctx)
    folded = editor.compact()
    noun = "event" if folded == 1 else "events"
    click.echo(f"Folded {folded} {noun} into {editor.kb.data_dir}; "
               f"{len(editor.state.events)} in all; the journal is empty.")


@cli.command()
@click.argument("target")
@json_option
@click.pass_context
def history(ctx: click.Context, target: str, as_json: bool) -> None:
    """The editorial history of TARGET: claim:ID or article:ID (a bare id is tried as both)."""
    from . import dashboard

    kb = _kb(ctx)
    kind, _, tid = target.rpartition(":")
    if not kind:
        kind = "article" if tid in kb.articles else "claim"
    if kind not in ("claim", "article"):
        raise click.BadParameter("expected claim:ID or article:ID", param_hint="TARGET")
    data = dashboard.history(kb, f"{kind}s", tid)
    if as_json:
        _emit_json(data)
        return
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


# -- import and export (issue 6) ---------------------------------------------------------------
def _print_import_report(data: dict[str, Any]) -> None:
    counts = data["counts"]
    if data["unchanged"]:
        head = f"Unchanged: {data['file']} is already article {data['article_id']}; nothing written."
    elif data["dry_run"]:
        head = f"Dry run: {data['file']} would become article {data['article_id']}; nothing written."
    else:
        head = f"Imported {data['file']} as article {data['article_id']} (submitted)."
    click.echo(head)
    click.echo(f"  {data['title']} — last updated {data['last_updated']} "
               f"({'from the document' if data['last_updated_from'] == 'document' else 'today'})")
    click.echo(f"  {counts['claims']} claims, {counts['references_new']} new references, "
               f"{counts['references_matched']} matched, {counts['unresolved_citations']} "
               f"unresolved citation numbers, {counts['not_understood']} lines not understood, "
               f"{counts['skipped_furniture']} lines of page furniture skipped")
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
        click.echo(f"  unresolved: [{u['number']}] cited at line(s) "
                   f"{', '.join(str(n) for n in u['lines'])} is not in the document's list")
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


@cli.command("import")
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

    from . import importer

    report = importer.import_file(_kb(ctx), file, today=date.today(), dry_run=dry_run)
    if report.written:
        ctx.find_root().obj["kb"] = report.knowledge_base
    data = report.to_dict()
    if as_json:
        _emit_json(data)
    else:
        _print_import_report(data)


@cli.group("export")
def export_group() -> None:
    """Export references, formatted citations, claims or the graph."""


output_option = click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path),
                             help="File to write (default: standard output).")


def _deliver(text: str, output: Path | None, what: str) -> None:
    from . import export as export_mod

    if output is None:
        click.echo(text, nl=False)
    else:
        export_mod.write_text_atomic(output, text)
        click.echo(f"wrote {what} to {output}", err=True)


@export_group.command("references")
@click.option("--format", "fmt", type=click.Choice(["csl-json", "bibtex", "ris"]),
              required=True)
@output_option
@click.pass_context
def export_references_cmd(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Every reference as CSL-JSON, BibTeX or RIS."""
    from . import export as export_mod

    kb = _kb(ctx)
    _deliver(export_mod.export_references(kb, fmt), output,
             f"{len(kb.references)} references ({fmt})")


@export_group.command("citations")
@click.option("--style", type=click.Choice(["harvard", "vancouver"]), default="harvard",
              show_default=True, help="harvard: citeproc-py with its bundled CSL style.")
@output_option
@click.pass_context
def export_citations_cmd(ctx: click.Context, style: str, output: Path | None) -> None:
    """Every reference as a formatted citation, one "[id] citation" per line."""
    from . import export as export_mod

    kb = _kb(ctx)
    _deliver(export_mod.citations_text(kb, style=style), output,
             f"{len(kb.references)} citations ({style})")


@export_group.command("claims")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@output_option
@click.pass_context
def export_claims_cmd(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """Every claim as one CSV row, with its computed grade and conflicts."""
    from . import export as export_mod

    kb = _kb(ctx)
    _deliver(export_mod.claims_csv(kb), output, f"{len(kb.claims)} claims ({fmt})")


@export_group.command("graph")
@click.option("--format", "fmt", type=click.Choice(["graphml", "node-link"]), required=True)
@output_option
@click.pass_context
def export_graph_cmd(ctx: click.Context, fmt: str, output: Path | None) -> None:
    """The knowledge graph as GraphML or networkx node-link JSON (as `kb graph export`)."""
    from . import export as export_mod

    kb = _kb(ctx)
    g = kb.graph
    _deliver(export_mod.export_graph(kb, fmt), output,
             f"{g.number_of_nodes()} nodes and {g.number_of_edges()} edges ({fmt})")


# -- search (issue 3) ----------------------------------------------------------------------
def _plain_highlight(snippet: str) -> str:
    """A search snippet for the terminal: matches in bold (plain text when not a tty)."""
    parts = snippet.replace("</mark>", "<mark>").split("<mark>")
    return "".join(click.style(p, bold=True) if i % 2 else p for i, p in enumerate(parts))


@cli.command()
@click.argument("query")
@click.option("--kind", multiple=True, help="Only claims of this kind (repeatable).")
@click.option("--condition", multiple=True,
              help="Only this condition or the conditions below it (id, label or synonym).")
@click.option("--grade", multiple=True, help="Only this evidence grade (High … Very low).")
@click.option("--design", multiple=True,
              help="Only this study design of the evidence (e.g. rct, systematic-review).")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100),
              help="Results per page.")
@click.option("--page", default=1, show_default=True, type=click.IntRange(1, None))
@json_option
@click.pass_context
def search(ctx: click.Context, query: str, kind: tuple[str, ...], condition: tuple[str, ...],
           grade: tuple[str, ...], design: tuple[str, ...], limit: int, page: int,
           as_json: bool) -> None:
    """Search claims and references for QUERY, strongest evidence first.

    QUERY understands clinical synonyms (CRPS, LDN, FM …), "quoted phrases", NOT/-word,
    word* and word~, and filters typed in it: kind: condition: grade: design:.
    """
    data = _kb(ctx).search(query, kind=list(kind), condition=list(condition),
                           grade=list(grade), design=list(design), limit=limit, page=page)
    if as_json:
        _emit_json(data)
        return
    first = (data["page"] - 1) * data["limit"] + 1
    shown = len(data["results"])
    click.echo(f"{data['total']} results for {data['query']!r}"
               + (f" (showing {first}–{first + shown - 1})" if shown else ""))
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
            click.echo(f"\n{i}. [{hit['evidence']['grade']}] {hit['id']} "
                       f"({hit['kind'].replace('_', ' ')}; {sources}){_board_flag(hit)}")
            click.echo(f"   {_plain_highlight(hit['highlight'])}")
    facets = {k: v for k, v in data["facets"].items() if v}
    if facets:
        click.echo("")
        for name, counts in facets.items():
            top = ", ".join(f"{k} {n}" for k, n in list(counts.items())[:6])
            click.echo(f"{name}: {top}")


@cli.command("index")
@click.option("--rebuild", is_flag=True, help="Rewrite every document, not only changed ones.")
@json_option
@click.pass_context
def index_cmd(ctx: click.Context, rebuild: bool, as_json: bool) -> None:
    """Build or update the search index (only what changed, unless --rebuild)."""
    kb = _kb(ctx)
    data = kb.reindex(rebuild=rebuild)
    if as_json:
        _emit_json({"index_dir": str(kb.index_dir), **data})
        return
    if data["note"]:
        click.echo(f"Note: {data['note']}")
    what = "rebuilt" if data["rebuilt"] else "updated"
    click.echo(f"Search index {what} in {kb.index_dir}: {data['documents']} documents "
               f"({data['added']} added, {data['updated']} rewritten, {data['deleted']} "
               f"removed, {data['unchanged']} unchanged) in {data['seconds']:.1f} s.")


def main() -> None:  # pragma: no cover - console entry point
    cli(obj={}, prog_name="kb")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
