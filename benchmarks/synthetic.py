"""A synthetic knowledge base of any size, made by recombining the real claims.

Shared by the benchmarks. :func:`make_synthetic_kb` writes a data directory with the same
schema as ``data/``: the real conditions, articles and references are copied unchanged, every
real claim is kept (the articles name them), and the remaining claims are generated from the
real ones — a real claim's kind, outcome, scope, citation and direction, a text spliced from
clauses of real claims of the same kind, and varied numbers. The result passes
``KnowledgeBase.load``; its word distribution is that of the real texts, which is the hard case
for a search engine (long posting lists), not an easy one.

Run as a script to write one: ``python benchmarks/synthetic.py 100000 /tmp/synthetic``.
"""

from __future__ import annotations

import copy
import json
import random
import re
import shutil
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"

_CLAUSE_SPLIT = re.compile(r"(?<=[,;:])\s+|\s+(?=whereas |while |and then |but )")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _vary_number(rng: random.Random, match: re.Match[str]) -> str:
    text = match.group(0)
    if "." in text:
        return f"{rng.uniform(0.5, 99):.1f}"
    return str(rng.randint(1, 400))


def _vary_value(rng: random.Random, value: dict[str, Any] | None) -> dict[str, Any] | None:
    """The same kind of headline number with a different value (schema stays valid)."""
    if value is None:
        return None
    v = copy.deepcopy(value)
    t = v["type"]
    if t == "percentage":
        v["value"] = round(rng.uniform(1, 99), 1)
        v["as_stated"] = f"{v['value']:g}%"
    elif t == "quantity":
        v["value"] = rng.choice([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 6, 8, 50])
        v["as_stated"] = f"{v['value']:g} {v['unit']}"
    elif t == "range":
        low = rng.choice([0.5, 1, 1.5, 2, 3, 4])
        v["low"], v["high"] = low, low + rng.choice([0.5, 1, 2, 3, 4])
        v["as_stated"] = f"{v['low']:g}-{v['high']:g} {v['unit']}"
    elif t == "count":
        v["value"] = rng.randint(2, 2000)
        v["as_stated"] = f"{v['value']} {v['unit']}"
    elif t == "ratio":
        den = rng.randint(2, 200)
        v["numerator"], v["denominator"] = rng.randint(1, den), den
        v["as_stated"] = f"{v['numerator']}/{v['denominator']}"
    return v


def _splice(rng: random.Random, texts: list[str]) -> str:
    """A sentence built from clauses of two or three real texts, numbers varied."""
    clauses: list[str] = []
    for text in rng.sample(texts, min(len(texts), rng.choice([1, 2, 2, 3]))):
        parts = [p.strip(" ,;:") for p in _CLAUSE_SPLIT.split(text.rstrip(".")) if p.strip(" ,;:")]
        start = rng.randrange(len(parts))
        clauses.extend(parts[start : start + rng.choice([1, 2])])
    out = ", ".join(clauses)
    out = _NUMBER.sub(lambda m: _vary_number(rng, m), out)
    return out[:1].upper() + out[1:] + "."


def make_synthetic_kb(n_claims: int, out_dir: Path, seed: int = 0) -> Path:
    """Write a data directory with ``n_claims`` claims to ``out_dir`` and return it.

    The real claims come first (so the copied articles stay valid; ``n_claims`` below their
    number still keeps them all), then generated claims ``syn-000001`` … recombined from them.
    The same ``seed`` always gives the same files.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("conditions.json", "articles.json", "references.json"):
        shutil.copyfile(DATA / name, out_dir / name)
    real: list[dict[str, Any]] = json.loads((DATA / "claims.json").read_text("utf-8"))
    refs = json.loads((DATA / "references.json").read_text("utf-8"))
    names = [a.get("family") for r in refs for a in r.get("author") or [] if a.get("family")]
    rng = random.Random(seed)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for rec in real:
        by_kind.setdefault(rec["kind"], []).append(rec)
    scopes = [rec["conditions"] for rec in real]
    dossier = [rec for rec in real if rec["origin"] == "dossier"]
    claims = list(real)
    for i in range(1, max(0, n_claims - len(real)) + 1):
        base = rng.choice(dossier)
        same_kind = [r["text"] for r in by_kind[base["kind"]]]
        rec = copy.deepcopy(base)
        rec["id"] = f"syn-{i:06d}"
        text = _splice(rng, same_kind)
        if rng.random() < 0.3:
            text = text[:-1] + f" ({rng.choice(names)} cohort {rng.randint(1990, 2025)})."
        rec["text"] = text
        if "plain_text" in rec:
            if rng.random() < 0.5:
                rec["plain_text"] = _splice(
                    rng, [r.get("plain_text") or r["text"] for r in by_kind[base["kind"]]]
                )
            else:
                del rec["plain_text"]
        rec["value"] = _vary_value(rng, base["value"])
        rec["reported_numbers"] = {
            k: (
                _NUMBER.sub(lambda m: _vary_number(rng, m), v)
                if isinstance(v, str)
                else rng.randint(1, 500)
                if isinstance(v, int)
                else v
            )
            for k, v in base["reported_numbers"].items()
        }
        if rng.random() < 0.3:
            rec["conditions"] = list(rng.choice(scopes))
        if rng.random() < 0.3:
            rec["citations"] = copy.deepcopy(rng.choice(dossier)["citations"])
        claims.append(rec)
    text = json.dumps(claims, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (out_dir / "claims.json").write_text(text, encoding="utf-8")
    return out_dir


if __name__ == "__main__":  # pragma: no cover - convenience entry point
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"/tmp/synthetic-{n}")
    print(make_synthetic_kb(n, target))
