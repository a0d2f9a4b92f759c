"""Web benchmark: p50/p95 of /api/search and /api/ask over HTTP against the real server.

Run:  python benchmarks/bench_web.py [--sizes real 100000] [--requests 2000] [--clients 50]

For each knowledge base (the bundled data, and synthetic ones made by
``benchmarks/synthetic.py``) it starts ``kb serve`` (waitress) as a subprocess on a free
loopback port, waits for it (the search index is built on first start), warms it up, then
drives it with a thread-pool client (``http.client``, one keep-alive connection per client):

* **unloaded**: one client, ``--requests / 10`` requests per endpoint: the service time;
* **loaded**: ``--clients`` concurrent clients, ``--requests`` requests per endpoint.

Queries cycle through fixed lists of realistic searches and questions. The baseline, measured
in the same run against the same server, is ``GET /api/health`` (the cost of the server, the
framework and the client alone). Errors are non-200 answers and failed connections. Only
loopback addresses are used. Goals: search p95 <= 30 ms, ask p95 <= 100 ms, zero errors.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

SEARCHES = [
    "CRPS response",
    "vivid dreams",
    "maximum dose 4.5 mg",
    "fibromyalgia pain",
    "LDN",
    "naltrexone titration",
    "adverse effects",
    "gabapentin first line",
    "discontinuation rate",
    "systematic review",
    "multiple sclerosis fatigue",
    "toll-like receptor",
    "placebo crossover",
    "cost compounding pharmacy",
    "diabetic neuropathy",
    "side effects headache",
    "fibromyalgai",
    "opioid",
]
QUESTIONS = [
    "What dose of low-dose naltrexone is used for fibromyalgia?",
    "How common are side effects of LDN?",
    "Does LDN work for chronic pain?",
    "CRPS response",
    "What is the starting dose of low-dose naltrexone?",
    "How long until LDN works?",
    "Is gabapentin first line for neuropathic pain?",
    "metformin dose in type 2 diabetes",
    "sumatriptan for migraine",
    "Does LDN help fatigue in multiple sclerosis?",
]
GOALS_MS = {"search": 30.0, "ask": 100.0}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(
    data_dir: Path, index_dir: Path, port: int, threads: int, timeout: float
) -> tuple[subprocess.Popen[bytes], float]:
    """Start ``kb serve`` and return it with the seconds it took to answer."""
    env = {**os.environ, "KB_INDEX_DIR": str(index_dir)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kb.cli",
            "--data-dir",
            str(data_dir),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--threads",
            str(threads),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}/api/health"
    while time.perf_counter() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"kb serve exited with status {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return proc, time.perf_counter() - t0
        except OSError:
            time.sleep(0.25)
    proc.kill()
    raise TimeoutError("kb serve did not start")


def run_load(port: int, paths: list[str], total: int, clients: int) -> dict[str, Any]:
    """``total`` GETs of ``paths`` (cycled) from ``clients`` concurrent keep-alive clients."""
    lock = threading.Lock()
    counter = iter(range(total))
    latencies: list[float] = []
    errors: list[str] = []

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        own: list[float] = []
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            path = paths[i % len(paths)]
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                resp = conn.getresponse()
                resp.read()
                if resp.status != 200:
                    with lock:
                        errors.append(f"{resp.status} {path}")
            except (OSError, http.client.HTTPException) as exc:
                with lock:
                    errors.append(f"{type(exc).__name__} {path}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            own.append(time.perf_counter() - t0)
        conn.close()
        with lock:
            latencies.extend(own)

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        for _ in range(clients):
            pool.submit(worker)
    wall = time.perf_counter() - t0
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100, method="inclusive") if len(ms) > 1 else ms * 99
    return {
        "requests": len(ms),
        "errors": len(errors),
        "error_samples": errors[:5],
        "p50_ms": round(q[49], 2),
        "p95_ms": round(q[94], 2),
        "p99_ms": round(q[98], 2),
        "max_ms": round(ms[-1], 2),
        "rps": round(len(ms) / wall, 1),
    }


def bench_one(data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    port = free_port()
    proc, startup = start_server(
        data_dir, data_dir.parent / "instance" / "index", port, args.threads, args.startup_timeout
    )
    try:
        endpoints = {
            "baseline": ["/api/health"],
            "search": ["/api/search?" + urllib.parse.urlencode({"q": q}) for q in SEARCHES],
            "ask": ["/api/ask?" + urllib.parse.urlencode({"q": q}) for q in QUESTIONS],
        }
        for paths in endpoints.values():  # warm-up: every distinct request once
            run_load(port, paths, len(paths), 1)
        results: dict[str, Any] = {"startup_s": round(startup, 2)}
        for mode, clients, total in (
            ("unloaded", 1, max(50, args.requests // 10)),
            ("loaded", args.clients, args.requests),
        ):
            results[mode] = {
                name: run_load(port, paths, total, clients) for name, paths in endpoints.items()
            }
        return results
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        nargs="+",
        default=["real", "100000"],
        help="'real' and/or synthetic claim counts",
    )
    parser.add_argument(
        "--requests",
        type=int,
        default=2000,
        help="requests per endpoint under load (a tenth of that unloaded)",
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--threads", type=int, default=8, help="waitress worker threads")
    parser.add_argument("--startup-timeout", type=float, default=900)
    parser.add_argument(
        "--work-dir",
        type=Path,
        help="keep data and indexes here (default: "
        "a temporary folder); an existing synthetic set is reused",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args()

    from synthetic import make_synthetic_kb

    work = args.work_dir or Path(tempfile.mkdtemp(prefix="bench-web-"))
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "clients": args.clients,
        "threads": args.threads,
        "cpus": os.cpu_count(),
        "runs": {},
    }
    for size in args.sizes:
        # Each knowledge base in a folder of its own: its index (the default
        # <data>/../instance/index, or KB_INDEX_DIR) is never shared with another.
        if size == "real":
            data_dir = work / "real" / "data"
            if not data_dir.exists():
                shutil.copytree(REPO / "data", data_dir, ignore=shutil.ignore_patterns("_parts"))
        else:
            data_dir = work / f"synthetic-{size}" / "data"
            if not (data_dir / "claims.json").exists():
                print(f"making a synthetic knowledge base of {size} claims ...", flush=True)
                make_synthetic_kb(int(size), data_dir)
        print(f"[{size}] starting kb serve ...", flush=True)
        report["runs"][size] = bench_one(data_dir, args)
        print_run(size, report["runs"][size])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", "utf-8")
    if not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)


def print_run(size: str, run: dict[str, Any]) -> None:
    print(
        f"\n== {size}: server answered after {run['startup_s']} s (load, grades, conflicts; "
        f"the search index is built then if missing)"
    )
    print(
        f"{'mode':<9} {'endpoint':<9} {'reqs':>6} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} "
        f"{'p99 ms':>8} {'max ms':>8} {'req/s':>8}  goal"
    )
    for mode in ("unloaded", "loaded"):
        for name, r in run[mode].items():
            goal = GOALS_MS.get(name)
            verdict = (
                ""
                if goal is None
                else (f"p95<={goal:g} {'met' if r['p95_ms'] <= goal else 'MISSED'}")
            )
            print(
                f"{mode:<9} {name:<9} {r['requests']:>6} {r['errors']:>4} {r['p50_ms']:>8} "
                f"{r['p95_ms']:>8} {r['p99_ms']:>8} {r['max_ms']:>8} {r['rps']:>8}  {verdict}"
            )
            if r["error_samples"]:
                print(f"          errors e.g. {r['error_samples']}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
