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

import itertools
import os
import re
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .articles import REVIEW_STATUSES, STATUS_LABELS
from .claims import VERDICTS
from .errors import (
    ClaimNotFound,
    ConflictNotFound,
    Forbidden,
    InvalidData,
    InvalidQuery,
    NotFound,
    StaleEdit,
)
from .journal import Journal, load_folded
from .locking import data_lock
from .storage import write_json_atomic

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

EDITORIAL_FILE = "editorial.json"
JOURNAL_FILE = "journal.jsonl"
MAX_TEXT = 2000

# The board's roles, least trusted first: each may do everything the roles before it may.
ROLES: tuple[str, ...] = ("reader", "reviewer", "editor", "admin")
# Roles an account can have (readers need none).
ACCOUNT_ROLES: tuple[str, ...] = ROLES[1:]
# The kinds of target an event can be about ("claim:<id>", ...), and their URL plurals.
TARGET_KINDS: dict[str, str] = {
    "claims": "claim",
    "articles": "article",
    "conflicts": "conflict",
    "references": "reference",
}
# What an editor can mark a reference as (COPE: a retraction, or an expression of concern).
REFERENCE_MARKS: dict[str, str] = {
    "retracted": "Retracted",
    "concern": "Expression of concern",
}

Validator = Callable[["Editor", str, str, dict[str, Any]], None]


@dataclass(frozen=True)
class Action:
    """One editorial action: who may do it, to what, how it is checked and how it reads."""

    name: str
    role: str  # the least role allowed (see :data:`ROLES`)
    targets: tuple[str, ...]  # kinds of target it applies to
    label: str  # in a history line: "<actor> <label>"
    done: str  # said after a form succeeded
    validate: Validator  # raises InvalidQuery / NotFound on a malformed edit
    fields: tuple[str, ...] = ()  # the fields of ``after`` a form or JSON body sends
    route: str | None = None  # /editorial/<kind>s/<id>/<route>; None: no per-target route

    @property
    def roles(self) -> tuple[str, ...]:
        """Every role allowed to do it."""
        return ROLES[ROLES.index(self.role) :]

    def allows(self, role: str) -> bool:
        return role in self.roles


def _no_check(editor: Editor, tid: str, reason: str, after: dict[str, Any]) -> None:
    return None


def _check_flag(editor: Editor, tid: str, reason: str, after: dict[str, Any]) -> None:
    if not reason.strip():
        raise InvalidQuery("a flag needs a reason")


def _check_comment(editor: Editor, tid: str, reason: str, after: dict[str, Any]) -> None:
    if not str(after.get("text", "")).strip():
        raise InvalidQuery("a comment needs text")


def _check_verdict(editor: Editor, tid: str, reason: str, after: dict[str, Any]) -> None:
    if after.get("verdict") not in VERDICTS:
        raise InvalidQuery(f"verdict must be one of {', '.join(VERDICTS)}")


def _check_flag_exists(editor: Editor, tid: str, reason: str, after: dict[str, Any]) -> None:
    if not any(f["id"] == after.get("flag") for f in editor.state.flags.get(tid, [])):
        raise InvalidQuery("no such flag on this claim")


def _check_status(editor: Editor, tid: str, reason: str, after: dict[str, Any]) -> None:
    """An article moves one step at a time: Submitted ⇄ Under review ⇄ Approved. Approving
    over open flags or active conflicts needs ``acknowledge`` (why it is approved anyway);
    what was open is kept in ``after["at_approval"]``, so later changes can be told apart.
    An approved article that changed since its approval may be approved again (re-confirmed).
    """
    status = after.get("status")
    if status not in REVIEW_STATUSES:
        raise InvalidQuery(f"status must be one of {', '.join(REVIEW_STATUSES)}")
    current = editor.kb.article(tid).review_status
    reconfirm = status == current == "approved" and bool(
        since_approval(editor.kb, editor.state, tid)["changes"]
    )
    if status == current and not reconfirm:
        raise InvalidQuery(f"the article is already {STATUS_LABELS[status]}")
    if not reconfirm and abs(REVIEW_STATUSES.index(status) - REVIEW_STATUSES.index(current)) != 1:
        raise InvalidQuery(
            f"an article moves one step at a time: from {STATUS_LABELS[current]} it can go to "
            + " or ".join(STATUS_LABELS[s] for s in status_moves(current))
        )
    if not after.get("acknowledge"):
        after.pop("acknowledge", None)
    if status != "approved":
        return
    open_now = approval_concerns(editor.kb, editor.state, tid)
    if any(open_now.values()) and not str(after.get("acknowledge", "")).strip():
        raise InvalidQuery(
            "this article has "
            + ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in open_now.items() if v)
            + ": approving it anyway needs an acknowledgement saying why (acknowledge)"
        )
    after["at_approval"] = open_now


def approval_concerns(
    kb: KnowledgeBase, state: EditorialState, article_id: str
) -> dict[str, list[str]]:
    """What stands against approving an article: the ids of its claims' open flags, of the
    active conflicts they are in, and of the retracted or questioned references they rest on."""
    claims = kb.article(article_id).claim_ids()
    return {
        "open_flags": [f["id"] for c in claims for f in state.open_flags(c)],
        "questioned_references": list(
            dict.fromkeys(r for c in claims for r in state.claim_marks.get(c, []))
        ),
        "active_conflicts": list(  # indirect context is not a conflict to acknowledge
            dict.fromkeys(
                cf
                for c in claims
                for cf in kb.active_conflict_ids(c)
                if not kb.conflict(cf).is_context
            )
        ),
    }


def since_approval(kb: KnowledgeBase, state: EditorialState, article_id: str) -> dict[str, Any]:
    """What happened to an approved article since its last approval: ``approval`` (that event,
    or None when it was never approved through the board), ``changes`` (later events that
    change what it says: flags, verdicts, conflicts added or restored, reference marks, on its
    claims) and ``new_conflicts`` (active conflicts that were not there at approval, e.g. from
    an import). Both empty when the article is not approved."""
    out: dict[str, Any] = {"approval": None, "changes": [], "new_conflicts": []}
    art = kb.article(article_id)
    if art.review_status != "approved":
        return out
    target = f"article:{article_id}"
    events = state.events
    start = next(
        (
            i
            for i in range(len(events) - 1, -1, -1)
            if events[i]["target"] == target
            and events[i]["action"] == "set_status"
            and (events[i].get("after") or {}).get("status") == "approved"
        ),
        None,
    )
    if start is None:
        return out
    approval = events[start]
    claims = set(art.claim_ids())
    conflicts = {cf for c in claims for cf in kb.conflict_ids_of(c)}
    for event in events[start + 1 :]:
        kind, _, tid = event["target"].partition(":")
        action = event["action"]
        if (
            (kind == "claim" and tid in claims and action in CHANGES_APPROVAL)
            or (kind == "conflict" and tid in conflicts and action in CHANGES_APPROVAL)
            or (
                kind == "reference"
                and action in CHANGES_APPROVAL
                and claims & set((event.get("after") or {}).get("claims", []))
            )
        ):
            out["changes"].append(event)
    known = set((approval.get("after") or {}).get("at_approval", {}).get("active_conflicts", []))
    if "at_approval" in (approval.get("after") or {}):
        out["new_conflicts"] = [
            cf
            for cf in dict.fromkeys(cf for c in art.claim_ids() for cf in kb.active_conflict_ids(c))
            if cf not in known and not kb.conflict(cf).is_context
        ]
    out["approval"] = approval
    return out


def _check_conflict_exists(editor: Editor, tid: str, reason: str, after: dict[str, Any]) -> None:
    if tid not in editor.kb.computed_conflicts and tid not in editor.state.manual_conflicts:
        raise NotFound(f"conflict:{tid}")


def _check_new_conflict(editor: Editor, tid: str, reason: str, after: dict[str, Any]) -> None:
    sides = after.get("sides")
    if not (
        isinstance(sides, list)
        and len(sides) >= 2
        and all(isinstance(s, dict) and s.get("claims") for s in sides)
    ):
        raise InvalidQuery("a conflict needs at least two sides, each with claims")
    for side in sides:
        for cid in side["claims"]:
            if cid not in editor.kb.claims:
                raise ClaimNotFound(cid)


def _check_mark(editor: Editor, tid: str, reason: str, after: dict[str, Any]) -> None:
    """A mark is retracted or concern, with a reason and optionally the notice's web address;
    the dependent claims at the time are kept in the event (``after["claims"]``)."""
    if after.get("status") not in REFERENCE_MARKS:
        raise InvalidQuery(f"status must be one of {', '.join(REFERENCE_MARKS)}")
    if not reason.strip():
        raise InvalidQuery("marking a reference needs a reason")
    notice = str(after.get("notice") or "").strip()
    if notice and not re.match(r"^https?://[^\s/]+\.[^\s]+$", notice):
        raise InvalidQuery("notice must be the web address (http or https) of the notice")
    if not notice:
        after.pop("notice", None)
    current = editor.state.reference_marks.get(tid)
    if current is not None and current["status"] == after["status"]:
        raise InvalidQuery(f"the reference is already marked {after['status']}")
    after["claims"] = _dependent_claims(editor.kb, tid)


def _check_clear(editor: Editor, tid: str, reason: str, after: dict[str, Any]) -> None:
    if tid not in editor.state.reference_marks:
        raise InvalidQuery("the reference is not marked retracted or of concern")
    after["claims"] = _dependent_claims(editor.kb, tid)


def _dependent_claims(kb: KnowledgeBase, ref_id: str) -> list[str]:
    from .trace import dependents

    return [c["id"] for c in dependents(kb, ref_id)["claims"]]


def claim_reference_marks(kb: KnowledgeBase, claim_id: str) -> list[dict[str, Any]]:
    """The marks (retracted, expression of concern) on the references ``claim_id`` rests on:
    each ``{ref, label, status, status_label, reason, notice, by, at}``; [] when none. Grades
    (:mod:`kb.evidence`), claim documents and article banners read this."""
    state = kb.editorial
    if state is None:
        return []
    out = []
    for ref_id in state.claim_marks.get(claim_id, []):
        mark = state.reference_marks.get(ref_id)
        if mark is None or ref_id not in kb.references:
            continue
        out.append({"ref": ref_id, "label": kb.references[ref_id].label, **mark_json(mark)})
    return out


def mark_json(mark: dict[str, Any]) -> dict[str, Any]:
    """A reference mark as readers see it: ``{status, status_label, reason, notice, by, at}``."""
    return {
        "status": mark["status"],
        "status_label": REFERENCE_MARKS.get(mark["status"], mark["status"]),
        "reason": mark["reason"],
        "notice": mark.get("notice"),
        "by": mark["by"],
        "at": mark["at"],
    }


def status_moves(status: str) -> list[str]:
    """The review statuses an article at ``status`` can move to: one step back or forward."""
    here = REVIEW_STATUSES.index(status)
    return [REVIEW_STATUSES[i] for i in (here - 1, here + 1) if 0 <= i < len(REVIEW_STATUSES)]


_ACTIONS = (
    Action("comment", "reviewer", ("claim", "article", "conflict"), "commented",
           "Comment recorded.", _check_comment, ("text",), "comment"),
    Action("flag", "reviewer", ("claim",), "flagged as contested", "Flag recorded.",
           _check_flag, (), "flag"),
    Action("propose_verdict", "reviewer", ("claim",), "proposed a verdict",
           "Verdict proposal recorded.", _check_verdict, ("verdict",), "propose-verdict"),
    Action("resolve_flag", "editor", ("claim",), "resolved a flag", "Flag resolved.",
           _check_flag_exists, ("flag",), "resolve-flag"),
    Action("dismiss_flag", "editor", ("claim",), "dismissed a flag", "Flag dismissed.",
           _check_flag_exists, ("flag",), "dismiss-flag"),
    Action("set_verdict", "editor", ("claim",), "set the verdict", "Verdict set.",
           _check_verdict, ("verdict", "note"), "set-verdict"),
    Action("set_status", "editor", ("article",), "changed the review status",
           "Review status changed.", _check_status, ("status", "acknowledge"), "set-status"),
    Action("dismiss_conflict", "editor", ("conflict",), "dismissed a conflict",
           "Conflict dismissed.", _check_conflict_exists, (), "dismiss"),
    Action("resolve_conflict", "editor", ("conflict",), "resolved a conflict",
           "Conflict marked resolved.", _check_conflict_exists, (), "resolve"),
    Action("restore_conflict", "editor", ("conflict",), "restored a conflict",
           "Conflict restored.", _check_conflict_exists, (), "restore"),
    Action("add_conflict", "editor", ("conflict",), "added a conflict", "Conflict added.",
           _check_new_conflict),
    Action("mark_reference", "editor", ("reference",), "marked a reference",
           "Reference marked; every claim resting on it shows the mark.", _check_mark,
           ("status", "notice"), "mark"),
    Action("clear_reference", "editor", ("reference",), "cleared a reference's mark",
           "Mark cleared.", _check_clear, (), "clear"),
    # Account changes (kb.accounts.administer makes them, then journals them here).
    Action("user_add", "admin", ("user",), "added an account", "Account added.", _no_check),
    Action("user_role", "admin", ("user",), "changed an account's role", "Role changed.",
           _no_check),
    Action("user_password", "admin", ("user",), "reset a password", "Password reset.",
           _no_check),
    Action("user_disable", "admin", ("user",), "disabled an account", "Account disabled.",
           _no_check),
    Action("user_enable", "admin", ("user",), "enabled an account", "Account enabled.",
           _no_check),
    Action("user_remove", "admin", ("user",), "removed an account", "Account removed.",
           _no_check),
)  # fmt: skip
# Actions that change what an approved article says (it is then "changed since approval").
CHANGES_APPROVAL = frozenset(
    {"flag", "set_verdict", "add_conflict", "restore_conflict", "mark_reference"}
)
# The one table of editorial actions: name -> Action.
ACTIONS: dict[str, Action] = {a.name: a for a in _ACTIONS}
# Per URL kind, route -> action name (derived from the table).
ROUTES: dict[str, dict[str, str]] = {
    plural: {a.route: a.name for a in _ACTIONS if kind in a.targets and a.route}
    for plural, kind in TARGET_KINDS.items()
}


_STATE_SERIALS = itertools.count(1)


@dataclass
class EditorialState:
    """What replaying the events gives: flags, comments, decisions, history, versions."""

    # Unique per state in this process: caches tell states apart by it, never by id().
    serial: int = field(default_factory=lambda: next(_STATE_SERIALS), init=False, repr=False)
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
    # reference id -> its mark (status, reason, notice, by, at); claim id -> marked refs it
    # rests on (kept by the Editor, which knows the knowledge base).
    reference_marks: dict[str, dict[str, Any]] = field(default_factory=dict)
    claim_marks: dict[str, list[str]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def reference_status(self, ref_id: str) -> dict[str, Any] | None:
        """The mark on a reference ({status, reason, notice, by, at}), or None."""
        return self.reference_marks.get(ref_id)

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
        tid = target.partition(":")[2]
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
        elif action == "mark_reference":
            self.reference_marks[tid] = {
                **record,
                "status": data.get("status"),
                "notice": data.get("notice"),
            }
        elif action == "clear_reference":
            self.reference_marks.pop(tid, None)
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
        with editor.journal._thread_lock:
            editor._catch_up(strict=True)  # the first read loads the folded events too
        kb.editorial = editor.state
        return editor

    def _load_folded(self) -> None:
        for event in load_folded(self.kb.data_dir / EDITORIAL_FILE):
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

    def _catch_up(self, *, strict: bool = False) -> None:
        events, problems, compacted = self.journal.read_new()
        if compacted:  # first read, or another process compacted: folded events first
            try:
                self._load_folded()
            except InvalidData as exc:
                if strict:  # opening: a damaged editorial.json is an error to report
                    raise
                problems.append(str(exc))  # serving: keep serving what is known
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
            # inconsistency counts the active conflicts: re-grade that conflict's claims (speed)
            try:
                self.kb.regrade(self.kb.conflict(event["target"].partition(":")[2]).claim_ids())
            except ConflictNotFound:
                self.kb.invalidate("grades")
        tid = event["target"].partition(":")[2]
        if event["action"] in ("mark_reference", "clear_reference"):
            self._index_marks()
            self.kb.invalidate("grades")  # a retraction lowers grades
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

    def _index_marks(self) -> None:
        """Which claims rest on a marked reference (recomputed against this knowledge base,
        so claims imported later are marked too)."""
        marks: dict[str, list[str]] = {}
        for ref_id in self.state.reference_marks:
            if ref_id in self.kb.references:
                for cid in _dependent_claims(self.kb, ref_id):
                    marks.setdefault(cid, []).append(ref_id)
        self.state.claim_marks = marks

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
        if kind == "reference":
            out["mark"] = self.state.reference_marks.get(tid)
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
        spec = ACTIONS.get(action)
        if spec is None:
            raise InvalidQuery(f"unknown editorial action {action!r}")
        if not spec.allows(role):
            raise Forbidden(
                f"a {role} may not {action.replace('_', ' ')}; it needs the {spec.role} role"
            )
        after = dict(after or {})
        self._check_target(spec, target, reason, after)
        tid = target.partition(":")[2]
        with self.journal.locked():
            self.refresh()
            current = self.state.versions.get(target, 0)
            if base_version is not None and base_version != current:
                raise StaleEdit(target, base_version, current, self.target_state(target))
            spec.validate(self, tid, reason, after)
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

    def _check_target(self, spec: Action, target: str, reason: str, after: dict[str, Any]) -> None:
        """What every action needs: a target of the right kind that exists, and short texts."""
        kind, _, tid = target.partition(":")
        if kind not in spec.targets:
            raise InvalidQuery(
                f"{spec.name.replace('_', ' ')} applies to a "
                f"{' or '.join(spec.targets)}, not {kind or 'nothing'}"
            )
        if kind == "claim" and tid not in self.kb.claims:
            raise ClaimNotFound(tid)
        if kind == "article":
            self.kb.article(tid)
        if kind == "reference":
            self.kb.reference(tid)
        for text in (reason, *(v for v in after.values() if not isinstance(v, (list, dict)))):
            if not isinstance(text, str) or len(text) > MAX_TEXT:
                raise InvalidQuery(f"text must be at most {MAX_TEXT} characters")

    def _before(self, action: str, target: str) -> dict[str, Any]:
        kind, _, tid = target.partition(":")
        if action == "set_status":
            return {"status": self.kb.articles[tid].review_status}
        if action == "set_verdict":
            return {"verdict": (self.kb.claims[tid].primary or {}).get("verdict")}
        if kind == "conflict":
            return {"decision": self.state.conflict_decisions.get(tid)}
        if kind == "reference":
            return {"mark": (self.state.reference_marks.get(tid) or {}).get("status")}
        return {}

    # -- compaction ------------------------------------------------------------------------
    def compact(self) -> int:
        """Fold the journal into the data files; return how many events were folded.

        Data files first (statuses and verdicts), then ``editorial.json`` with every event,
        then an empty journal — each step atomic; a crash between steps only leaves events
        that replay to the same state (events are applied once, by id).
        """
        from .knowledgebase import KnowledgeBase

        data_dir = self.kb.data_dir
        # Lock order: the data folder, then the journal (see kb.locking).
        with data_lock(data_dir), self.journal.locked():
            self.refresh()
            new = len(self.state.events) - len(load_folded(data_dir / EDITORIAL_FILE))
            # Fold into the data as stored now, not as loaded when this editor opened: an
            # import may have written since, and its article must survive the compaction.
            stored = KnowledgeBase.load(data_dir, index_dir=self.kb.index_dir)
            folding = Editor(stored, self.instance_dir)
            for event in self.state.events:
                folding._apply(event)
            stored.save()
            write_json_atomic(data_dir / EDITORIAL_FILE, {"events": self.state.events})
            self.journal.start_generation()
        return new
