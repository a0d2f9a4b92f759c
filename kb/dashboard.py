"""The editorial board's desk: its work queue, the history of each claim and article, the
board's panel on a claim or article page, and the fields each editorial action takes.

Everything here reads :attr:`KnowledgeBase.editorial <kb.knowledgebase.KnowledgeBase.editorial>`
(the replayed journal, see :mod:`kb.editorial`) and returns plain dicts, like :mod:`kb.pages`;
the writing functions (:func:`submit`, :func:`add_conflict`) turn submitted fields into one
:meth:`Editor.record <kb.editorial.Editor.record>` call, which checks the role, the target and
the version the edit was based on.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .articles import REVIEW_STATUSES, STATUS_LABELS
from .claims import VERDICT_LABELS
from .contested import TYPE_LABELS, conflict_editorial
from .editorial import (
    ACTIONS,
    REFERENCE_MARKS,
    ROUTES,
    TARGET_KINDS,
    approval_concerns,
    claim_reference_marks,
    mark_json,
    since_approval,
)
from .editorial import status_moves as _moves
from .errors import InvalidQuery, NotFound

if TYPE_CHECKING:
    from .editorial import Editor, EditorialState
    from .knowledgebase import KnowledgeBase

QUEUE_LIMIT = 50  # conflicts listed in the dashboard queue (the total is given too)
ACTIVITY_LIMIT = 20  # recent events on the dashboard
MAX_SIDES = 6

_SPLIT = re.compile(r"[\s,;]+")


# -- writing -------------------------------------------------------------------------------
MAX_VERSION = 2**53  # no target ever gets near; larger numbers are refused, not compared


def base_version(value: Any) -> int:
    """The version an edit was based on, from a form field or JSON (an :class:`InvalidQuery`
    when it is missing or not a whole number from 0 to :data:`MAX_VERSION`)."""
    if isinstance(value, bool) or value is None or value == "":
        raise InvalidQuery(
            "base_version is required: the version of the target the edit was based on"
        )
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip()) if len(value.strip()) <= 20 else MAX_VERSION + 1
    if not isinstance(value, int):
        raise InvalidQuery(f"base_version must be a whole number, not {str(value)[:40]!r}")
    if not 0 <= value <= MAX_VERSION:
        raise InvalidQuery(f"base_version must be a whole number from 0 to {MAX_VERSION}")
    return value


def _text(fields: Mapping[str, Any], name: str) -> str:
    value = fields.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidQuery(f"{name} must be text")
    return value.strip()


def submit(
    editor: Editor,
    actor: str,
    role: str,
    kind: str,
    target_id: str,
    route: str,
    fields: Mapping[str, Any],
) -> dict[str, Any]:
    """Record the action ``route`` (see :data:`kb.editorial.ROUTES`) on ``kind`` (``claims``, ``articles``
    or ``conflicts``) ``target_id`` from submitted ``fields`` (``base_version``, ``reason``
    and the action's fields in :data:`kb.editorial.ACTIONS`); return ``{"event", "current"}``.

    An unknown kind or route is a :class:`NotFound`; a missing ``base_version`` or a bad value is an :class:`InvalidQuery`; :meth:`Editor.record` raises the
    rest (``Forbidden``, ``StaleEdit``, ``EditorialBusy``, unknown ids, bad values).
    """
    if kind not in ROUTES or route not in ROUTES[kind]:
        raise NotFound(f"{kind}/{route}")
    action = ROUTES[kind][route]
    target = f"{TARGET_KINDS[kind]}:{target_id}"
    version = base_version(fields.get("base_version"))
    after = {name: _text(fields, name) for name in ACTIONS[action].fields}
    if action == "set_verdict" and not after["note"]:
        del after["note"]
    event = editor.record(
        actor,
        role,
        action,
        target,
        reason=_text(fields, "reason"),
        after=after,
        base_version=version,
    )
    return {"event": event, "current": editor.target_state(target)}


def status_moves(status: str) -> list[dict[str, str]]:
    """The review statuses an article at ``status`` can move to, one step back or forward."""
    here = REVIEW_STATUSES.index(status)
    return [
        {
            "status": s,
            "label": STATUS_LABELS[s],
            "direction": "back" if REVIEW_STATUSES.index(s) < here else "forward",
        }
        for s in _moves(status)
    ]


def split_ids(value: str | Sequence[str]) -> list[str]:
    """Claim ids from a list, or from text separated by commas, semicolons or spaces."""
    items = _SPLIT.split(value) if isinstance(value, str) else list(value)
    if not all(isinstance(i, str) for i in items):
        raise InvalidQuery("claim ids must be text")
    return list(dict.fromkeys(i.strip() for i in items if i.strip()))


def add_conflict(
    editor: Editor,
    actor: str,
    role: str,
    *,
    type: str,
    explanation: str,
    sides: Sequence[Mapping[str, Any]],
    topic: str = "",
    reason: str = "",
) -> dict[str, Any]:
    """Add a conflict by hand: ``sides`` are ``{"label", "claims"}`` (ids as a list or as
    comma-separated text); it is highlighted like a computed conflict, with
    ``source == "editor"``. Its id is ``cf-ed-`` + a hash of its type and sides (in any order),
    so adding the same conflict twice is a :class:`~kb.editorial.StaleEdit`. Returns ``{"event", "current"}``.
    """
    if type not in TYPE_LABELS:
        raise InvalidQuery(
            f"unknown conflict type {type!r}; expected one of " + ", ".join(TYPE_LABELS)
        )
    explanation = (explanation or "").strip()
    if not explanation:
        raise InvalidQuery("a conflict needs an explanation")
    if not isinstance(sides, Sequence) or isinstance(sides, str):
        raise InvalidQuery("sides must be a list of {label, claims}")
    clean: list[dict[str, Any]] = []
    for i, side in enumerate(sides):
        if not isinstance(side, Mapping):
            raise InvalidQuery("each side is {label, claims}")
        claims = split_ids(side.get("claims") or [])
        label = str(side.get("label") or "").strip() or f"Side {chr(ord('A') + i)}"
        if claims:
            clean.append({"label": label, "claims": claims})
    if not 2 <= len(clean) <= MAX_SIDES:
        raise InvalidQuery(f"a conflict needs 2 to {MAX_SIDES} sides, each with claims")
    seen: set[str] = set()
    for side in clean:
        if seen & set(side["claims"]):
            raise InvalidQuery("a claim can be on one side of a conflict only")
        seen |= set(side["claims"])
    # The same claims on the same sides, in any order, are the same conflict.
    signature = "|".join([type, *sorted(",".join(sorted(s["claims"])) for s in clean)])
    conflict_id = "cf-ed-" + hashlib.sha1(signature.encode()).hexdigest()[:10]
    after = {"type": type, "explanation": explanation, "sides": clean}
    if topic.strip():
        after["topic"] = topic.strip()
    target = f"conflict:{conflict_id}"
    event = editor.record(
        actor, role, "add_conflict", target, reason=reason.strip(), after=after, base_version=0
    )
    return {"event": event, "current": editor.target_state(target)}


PICK_LIMIT = 10  # claims a picker search lists
MAX_PICKED = 50  # claims per side the picker carries in its links


def claim_picker(
    kb: KnowledgeBase, query: str | None, side_a: Sequence[str], side_b: Sequence[str]
) -> dict[str, Any]:
    """The add-a-conflict form's claim picker: the claims picked for each side so far (unknown
    ids dropped) and, for ``query``, up to :data:`PICK_LIMIT` matching claims (a claim id
    typed exactly comes first). Works as plain GET links: no script needed."""
    a = [c for c in dict.fromkeys(side_a) if c in kb.claims]
    b = [c for c in dict.fromkeys(side_b) if c in kb.claims and c not in a]
    results: list[dict[str, Any]] = []
    total = 0
    if query:
        ids: list[str] = [query] if query in kb.claims else []
        found = kb.search(query, limit=PICK_LIMIT)
        total = found["total"]
        ids += [r["id"] for r in found["results"] if r.get("type", "claim") == "claim"]
        for cid in list(dict.fromkeys(ids))[:PICK_LIMIT]:
            results.append(
                {
                    "id": cid,
                    "text": kb.claims[cid].text,
                    "grade": kb.grades[cid].grade,
                    "side": "a" if cid in a else "b" if cid in b else None,
                }
            )

    def brief(cid: str) -> dict[str, str]:
        return {"id": cid, "text": kb.claims[cid].text}

    return {
        "query": query,
        "results": results,
        "total": total,
        "side_a": [brief(c) for c in a],
        "side_b": [brief(c) for c in b],
        "ready": bool(a and b),
        "conflict_types": [{"value": k, "label": v} for k, v in TYPE_LABELS.items()],
    }


# -- reading -------------------------------------------------------------------------------
def _version(state: EditorialState | None, target: str) -> int:
    return 0 if state is None else state.versions.get(target, 0)


def _target_label(kb: KnowledgeBase, target: str) -> str:
    kind, _, tid = target.partition(":")
    if kind == "claim":
        return kb.claims[tid].text if tid in kb.claims else tid
    if kind == "article":
        return kb.articles[tid].title if tid in kb.articles else tid
    if kind == "reference":
        return kb.references[tid].label if tid in kb.references else tid
    if kind == "conflict":
        try:
            conflict = kb.conflict(tid)
        except NotFound:
            return tid
        return f"{conflict.topic}: {conflict.explanation}"
    return target


def _verdict_label(verdict: Any) -> str:
    return VERDICT_LABELS.get(verdict, str(verdict)) if verdict else "none"


def _change(state: EditorialState, event: dict[str, Any]) -> str:
    """One line saying what the event changed, before → after where there is a before."""
    action = str(event["action"])
    before, after = event.get("before") or {}, event.get("after") or {}
    tid = event["target"].partition(":")[2]
    if action == "comment":
        return str(after.get("text", ""))
    if action == "flag":
        return "flagged as contested"
    if action in ("resolve_flag", "dismiss_flag"):
        flag = next(
            (f for f in list(state.flags.get(tid, [])) if f["id"] == after.get("flag")), None
        )
        what = f"the flag “{flag['reason']}”" if flag else "a flag"
        return f"{what}: open → {'resolved' if action == 'resolve_flag' else 'dismissed'}"
    if action == "propose_verdict":
        return f"proposed verdict: {_verdict_label(after.get('verdict'))}"
    if action == "set_verdict":
        note = f" ({after['note']})" if after.get("note") else ""
        return (
            f"verdict: {_verdict_label(before.get('verdict'))} → "
            f"{_verdict_label(after.get('verdict'))}{note}"
        )
    if action == "set_status":
        old, new = str(before.get("status")), str(after.get("status"))
        line = f"review status: {STATUS_LABELS.get(old, old)} → {STATUS_LABELS.get(new, new)}"
        if old == new:
            line = f"approved again after changes ({STATUS_LABELS.get(new, new)})"
        if after.get("acknowledge"):
            concerns = after.get("at_approval") or {}
            counts = ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in concerns.items() if v)
            line += (
                f"; approved over {counts or 'open concerns'}; acknowledged: {after['acknowledge']}"
            )
        return line
    if action in ("dismiss_conflict", "resolve_conflict", "restore_conflict"):
        old = (before.get("decision") or {}).get("decision") or "active"
        new = {
            "dismiss_conflict": "dismissed",
            "resolve_conflict": "resolved",
            "restore_conflict": "active",
        }[action]
        return f"conflict: {old} → {new}"
    if action.startswith("user_"):
        if action == "user_role":
            return f"role: {after.get('from_role')} → {after.get('role')}"
        if action == "user_add":
            return f"added as {after.get('role')}"
        return ACTIONS[action].label if action in ACTIONS else action
    if action in ("mark_reference", "clear_reference"):
        old = str(before.get("mark") or "none")
        new = str(after.get("status")) if action == "mark_reference" else "none"
        notice = f" (notice: {after['notice']})" if after.get("notice") else ""
        return (
            f"reference {tid}: {REFERENCE_MARKS.get(old, old)} → {REFERENCE_MARKS.get(new, new)}; "
            f"{len(after.get('claims', []))} dependent claims{notice}"
        )
    if action == "add_conflict":
        sides = " vs ".join(
            f"{s.get('label')} ({len(s.get('claims', []))})" for s in after.get("sides", [])
        )
        kind = str(after.get("type"))
        return (
            f"added a {TYPE_LABELS.get(kind, kind)} conflict: "
            f"{sides}. {after.get('explanation', '')}".strip()
        )
    return str(action)


def describe(kb: KnowledgeBase, event: dict[str, Any]) -> dict[str, Any]:
    """A history entry: who did what to which target, when, why, and the before and after."""
    state = kb.editorial
    assert state is not None
    kind, _, tid = event["target"].partition(":")
    return {
        "id": event["id"],
        "at": event["at"],
        "actor": event["actor"],
        "role": event.get("role"),
        "action": event["action"],
        "action_label": ACTIONS[event["action"]].label
        if event["action"] in ACTIONS
        else event["action"],
        "target": event["target"],
        "target_kind": kind,
        "target_id": tid,
        "target_label": _target_label(kb, event["target"]),
        "reason": event.get("reason", ""),
        "change": _change(state, event),
        "before": event.get("before") or {},
        "after": event.get("after") or {},
        "base_version": event.get("base_version"),
    }


def _events(kb: KnowledgeBase, targets: set[str]) -> list[dict[str, Any]]:
    """Events about ``targets``, newest first; a reference mark counts for the claims that
    rested on it (kept in the event)."""
    state = kb.editorial
    if state is None:
        return []
    claims = {t.partition(":")[2] for t in targets if t.startswith("claim:")}
    return [
        describe(kb, e)
        for e in reversed(list(state.events))
        if e["target"] in targets
        or (
            e["target"].startswith("reference:")
            and claims.intersection((e.get("after") or {}).get("claims", []))
        )
    ]


def _claim_targets(kb: KnowledgeBase, claim_ids: Sequence[str]) -> set[str]:
    targets = {f"claim:{c}" for c in claim_ids}
    targets |= {f"conflict:{cf}" for c in claim_ids for cf in kb.conflict_ids_of(c)}
    return targets


def history(kb: KnowledgeBase, kind: str, target_id: str) -> dict[str, Any]:
    """Every editorial event about a claim (with the conflicts it is in, dismissed ones too)
    or an article (with its claims and their conflicts), newest first.

    ``kind`` is ``claims`` or ``articles``; an unknown id is a :class:`NotFound`.
    """
    if kind == "claims":
        claim = kb.claim(target_id)
        targets = _claim_targets(kb, [claim.id])
        label = claim.text
    elif kind == "articles":
        art = kb.article(target_id)
        targets = {f"article:{art.id}"} | _claim_targets(kb, art.claim_ids())
        label = art.title
    else:
        raise NotFound(f"{kind}/{target_id}")
    target = f"{TARGET_KINDS[kind]}:{target_id}"
    events = _events(kb, targets)
    return {
        "target": {
            "kind": TARGET_KINDS[kind],
            "id": target_id,
            "label": label,
            "version": _version(kb.editorial, target),
        },
        "total": len(events),
        "events": events,
    }


def _comments(state: EditorialState | None, target: str) -> list[dict[str, Any]]:
    if state is None:
        return []
    return [
        {"by": c["by"], "at": c["at"], "text": c["text"]}
        for c in list(state.comments.get(target, []))
    ]


def _dismissed(kb: KnowledgeBase, conflict_ids: Sequence[str]) -> list[dict[str, Any]]:
    state = kb.editorial
    if state is None:
        return []
    out = []
    for cf in dict.fromkeys(conflict_ids):
        if state.is_dismissed(cf):
            conflict = kb.conflict(cf)
            out.append(
                {
                    "id": cf,
                    "type": conflict.type,
                    "topic": conflict.topic,
                    "explanation": conflict.explanation,
                    "source": conflict.source,
                    **conflict_editorial(kb, cf),
                }
            )
    return out


def board_claim(kb: KnowledgeBase, claim_id: str) -> dict[str, Any]:
    """The board's panel on a claim page: the version an edit must be based on, every flag
    (open, resolved or dismissed), comments, proposed verdicts, the verdict the board set,
    conflicts it dismissed or resolved, and how many events its history holds."""
    kb.claim(claim_id)
    state = kb.editorial
    target = f"claim:{claim_id}"
    flags = (
        []
        if state is None
        else [
            {
                "id": f["id"],
                "status": f["status"],
                "reason": f["reason"],
                "by": f["by"],
                "at": f["at"],
            }
            for f in list(state.flags.get(claim_id, []))
        ]
    )
    proposals = (
        []
        if state is None
        else [
            {
                "by": p["by"],
                "at": p["at"],
                "verdict": p["verdict"],
                "verdict_label": _verdict_label(p["verdict"]),
                "reason": p["reason"],
            }
            for p in list(state.proposals.get(claim_id, []))
        ]
    )
    verdict = None if state is None else state.verdicts.get(claim_id)
    return {
        "version": _version(state, target),
        "flags": flags,
        "open_flags": sum(1 for f in flags if f["status"] == "open"),
        "comments": _comments(state, target),
        "proposals": proposals,
        "verdict": None
        if verdict is None
        else {
            "by": verdict["by"],
            "at": verdict["at"],
            "verdict": verdict["verdict"],
            "verdict_label": _verdict_label(verdict["verdict"]),
            "note": verdict["note"],
            "reason": verdict["reason"],
        },
        "dismissed_conflicts": _dismissed(kb, kb.conflict_ids_of(claim_id)),
        "verdicts": [{"value": v, "label": label} for v, label in VERDICT_LABELS.items()],
        "history_count": len(_events(kb, _claim_targets(kb, [claim_id]))),
    }


def board_article(kb: KnowledgeBase, article_id: str) -> dict[str, Any]:
    """The board's panel on an article page: the version a status change must be based on,
    the statuses it can move to, comments, and how many events its history holds."""
    art = kb.article(article_id)
    state = kb.editorial
    target = f"article:{article_id}"
    targets = {target} | _claim_targets(kb, art.claim_ids())
    approval = approval_view(kb, article_id)
    moves = status_moves(art.review_status)
    if approval is not None and approval["changed"]:
        moves.append({"status": "approved", "label": "Approved", "direction": "again"})
    concerns = (
        approval_concerns(kb, state, article_id)
        if state is not None
        else {"open_flags": [], "active_conflicts": [], "questioned_references": []}
    )
    return {
        "version": _version(state, target),
        "moves": moves,
        "concerns": {k: len(v) for k, v in concerns.items()},
        "approval": approval,
        "comments": _comments(state, target),
        "history_count": len(_events(kb, targets)),
    }


def board_reference(kb: KnowledgeBase, ref_id: str) -> dict[str, Any]:
    """The board's panel on a reference page: the version an edit must be based on, the mark
    (retracted or expression of concern: reason, notice, by, at) or None, and the marks an
    editor can set."""
    kb.reference(ref_id)
    state = kb.editorial
    mark = None if state is None else state.reference_status(ref_id)
    return {
        "version": _version(state, f"reference:{ref_id}"),
        "mark": None if mark is None else mark_json(mark),
        "marks": [{"value": k, "label": v} for k, v in REFERENCE_MARKS.items()],
    }


def article_reference_marks(kb: KnowledgeBase, article_id: str) -> list[dict[str, Any]]:
    """The marked references an article's claims rest on, each with the claims affected
    (for the banner every article containing one shows)."""
    out: dict[str, dict[str, Any]] = {}
    for cid in kb.article(article_id).claim_ids():
        for mark in claim_reference_marks(kb, cid):
            item = out.setdefault(mark["ref"], {**mark, "claims": []})
            if cid not in item["claims"]:
                item["claims"].append(cid)
    return list(out.values())


def users_page(kb: KnowledgeBase, users: Sequence[Any]) -> dict[str, Any]:
    """The admin's account page: every account (name, role, disabled; never a hash), the
    roles one can have and the account changes in the journal, newest first."""
    from .editorial import ACCOUNT_ROLES

    state = kb.editorial
    events = [] if state is None else list(state.events)
    return {
        "users": [
            {"name": u.name, "role": u.role, "disabled": u.disabled}
            for u in sorted(users, key=lambda u: u.name)
        ],
        "roles": list(ACCOUNT_ROLES),
        "history": [describe(kb, e) for e in reversed(events) if e["target"].startswith("user:")][
            :ACTIVITY_LIMIT
        ],
    }


def approval_view(kb: KnowledgeBase, article_id: str) -> dict[str, Any] | None:
    """An approved article's last approval (who, when, why, any acknowledgement of open
    flags or conflicts) and what changed since: ``changes`` (history entries: flags, verdicts,
    conflicts added or restored, references marked retracted or of concern) and
    ``new_conflicts`` (conflicts that appeared since, e.g. after an import). None when the
    article is not approved or was approved outside the board (in the data file)."""
    state = kb.editorial
    if state is None:
        return None
    found = since_approval(kb, state, article_id)
    event = found["approval"]
    if event is None:
        return None
    after = event.get("after") or {}
    new_conflicts = []
    for cf in found["new_conflicts"]:
        conflict = kb.conflict(cf)
        new_conflicts.append(
            {"id": cf, "topic": conflict.topic, "explanation": conflict.explanation}
        )
    changes = [describe(kb, e) for e in found["changes"]]
    return {
        "at": event["at"],
        "by": event["actor"],
        "reason": event.get("reason", ""),
        "acknowledge": after.get("acknowledge"),
        "at_approval": {k: len(v) for k, v in (after.get("at_approval") or {}).items()},
        "changed": bool(changes or new_conflicts),
        "changes": changes,
        "new_conflicts": new_conflicts,
    }


def dashboard(kb: KnowledgeBase) -> dict[str, Any]:
    """The board's work queue: open flags, active conflicts (hand-added first, then by topic;
    the first :data:`QUEUE_LIMIT`), conflicts the board set aside, articles by review status,
    recent activity and any journal problems (a torn line after a crash)."""
    state = kb.editorial
    flags: list[dict[str, Any]] = []
    if state is not None:
        for claim_id, items in sorted(list(state.flags.items())):
            for f in list(items):
                if f["status"] == "open" and claim_id in kb.claims:
                    flags.append(
                        {
                            "claim": {"id": claim_id, "text": kb.claims[claim_id].text},
                            "flag": {
                                "id": f["id"],
                                "reason": f["reason"],
                                "by": f["by"],
                                "at": f["at"],
                            },
                            "version": _version(state, f"claim:{claim_id}"),
                        }
                    )
    flags.sort(key=lambda item: item["flag"]["at"], reverse=True)
    active = kb.active_conflicts()
    ordered = sorted(active.values(), key=lambda c: (c.source != "editor", c.topic, c.id))
    conflicts = [
        {
            "id": c.id,
            "type": c.type,
            "type_label": TYPE_LABELS.get(c.type, c.type),
            "topic": c.topic,
            "explanation": c.explanation,
            "source": c.source,
            "claims": len(c.claim_ids()),
            **conflict_editorial(kb, c.id),
        }
        for c in ordered[:QUEUE_LIMIT]
    ]
    decided = (
        []
        if state is None
        else [
            cf
            for cf, _ in sorted(
                list(state.conflict_decisions.items()), key=lambda kv: kv[1]["at"], reverse=True
            )
        ]
    )
    by_status: dict[str, list[dict[str, Any]]] = {s: [] for s in REVIEW_STATUSES}
    for art in kb.articles.values():
        by_status.setdefault(art.review_status, []).append(
            {
                "id": art.id,
                "title": art.title,
                "last_updated": art.last_updated,
                "version": _version(state, f"article:{art.id}"),
                "moves": status_moves(art.review_status),
                "changed_since_approval": bool(
                    (view := approval_view(kb, art.id)) and view["changed"]
                ),
            }
        )
    events = [] if state is None else list(state.events)
    return {
        "queue": {"flags": flags, "conflicts": conflicts, "conflicts_total": len(active)},
        "set_aside": _dismissed(
            kb, [cf for cf in decided if cf in kb.computed_conflicts or cf in kb.manual_conflicts()]
        ),
        "articles": [
            {"status": s, "label": STATUS_LABELS.get(s, s), "articles": items}
            for s, items in by_status.items()
        ],
        "activity": [describe(kb, e) for e in reversed(events[-ACTIVITY_LIMIT:])],
        "problems": [] if state is None else list(state.problems),
        "counts": {
            "events": len(events),
            "open_flags": len(flags),
            "active_conflicts": len(active),
            "set_aside": len(decided),
        },
        "conflict_types": [{"value": k, "label": v} for k, v in TYPE_LABELS.items()],
    }
