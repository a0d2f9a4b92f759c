"""Answer quality of Ask: the share of the clinician questions in tests/ask_questions.json
answered correctly, and every miss with its reason.

    python benchmarks/eval_ask.py [--data-dir data] [--questions tests/ask_questions.json]

The same judge runs in tests/test_ask_quality.py. Each answer is computed afresh (Ask keeps no
answer cache), over a private search index in a temporary directory.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
QUESTIONS = REPO / "tests" / "ask_questions.json"


def load_cases(path: Path = QUESTIONS) -> list[dict[str, Any]]:
    """Every case, answerable ones first, each marked with ``expect`` = answer | refuse."""
    data = json.loads(path.read_text("utf-8"))
    cases = [{**c, "expect": "answer"} for c in data["answer"]]
    return cases + [{**c, "expect": "refuse"} for c in data["refuse"]]


def judge(answer: dict[str, Any], case: dict[str, Any]) -> list[str]:
    """Why ``answer`` fails ``case`` (an empty list when it passes)."""
    if case["expect"] == "refuse":
        problems = []
        if answer["relevant"]:
            problems.append("answered, should be refused")
        message = answer["message"].lower()
        problems += [
            f"refusal does not name {n!r}" for n in case["names"] if n.lower() not in message
        ]
        return problems
    if not answer["relevant"]:
        return [f"refused: {answer['message']}"]
    direct = answer.get("answer") or {}
    text = (direct.get("text") or "") + " " + (direct.get("note") or "")
    shown = set(direct.get("claims") or [])
    if answer["sections"]:
        shown |= {c["id"] for c in answer["sections"][0]["claims"]}
    problems = [f"missing claim {cid}" for cid in case.get("claims_all", []) if cid not in shown]
    anyof = case.get("claims_any", [])
    if anyof and not shown & set(anyof):
        problems.append(f"none of {anyof[:4]}{'…' if len(anyof) > 4 else ''}")
    low = text.lower()
    problems += [f"text lacks {f!r}" for f in case.get("facts", []) if f.lower() not in low]
    problems += [
        f"text says {p!r}" for p in case.get("forbid", []) if re.search(p, text, re.IGNORECASE)
    ]
    answered = set(direct.get("claims") or [])
    problems += [f"answer cites {cid}" for cid in case.get("not_claims", []) if cid in answered]
    if case.get("class") and case["class"].lower() not in low:
        problems.append(f"does not say it answered for the class {case['class']!r}")
    if case.get("corrected"):
        message = (answer.get("message") or "").lower()
        if "showing results for" not in message or case["corrected"] not in message:
            problems.append(f"no 'showing results for' {case['corrected']!r}")
    if case.get("meter"):
        meter = answer.get("meter")
        if not meter:
            problems.append("no evidence meter")
        elif sum(meter["counts"].values()) != meter["studies"]:
            problems.append(f"meter does not add up: {meter['counts']} vs {meter['studies']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=str(REPO / "data"))
    parser.add_argument("--questions", default=str(QUESTIONS))
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from kb import KnowledgeBase
    from kb.answer import ask

    cases = load_cases(Path(args.questions))
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase.load(args.data_dir, index_dir=Path(tmp) / "index")
        misses = []
        for case in cases:
            problems = judge(ask(kb, case["question"]), case)
            if problems:
                misses.append((case, problems))
    for expect in ("answer", "refuse"):
        n = sum(c["expect"] == expect for c in cases)
        bad = sum(c["expect"] == expect for c, _ in misses)
        print(f"{expect:>7}: {n - bad}/{n} correct")
    share = (len(cases) - len(misses)) / len(cases)
    print(f"  total: {len(cases) - len(misses)}/{len(cases)} correct ({share:.0%})")
    for case, problems in misses:
        print(f"MISS  {case['question']}\n      " + "; ".join(problems))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
