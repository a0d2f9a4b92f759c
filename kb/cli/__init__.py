"""The ``kb`` command line: a thin click layer, one library call per command.

Every command reads ``--data-dir`` (default ``$KB_DATA_DIR`` or ``./data``), prints a readable
summary by default and the library's JSON with ``--json``. Library errors become a one-line
message and exit status 1; nothing is ever written to the data files by a read command.
``--instance-dir`` (default ``$KB_INSTANCE_DIR`` or ``DATA_DIR/../instance``) holds what is not
data: the editorial journal, the accounts, the session key and (by default) the search index.

The commands live in one module per family (``core``, ``search``, ``ask``, ``serve``,
``editorial``, ``exchange``) and are registered on :data:`cli` below, all in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..errors import KBError
from . import ask, core, editorial, exchange, search, serve
from . import summary as summary_cmd


class KBGroup(click.Group):
    """Maps every :class:`KBError` to a clean CLI error, once, for all commands."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KBError as exc:
            raise click.ClickException(str(exc)) from None


@click.group(cls=KBGroup)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="KB_DATA_DIR",
    default="data",
    show_default=True,
    help="Folder with references.json, claims.json, articles.json, conditions.json "
    "(env KB_DATA_DIR).",
)
@click.option(
    "--index-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="KB_INDEX_DIR",
    default=None,
    help="Folder of the search index (env KB_INDEX_DIR; default INSTANCE_DIR/index).",
)
@click.option(
    "--instance-dir",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="KB_INSTANCE_DIR",
    default=None,
    help="Folder of the editorial journal, accounts and session key (env "
    "KB_INSTANCE_DIR; default DATA_DIR/../instance).",
)
@click.version_option(package_name="ldn-kb")
@click.pass_context
def cli(
    ctx: click.Context, data_dir: Path, index_dir: Path | None, instance_dir: Path | None
) -> None:
    """Evidence-aware clinical knowledge base: claims, references, grades and conflicts."""
    ctx.ensure_object(dict)
    ctx.obj["data_dir"] = data_dir
    ctx.obj["index_dir"] = index_dir
    ctx.obj["instance_dir"] = instance_dir
    ctx.obj.setdefault("kb", None)


cli.add_command(core.validate)
cli.add_command(core.stats)
cli.add_command(core.trace)
cli.add_command(core.dependents)
cli.add_command(core.contested)
cli.add_command(core.integrity)
cli.add_command(core.graph)
cli.add_command(search.search)
cli.add_command(search.index_cmd)
cli.add_command(ask.ask)
cli.add_command(summary_cmd.summary)  # GRADE summary of findings (issue 9)
cli.add_command(serve.serve)
cli.add_command(editorial.users)  # the editorial workflow (issue 5)
cli.add_command(editorial.compact)
cli.add_command(editorial.history)
cli.add_command(exchange.import_cmd)  # import and export (issue 6)
cli.add_command(exchange.export_group)


def main() -> None:  # pragma: no cover - console entry point
    cli(obj={}, prog_name="kb")
