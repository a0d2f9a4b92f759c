"""The glossary: plain-language explanations of the terms a patient meets on a page.

The terms live in ``kb/vocab/glossary.json`` (id, term, definition, aliases), written in the
project's own words. :meth:`Glossary.annotate` splits a text into plain and glossary segments
so an adapter can link each term to its explanation without parsing or emitting HTML itself.
Abbreviations (aliases written in capitals, such as ``CRPS``) match case-sensitively; words
match in any case.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

VOCAB = Path(__file__).resolve().parent / "vocab" / "glossary.json"


@dataclass(frozen=True)
class Term:
    id: str
    term: str
    definition: str
    aliases: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "term": self.term, "definition": self.definition}


def _alias_pattern(alias: str) -> str:
    body = re.escape(alias).replace(r"\ ", r"[\s-]+").replace(r"\-", r"[\s-]?")
    if alias.upper() == alias and any(ch.isalpha() for ch in alias):
        return body
    return f"(?i:{body})"


class Glossary:
    """The terms, with one compiled pattern that finds any alias of any term."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self.terms: dict[str, Term] = {t.id: t for t in terms}
        by_alias = {alias: t.id for t in self.terms.values() for alias in t.aliases}
        self._alias_term = {}
        parts = []
        # Longest aliases first, so "low-dose naltrexone" wins over "naltrexone".
        for i, alias in enumerate(sorted(by_alias, key=lambda a: (-len(a), a))):
            group = f"a{i}"
            self._alias_term[group] = by_alias[alias]
            parts.append(f"(?P<{group}>{_alias_pattern(alias)})")
        self._pattern = re.compile(r"(?<![\w-])(?:" + "|".join(parts) + r")(?![\w-])")

    @classmethod
    def load(cls, path: str | Path = VOCAB) -> Glossary:
        """Read a glossary file (a JSON array of ``{id, term, definition, aliases}``)."""
        records = json.loads(Path(path).read_text("utf-8"))
        return cls(Term(r["id"], r["term"], r["definition"], tuple(r["aliases"])) for r in records)

    def annotate(self, text: str, *, seen: set[str] | None = None) -> list[dict[str, Any]]:
        """Split ``text`` into segments ``{"text": ..., "term": <term id or None>}``.

        Each term is marked once: its first occurrence not already in ``seen`` (which is
        updated), so a page can explain a term where it first appears and nowhere else.
        Joining the segments' texts gives ``text`` back unchanged.
        """
        seen = set() if seen is None else seen
        out: list[dict[str, Any]] = []
        pos = 0
        for match in self._pattern.finditer(text):
            term_id = self._alias_term[match.lastgroup or ""]
            if term_id in seen:
                continue
            seen.add(term_id)
            if match.start() > pos:
                out.append({"text": text[pos : match.start()], "term": None})
            out.append({"text": match.group(0), "term": term_id})
            pos = match.end()
        if pos < len(text) or not out:
            out.append({"text": text[pos:], "term": None})
        return out

    def terms_in(self, texts: Iterable[str]) -> list[Term]:
        """The terms that occur in any of ``texts``, in glossary order."""
        found: set[str] = set()
        for text in texts:
            for match in self._pattern.finditer(text):
                found.add(self._alias_term[match.lastgroup or ""])
        return [t for tid, t in self.terms.items() if tid in found]

    def to_json(self) -> list[dict[str, Any]]:
        return [t.to_dict() for t in self.terms.values()]


@lru_cache(maxsize=1)
def default() -> Glossary:
    """The project's glossary (``kb/vocab/glossary.json``), loaded once."""
    return Glossary.load()
