"""What every command module shares: the knowledge base from click's context, the ``--json``
and ``--output`` options, and printing a result as JSON or as text."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import paths
from ..knowledgebase import KnowledgeBase

T = TypeVar("T")

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")

output_option = click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="File to write (default: standard output).",
)


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 article``, ``2 articles``; ``many`` for irregular plurals (``1 study``, ``2 studies``)."""
    return f"{count} {word if count == 1 else many or word + 's'}"


def sources_label(sources: list[str]) -> str:
    """A claim's sources for one line of text, never empty."""
    return "; ".join(s for s in sources if s) or "no source cited"


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def emit(data: T, as_json: bool, render: Callable[[T], None]) -> None:
    """Print DATA as JSON with ``--json``, otherwise as text through RENDER."""
    if as_json:
        emit_json(data)
    else:
        render(data)


def instance_dir(ctx: click.Context) -> Path:
    obj = ctx.find_root().obj
    return paths.instance_dir(obj["data_dir"], obj.get("instance_dir"))


def get_kb(ctx: click.Context) -> KnowledgeBase:
    """The knowledge base, with the editorial journal replayed (as the web site shows it)."""
    obj = ctx.find_root().obj
    if obj.get("kb") is None:
        index_dir = obj.get("index_dir") or paths.index_dir(
            obj["data_dir"], obj.get("instance_dir")
        )
        obj["kb"] = KnowledgeBase.load(obj["data_dir"], index_dir=index_dir)
        get_editor(ctx)
    kb: KnowledgeBase = obj["kb"]
    return kb


def get_editor(ctx: click.Context) -> Any:
    """The :class:`kb.editorial.Editor` of the knowledge base (replaying reads, never writes)."""
    from ..editorial import Editor

    obj = ctx.find_root().obj
    if obj.get("editor") is None or obj["editor"].kb is not obj.get("kb"):
        obj["editor"] = Editor.open(get_kb(ctx), instance_dir(ctx))
    return obj["editor"]


def board_flag(claim: dict[str, Any]) -> str:
    """The editorial board's notice on a claim, for the terminal ("" when not flagged)."""
    if not claim["editorial"]["contested_by_board"]:
        return ""
    reasons = "; ".join(f["reason"] for f in claim["editorial"]["flags"])
    return f"  [contested — flagged by the editorial board: {reasons}]"
