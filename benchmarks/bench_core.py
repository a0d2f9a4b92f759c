"""Core benchmark: load + validate + graph + grades + conflicts on synthetic knowledge bases.

Run:  python benchmarks/bench_core.py [--sizes 10000 100000] [--repeats 3]

Each measurement runs in a fresh child process (so peak RSS is that run's own), three times;
medians are printed. The baseline, measured in the same run on the same files, is a bare
``json.load`` of the four data files: the floor any loader has to pay. The goal is near-linear
scaling: time(100k) / time(10k) at most 12.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))


def child(data_dir: str) -> None:
    from kb import KnowledgeBase

    t0 = time.perf_counter()
    for name in ("conditions.json", "references.json", "claims.json", "articles.json"):
        json.loads((Path(data_dir) / name).read_text("utf-8"))
    t_json = time.perf_counter() - t0
    t0 = time.perf_counter()
    kb = KnowledgeBase.load(data_dir)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    conflicts = kb.conflicts
    t_conf = time.perf_counter() - t0
    t0 = time.perf_counter()
    grades = kb.grades
    t_grade = time.perf_counter() - t0
    t0 = time.perf_counter()
    g = kb.graph
    t_graph = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "json_baseline": t_json,
                "load_validate": t_load,
                "conflicts": t_conf,
                "grades": t_grade,
                "graph": t_graph,
                "total": t_load + t_conf + t_grade + t_graph,
                "peak_mb": peak,
                "n_conflicts": len(conflicts),
                "n_grades": len(grades),
                "nodes": g.number_of_nodes(),
                "edges": g.number_of_edges(),
            }
        )
    )


def measure(data_dir: Path, repeats: int) -> dict[str, float]:
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(data_dir)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        runs.append(json.loads(out))
    return {k: statistics.median(r[k] for r in runs) for k in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child")
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    from synthetic import cached_kb

    results = {}
    for n in args.sizes:
        results[n] = measure(cached_kb(n), args.repeats)
    cols = ["json_baseline", "load_validate", "conflicts", "grades", "graph", "total"]
    print(
        f"{'claims':>8} " + " ".join(f"{c:>14}" for c in cols) + f" {'peak MB':>9}"
        f" {'conflicts':>9} {'nodes':>8} {'edges':>8}"
    )
    for n, r in results.items():
        print(
            f"{n:>8} "
            + " ".join(f"{r[c]:>13.2f}s" for c in cols)
            + f" {r['peak_mb']:>9.0f} {r['n_conflicts']:>9.0f} {r['nodes']:>8.0f}"
            f" {r['edges']:>8.0f}"
        )
    sizes = sorted(results)
    if len(sizes) >= 2:
        lo, hi = sizes[0], sizes[-1]
        ratio = results[hi]["total"] / results[lo]["total"]
        base = results[hi]["json_baseline"] / results[lo]["json_baseline"]
        print(
            f"\ntime({hi})/time({lo}) = {ratio:.1f} (size ratio {hi / lo:.0f}; goal <= 12); "
            f"json.load baseline ratio {base:.1f}"
        )
        print(
            f"total / json.load baseline at {hi}: "
            f"{results[hi]['total'] / results[hi]['json_baseline']:.1f}x"
        )
    print("cache hit rate: n/a (every run a fresh process, no snapshot: the full load)")


if __name__ == "__main__":
    main()
