"""Search benchmark: Whoosh-based ``kb.search`` against SQLite FTS5 on the same texts.

A script, not a test. On a synthetic knowledge base (``benchmarks/synthetic.py``; default
100,000 claims, made once and kept under ``/tmp/kb-synthetic``) it measures, in one run:

* index build (with ``--rebuild``, or when there is no index yet), in claims per second;
* cold open: a new :class:`kb.search.SearchIndex` on the built index answering its first query;
* **fresh-query latency** (p50/p95): ``--queries`` distinct queries drawn from the corpus's own
  words (:mod:`queries`: single words, pairs, phrases, filtered), each timed once through
  ``KnowledgeBase.search`` (ranking, total, facets, highlights of the page and the result JSON)
  with the result cache off, and the same queries on SQLite FTS5 (``porter unicode61``,
  ``bm25``, ``ORDER BY rank LIMIT 10``) over the same texts, interleaved in the same run;
  the cache hit rate is printed (0 % by construction);
* the worst inputs of the issue (``*``, ``a~99`` …), to show they stay bounded.

FTS5 gets each query as typed: its words OR-ed (the same operator kb.search uses), phrases
as phrases, filters as ``WHERE`` clauses; it has no synonyms, so it looks up fewer words.
Goal (issue 11): kb p95 at most 0.5 × FTS5 p95.

Usage::

    python benchmarks/bench_search.py            # 100k claims
    python benchmarks/bench_search.py --n 5000   # quick
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import re
import shutil
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from queries import distinct_queries
from synthetic import cached_kb

from kb import InvalidQuery, KnowledgeBase
from kb.evidence import DESIGNS, evidence_source
from kb.search import SearchIndex

WORST = [
    "*",
    "*a*",
    "a~99",
    "pain~2",
    "r*",
    "res*",
    "NOT NOT NOT",
    "a" * 10_000,
    " ".join(["ldn pain dose"] * 10),
    '"low dose naltrexone" OR "neuropathic pain" OR pain',
]
GRADES = {"high": "High", "moderate": "Moderate", "low": "Low", "very low": "Very low"}
RCT = ("randomized-controlled-trial", "crossover-rct", "pilot-rct")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


# -- FTS5 ---------------------------------------------------------------------------------
def fts5_build(kb: KnowledgeBase) -> tuple[sqlite3.Connection, float]:
    """The same texts kb.search indexes, one row per claim: text (+ plain text) and meta."""
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(text, meta, kind UNINDEXED, "
        "grade UNINDEXED, design UNINDEXED, conditions UNINDEXED, "
        "tokenize='porter unicode61')"
    )
    tree = kb.conditions
    rows = []
    for cid, claim in kb.claims.items():
        source = evidence_source(kb, claim)
        design = source.design if source else ""
        conds = sorted(tree.with_ancestors(claim.conditions))
        labels = " ".join(kb.references[r].label for r in claim.cited_refs)
        numbers = " ".join(
            [claim.value_text or ""] + [str(v) for v in claim.record["reported_numbers"].values()]
        )
        meta = " ".join(
            [
                claim.kind.replace("_", " "),
                claim.intervention,
                " ".join(tree.label(c) for c in conds),
                DESIGNS.get(design, ("", "", ""))[2],
                labels,
                numbers,
            ]
        )
        rows.append(
            (
                claim.text + " " + (claim.plain_text or ""),
                meta,
                claim.kind,
                kb.grades[cid].grade,
                design,
                " " + " ".join(conds) + " ",
            )
        )
    started = time.perf_counter()
    db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)", rows)
    db.commit()
    return db, time.perf_counter() - started


def fts5_query(text: str, filters: dict[str, str]) -> tuple[str, str, list[Any]]:
    """The query for FTS5: words OR-ed, phrases kept, filters (typed or given) as WHERE."""
    filters = dict(filters)
    for name, value in re.findall(r"(\w+):(\S+)", text):
        filters[name] = value
    text = re.sub(r"\w+:\S+", " ", text)
    phrases = re.findall(r'"([^"]*)"', text)
    words = re.findall(r"\w+(?:\.\w+)*", re.sub(r'"[^"]*"', " ", text))
    terms = [f'"{p}"' for p in phrases] + [f'"{w}"' for w in words]
    where, args = ["docs MATCH ?"], [" OR ".join(terms)]
    for name, value in filters.items():
        if name == "kind":
            where.append("kind = ?")
            args.append(value)
        elif name == "grade":
            where.append("grade = ?")
            args.append(GRADES[value.lower().replace("-", " ")])
        elif name == "condition":
            where.append("conditions LIKE ?")
            args.append(f"% {value} %")
        elif name == "design":
            where.append(f"design IN ({', '.join('?' * len(RCT))})")
            args.extend(RCT)
    sql = (
        "SELECT rowid, bm25(docs, 1.0, 0.4) AS rank FROM docs WHERE "
        + " AND ".join(where)
        + " ORDER BY rank LIMIT 10"
    )
    return sql, args[0], args[1:]


# -- the run ------------------------------------------------------------------------------
def fresh_latency(
    kb: KnowledgeBase, db: sqlite3.Connection, mix: list[tuple[str, str, dict[str, str]]]
) -> dict[str, dict[str, float]]:
    """Each distinct query once on each engine, interleaved; p50/p95 per type and overall."""
    ours: dict[str, list[float]] = {}
    theirs: dict[str, list[float]] = {}
    for kind, q, f in mix:
        t = time.perf_counter()
        try:
            kb.search(q, **f)
        except InvalidQuery:
            continue
        ours.setdefault(kind, []).append(time.perf_counter() - t)
        sql, match, extra = fts5_query(q, f)
        t = time.perf_counter()
        db.execute(sql, [match, *extra]).fetchall()
        theirs.setdefault(kind, []).append(time.perf_counter() - t)
    rows = {}
    for kind in [*ours, "all"]:
        a = [x for k, v in ours.items() if kind in (k, "all") for x in v]
        b = [x for k, v in theirs.items() if kind in (k, "all") for x in v]
        row = {
            "n": len(a),
            "kb_p50_ms": pct(a, 50) * 1000,
            "kb_p95_ms": pct(a, 95) * 1000,
            "fts5_p50_ms": pct(b, 50) * 1000,
            "fts5_p95_ms": pct(b, 95) * 1000,
        }
        row["p50_ratio"] = row["kb_p50_ms"] / row["fts5_p50_ms"]
        row["p95_ratio"] = row["kb_p95_ms"] / row["fts5_p95_ms"]
        rows[kind] = row
    return rows


def print_latency(rows: dict[str, dict[str, float]]) -> None:
    print(
        f"{'type':<10} {'n':>5} {'kb p50':>8} {'kb p95':>8} {'fts5 p50':>9} {'fts5 p95':>9} "
        f"{'p50 x':>6} {'p95 x':>6}"
    )
    for kind, row in rows.items():
        print(
            f"{kind:<10} {row['n']:>5} {row['kb_p50_ms']:8.1f} {row['kb_p95_ms']:8.1f} "
            f"{row['fts5_p50_ms']:9.1f} {row['fts5_p95_ms']:9.1f} "
            f"{row['p50_ratio']:6.2f} {row['p95_ratio']:6.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="claims (default 100000)")
    parser.add_argument("--queries", type=int, default=400, help="distinct timed queries")
    parser.add_argument("--rebuild", action="store_true", help="time a fresh index build")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()
    out = run(args.n, args.queries, rebuild=args.rebuild)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), "utf-8")


def run(n: int, n_queries: int, *, rebuild: bool = False) -> dict[str, Any]:
    data_dir = cached_kb(n)
    index_dir = data_dir.parent / "instance" / "index"  # where kb serve looks too
    out: dict[str, Any] = {"n": n, "cpus": os.cpu_count(), "load_average_before": os.getloadavg()}
    t = time.perf_counter()
    kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
    out["kb_load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    kb.grades  # noqa: B018 - computed once, as at web start; not part of the index build
    out["grades_s"] = time.perf_counter() - t
    n_claims, n_docs = len(kb.claims), len(kb.claims) + len(kb.references)
    print(
        f"loaded {n_claims} claims, {len(kb.references)} references in "
        f"{out['kb_load_s']:.1f} s, grades in {out['grades_s']:.1f} s",
        flush=True,
    )
    if rebuild or not index_dir.exists():
        shutil.rmtree(index_dir, ignore_errors=True)
        gc.collect()
        t = time.perf_counter()
        report = SearchIndex(index_dir).sync(kb)
        build = time.perf_counter() - t
        size = sum(p.stat().st_size for p in index_dir.iterdir())
        out.update(build_s=build, build_claims_per_s=n_claims / build, index_mb=size / 2**20)
        out["build_report"] = report.to_dict()
        print(
            f"index build: {n_docs} documents in {build:.1f} s = "
            f"{n_claims / build:,.0f} claims/s ({size / 2**20:.0f} MB)",
            flush=True,
        )

    # cold open: a new SearchIndex on the committed index, then its first query
    fresh = SearchIndex(index_dir)
    t = time.perf_counter()
    fresh.ensure(kb)
    check = time.perf_counter() - t
    fresh.close()
    t = time.perf_counter()
    fresh.search(kb, "crps response")
    cold = time.perf_counter() - t
    out.update(data_check_s=check, cold_open_s=cold)
    print(
        f"cold open (open index + first query): {cold * 1000:.0f} ms; data fingerprint "
        f"check before it: {check * 1000:.0f} ms",
        flush=True,
    )
    kb.search_index = fresh
    fresh.result_cache_size = 0  # every timed query computed (they are distinct anyway)

    db, fts_build = fts5_build(kb)
    out["fts5_build_s"] = fts_build
    print(f"FTS5 build: {fts_build:.1f} s", flush=True)

    warm = distinct_queries(kb, 40, seed=99)
    for _, q, f in warm:  # warm-up on other queries (first-touch costs of both engines)
        with contextlib.suppress(InvalidQuery):
            kb.search(q, **f)
        sql, match, extra = fts5_query(q, f)
        db.execute(sql, [match, *extra]).fetchall()
    mix = distinct_queries(kb, n_queries, seed=1, exclude={q.lower() for _, q, _ in warm})
    fresh.cache_hits = fresh.cache_misses = 0
    rows = fresh_latency(kb, db, mix)
    hits, misses = fresh.cache_hits, fresh.cache_misses
    out["cache_hit_rate"] = hits / max(hits + misses, 1)
    print(f"\nfresh-query latency, {len(mix)} distinct queries, each once (ms)")
    print_latency(rows)
    print(f"result cache hit rate: {out['cache_hit_rate']:.0%} ({hits} of {hits + misses})")
    out["latency"] = rows

    print("\nworst inputs (ms): ", end="")
    worst = {}
    for q in WORST:
        t = time.perf_counter()
        try:
            kb.search(q)
            outcome = "results"
        except InvalidQuery:
            outcome = "InvalidQuery"
        worst[q[:40]] = {"ms": (time.perf_counter() - t) * 1000, "outcome": outcome}
    print(", ".join(f"{q!r} {v['ms']:.0f} ({v['outcome']})" for q, v in worst.items()))
    out["worst"] = worst
    all_row = rows["all"]
    out["load_average_after"] = os.getloadavg()
    goals = {"fresh-query p95 <= 0.5x FTS5 p95": all_row["p95_ratio"] <= 0.5}
    out["goals"] = goals
    print("\ngoals: " + "; ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in goals.items()))
    print(
        f"load average before/after: {out['load_average_before']} / "
        f"{out['load_average_after']} on {out['cpus']} CPUs"
    )
    return out


if __name__ == "__main__":
    main()
