"""The condition vocabulary: a small DAG of conditions under ``chronic-pain``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from .errors import ConditionNotFound, InvalidData

ScopeRelation = Literal["same", "broader", "narrower", "disjoint"]


@dataclass(frozen=True)
class Condition:
    id: str
    label: str
    parents: tuple[str, ...]
    synonyms: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "parents": list(self.parents),
            "synonyms": list(self.synonyms),
        }


@dataclass
class ConditionTree:
    """Conditions with their hierarchy; ancestors are precomputed (the vocabulary is small)."""

    conditions: dict[str, Condition]
    records: list[dict[str, Any]] = field(default_factory=list, repr=False)
    _ancestors: dict[str, frozenset[str]] = field(default_factory=dict, repr=False)

    @classmethod
    def from_records(
        cls, records: list[dict[str, Any]], *, file: str = "conditions.json"
    ) -> ConditionTree:
        conditions: dict[str, Condition] = {}
        for rec in records:
            if rec["id"] in conditions:
                raise InvalidData(file, "duplicate id", record=rec["id"], field="id")
            conditions[rec["id"]] = Condition(
                rec["id"], rec["label"], tuple(rec["parents"]), tuple(rec.get("synonyms", ()))
            )
        for cond in conditions.values():
            for parent in cond.parents:
                if parent not in conditions:
                    raise InvalidData(
                        file,
                        f"unknown parent condition {parent!r}",
                        record=cond.id,
                        field="parents",
                    )
        tree = cls(conditions, records)
        for cid in conditions:
            tree._ancestors[cid] = tree._walk_up(cid, file)
        return tree

    def _walk_up(self, cid: str, file: str) -> frozenset[str]:
        seen: set[str] = set()
        stack = list(self.conditions[cid].parents)
        while stack:
            node = stack.pop()
            if node == cid:
                raise InvalidData(file, "the hierarchy has a cycle", record=cid, field="parents")
            if node not in seen:
                seen.add(node)
                stack.extend(self.conditions[node].parents)
        return frozenset(seen)

    def __contains__(self, cid: object) -> bool:
        return cid in self.conditions

    def get(self, cid: str) -> Condition:
        try:
            return self.conditions[cid]
        except KeyError:
            raise ConditionNotFound(cid) from None

    def label(self, cid: str) -> str:
        return self.get(cid).label

    def ancestors(self, cid: str) -> frozenset[str]:
        """Every condition above ``cid`` (not including it)."""
        self.get(cid)
        return self._ancestors[cid]

    def with_ancestors(self, cids: Iterable[str]) -> set[str]:
        """The given conditions plus everything above them."""
        out: set[str] = set()
        for cid in cids:
            out.add(cid)
            out |= self.ancestors(cid)
        return out

    def descendants(self, cid: str) -> set[str]:
        self.get(cid)
        return {c for c, anc in self._ancestors.items() if cid in anc}

    def relation(self, a: Iterable[str], b: Iterable[str]) -> ScopeRelation:
        """How scope ``a`` relates to scope ``b``.

        ``same`` when they share a condition, ``broader`` when some condition of ``a`` lies
        above one of ``b``, ``narrower`` for the reverse, otherwise ``disjoint``.
        """
        sa, sb = set(a), set(b)
        if sa & sb:
            return "same"
        if any(x in self._ancestors.get(y, ()) for x in sa for y in sb):
            return "broader"
        if any(y in self._ancestors.get(x, ()) for x in sa for y in sb):
            return "narrower"
        return "disjoint"

    def within(self, scope: Iterable[str], population: Iterable[str]) -> bool:
        """True when every condition of ``scope`` equals or lies below one of ``population``."""
        pop = set(population)
        return all(c in pop or bool(self._ancestors.get(c, frozenset()) & pop) for c in scope)

    def to_records(self) -> list[dict[str, Any]]:
        """The records as loaded (so saving is lossless)."""
        return self.records or [c.to_dict() for c in self.conditions.values()]
