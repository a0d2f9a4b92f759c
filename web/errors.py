"""Errors, mapped once: a JSON body under /api/, an error page everywhere else.

:class:`kb.errors.NotFound` is a 404; :class:`~kb.errors.InvalidQuery` and
:class:`~kb.errors.InvalidData` are a 400; of the editorial errors, :class:`~kb.errors.Forbidden`
is a 403, :class:`~kb.errors.StaleEdit` a 409 that also carries the target's current state
(``{"error": {...}, "current": {...}}``), :class:`~kb.errors.EditorialBusy` a 503 and
:class:`~kb.accounts.UserExists` a 409; :class:`~kb.errors.IndexBusy` (the search index is
still being built by another process) a 503; :class:`ImportBusy` (another upload is being
imported) a 409; :class:`~kb.errors.DataBusy` a 503, and a write the disk refused
(:class:`~kb.errors.StorageFull` 507, :class:`~kb.errors.StorageError` 503: nothing saved). A request body over ``MAX_CONTENT_LENGTH`` is refused before it is read: a 400
with the answer-document size limit on the import endpoints, a 413 elsewhere. Not being
logged in is a 401 under /api/ and a redirect to the login page elsewhere (see
:mod:`web.auth`); a missing or wrong CSRF token is a 400.
HTTP errors (an unknown route, a wrong method) keep their status. Anything unexpected is logged
and answered with a plain 500, never a traceback.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, SecurityError

from kb.errors import (
    DataBusy,
    EditorialBusy,
    Forbidden,
    ImportBusy,
    IndexBusy,
    InvalidData,
    InvalidQuery,
    KBError,
    NotFound,
    StaleEdit,
    StorageError,
    StorageFull,
    UserExists,
)
from kb.importer import MAX_BYTES

from . import params

STATUS: tuple[tuple[type[KBError], int], ...] = (
    (NotFound, 404),
    (InvalidQuery, 400),
    (InvalidData, 400),
    (Forbidden, 403),
    (StaleEdit, 409),
    (UserExists, 409),
    (ImportBusy, 409),
    (EditorialBusy, 503),
    (IndexBusy, 503),
    (DataBusy, 503),  # durability: another import or compaction is writing
    (StorageFull, 507),  # durability: nothing was saved; the disk is full
    (StorageError, 503),  # durability: read-only folder, I/O error
)
TITLES = {
    400: "Bad request",
    401: "Log in first",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Changed meanwhile",
    413: "Too large",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Busy, try again",
    507: "Not saved: the disk is full",
}
UPLOAD_ENDPOINTS = ("imports.upload", "imports_api.upload")


def status_for(exc: KBError) -> int:
    """The HTTP status of a knowledge-base error."""
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def is_api() -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def respond(
    status: int, message: str, *, current: dict[str, Any] | None = None
) -> tuple[Response | str, int]:
    """The error as JSON under /api/, else as the error page (``current``: the target's state
    after a stale edit, shown so the user can see what changed)."""
    if is_api():
        body: dict[str, Any] = {"error": {"status": status, "message": message}}
        if current is not None:
            body["current"] = current
        return jsonify(body), status
    return render_template(
        "error.html",
        status=status,
        title=TITLES.get(status, "Error"),
        message=message,
        current=current,
    ), status


def register(app: Flask) -> None:
    """Install the handlers on ``app``, and strict JSON parsing of request bodies (a body
    nested too deeply, with NaN or Infinity, or with invalid Unicode is a 400)."""
    params.install(app)

    @app.errorhandler(KBError)
    def kb_error(exc: KBError) -> Any:
        current = exc.state if isinstance(exc, StaleEdit) else None
        response = app.make_response(respond(status_for(exc), str(exc), current=current))
        if isinstance(exc, (EditorialBusy, IndexBusy, DataBusy)):
            response.headers["Retry-After"] = "1"
        return response

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> tuple[Response | str, int]:
        return respond(
            400, f"{exc.description} Reload the page (or fetch /api/csrf) and send the form again."
        )

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> tuple[Response | str, int]:
        if request.endpoint in UPLOAD_ENDPOINTS:
            return respond(
                400,
                f"the upload is larger than {MAX_BYTES:,} bytes; an answer "
                f"document may be at most {MAX_BYTES:,} bytes (1 MB). Nothing "
                "was imported.",
            )
        return respond(
            413, f"the request body is larger than {app.config['MAX_CONTENT_LENGTH']:,} bytes"
        )

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Response:
        if isinstance(exc, SecurityError):
            # A Host not in TRUSTED_HOSTS: no URL can be built for it, so no page either.
            return Response(f"{exc.description}\n", 400, mimetype="text/plain")
        response = app.make_response(
            respond(exc.code or 500, exc.description or TITLES.get(exc.code or 500, "Error"))
        )
        # Keep the exception's own headers (Allow on a 405, WWW-Authenticate, ...).
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> tuple[Response | str, int]:
        app.logger.exception("unexpected error on %s", request.path)
        return respond(500, "An unexpected error occurred; it has been logged.")
