"""A writer process for the editorial durability tests.

Usage: python editorial_writer.py DATA_DIR INSTANCE_DIR THREADS WRITES [TAG]
Each thread records WRITES flag/comment events; after each one returns (fsynced), the event
id is printed on its own line: printed means acknowledged.
"""

from __future__ import annotations

import sys
import threading

from kb import KnowledgeBase
from kb.editorial import Editor


def main() -> None:
    data_dir, instance_dir, threads, writes = (
        sys.argv[1],
        sys.argv[2],
        int(sys.argv[3]),
        int(sys.argv[4]),
    )
    tag = sys.argv[5] if len(sys.argv) > 5 else "w"
    kb = KnowledgeBase.load(data_dir)
    editor = Editor.open(kb, instance_dir)
    claims = sorted(kb.claims)[:20]
    out = threading.Lock()

    def work(t: int) -> None:
        for i in range(writes):
            target = f"claim:{claims[(t * writes + i) % len(claims)]}"
            if i % 2:
                event = editor.record(
                    f"{tag}{t}", "reviewer", "flag", target, reason=f"{tag} thread {t} write {i}"
                )
            else:
                event = editor.record(
                    f"{tag}{t}",
                    "reviewer",
                    "comment",
                    target,
                    after={"text": f"{tag} thread {t} write {i}"},
                )
            with out:
                sys.stdout.write(event["id"] + "\n")
                sys.stdout.flush()

    pool = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for th in pool:
        th.start()
    for th in pool:
        th.join()


if __name__ == "__main__":
    main()
