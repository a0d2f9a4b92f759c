"""Distinct benchmark queries drawn from a knowledge base's own words.

Shared by the benchmarks so that no timed query repeats (a repeated query would measure a
result cache, not the search). Words are drawn as a reader meets them: pick a random claim,
then a random word of it, so common words come up often and rare ones sometimes (the corpus's
own Zipf-like distribution). Types: ``single`` (one word), ``pair`` (two words of one claim),
``phrase`` (two consecutive words, quoted), ``filtered`` (a word with a kind, grade or
condition filter).
"""

from __future__ import annotations

import random
import re
from typing import Any

from kb.search.concepts import STOPS

_WORD = re.compile(r"[A-Za-z][A-Za-z-]{3,}")
TYPES = ("single", "pair", "phrase", "filtered")


def distinct_queries(
    kb: Any, n: int, seed: int = 1, exclude: set[str] | None = None
) -> list[tuple[str, str, dict[str, str]]]:
    """``n`` distinct ``(type, query, filters)``, a quarter of each type."""
    rng = random.Random(seed)
    claims = list(kb.claims.values())
    grades = ("High", "Moderate", "Low", "Very low")
    conditions = sorted(kb.conditions.conditions)
    seen: set[tuple[str, str]] = set()
    seen_text = set(exclude or ())
    out: list[tuple[str, str, dict[str, str]]] = []
    attempts = 0
    while len(out) < n and attempts < n * 50:
        attempts += 1
        kind = TYPES[len(out) % len(TYPES)]
        claim = rng.choice(claims)
        words = [w for w in _WORD.findall(claim.text) if w.lower() not in STOPS]
        if len(words) < 2:
            continue
        filters: dict[str, str] = {}
        if kind == "single":
            text = rng.choice(words)
        elif kind == "pair":
            a, b = rng.sample(words, 2)
            text = f"{a} {b}"
        elif kind == "phrase":
            i = rng.randrange(len(words) - 1)
            text = f'"{words[i]} {words[i + 1]}"'
        else:
            text = rng.choice(words)
            which = rng.choice(("kind", "grade", "condition"))
            filters = {
                "kind": {"kind": claim.kind},
                "grade": {"grade": rng.choice(grades)},
                "condition": {"condition": rng.choice(conditions)},
            }[which]
        key = (text.lower(), repr(sorted(filters.items())))
        if key in seen or (text.lower() in seen_text and not filters):
            continue
        seen.add(key)
        out.append((kind, text, filters))
    return out
