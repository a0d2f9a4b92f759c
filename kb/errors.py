"""Named exceptions of the knowledge base, all rooted at :class:`KBError`.

Adapters map them once: the CLI to a message and a non-zero exit, the web app to a 4xx.
"""

from __future__ import annotations

from typing import Any


class KBError(Exception):
    """Root of every error the knowledge base raises on purpose."""


class InvalidData(KBError):
    """A data file is unreadable or breaks the schema or referential integrity.

    The message always names the file, and where known the record id and the field.
    """

    def __init__(
        self, file: str, message: str, *, record: str | None = None, field: str | None = None
    ) -> None:
        self.file = file
        self.record = record
        self.field = field
        self.detail = message
        where = file
        if record is not None:
            where += f", record {record!r}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")


class NotFound(KBError):
    """An id that the knowledge base does not hold."""

    noun = "item"

    def __init__(self, item_id: str) -> None:
        self.item_id = item_id
        super().__init__(f"no {self.noun} with id {item_id!r}")


class ClaimNotFound(NotFound):
    noun = "claim"


class ReferenceNotFound(NotFound):
    noun = "reference"


class ArticleNotFound(NotFound):
    noun = "article"


class ConditionNotFound(NotFound):
    noun = "condition"


class ConflictNotFound(NotFound):
    noun = "conflict"


class UserNotFound(NotFound):
    noun = "user"


class DownloadNotFound(NotFound):
    noun = "download"


class UserExists(KBError):
    """An account with that name already exists (HTTP 409)."""


class ImportBusy(KBError):
    """Another answer document is being imported by this process (imports run one at a time)."""


class InvalidQuery(KBError):
    """A query or parameter that cannot be understood (a 400, not a crash)."""


class IndexBusy(KBError):
    """The search index does not exist yet and another process is still building it."""


class Forbidden(KBError):
    """The actor's role does not allow this action (HTTP 403)."""


class StaleEdit(KBError):
    """The edit was based on an older version of its target (HTTP 409)."""

    def __init__(self, target: str, based_on: int, current: int, state: dict[str, Any]) -> None:
        self.target, self.based_on, self.current, self.state = target, based_on, current, state
        super().__init__(
            f"{target} changed since version {based_on}; it is now at version "
            f"{current}: reload and try again"
        )


class EditorialBusy(KBError):
    """Another writer held the journal lock for too long (HTTP 503)."""


class InvalidDocument(InvalidData):
    """An answer document that cannot be imported: empty, binary, too large, not UTF-8, or
    without the structure of an answer page. ``line`` names the line where that is known."""

    def __init__(self, file: str, message: str, *, line: int | None = None) -> None:
        super().__init__(file, message)
        self.line = line
        if line is not None:
            self.args = (f"{file}, line {line}: {message}",)


class DataBusy(KBError):
    """Another writer (an import or a compaction) holds the data folder's lock (HTTP 503)."""


class StorageError(KBError):
    """A write could not be made durable (read-only folder, I/O error, no descriptors): nothing
    was saved, and the message names the file (HTTP 503)."""

    def __init__(self, file: str, message: str, *, errno: int | None = None) -> None:
        self.file = file
        self.errno = errno
        super().__init__(f"{file}: {message}")


class StorageFull(StorageError):
    """The disk (or the quota) is full: nothing was saved (HTTP 507)."""
