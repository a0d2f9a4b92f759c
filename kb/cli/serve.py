"""Serving the web site and JSON API: one process (waitress) or several (gunicorn)."""

from __future__ import annotations

import gc
import importlib
import os
import sys
import time
from typing import Any

import click

from .. import paths
from .common import instance_dir

APP_FACTORY = "web:create_app"  # module:callable building the WSGI app from a config dict


def _default_workers() -> int:
    return os.cpu_count() or 1


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback by default).",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--workers",
    default=None,
    type=click.IntRange(1, 64),
    help="Worker processes (default: the number of CPU cores). Several workers need "
    "gunicorn and a POSIX system; with 1 worker, or on Windows, waitress serves.",
)
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Threads per worker process.",
)
@click.option(
    "--secure-cookies/--no-secure-cookies",
    default=True,
    show_default=True,
    help="Send the session cookie over HTTPS only. Browsers accept such cookies "
    "from http://127.0.0.1 and http://localhost too; turn it off only to log in "
    "over plain HTTP on another address (never on a public network).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    secure_cookies: bool,
) -> None:
    """Serve the web site and JSON API.

    The knowledge base is loaded once (from its snapshot when the data are unchanged, see
    kb.snapshot), the editorial journal replayed, the search index built (first start) or
    opened, and the first search and question answered before the server reports ready.
    With several workers (gunicorn, preloaded: the loaded knowledge base is shared by the
    worker processes) every worker serves the same data, index and editorial journal; an
    edit made through one is seen by the others at their next request.
    """
    from .. import KnowledgeBase

    # The site adapts this library, so it is found by name, never imported: kb stays free of
    # Flask and of web (the import contract in pyproject.toml).
    module, _, factory = APP_FACTORY.partition(":")
    create_app = getattr(importlib.import_module(module), factory)

    workers = workers or _default_workers()
    multi = workers > 1 and os.name == "posix"
    obj = ctx.find_root().obj
    started = time.perf_counter()
    click.echo(f"Loading {obj['data_dir']} ...", err=True)
    inst = instance_dir(ctx)
    index_dir = obj.get("index_dir") or paths.index_dir(obj["data_dir"], obj.get("instance_dir"))
    kb = KnowledgeBase.load(obj["data_dir"], index_dir=index_dir, snapshot=True)
    loaded = time.perf_counter() - started
    app = create_app(
        {
            "KB": kb,
            "KB_INSTANCE_DIR": str(inst),
            "SESSION_COOKIE_SECURE": secure_cookies,
            "KB_WARM": False,  # warmed below, step by step, to say what it took
        }
    )
    warm = warm_up(app)
    total = time.perf_counter() - started
    mode = (
        f"{workers} workers x {threads} threads (gunicorn)"
        if multi
        else f"1 process x {threads} threads (waitress)"
    )
    ready = (
        f"Ready on http://{host}:{port}/ with {mode} after {total:.1f} s: load {loaded:.1f} s "
        f"(snapshot {kb.snapshot_status or 'off'}), warm-up "
        + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in warm.items())
        + " (Ctrl-C to stop)."
    )
    if multi:
        _gunicorn(app, host, port, workers, threads, ready)
    else:
        if workers > 1:
            click.echo("Several workers need a POSIX system; serving with one.", err=True)
        import waitress

        click.echo(ready, err=True)
        waitress.serve(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="kb",
            clear_untrusted_proxy_headers=True,
        )


GC_THRESHOLDS = (50_000, 20, 100)  # gc.set_threshold for a warmed-up server (see warm_up)


def warm_up(app: Any) -> dict[str, float]:
    """Pay every first-request cost now: grades (with the editorial journal applied), the
    search index opened and searched once, Ask's vocabulary, bodies of evidence and topics
    built, and a question answered. Returns seconds per step."""
    kb = app.extensions["live"].kb
    out: dict[str, float] = {}
    t = time.perf_counter()
    kb.grades  # noqa: B018 - cached on first access (conflicts come with it)
    kb.claims_by_topic  # noqa: B018
    out["grades"] = time.perf_counter() - t
    t = time.perf_counter()
    kb.search_warm()
    out["search index"] = time.perf_counter() - t
    t = time.perf_counter()
    kb.search("pain relief")
    out["first search"] = time.perf_counter() - t
    t = time.perf_counter()
    kb.prepare_edits()
    out["edits"] = time.perf_counter() - t
    t = time.perf_counter()
    from ..ask import ask, warm

    warm(kb)  # vocabulary, bodies of evidence, every condition's topic
    out["ask"] = time.perf_counter() - t
    t = time.perf_counter()
    ask(kb, "What dose of low-dose naltrexone is used?")
    out["first question"] = time.perf_counter() - t
    # What warm-up built lives as long as the server: out of the cyclic collector's walks
    # (and, with several workers, kept in pages the forked processes share).
    gc.freeze()
    # Requests then build long-lived state too (Ask's topics, conflict views, pictures): with
    # the default thresholds a full collection walked it every few pages (150 ms each at
    # 100k claims, the article page's p95). Young collections stay frequent; full ones rare.
    gc.set_threshold(*GC_THRESHOLDS)
    return out


def _gunicorn(app: Any, host: str, port: int, workers: int, threads: int, ready: str) -> None:
    """Serve ``app`` (already loaded and warmed: preloaded) with gunicorn's threaded workers."""
    from gunicorn.app.base import BaseApplication

    def post_fork(server: Any, worker: Any) -> None:
        # File handles opened before the fork are shared with the other workers (one file
        # offset for all): each worker opens the search index anew, then searches once.
        kb = app.extensions["live"].kb
        kb.search_index.close()
        kb.search("pain relief")

    def when_ready(server: Any) -> None:
        click.echo(ready, err=True)

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            settings = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "preload_app": True,
                "post_fork": post_fork,
                "when_ready": when_ready,
                "timeout": 120,
                "keepalive": 5,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
                "proc_name": "kb",
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            return app

    sys.argv = sys.argv[:1]  # gunicorn reads its own options from argv
    _App().run()
