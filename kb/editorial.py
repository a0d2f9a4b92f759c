"""Editorial workflow: an append-only journal of decisions, replayed into what readers see.

Every editorial event (a flag, a comment, a verdict, a review-status change, a conflict
dismissed or added) is one JSON line in ``<instance>/journal.jsonl``, written under a lock and
fsynced before the caller is told it succeeded. The state readers see is the replay of all
events: those already folded into ``data/editorial.json`` by ``kb compact``, then the journal.
Events carry unique ids, so replaying one twice (after a crash between the two steps of a
compaction) changes nothing.

Concurrency: writers in any number of threads and processes serialise on an ``flock``; each
first catches up with lines other writers appended, then checks the version its edit was based
on (a stale edit raises :class:`StaleEdit` carrying the current state), then appends. A torn
last line left by a killed writer is reported and skipped, never fatal.
"""

from __future__ import annotations

import os
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ClaimNotFound, InvalidQuery, KBError, NotFound
from .journal import EditorialBusy as EditorialBusy  # re-exported: adapters map it
from .journal import Journal, _empty_atomic
from .storage import load_json, write_json_atomic

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

EDITORIAL_FILE = "editorial.json"
JOURNAL_FILE = "journal.jsonl"
MAX_TEXT = 2000

ROLES = ("reader", "reviewer", "editor", "admin")
# action -> the least role allowed to do it
ACTIONS: dict[str, str] = {
    "comment": "reviewer",
    "flag": "reviewer",
    "propose_verdict": "reviewer",
    "resolve_flag": "editor",
    "dismiss_flag": "editor",
    "set_verdict": "editor",
    "set_status": "editor",
    "dismiss_conflict": "editor",
    "resolve_conflict": "editor",
    "restore_conflict": "editor",
    "add_conflict": "editor",
}
TARGETS = {
    "comment": ("claim", "article", "conflict"),
    "flag": ("claim",),
    "propose_verdict": ("claim",),
    "set_verdict": ("claim",),
    "resolve_flag": ("claim",),
    "dismiss_flag": ("claim",),
    "set_status": ("article",),
    "dismiss_conflict": ("conflict",),
    "resolve_conflict": ("conflict",),
    "restore_conflict": ("conflict",),
    "add_conflict": ("conflict",),
}
STATUSES = ("submitted", "under_review", "approved")
VERDICTS = (
    "supported",
    "supported_with_nuance",
    "not_supported_as_worded",
    "not_stated",
    "not_assessed",
)


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


@dataclass
class EditorialState:
    """What replaying the events gives: flags, comments, decisions, history, versions."""

    events: list[dict[str, Any]] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    versions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    flags: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    comments: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    proposals: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    conflict_decisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    manual_conflicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    verdicts: dict[str, dict[str, Any]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def open_flags(self, claim_id: str) -> list[dict[str, Any]]:
        return [f for f in self.flags.get(claim_id, []) if f["status"] == "open"]

    def is_dismissed(self, conflict_id: str) -> bool:
        return self.conflict_decisions.get(conflict_id, {}).get("decision") in (
            "dismissed",
            "resolved",
        )

    def history(self, target: str) -> list[dict[str, Any]]:
        """Every event about ``target`` ("claim:<id>", "article:<id>", "conflict:<id>")."""
        return [e for e in self.events if e["target"] == target]

    def apply(self, event: dict[str, Any]) -> bool:
        """Apply one event; False (and nothing changes) if it was applied before."""
        if event["id"] in self.seen:
            return False
        self.seen.add(event["id"])
        self.events.append(event)
        target, action, data = event["target"], event["action"], event.get("after") or {}
        self.versions[target] += 1
        kind, _, tid = target.partition(":")
        record = {
            "event": event["id"],
            "by": event["actor"],
            "at": event["at"],
            "reason": event.get("reason", ""),
        }
        if action == "comment":
            self.comments[target].append({**record, "text": data.get("text", "")})
        elif action == "flag":
            self.flags[tid].append({**record, "id": event["id"], "status": "open"})
        elif action in ("resolve_flag", "dismiss_flag"):
            for flag in self.flags.get(tid, []):
                if flag["id"] == data.get("flag"):
                    flag["status"] = "resolved" if action == "resolve_flag" else "dismissed"
        elif action == "propose_verdict":
            self.proposals[tid].append({**record, "verdict": data.get("verdict")})
        elif action == "set_verdict":
            self.verdicts[tid] = {
                **record,
                "verdict": data.get("verdict"),
                "note": data.get("note", ""),
            }
        elif action == "set_status":
            self.statuses[tid] = data["status"]
        elif action in ("dismiss_conflict", "resolve_conflict"):
            decision = "dismissed" if action == "dismiss_conflict" else "resolved"
            self.conflict_decisions[tid] = {**record, "decision": decision}
        elif action == "restore_conflict":
            self.conflict_decisions.pop(tid, None)
        elif action == "add_conflict":
            self.manual_conflicts[tid] = {**record, **data}
        return True


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Editor:
    """Editorial actions on one knowledge base, recorded in its journal.

    Build it with :meth:`open`; it replays ``data/editorial.json`` and the journal, applies the
    result to the knowledge base (article statuses, verdicts, conflict decisions) and keeps
    both in step as new events are written by this or any other process.
    """

    def __init__(self, kb: KnowledgeBase, instance_dir: Path) -> None:
        self.kb = kb
        self.instance_dir = Path(instance_dir)
        self.journal = Journal(self.instance_dir / JOURNAL_FILE)
        self.state = EditorialState()
        self._original_status = {a.id: a.review_status for a in kb.articles.values()}
        self._original_primary = {c.id: c.primary for c in kb.claims.values()}

    @classmethod
    def open(cls, kb: KnowledgeBase, instance_dir: str | os.PathLike[str]) -> Editor:
        """Replay every recorded event into ``kb`` and return the editor."""
        editor = cls(kb, Path(instance_dir))
        editor._load_folded()
        editor.refresh()
        kb.editorial = editor.state
        return editor

    def _load_folded(self) -> None:
        folded = self.kb.data_dir / EDITORIAL_FILE
        if folded.exists():
            for event in load_json(folded).get("events", []):
                self._apply(event)

    def refresh(self, *, wait: bool = True) -> bool:
        """Catch up with events other processes appended (or folded by a compaction).

        Safe beside :meth:`record` in other threads. With ``wait=False`` it returns False at
        once, without reading, when another thread of this process is writing (that writer
        is catching up itself); a request can then read the state as it is.
        """
        lock = self.journal._thread_lock
        if not lock.acquire(blocking=wait):
            return False
        try:
            self._catch_up()
        finally:
            lock.release()
        return True

    def _catch_up(self) -> None:
        events, problems, compacted = self.journal.read_new()
        if compacted:
            self._load_folded()
        for problem in problems:
            if problem not in self.state.problems:
                self.state.problems.append(problem)
        for event in events:
            self._apply(event)

    def _apply(self, event: dict[str, Any]) -> None:
        if not self.state.apply(event):
            return
        if event["action"] in (
            "dismiss_conflict",
            "resolve_conflict",
            "restore_conflict",
            "add_conflict",
        ):
            self.kb.invalidate("grades")  # inconsistency counts the active conflicts
        kind, _, tid = event["target"].partition(":")
        if event["action"] == "set_status" and tid in self.kb.articles:
            self.kb.amend_article(tid, review_status=event["after"]["status"])
        elif event["action"] == "set_verdict" and tid in self.kb.claims:
            record = self.kb.claims[tid].record
            primary = dict(record.get("primary") or {"ref": None, "basis": "editorial board"})
            primary.update(
                verdict=event["after"]["verdict"],
                note=event["after"].get("note") or primary.get("note", ""),
            )
            self.kb.amend_claim(tid, primary=primary)  # verdicts move grades

    # -- reading ---------------------------------------------------------------------------
    def version(self, target: str) -> int:
        self.refresh()
        return self.state.versions.get(target, 0)

    def target_state(self, target: str) -> dict[str, Any]:
        """The current editorial state of one target, as a 409 response shows it."""
        kind, _, tid = target.partition(":")
        out: dict[str, Any] = {"target": target, "version": self.state.versions.get(target, 0)}
        if kind == "article" and tid in self.kb.articles:
            out["review_status"] = self.kb.articles[tid].review_status
        if kind == "claim":
            out["flags"] = self.state.flags.get(tid, [])
            out["verdict"] = (
                (self.kb.claims[tid].primary or {}).get("verdict")
                if tid in self.kb.claims
                else None
            )
        if kind == "conflict":
            out["decision"] = self.state.conflict_decisions.get(tid)
        return out

    # -- writing ---------------------------------------------------------------------------
    def record(
        self,
        actor: str,
        role: str,
        action: str,
        target: str,
        *,
        reason: str = "",
        after: dict[str, Any] | None = None,
        base_version: int | None = None,
    ) -> dict[str, Any]:
        """Check, journal (fsynced) and apply one editorial event; return it.

        Raises :class:`Forbidden` when ``role`` may not do ``action``, :class:`StaleEdit` when
        ``base_version`` is not the target's current version, :class:`NotFound` for an unknown
        target, :class:`InvalidQuery` for a malformed edit.
        """
        if action not in ACTIONS:
            raise InvalidQuery(f"unknown editorial action {action!r}")
        if role not in ROLES or ROLES.index(role) < ROLES.index(ACTIONS[action]):
            raise Forbidden(
                f"a {role} may not {action.replace('_', ' ')}; it needs the {ACTIONS[action]} role"
            )
        after = dict(after or {})
        self._check(action, target, reason, after)
        with self.journal.locked():
            self.refresh()
            current = self.state.versions.get(target, 0)
            if base_version is not None and base_version != current:
                raise StaleEdit(target, base_version, current, self.target_state(target))
            event = {
                "id": uuid.uuid4().hex,
                "at": _now(),
                "actor": actor,
                "role": role,
                "action": action,
                "target": target,
                "reason": reason,
                "base_version": current,
                "before": self._before(action, target),
                "after": after,
            }
            self.journal.append(event)
            self._apply(event)
        return event

    def _check(self, action: str, target: str, reason: str, after: dict[str, Any]) -> None:
        kind, _, tid = target.partition(":")
        if kind not in TARGETS[action]:
            raise InvalidQuery(
                f"{action.replace('_', ' ')} applies to a "
                f"{' or '.join(TARGETS[action])}, not {kind or 'nothing'}"
            )
        if kind == "claim" and tid not in self.kb.claims:
            raise ClaimNotFound(tid)
        if kind == "article":
            self.kb.article(tid)
        if (
            kind == "conflict"
            and action != "add_conflict"
            and tid not in self.kb.conflicts
            and tid not in self.state.manual_conflicts
        ):
            raise NotFound(target)
        for text in (reason, after.get("text", ""), after.get("note", "")):
            if not isinstance(text, str) or len(text) > MAX_TEXT:
                raise InvalidQuery(f"text must be at most {MAX_TEXT} characters")
        if action == "flag" and not reason.strip():
            raise InvalidQuery("a flag needs a reason")
        if action == "comment" and not str(after.get("text", "")).strip():
            raise InvalidQuery("a comment needs text")
        if action == "set_status" and after.get("status") not in STATUSES:
            raise InvalidQuery(f"status must be one of {', '.join(STATUSES)}")
        if action in ("set_verdict", "propose_verdict") and after.get("verdict") not in VERDICTS:
            raise InvalidQuery(f"verdict must be one of {', '.join(VERDICTS)}")
        if action in ("resolve_flag", "dismiss_flag") and not any(
            f["id"] == after.get("flag") for f in self.state.flags.get(tid, [])
        ):
            raise InvalidQuery("no such flag on this claim")
        if action == "add_conflict":
            sides = after.get("sides")
            if not (
                isinstance(sides, list)
                and len(sides) >= 2
                and all(isinstance(s, dict) and s.get("claims") for s in sides)
            ):
                raise InvalidQuery("a conflict needs at least two sides, each with claims")
            for side in sides:
                for cid in side["claims"]:
                    if cid not in self.kb.claims:
                        raise ClaimNotFound(cid)

    def _before(self, action: str, target: str) -> dict[str, Any]:
        kind, _, tid = target.partition(":")
        if action == "set_status":
            return {"status": self.kb.articles[tid].review_status}
        if action == "set_verdict":
            return {"verdict": (self.kb.claims[tid].primary or {}).get("verdict")}
        if kind == "conflict":
            return {"decision": self.state.conflict_decisions.get(tid)}
        return {}

    # -- compaction ------------------------------------------------------------------------
    def compact(self) -> int:
        """Fold the journal into the data files; return how many events were folded.

        Data files first (statuses and verdicts), then ``editorial.json`` with every event,
        then an empty journal — each step atomic; a crash between steps only leaves events
        that replay to the same state (events are applied once, by id).
        """
        with self.journal.locked():
            self.refresh()
            new = len(self.state.events) - self._folded_count()
            self.kb.save()
            write_json_atomic(self.kb.data_dir / EDITORIAL_FILE, {"events": self.state.events})
            _empty_atomic(self.journal.path)
            self.journal._offset = 0
        return new

    def _folded_count(self) -> int:
        folded = self.kb.data_dir / EDITORIAL_FILE
        return len(load_json(folded).get("events", [])) if folded.exists() else 0
