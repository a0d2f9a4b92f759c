"""Ask benchmark: in-process latency of distinct questions on synthetic knowledge bases.

A script, not a test. It builds (or reuses, cached under ``--cache``) synthetic knowledge
bases of 10,000 and ``--n`` claims (``benchmarks/synthetic.py``) with their search indexes,
warms each up (index open, Ask's vocabulary, one question), then asks ``--questions``
*distinct* clinician questions — every one a different string, so no search result page is
reused — and prints p50/p95, the 10k → N ratio of the medians, and cache hit rates: Ask keeps
no answer cache (0 by construction) and the search engine's result cache is switched off for
the measurement (its hit rate is printed: 0).

Usage::

    python benchmarks/bench_ask.py                 # 10k and 100k claims
    python benchmarks/bench_ask.py --n 20000       # quicker
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb import KnowledgeBase  # noqa: E402
from kb.answer import ask  # noqa: E402
from kb.ask import warm  # noqa: E402

GOAL_P95_MS = 100.0
STEMS = [
    "What is the starting dose of {d}{c}?",
    "How should {d} be titrated{c}?",
    "What is the maximum dose of {d}{c}?",
    "How quickly does {d} work{c}?",
    "When should {d} be stopped{c}?",
    "What are the side effects of {d}{c}?",
    "How often do side effects of {d} occur{c}?",
    "Can {d} be combined with {o}{c}?",
    "Is {d} FDA approved{c}?",
    "Does {d} need a compounding pharmacy{c}?",
    "What should be tried before {d}{c}?",
    "How does {d} work{c}?",
    "Does {d} work{c}?",
    "How many patients respond to {d}{c}?",
    "Who responds best to {d}{c}?",
    "How many patients stop {d}{c}?",
    "How good is the evidence for {d}{c}?",
    "What does {d} cost{c}?",
]
DRUGS = ["LDN", "low-dose naltrexone", "low dose naltrexone", "naltrexone"]
CONDITIONS = [
    "",
    " for fibromyalgia",
    " in CRPS",
    " for painful diabetic neuropathy",
    " in neuropathic pain",
    " for chronic pain",
    " in multiple sclerosis",
    " for osteoarthritis",
    " for low back pain",
    " in spondylosis",
    " for fibromialgia",
]
OPIOIDS = ["morphine", "hydromorphone", "fentanyl", "codeine", "oxycodone", "tramadol"]


def questions(n: int, seed: int) -> list[str]:
    """``n`` distinct questions (each string is new to the process)."""
    rng = random.Random(seed)
    pool = [
        s.format(d=d, c=c, o=rng.choice(OPIOIDS))
        for s, d, c in itertools.product(STEMS, DRUGS, CONDITIONS)
    ]
    rng.shuffle(pool)
    out, seen = [], set()
    for q in itertools.cycle(pool):
        if len(out) >= n:
            break
        variant = q if q not in seen else q.replace("?", f" (case {len(out)})?")
        seen.add(variant)
        out.append(variant)
    return out


def ensure(size: int, cache: Path) -> tuple[Path, Path]:
    # Keyed by the real data and the generator, so a cached copy is never stale.
    digest = hashlib.sha256()
    for part in [*sorted((REPO / "data").glob("*.json")), REPO / "benchmarks" / "synthetic.py"]:
        digest.update(part.read_bytes())
    cache = cache / digest.hexdigest()[:12]
    data = cache / f"kb{size // 1000}k"
    if not (data / "claims.json").exists():
        subprocess.run(
            [sys.executable, str(REPO / "benchmarks" / "synthetic.py"), str(size), str(data)],
            check=True,
        )
    return data, cache / f"index{size // 1000}k"


class _NoCache:
    """Stands in for the search engine's result cache during the measurement: every lookup
    misses (and is counted), nothing is kept, so each timed search is computed afresh."""

    def __init__(self) -> None:
        self.hits, self.calls = 0, 0

    def get(self, key: Any) -> Any:
        self.calls += 1
        return None

    def put(self, key: Any, value: Any) -> None:
        pass


def measure(size: int, cache: Path, count: int, seed: int) -> dict[str, float]:
    data, index_dir = ensure(size, cache)
    started = time.perf_counter()
    kb = KnowledgeBase.load(data, index_dir=index_dir)
    # The engine keeps result pages under this name; a cache that never hits takes its place.
    counter = kb.cache("search.results", lambda kb: _NoCache())
    kb.search_warm()
    warm(kb)
    ask(kb, "What dose of LDN is used?")
    warm_s = time.perf_counter() - started
    times, cpu = [], []
    for q in questions(count, seed):
        t, c = time.perf_counter(), time.process_time()
        ask(kb, q)
        times.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    times.sort()
    cpu.sort()
    return {
        "claims": len(kb.claims),
        "warm_s": warm_s,
        "p50": statistics.median(times),
        "p95": times[int(0.95 * (len(times) - 1))],
        "max": times[-1],
        "cpu_p50": statistics.median(cpu),
        "cpu_p95": cpu[int(0.95 * (len(cpu) - 1))],
        "search_hit_rate": counter.hits / counter.calls if counter.calls else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--cache", default="/tmp/ask_bench")
    args = parser.parse_args(argv)
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    base = measure(10_000, cache, args.questions, seed=1)
    big = measure(args.n, cache, args.questions, seed=2)
    print(f"Ask, {args.questions} distinct questions per size (in-process, after warm-up)")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        "| claims | warm-up s | p50 ms | p95 ms | max ms | CPU p50 ms | CPU p95 ms "
        "| answer-cache hits | search-cache hits |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in (base, big):
        print(
            f"| {r['claims']:,} | {r['warm_s']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} "
            f"| {r['max']:.1f} | {r['cpu_p50']:.1f} | {r['cpu_p95']:.1f} "
            f"| 0% | {r['search_hit_rate']:.0%} |"
        )
    ratio = big["p50"] / base["p50"] if base["p50"] else float("nan")
    print(f"10k -> {big['claims'] // 1000}k median ratio: x{ratio:.1f}")
    met = "met" if big["p95"] <= GOAL_P95_MS else "NOT met"
    print(f"goal p95 <= {GOAL_P95_MS:.0f} ms at {big['claims']:,}: {met} (wall clock)")
    cpu_met = "met" if big["cpu_p95"] <= GOAL_P95_MS else "NOT met"
    print(f"CPU-time p95 {big['cpu_p95']:.1f} ms (not inflated by a loaded machine): {cpu_met}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
