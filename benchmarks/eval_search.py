"""Search relevance on the judged query set: nDCG@10 and every miss.

Run:  python benchmarks/eval_search.py [--data-dir data] [--json out.json]

The judged queries (``tests/search_judged/queries.json``) say, per query, which claims or
references must be among the first three results, which must not be among the first ten,
and for some the most documents the query may match. Each listed top-3 id counts as relevant
(gain 1) for nDCG@10 (for a "top3_condition" query, every result about that condition);
the ideal ranking puts all of them first. A query of common words only
must be answered with a message and no results. Every query runs fresh (the result cache is
off), so the figures are those of the ranking, not of a cache.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

JUDGED = REPO / "tests" / "search_judged" / "queries.json"


def load_judged() -> list[dict[str, Any]]:
    return list(json.loads(JUDGED.read_text("utf-8"))["queries"])


def judge(kb: Any, item: dict[str, Any]) -> dict[str, Any]:
    """Run one judged query; its nDCG@10 and the list of what went wrong (empty: passed)."""
    from kb import InvalidQuery

    try:
        res = kb.search(item["q"], limit=10)
    except InvalidQuery as exc:
        return {"q": item["q"], "ndcg": 0.0, "misses": [f"refused: {exc}"], "ids": []}
    ids = [r["id"] for r in res["results"]]
    misses: list[str] = []
    if item.get("message"):
        if res["results"] or not res["warnings"]:
            misses.append("expected no results and a message")
        return {"q": item["q"], "ndcg": 1.0 if not misses else 0.0, "misses": misses, "ids": ids}
    want = item.get("top3", [])
    top3 = ids[:3]
    if want:
        found = [i for i in want if i in top3]
        if item.get("mode", "all") == "all" and len(found) < len(want):
            misses.append(f"not in top 3: {sorted(set(want) - set(found))}")
        if item.get("mode") == "any" and not found:
            misses.append(f"none of {want[:4]}{'…' if len(want) > 4 else ''} in top 3")
    cond = item.get("top3_condition")
    if cond:
        about = [cond in kb.conditions.with_ancestors(r["conditions"]) for r in res["results"][:3]]
        if len(about) < 3 or not all(about):
            misses.append(f"top 3 not all about {cond}: {top3}")
        want = [
            r["id"] for r in res["results"] if cond in kb.conditions.with_ancestors(r["conditions"])
        ]
    bad = [i for i in item.get("not_top10", []) if i in ids]
    if bad:
        misses.append(f"in top 10 but should not be: {bad}")
    if "max_total" in item and res["total"] > item["max_total"]:
        misses.append(f"matched {res['total']} documents (at most {item['max_total']})")
    gains = [1.0 if i in want else 0.0 for i in ids]
    dcg = sum(g / math.log2(k + 2) for k, g in enumerate(gains))
    ideal = sum(1 / math.log2(k + 2) for k in range(min(len(want), 10)))
    ndcg = dcg / ideal if ideal else (0.0 if misses else 1.0)
    return {"q": item["q"], "ndcg": ndcg, "misses": misses, "ids": ids, "total": res["total"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO / "data")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    from kb import KnowledgeBase

    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase.load(args.data_dir, index_dir=Path(tmp) / "index")
        kb.search_index.result_cache_size = 0  # every query computed, never replayed
        rows = [judge(kb, item) for item in load_judged()]
    failed = [r for r in rows if r["misses"]]
    print(f"{'query':<45} {'nDCG@10':>8}  result")
    for r in rows:
        print(f"{r['q'][:45]:<45} {r['ndcg']:8.3f}  {'; '.join(r['misses']) or 'ok'}")
    mean = statistics.fmean(r["ndcg"] for r in rows)
    print(
        f"\n{len(rows)} judged queries: mean nDCG@10 {mean:.3f}; "
        f"{len(rows) - len(failed)} pass, {len(failed)} miss; result cache hit rate 0% (off)"
    )
    if args.json:
        args.json.write_text(json.dumps({"ndcg10": mean, "rows": rows}, indent=2), "utf-8")


if __name__ == "__main__":
    main()
