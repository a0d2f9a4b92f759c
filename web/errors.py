"""Errors, mapped once: a JSON body under /api/, an error page everywhere else.

:class:`kb.errors.NotFound` is a 404; :class:`~kb.errors.InvalidQuery` and
:class:`~kb.errors.InvalidData` are a 400. HTTP errors (an unknown route, a wrong method) keep
their status. Anything unexpected is logged and answered with a plain 500, never a traceback.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from kb.errors import InvalidData, InvalidQuery, KBError, NotFound

STATUS: tuple[tuple[type[KBError], int], ...] = ((NotFound, 404), (InvalidQuery, 400),
                                                 (InvalidData, 400))
TITLES = {400: "Bad request", 404: "Not found", 405: "Method not allowed",
          500: "Something went wrong"}


def status_for(exc: KBError) -> int:
    """The HTTP status of a knowledge-base error."""
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def respond(status: int, message: str) -> tuple[Response | str, int]:
    """The error as JSON under /api/, else as the error page."""
    if request.path == "/api" or request.path.startswith("/api/"):
        return jsonify({"error": {"status": status, "message": message}}), status
    return render_template("error.html", status=status, title=TITLES.get(status, "Error"),
                           message=message), status


def register(app: Flask) -> None:
    """Install the handlers on ``app``."""

    @app.errorhandler(KBError)
    def kb_error(exc: KBError) -> tuple[Response | str, int]:
        return respond(status_for(exc), str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> tuple[Response | str, int]:
        return respond(exc.code or 500, exc.description or TITLES.get(exc.code or 500, "Error"))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response | str, int]:
        app.logger.exception("unexpected error on %s", request.path)
        return respond(500, "An unexpected error occurred; it has been logged.")
