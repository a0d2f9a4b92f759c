"""Conflicts against the labelled list (tests/labels/conflicts.json): precision, recall, misses.

A reported conflict (not indirect context) counts as
  * a true positive when it holds an expected conflict's sides on opposite sides,
  * a false positive when it sets a labelled non-conflict's two claims against each other,
  * unlabelled otherwise (listed, so a reviewer can label it).
Recall is over the expected conflicts (and, separately, the expected context entries).

``--speed N`` also times the article page (kb.pages.article) on a synthetic knowledge base of
N claims: the first build (cold: every conflict view computed) against repeated builds (views
served from the cache keyed by the editorial version), medians, with the cache hit rate.

    python benchmarks/eval_conflicts.py [--data-dir data] [--speed 100000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb import KnowledgeBase  # noqa: E402
from kb.conflicts import Conflict  # noqa: E402

LABELS = REPO / "tests" / "labels" / "conflicts.json"


def _opposed(conflict: Conflict, left: set[str], right: set[str]) -> bool:
    side_of = {cid: i for i, side in enumerate(conflict.sides) for cid in side.claims}
    if not (left | right) <= set(side_of):
        return False
    sl, sr = {side_of[c] for c in left}, {side_of[c] for c in right}
    return len(sl) == 1 and len(sr) == 1 and sl != sr


def evaluate(kb: KnowledgeBase, labels: dict[str, Any]) -> dict[str, Any]:
    conflicts = [c for c in kb.conflicts.values() if not c.is_context]
    context = [c for c in kb.conflicts.values() if c.is_context]
    tp: dict[str, list[str]] = {}
    missed = []
    for entry in labels["conflicts"]:
        left, right = (set(s) for s in entry["sides"])
        hits = [c.id for c in conflicts if _opposed(c, left, right)]
        if hits:
            for cid in hits:
                tp.setdefault(cid, []).append(entry["id"])
        else:
            missed.append(entry)
    fp: dict[str, list[str]] = {}
    for entry in labels["non_conflicts"]:
        a, b = entry["claims"]
        pool = conflicts if entry["level"] == "context" else conflicts + context
        for c in pool:
            if _opposed(c, {a}, {b}):
                fp.setdefault(c.id, []).append(entry["id"])
    ctx_missed = [
        e
        for e in labels["context"]
        if not any(_opposed(c, *(set(s) for s in e["sides"])) for c in context)
    ]
    judged = set(tp) | set(fp)
    precision = len(set(tp) - set(fp)) / len(judged) if judged else 1.0
    recall = (len(labels["conflicts"]) - len(missed)) / len(labels["conflicts"])
    return {
        "conflicts": len(conflicts),
        "context": len(context),
        "true_positive": sorted(set(tp) - set(fp)),
        "false_positive": fp,
        "unlabelled": sorted(c.id for c in conflicts if c.id not in judged),
        "missed": [e["id"] for e in missed],
        "context_missed": [e["id"] for e in ctx_missed],
        "precision": precision,
        "recall": recall,
        "context_recall": 1 - len(ctx_missed) / max(len(labels["context"]), 1),
    }


def report(kb: KnowledgeBase, result: dict[str, Any]) -> None:
    print(f"{result['conflicts']} conflicts, {result['context']} indirect-context entries")
    print(
        f"precision {result['precision']:.2f} over {len(result['true_positive'])} + "
        f"{len(result['false_positive'])} judged conflicts; recall {result['recall']:.2f} "
        f"of the expected conflicts; context recall {result['context_recall']:.2f}"
    )
    for cid, why in result["false_positive"].items():
        print(f"  FALSE  {cid}  {kb.conflicts[cid].title}  (labelled non-conflict: {why})")
    for label in result["missed"]:
        print(f"  MISSED {label}")
    for label in result["context_missed"]:
        print(f"  MISSED context {label}")
    for cid in result["unlabelled"]:
        print(f"  unlabelled {cid}  {kb.conflicts[cid].title}")


def speed(size: int, repeats: int) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    from synthetic import make_synthetic_kb  # type: ignore[import-not-found]

    from kb import pages
    from kb.contested import view_cache_stats

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        make_synthetic_kb(size, data)
        kb = KnowledgeBase.load(data)
        t0 = time.perf_counter()
        kb.grades  # noqa: B018 - derived state built before timing pages
        print(
            f"\n{len(kb.claims)} claims, {len(kb.conflicts)} conflicts (load + grades "
            f"{time.perf_counter() - t0:.1f} s)"
        )
        article = next(iter(kb.articles))
        cold = []
        for _ in range(repeats):
            kb._caches.pop("contested.views", None)  # same-run baseline: no cache
            t = time.perf_counter()
            pages.article(kb, article)
            cold.append(time.perf_counter() - t)
        kb._caches.pop("contested.views", None)
        pages.article(kb, article)  # fills the cache
        warm = []
        for _ in range(repeats):
            t = time.perf_counter()
            pages.article(kb, article)
            warm.append(time.perf_counter() - t)
        stats = view_cache_stats(kb)
        rate = stats["hits"] / max(stats["hits"] + stats["misses"], 1)
        print(
            f"article page: uncached median {statistics.median(cold) * 1000:.1f} ms, "
            f"cached median {statistics.median(warm) * 1000:.1f} ms "
            f"({repeats} runs each); conflict-view cache hit rate {rate:.0%} "
            f"({stats['hits']} hits, {stats['misses']} misses)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO / "data")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.add_argument("--speed", type=int, metavar="N", help="also time the article page")
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args()
    kb = KnowledgeBase.load(args.data_dir)
    result = evaluate(kb, json.loads(LABELS.read_text("utf-8")))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        report(kb, result)
    if args.speed:
        speed(args.speed, args.repeats)


if __name__ == "__main__":
    main()
