"""What every command module shares: the knowledge base from click's context, the ``--json``
and ``--output`` options, and printing a result as JSON or as text."""

from __future__ import annotations

import inspect
import json
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TextIO, TypeVar, cast

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


class Progress:
    """Long work shown on a terminal: one bar over named steps, with counts and time left.

    ``step(name)`` starts the next step; ``update(done, total)`` reports counts inside it (a
    library function that accepts ``progress=`` gets this method, see :func:`call_with`).
    Silent (every method a no-op) when not enabled.
    """

    def __init__(self, label: str, steps: Sequence[str], bar: Any | None) -> None:
        self.label = label
        self.steps = list(steps)
        self._bar = bar
        self._index = -1
        self._detail = ""
        self._started = time.monotonic()

    @property
    def enabled(self) -> bool:
        return self._bar is not None

    def _show(self) -> str:
        if not 0 <= self._index < len(self.steps):
            return ""
        return self.steps[self._index] + (f" ({self._detail})" if self._detail else "")

    def step(self, name: str | None = None) -> None:
        """Finish the current step and start the next (``name`` overrides its label)."""
        finished = 1 if self._index >= 0 else 0
        self._index += 1
        if name is not None and self._index < len(self.steps):
            self.steps[self._index] = name
        self._detail = ""
        self._started = time.monotonic()
        if self._bar is not None:
            self._bar.update(finished)

    def update(self, done: int, total: int) -> None:
        """Counts inside the current step: ``4,000 of 100,000``, with time left for the step."""
        if self._bar is None:
            return
        self._detail = f"{done:,} of {total:,}"
        if 0 < done < total:
            elapsed = time.monotonic() - self._started
            self._detail += f", about {elapsed * (total - done) / done:.0f} s left"
        self._bar.update(0)


@contextmanager
def progress(
    label: str, steps: Sequence[str], *, quiet: bool = False, file: IO[str] | None = None
) -> Iterator[Progress]:
    """A :class:`Progress` on ``file`` (standard error by default, so standard output stays
    clean): a click progress bar on a terminal, nothing when ``file`` is not a terminal or
    ``quiet`` (``--json``)."""
    stream = file if file is not None else sys.stderr
    isatty = getattr(stream, "isatty", lambda: False)
    if quiet or not isatty():
        yield Progress(label, steps, None)
        return
    holder: list[Progress] = []
    bar: Any
    with click.progressbar(
        length=len(steps),
        label=label,
        file=cast(TextIO, stream),
        show_eta=True,
        show_pos=True,
        update_min_steps=0,  # so a new step's name or counts show at once
        item_show_func=lambda _item: holder[0]._show() if holder else None,
    ) as bar:
        prog = Progress(label, steps, bar)
        holder.append(prog)
        yield prog
        if prog._index >= 0:
            bar.update(1)


def call_with(func: Callable[..., T], prog: Progress, *args: Any, **kwargs: Any) -> T:
    """Call ``func``, passing ``progress=prog.update`` when it accepts a ``progress`` argument
    (a library function reporting counts); otherwise only the step shows."""
    try:
        accepts = "progress" in inspect.signature(func).parameters
    except (TypeError, ValueError):  # pragma: no cover - builtins
        accepts = False
    if accepts and prog.enabled:
        kwargs["progress"] = prog.update
    return func(*args, **kwargs)
