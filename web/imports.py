"""Importing answer documents through the site: the upload form (``/import``) and its JSON twin
(``POST /api/import``), for editors and above.

Each upload is one :func:`kb.importer.import_bytes` call on the served knowledge base's data
directory: the write holds the data folder's writer lock and reads the files again under it
(the served copy has the editorial board's decisions applied in memory, and they must not be
written into the data files, which hold the records as imported; and another process may
have written since). After a write, :func:`web.reload_kb` serves the new article, its claims
and their conflicts at once. Imports run one at a time per process: an upload arriving while
another is being imported is refused at once with a 409 (:class:`web.errors.ImportBusy`), not
queued. Bad uploads (none, empty, binary, over 1 MB, not UTF-8) are a 400 and write nothing.

Other processes write the data files too (``kb import``, ``kb compact``, another server): before
each request the site compares the files' stamp with the one it loaded and, when another
writer replaced a file, loads the data again (:func:`follow_other_writers`).
"""

from __future__ import annotations

import re
import threading
from datetime import date
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request
from flask_login import current_user

from kb import importer
from kb.errors import InvalidQuery, KBError
from kb.knowledgebase import ARTICLES_FILE, CLAIMS_FILE, CONDITIONS_FILE, REFERENCES_FILE
from kb.storage import files_stamp

from . import current_kb, load_kb, reload_kb
from .auth import require_role
from .errors import ImportBusy, status_for

pages_bp = Blueprint("imports", __name__)
api_bp = Blueprint("imports_api", __name__, url_prefix="/api")

IMPORT_LOCK = threading.Lock()  # one import (or reload) at a time in this process
STAMP = "kb.data_stamp"  # app.extensions key: the stamp of the data files being served
DATA_FILES = (CONDITIONS_FILE, REFERENCES_FILE, CLAIMS_FILE, ARTICLES_FILE)
FIELD = "file"
TRUE, FALSE = ("1", "true", "on", "yes"), ("", "0", "false", "off", "no")
RELOAD_FAILED = (
    "The import was saved, but the site could not load the knowledge base again "
    "({error}); it will show the new article after a restart."
)


def _file_name(raw: str) -> str:
    """The upload's own name without any folders or control characters (for messages)."""
    name = re.sub(r"[\x00-\x1f\x7f]", "", raw.replace("\\", "/").rpartition("/")[2]).strip()
    return name[:200] or "upload"


def _dry_run() -> bool:
    value = request.form.get("dry_run", "").strip().lower()
    if value not in TRUE + FALSE:
        raise InvalidQuery("field 'dry_run' must be true or false")
    return value in TRUE


def run_import() -> dict[str, Any]:
    """The uploaded document imported (or, with ``dry_run``, checked): the report as a dict.

    Raises :class:`InvalidQuery` without a file, :class:`kb.errors.InvalidDocument` for one
    that cannot be imported, :class:`ImportBusy` while another import runs.
    """
    upload = request.files.get(FIELD)
    if upload is None or not upload.filename:
        raise InvalidQuery(f"choose a file to upload (form field {FIELD!r})")
    name = _file_name(upload.filename)
    dry_run = _dry_run()
    data = upload.stream.read(importer.MAX_BYTES + 1)  # enough for import_bytes to refuse it
    if not IMPORT_LOCK.acquire(blocking=False):
        raise ImportBusy("another document is being imported; try again when it has finished")
    try:
        served = current_kb()
        # A write re-reads the data as stored under the data folder's writer lock (so it
        # never writes back an older copy); a dry run checks against the stored data too.
        base = load_kb(served.data_dir, served.index_dir) if dry_run else served
        report = importer.import_bytes(base, data, name=name, today=date.today(), dry_run=dry_run)
        result = report.to_dict()
        if report.written:
            current_app.logger.info(
                "%s imported %s as article %s", current_user.name, name, report.article_id
            )
            try:
                app = current_app._get_current_object()  # type: ignore[attr-defined]
                stamp = data_stamp(served.data_dir)  # before the load: later changes reload
                reload_kb(app)
                app.extensions[STAMP] = stamp
            except Exception as exc:
                current_app.logger.exception("reloading after an import failed")
                result["warnings"].append(RELOAD_FAILED.format(error=exc))
    finally:
        IMPORT_LOCK.release()
    return result


@pages_bp.route("/import", methods=["GET", "POST"])
@require_role("editor")
def upload() -> Any:
    """The upload form; after a POST, the import report above it."""
    if request.method == "GET":
        return render_template("import.html", doc=None, error=None)
    try:
        doc = run_import()
    except KBError as exc:  # shown on the form, so the editor can pick another file
        return render_template("import.html", doc=None, error=str(exc)), status_for(exc)
    return render_template("import.html", doc=doc, error=None)


@api_bp.post("/import", endpoint="upload")
@require_role("editor")
def upload_json() -> tuple[Response, int]:
    """Import a multipart upload (``file``, ``dry_run``): 201 when written, else 200."""
    doc = run_import()
    return jsonify(doc), 201 if doc["written"] else 200


def data_stamp(data_dir: Path) -> tuple[Any, ...]:
    """The data files' stamp (inode, mtime, size): it moves whenever any writer replaces one."""
    return files_stamp(Path(data_dir), DATA_FILES)


def follow_other_writers() -> None:
    """Before each request: when another process rewrote the data files (an import, a
    compaction), load them again and serve them from now on.

    A few ``stat`` calls when nothing changed. One thread reloads (under the import lock) while
    the others go on with the data they have; a data folder that does not load is logged and
    the site keeps serving what it has.
    """
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    served = app.extensions["live"].kb
    if data_stamp(served.data_dir) == app.extensions.get(STAMP):
        return
    if not IMPORT_LOCK.acquire(blocking=False):
        return  # an import or a reload is under way in this process
    try:
        stamp = data_stamp(served.data_dir)
        if stamp != app.extensions.get(STAMP):
            app.extensions[STAMP] = stamp  # once per change, even if the load fails
            reload_kb(app)
            app.logger.info("the data files changed on disk: reloaded %s", served.data_dir)
    except Exception:  # keep serving what we have; the log says why
        app.logger.exception("the data files changed on disk but do not load")
    finally:
        IMPORT_LOCK.release()


def register(app: Flask) -> None:
    """Install the form and its JSON twin, and follow writes other processes make."""
    app.extensions[STAMP] = data_stamp(app.extensions["live"].kb.data_dir)
    app.register_blueprint(pages_bp)
    app.register_blueprint(api_bp)
    # First of the request hooks, so the request that notices a change already sees it.
    app.before_request_funcs.setdefault(None, []).insert(0, follow_other_writers)
