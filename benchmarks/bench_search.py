"""Search benchmark: Whoosh-based ``kb.search`` against SQLite FTS5 on the same texts.

A script, not a test. On a synthetic knowledge base (``benchmarks/synthetic.py``; default
100,000 claims) it measures, in one run:

* index build: a fresh index from a loaded knowledge base (grades computed beforehand, as
  the web app does at start), in claims per second;
* cold open: a new :class:`kb.search.SearchIndex` on the built index answering its first
  query (the data fingerprint check that precedes it is reported separately);
* warm latency (p50/p95) of a realistic query mix — single words, two words, phrases, with
  and without filters — through ``KnowledgeBase.search`` (ranking, total, facets, highlights
  of the page and the result JSON), and the same queries on SQLite FTS5 (``porter
  unicode61``, ``bm25``, ``ORDER BY rank LIMIT 10``) over the same texts;
* the worst inputs of the issue (``*``, ``a~99`` …), to show they stay bounded.

FTS5 gets each query as typed: its words OR-ed (the same operator kb.search uses), phrases
as phrases, filters as ``WHERE`` clauses; it has no synonyms, so it looks up fewer words.

Usage::

    python benchmarks/bench_search.py            # 100k claims, about 3-5 minutes
    python benchmarks/bench_search.py --n 5000   # quick
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from synthetic import make_synthetic_kb

from kb import InvalidQuery, KnowledgeBase
from kb.evidence import DESIGNS, evidence_source
from kb.search import SearchIndex

# (type, query, filters). Filters are given as kb.search parameters; "typed" ones are part of
# the query string and are parsed out of it for FTS5.
MIX: list[tuple[str, str, dict[str, str]]] = [
    ("single", "ldn", {}),
    ("single", "crps", {}),
    ("single", "fibromyalgia", {}),
    ("single", "nausea", {}),
    ("single", "insomnia", {}),
    ("single", "placebo", {}),
    ("single", "headache", {}),
    ("single", "gabapentin", {}),
    ("single", "dose", {}),
    ("single", "pain", {}),
    ("two-term", "crps response", {}),
    ("two-term", "starting dose", {}),
    ("two-term", "vivid dreams", {}),
    ("two-term", "pain relief", {}),
    ("two-term", "adverse effects", {}),
    ("two-term", "ldn fibromyalgia", {}),
    ("two-term", "sleep quality", {}),
    ("two-term", "ms fatigue", {}),
    ("phrase", '"vivid dreams"', {}),
    ("phrase", '"4.5 mg"', {}),
    ("phrase", '"low dose naltrexone"', {}),
    ("phrase", '"neuropathic pain"', {}),
    ("phrase", '"placebo phase"', {}),
    ("phrase", '"quality of life"', {}),
    ("filtered", "pain", {"kind": "efficacy"}),
    ("filtered", "dose", {"grade": "High"}),
    ("filtered", "crps", {"condition": "crps"}),
    ("filtered", "nausea", {"design": "rct"}),
    ("filtered", "pain kind:efficacy", {}),
    ("filtered", "ldn grade:low", {}),
    ("filtered", "response condition:fibromyalgia", {}),
    ("filtered", '"vivid dreams" kind:adverse_effect', {}),
]
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
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="claims (default 100000)")
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of the query mix")
    parser.add_argument("--work-dir", type=Path, help="keep the synthetic data and index here")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-search-"))
    data_dir, index_dir = work / f"synthetic-{args.n}" / "data", work / f"index-{args.n}"
    out: dict[str, Any] = {
        "n": args.n,
        "cpus": os.cpu_count(),
        "load_average_before": os.getloadavg(),
    }
    try:
        if not (data_dir / "claims.json").exists():
            print(f"making a synthetic knowledge base of {args.n} claims ...", flush=True)
            make_synthetic_kb(args.n, data_dir)
        t = time.perf_counter()
        kb = KnowledgeBase.load(data_dir, index_dir=index_dir)
        out["kb_load_s"] = time.perf_counter() - t
        t = time.perf_counter()
        kb.grades  # noqa: B018 - computed once, as at web start; not part of the index build
        out["grades_s"] = time.perf_counter() - t
        n_claims, n_docs = len(kb.claims), len(kb.claims) + len(kb.references)
        print(
            f"loaded {n_claims} claims in {out['kb_load_s']:.1f} s, grades in "
            f"{out['grades_s']:.1f} s",
            flush=True,
        )

        # index build
        shutil.rmtree(index_dir, ignore_errors=True)
        gc.collect()
        t = time.perf_counter()
        report = SearchIndex(index_dir).sync(kb)
        build = time.perf_counter() - t
        size = sum(p.stat().st_size for p in index_dir.iterdir())
        out.update(
            build_s=build,
            build_claims_per_s=n_claims / build,
            index_mb=size / 2**20,
            build_report=report.to_dict(),
        )
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
        fresh.close()  # the data check stays done; the next search opens the index anew
        t = time.perf_counter()
        fresh.search(kb, "crps response")
        cold = time.perf_counter() - t
        out.update(data_check_s=check, cold_open_s=cold)
        print(
            f"cold open (open index + first query): {cold * 1000:.0f} ms; data fingerprint "
            f"check before it: {check * 1000:.0f} ms",
            flush=True,
        )
        kb.__dict__["_search_index"] = fresh

        # FTS5 on the same texts
        db, fts_build = fts5_build(kb)
        out["fts5_build_s"] = fts_build
        print(f"FTS5 build: {fts_build:.1f} s", flush=True)

        # warm query mix, both engines, interleaved in the same run
        ours: dict[str, list[float]] = {}
        theirs: dict[str, list[float]] = {}
        for _ in range(2):  # warm-up
            for _kind, q, f in MIX:
                kb.search(q, **f)
                sql, match, extra = fts5_query(q, f)
                db.execute(sql, [match, *extra]).fetchall()
        for _ in range(args.rounds):
            for kind, q, f in MIX:
                t = time.perf_counter()
                kb.search(q, **f)
                ours.setdefault(kind, []).append(time.perf_counter() - t)
                sql, match, extra = fts5_query(q, f)
                t = time.perf_counter()
                db.execute(sql, [match, *extra]).fetchall()
                theirs.setdefault(kind, []).append(time.perf_counter() - t)
        print(f"\nwarm latency, {args.rounds} rounds of {len(MIX)} queries (ms)")
        print(
            f"{'type':<10} {'kb p50':>8} {'kb p95':>8} {'fts5 p50':>9} {'fts5 p95':>9} "
            f"{'p50 x':>6} {'p95 x':>6}"
        )
        rows = {}
        for kind in [*dict.fromkeys(k for k, _, _ in MIX), "all"]:
            a = [x for k, v in ours.items() if kind in (k, "all") for x in v]
            b = [x for k, v in theirs.items() if kind in (k, "all") for x in v]
            row = {
                "kb_p50_ms": pct(a, 50) * 1000,
                "kb_p95_ms": pct(a, 95) * 1000,
                "fts5_p50_ms": pct(b, 50) * 1000,
                "fts5_p95_ms": pct(b, 95) * 1000,
            }
            row["p50_ratio"] = row["kb_p50_ms"] / row["fts5_p50_ms"]
            row["p95_ratio"] = row["kb_p95_ms"] / row["fts5_p95_ms"]
            rows[kind] = row
            print(
                f"{kind:<10} {row['kb_p50_ms']:8.1f} {row['kb_p95_ms']:8.1f} "
                f"{row['fts5_p50_ms']:9.1f} {row['fts5_p95_ms']:9.1f} "
                f"{row['p50_ratio']:6.2f} {row['p95_ratio']:6.2f}"
            )
        out["latency"] = rows
        per_query = {}
        for _kind, q, f in MIX:
            t = time.perf_counter()
            r = kb.search(q, **f)
            per_query[q + (f" {f}" if f else "")] = {
                "ms": (time.perf_counter() - t) * 1000,
                "total": r["total"],
            }
        out["per_query"] = per_query

        # the worst inputs
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
        goals = {
            "build >= 5,000 claims/s": out["build_claims_per_s"] >= 5000,
            "p95 <= 3x FTS5 p95": all_row["p95_ratio"] <= 3,
            "cold open < 1 s": out["cold_open_s"] < 1,
        }
        out["goals"] = goals
        print(
            "\ngoals: " + "; ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in goals.items())
        )
        print(
            f"load average before/after: {out['load_average_before']} / "
            f"{out['load_average_after']} on {out['cpus']} CPUs"
        )
        if args.json:
            args.json.write_text(json.dumps(out, indent=2), "utf-8")
    finally:
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
