"""Serving the web site and JSON API."""

from __future__ import annotations

import importlib

import click

from .common import get_kb, instance_dir

APP_FACTORY = "web:create_app"  # module:callable building the WSGI app from a config dict


@click.command()
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (loopback by default).",
)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Worker threads of the WSGI server.",
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
def serve(ctx: click.Context, host: str, port: int, threads: int, secure_cookies: bool) -> None:
    """Serve the web site and JSON API on waitress (a production WSGI server).

    The knowledge base is loaded once, the editorial journal replayed and the search index
    built (first start) or opened before the server starts listening.
    """
    import waitress

    # The site adapts this library, so it is found by name, never imported: kb stays free of
    # Flask and of web (the import contract in pyproject.toml).
    module, _, factory = APP_FACTORY.partition(":")
    create_app = getattr(importlib.import_module(module), factory)

    kb = get_kb(ctx)
    click.echo(f"Loading {kb.data_dir} and warming the search index ...", err=True)
    app = create_app(
        {
            "KB": kb,
            "KB_INSTANCE_DIR": str(instance_dir(ctx)),
            "SESSION_COOKIE_SECURE": secure_cookies,
        }
    )
    click.echo(
        f"Serving on http://{host}:{port}/ with {threads} threads (Ctrl-C to stop).", err=True
    )
    waitress.serve(
        app, host=host, port=port, threads=threads, ident="kb", clear_untrusted_proxy_headers=True
    )
