"""Fault injection: does every acknowledged write survive, and is every refused one absent?

Four scenarios, each on a fresh copy of data/ in a temporary folder, with real processes:

1. kill -9 during writes: writer processes (8 threads each) record editorial events and print
   each event id once ``record`` returned; each is killed at a random moment.
2. full disk: the instance folder on a 64 KiB tmpfs (needs root to mount; skipped otherwise);
   comments until the disk refuses three, then the disk is given room again.
3. two server processes and a compaction: two ``kb serve`` processes over one data folder,
   comments through both, ``kb compact`` from a third process in between, then an edit based
   on an old version sent to each server (must be 409), and every comment read back from both.
4. import × compaction race: a long-running process (as the site is) opens the data and its
   editor, ``kb import`` runs in another process, and the first compacts once the import has
   answered (every other round) or at a random moment during it (issue 12's lost imports).

Counts only (no timings): writes acknowledged, writes found after restart, writes lost,
refused writes found (must be 0). Run from the repository root:

    PYTHONPATH=. python benchmarks/fault_injection.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
DOC = REPO / "tests" / "fixtures" / "import" / "existing-reference.txt"
CLAIM = "seed-max-dose"
PASSWORD = "fault injection password"
KB = (sys.executable, "-m", "kb.cli")
CODE = [REPO]  # where the `kb` processes' code comes from (--baseline: an older checkout)


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(CODE[0]), *sys.path])}


def fresh(root: Path) -> tuple[Path, Path]:
    data, instance = root / "data", root / "instance"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("_parts", ".kb-write.lock"))
    instance.mkdir()
    return data, instance


def kb(data: Path, instance: Path, *args: str, **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*KB, "--data-dir", str(data), "--instance-dir", str(instance), *args],
        env=env(),
        text=True,
        **kw,
    )


def stored_event_ids(data: Path, instance: Path) -> tuple[set[str], list[str]]:
    from kb import KnowledgeBase
    from kb.editorial import Editor

    editor = Editor.open(KnowledgeBase.load(data), instance)
    return {e["id"] for e in editor.state.events}, list(editor.state.problems)


# -- 1. kill -9 during writes ---------------------------------------------------------------
def writer_main(data: str, instance: str, threads: int) -> None:
    """A writer process: THREADS threads recording comments and flags until killed."""
    from kb import KnowledgeBase
    from kb.editorial import Editor

    editor = Editor.open(KnowledgeBase.load(data), instance)
    claims = sorted(editor.kb.claims)[:20]
    out = threading.Lock()

    def work(t: int) -> None:
        for i in range(1_000_000):
            target = f"claim:{claims[(t + i) % len(claims)]}"
            if i % 2:
                event = editor.record("w", "reviewer", "flag", target, reason=f"t{t} w{i}")
            else:
                event = editor.record(
                    "w", "reviewer", "comment", target, after={"text": f"t{t} w{i}"}
                )
            with out:
                sys.stdout.write(event["id"] + "\n")
                sys.stdout.flush()

    for t in range(threads):
        threading.Thread(target=work, args=(t,), daemon=True).start()
    time.sleep(3600)


def kill_during_writes(root: Path, rounds: int) -> dict[str, Any]:
    data, instance = fresh(root)
    rng = random.Random(12)
    acked: set[str] = set()
    for _ in range(rounds):
        proc = subprocess.Popen(
            [sys.executable, __file__, "--writer", str(data), str(instance), "8"],
            stdout=subprocess.PIPE,
            env=env(),
        )
        assert proc.stdout is not None
        first = proc.stdout.readline()  # writing has begun
        time.sleep(rng.uniform(0.0, 0.4))
        proc.send_signal(signal.SIGKILL)
        rest = proc.stdout.read()
        proc.wait()
        lines = (first + rest).split(b"\n")
        acked.update(x.decode() for x in lines[:-1] if x)  # complete lines only
    stored, problems = stored_event_ids(data, instance)
    return {
        "scenario": f"kill -9 during writes ({rounds} kills, 8 threads)",
        "acknowledged": len(acked),
        "found": len(acked & stored),
        "lost": len(acked - stored),
        "refused_found": 0,
        "note": f"{len(problems)} torn lines reported and skipped",
    }


# -- 2. full disk -----------------------------------------------------------------------------
def full_disk(root: Path) -> dict[str, Any]:
    data, _ = fresh(root)
    mount = root / "tiny"
    mount.mkdir()
    name = "full disk (64 KiB tmpfs)"
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return {"scenario": name, "skipped": "mounting a tmpfs needs root and mount(8)"}
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if made.returncode != 0:
        return {"scenario": name, "skipped": made.stderr.strip()}
    try:
        from kb import KnowledgeBase
        from kb.editorial import Editor
        from kb.errors import StorageFull

        instance = mount / "instance"
        editor = Editor.open(KnowledgeBase.load(data), instance)
        acked: list[str] = []
        refused: list[str] = []
        n = 0
        while len(refused) < 3:
            text = f"comment {n} " + "x" * 900
            n += 1
            try:
                event = editor.record(
                    "w", "reviewer", "comment", f"claim:{CLAIM}", after={"text": text}
                )
            except StorageFull:
                refused.append(text)
            else:
                acked.append(event["id"])
        # A new process reads the journal back (a restart).
        stored, problems = stored_event_ids(data, instance)
        texts = {
            c["text"]
            for c in Editor.open(KnowledgeBase.load(data), instance).state.comments[
                f"claim:{CLAIM}"
            ]
        }
        return {
            "scenario": name,
            "acknowledged": len(acked),
            "found": len(set(acked) & stored),
            "lost": len(set(acked) - stored),
            "refused_found": len(set(refused) & texts),
            "note": f"{len(refused)} refused with StorageFull (507); {len(problems)} torn lines",
        }
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


# -- 3. two server processes and a compaction --------------------------------------------------
class Client:
    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.token = ""

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("X-CSRFToken", self.token)
        try:
            with self.opener.open(req, timeout=60) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def wait_up(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                if self.call("GET", "/api/health")[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.base} did not start")
            time.sleep(0.3)

    def login(self) -> None:
        self.token = self.call("GET", "/api/csrf")[1]["csrf_token"]
        status, body = self.call("POST", "/api/login", {"name": "rita", "password": PASSWORD})
        assert status == 200, body
        self.token = body["csrf_token"]

    def comment(self, text: str, base_version: int) -> tuple[int, Any]:
        body = {"text": text, "base_version": base_version}
        return self.call("POST", f"/api/editorial/claims/{CLAIM}/comment", body)

    def comments(self) -> list[str]:
        status, body = self.call("GET", f"/api/claims/{CLAIM}/history")
        assert status == 200, body
        return [e["change"] for e in body["events"] if e["action"] == "comment"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def two_servers(root: Path, rounds: int) -> dict[str, Any]:
    from kb.accounts import Accounts

    data, instance = fresh(root)
    Accounts(instance).add("rita", "reviewer", PASSWORD)
    ports = [free_port(), free_port()]
    servers = [
        kb(
            data,
            instance,
            "--index-dir",
            str(root / "index"),
            "serve",
            "--port",
            str(port),
            "--no-secure-cookies",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for port in ports
    ]
    try:
        clients = [Client(port) for port in ports]
        for c in clients:
            c.wait_up(180)
            c.login()
        acked: list[str] = []
        version = 0  # the claim's editorial version, as a careful client tracks it
        stale_accepted = stale_refused = 0

        def write(c: Client, text: str) -> None:
            nonlocal version
            status, _ = c.comment(text, version)
            if status == 201:
                acked.append(text)
                version += 1

        for n in range(rounds):
            for i, c in enumerate(clients):
                write(c, f"round {n} via server {i}")
            before = version
            done = kb(data, instance, "compact", stdout=subprocess.DEVNULL)
            done.wait(timeout=120)
            for i, c in enumerate(clients):  # more than the old journal held, after compaction
                for k in range(3):
                    write(c, f"round {n} after compaction {k} via server {i}")
            for c in clients:  # an edit based on the version seen before compaction
                status, _ = c.comment(f"stale {n}", before)
                if status == 409:
                    stale_refused += 1
                elif status == 201:
                    stale_accepted += 1
                    acked.append(f"stale {n}")
        seen = [set(c.comments()) for c in clients]
        found_both = len(set(acked) & seen[0] & seen[1])
    finally:
        for p in servers:
            p.terminate()
            p.wait(timeout=30)
    return {
        "scenario": f"two servers + compaction ({rounds} compactions)",
        "acknowledged": len(acked),
        "found": found_both,
        "lost": len(acked) - found_both,
        "refused_found": 0,
        "note": f"stale edits: {stale_refused} got 409, {stale_accepted} accepted",
    }


# -- 4. import × compaction race ---------------------------------------------------------------
def compactor_main(data: str, instance: str) -> None:
    """A long-running process (as the site is): opens the knowledge base and its editor, says
    "ready", and compacts when told to on standard input."""
    from kb import KnowledgeBase
    from kb.editorial import Editor

    editor = Editor.open(KnowledgeBase.load(data), instance)
    print("ready", flush=True)
    sys.stdin.readline()
    editor.compact()
    print("done", flush=True)


def import_race(root: Path, rounds: int) -> dict[str, Any]:
    """Each round: a process opens the data and its editor (as a running site has), `kb import`
    runs in another process, and the first process compacts — every other round once the
    import has answered, otherwise at a random moment during it."""
    from kb import KnowledgeBase
    from kb.editorial import Editor

    data, instance = fresh(root)
    rng = random.Random(7)
    acked: list[str] = []
    comments = 0
    failures = 0
    for n in range(rounds):
        text = DOC.read_text("utf-8").replace("Test document:", f"Test document {n}:", 1)
        doc = root / f"doc-{n}.txt"
        doc.write_text(text, "utf-8")
        Editor.open(KnowledgeBase.load(data), instance).record(
            "w", "reviewer", "comment", f"claim:{CLAIM}", after={"text": f"c{n}"}
        )
        comments += 1
        compactor = subprocess.Popen(
            [sys.executable, __file__, "--compactor", str(data), str(instance)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env(),
            text=True,
        )
        assert compactor.stdin is not None and compactor.stdout is not None
        compactor.stdout.readline()  # ready: it holds the data as loaded now
        importing = kb(data, instance, "import", str(doc), "--json", stdout=subprocess.PIPE)
        if n % 2:  # during the import, at a random moment
            time.sleep(rng.uniform(0.0, 2.0))
        else:  # once the import answered: the data it loaded is now older than the files
            importing.wait(timeout=120)
        compactor.stdin.write("go\n")
        compactor.stdin.flush()
        out, _ = importing.communicate(timeout=120)
        compactor.communicate(timeout=120)
        failures += compactor.returncode != 0
        if importing.returncode == 0 and json.loads(out)["written"]:
            acked.append(json.loads(out)["article_id"])
    after = KnowledgeBase.load(data)
    found = [a for a in acked if a in after.articles]
    folded = Editor.open(after, instance).state.comments[f"claim:{CLAIM}"]
    return {
        "scenario": f"import x compaction race ({rounds} rounds)",
        "acknowledged": len(acked),
        "found": len(found),
        "lost": len(acked) - len(found),
        "refused_found": 0,
        "note": f"{len(folded)} of {comments} comments kept; {failures} compactions failed",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=12, help="rounds of each scenario")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="also run the import x compaction race with the `kb` processes taken from this "
        "checkout (e.g. `git archive <commit> | tar -x -C DIR`), to compare",
    )
    parser.add_argument("--writer", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--compactor", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.compactor:
        compactor_main(*args.compactor)
        return
    if args.writer:
        writer_main(args.writer[0], args.writer[1], int(args.writer[2]))
        return
    rows = []
    with tempfile.TemporaryDirectory(prefix="kb-faults-") as tmp:
        if args.baseline:
            CODE[0] = args.baseline.resolve()
            root = Path(tmp) / "baseline"
            root.mkdir()
            row = import_race(root, args.rounds)
            row["scenario"] = f"baseline ({args.baseline.name}): " + row["scenario"]
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            CODE[0] = REPO
        for n, scenario in enumerate(
            (
                lambda r: kill_during_writes(r, 2 * args.rounds),
                full_disk,
                lambda r: two_servers(r, max(2, args.rounds // 4)),
                lambda r: import_race(r, args.rounds),
            )
        ):
            root = Path(tmp) / f"s{n}"
            root.mkdir()
            rows.append(scenario(root))
            print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    head = ("scenario", "acknowledged", "found after restart", "lost", "refused but found")
    print("| " + " | ".join(head) + " | notes |")
    print("|" + "---|" * (len(head) + 1))
    for row in rows:
        if "skipped" in row:
            print(f"| {row['scenario']} | – | – | – | – | skipped: {row['skipped']} |")
            continue
        print(
            f"| {row['scenario']} | {row['acknowledged']} | {row['found']} | {row['lost']} "
            f"| {row['refused_found']} | {row['note']} |"
        )


if __name__ == "__main__":
    main()
