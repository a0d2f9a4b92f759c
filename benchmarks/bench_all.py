"""Every speed figure of issue 11 at one size, in one table: figure, goal, measured, met.

Run:  python benchmarks/bench_all.py [--n 100000] [--json out.json]

Each figure is measured in this run next to its baseline (also measured here):

* cold start: a new process loading the knowledge base with its snapshot and answering its
  first search, index on disk (baseline: the same without a snapshot);
* fresh-query library search p95 against SQLite FTS5 on the same texts and queries
  (:mod:`bench_search`; distinct queries, result cache off);
* HTTP ``/api/search`` and ``/api/ask`` p95 at one client, throughput at 50 clients with one
  worker per core against one worker, errors, and an edit's visibility in every worker
  (:mod:`bench_web`; distinct requests, so the result cache never answers);
* an editorial verdict: time until search shows the new grade, in process (baseline: a full
  re-grade), and memory after 20 edits against before;
* search relevance: nDCG@10 and misses on the judged queries (:mod:`eval_search`, real data).

The synthetic knowledge base is made once and kept under ``/tmp/kb-synthetic``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

_COLD = """
import sys, time
t0 = float(sys.argv[1])
from kb import KnowledgeBase
kb = KnowledgeBase.load(sys.argv[2], index_dir=sys.argv[3], snapshot=sys.argv[4] == "1")
kb.search("pain relief")
print(time.time() - t0, kb.snapshot_status)
"""


def cold_start(data_dir: Path, index_dir: Path, snapshot: bool, repeats: int = 3) -> float:
    """Median seconds from process start to the first answered search."""
    # An installed package has its bytecode (pip compiles it); a checkout run with
    # PYTHONDONTWRITEBYTECODE (as on this machine) would recompile kb/ at every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "kb")], check=True)
    times = []
    for _ in range(repeats):
        out = subprocess.run(
            [
                sys.executable,
                "-c",
                _COLD,
                str(time.time()),
                str(data_dir),
                str(index_dir),
                "1" if snapshot else "0",
            ],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        times.append(float(out.stdout.split()[0]))
    return statistics.median(times)


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def edits(data_dir: Path, index_dir: Path, n_edits: int = 20) -> dict[str, Any]:
    """Verdicts through the editor: ms until search shows the new grade; memory."""
    import gc

    from kb import KnowledgeBase
    from kb.editorial import Editor
    from kb.evidence import grade_all

    kb = KnowledgeBase.load(data_dir, index_dir=index_dir, snapshot=True)
    instance = Path(tempfile.mkdtemp(prefix="bench-edits-"))
    editor = Editor.open(kb, instance)
    kb.search("pain relief")
    kb.prepare_edits()  # as kb serve does before it reports ready
    gc.collect()
    before = _rss_mb()
    targets = [c for c in kb.claims if c.startswith("syn-")][:n_edits] or list(kb.claims)[:n_edits]
    shown = []
    for i, cid in enumerate(targets):
        verdict = ("not_stated", "supported")[i % 2]
        words = " ".join(kb.claims[cid].text.split()[:6])
        t0 = time.perf_counter()
        _verdict(editor, cid, verdict)
        result = kb.search(words, limit=10)  # the page a reader sees
        shown.append((time.perf_counter() - t0) * 1000)
        hit = next((h for h in result["results"] if h["id"] == cid), None)
        if hit is not None and hit["evidence"]["grade"] != kb.grades[cid].grade:
            raise AssertionError(f"search shows a stale grade for {cid}")
    gc.collect()
    after = _rss_mb()
    t0 = time.perf_counter()
    grade_all(kb)
    full = time.perf_counter() - t0
    asked = _edits_in_ask(kb, editor, targets[:5])
    return {
        **asked,
        "edit_to_search_ms_p50": statistics.median(shown),
        "edit_to_search_ms_max": max(shown),
        "full_regrade_ms": full * 1000,
        "rss_before_mb": before,
        "rss_after_mb": after,
        "edits": len(targets),
    }


def _verdict(editor: Any, cid: str, verdict: str) -> None:
    editor.record(
        "bench",
        "editor",
        "set_verdict",
        f"claim:{cid}",
        reason="benchmark",
        after={"verdict": verdict, "note": "benchmark"},
    )


def _edits_in_ask(kb: Any, editor: Any, targets: list[str]) -> dict[str, Any]:
    """ms from a verdict until Ask answers a question about the edited claim's condition
    (the answer carries the new grades), against the same question just before the edit
    (Ask warmed up as ``kb serve`` warms it; Ask keeps no answer cache)."""
    import gc

    from kb.ask import ask, warm

    warm(kb)
    gc.freeze()  # as kb serve does after its warm-up
    plain, edited = [], []
    for i, cid in enumerate(targets):
        claim = kb.claims[cid]
        label = kb.conditions.label(claim.conditions[0]) if claim.conditions else "chronic pain"
        t0 = time.perf_counter()
        ask(kb, f"Does LDN work for {label}? ({i})")
        plain.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        _verdict(editor, cid, ("supported", "not_stated")[i % 2])
        ask(kb, f"Does LDN work for {label}? ({i})")
        edited.append((time.perf_counter() - t0) * 1000)
    return {
        "edit_to_ask_ms_p50": statistics.median(edited),
        "edit_to_ask_ms_max": max(edited),
        "ask_no_edit_ms_p50": statistics.median(plain),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    import bench_search
    import bench_web
    import eval_search
    from synthetic import cached_kb

    data_dir = cached_kb(args.n)
    index_dir = data_dir.parent / "instance" / "index"
    out: dict[str, Any] = {"n": args.n, "cpus": os.cpu_count(), "load_before": os.getloadavg()}

    print("== library search (bench_search)", flush=True)
    out["search"] = bench_search.run(args.n, args.queries)

    print("\n== cold start", flush=True)
    cold_start(data_dir, index_dir, True, repeats=1)  # make sure the snapshot exists
    out["cold_snapshot_s"] = cold_start(data_dir, index_dir, True)
    out["cold_plain_s"] = cold_start(data_dir, index_dir, False, repeats=1)
    print(
        f"cold start {out['cold_snapshot_s']:.2f} s (without snapshot {out['cold_plain_s']:.1f} s)"
    )

    print("\n== edits", flush=True)
    out["edits"] = edits(data_dir, index_dir)
    print(out["edits"])

    print("\n== web (bench_web)", flush=True)
    web_args = argparse.Namespace(
        size=str(args.n),
        requests=args.requests,
        single=200,
        clients=50,
        threads=8,
        startup_timeout=900,
    )
    out["web"] = bench_web.bench(web_args)
    bench_web.print_report(out["web"])

    print("\n== relevance (eval_search, real data)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        from kb import KnowledgeBase

        kb = KnowledgeBase.load(REPO / "data", index_dir=Path(tmp) / "index")
        kb.search_index.result_cache_size = 0
        rows = [eval_search.judge(kb, item) for item in eval_search.load_judged()]
    out["ndcg10"] = statistics.fmean(r["ndcg"] for r in rows)
    out["relevance_misses"] = [r for r in rows if r["misses"]]
    out["load_after"] = os.getloadavg()
    print_table(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str), "utf-8")


def print_table(out: dict[str, Any]) -> None:
    s, w, e = out["search"], out["web"], out["edits"]
    lat = s["latency"]["all"]
    one = w["one_client"]
    verdicts = list(w["edits"].get("verdict_ms", []))
    flags = list(w["edits"].get("flag_ms", []))
    rows = [
        (
            "cold start (process → first search)",
            "<= 2 s",
            f"{out['cold_snapshot_s']:.2f} s (no snapshot {out['cold_plain_s']:.1f} s)",
            out["cold_snapshot_s"] <= 2,
        ),
        (
            "library search p95 vs FTS5 (fresh)",
            "<= 0.5x",
            f"{lat['kb_p95_ms']:.1f} / {lat['fts5_p95_ms']:.1f} ms = {lat['p95_ratio']:.2f}x "
            f"(p50 {lat['kb_p50_ms']:.1f} / {lat['fts5_p50_ms']:.1f})",
            lat["p95_ratio"] <= 0.5,
        ),
        (
            "HTTP /api/search p95, 1 client",
            "<= 30 ms",
            f"{one['search']['p95_ms']} ms (p50 {one['search']['p50_ms']}; health "
            f"{one['baseline']['p95_ms']})",
            one["search"]["p95_ms"] <= 30,
        ),
        (
            "HTTP /api/ask p95, 1 client (ask's figure)",
            "<= 100 ms",
            f"{one['ask']['p95_ms']} ms (p50 {one['ask']['p50_ms']})",
            one["ask"]["p95_ms"] <= 100,
        ),
        (
            f"throughput {w['cpus']} workers / 1, 50 clients",
            ">= 1.7x, 0 errors",
            f"{w['throughput_ratio']}x ({w['loaded_workers']['rps']} vs "
            f"{w['loaded_1_worker']['rps']} req/s), errors "
            f"{w['loaded_workers']['errors'] + w['loaded_1_worker']['errors']}",
            w["throughput_ratio"] >= 1.7
            and w["loaded_workers"]["errors"] + w["loaded_1_worker"]["errors"] == 0,
        ),
        (
            "edit visible in every worker",
            "<= 200 ms",
            f"flag {max(flags, default=float('inf')):.0f} ms, verdict "
            f"{max(verdicts, default=float('inf')):.0f} ms (max)",
            bool(flags and verdicts) and max(flags + verdicts) <= 200,
        ),
        (
            "HTTP article page p95, 1 client",
            "<= 30 ms",
            f"repeat views {one['article (repeat)']['p95_ms']} ms (p50 "
            f"{one['article (repeat)']['p50_ms']}; fragment hits "
            f"{w['fragment_hit_rate']['repeat']:.0%}); nothing kept "
            f"{one['article (repeat, nothing kept)']['p95_ms']} ms; first views "
            f"{one['article (first)']['p95_ms']} ms",
            one["article (repeat)"]["p95_ms"] <= 30,
        ),
        (
            "verdict → Ask answer with the new grade",
            "<= 200 ms",
            f"p50 {e['edit_to_ask_ms_p50']:.0f}, max {e['edit_to_ask_ms_max']:.0f} ms "
            f"(no edit: p50 {e['ask_no_edit_ms_p50']:.0f} ms)",
            e["edit_to_ask_ms_max"] <= 200,
        ),
        (
            "verdict → search shows the grade",
            "<= 200 ms",
            f"p50 {e['edit_to_search_ms_p50']:.0f}, max {e['edit_to_search_ms_max']:.0f} ms "
            f"(full re-grade {e['full_regrade_ms']:.0f} ms)",
            e["edit_to_search_ms_max"] <= 200,
        ),
        (
            f"memory after {e['edits']} edits",
            "<= +10%",
            f"{e['rss_before_mb']:.0f} → {e['rss_after_mb']:.0f} MB",
            e["rss_after_mb"] <= 1.1 * e["rss_before_mb"],
        ),
        (
            "search relevance nDCG@10 (judged set)",
            "no misses",
            f"{out['ndcg10']:.3f}, {len(out['relevance_misses'])} misses",
            not out["relevance_misses"],
        ),
    ]
    print(
        f"\nbench_all at {out['n']} claims, {out['cpus']} CPUs; result cache hit rate 0% "
        f"everywhere (distinct queries); load average {out['load_before']} → "
        f"{out['load_after']}"
    )
    print(f"| {'figure':<40} | {'goal':<17} | {'measured':<58} | met |")
    print(f"|{'-' * 42}|{'-' * 19}|{'-' * 60}|-----|")
    for figure, goal, measured, met in rows:
        print(f"| {figure:<40} | {goal:<17} | {measured:<58} | {'yes' if met else 'NO':<3} |")


if __name__ == "__main__":
    main()
