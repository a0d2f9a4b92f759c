"""The answer-quality set (tests/ask_questions.json): clinician questions with what a correct
answer must hold, judged by the same rules as benchmarks/eval_ask.py."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from kb import KnowledgeBase
from kb.answer import ask

_SPEC = importlib.util.spec_from_file_location(
    "eval_ask", Path(__file__).resolve().parent.parent / "benchmarks" / "eval_ask.py"
)
assert _SPEC is not None and _SPEC.loader is not None
eval_ask = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(eval_ask)
CASES = eval_ask.load_cases()
DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def ask_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The bundled data with a private search index (read-only use)."""
    return KnowledgeBase.load(DATA, index_dir=tmp_path_factory.mktemp("ask") / "index")


def test_the_set_is_big_enough() -> None:
    assert sum(c["expect"] == "answer" for c in CASES) >= 40
    assert sum(c["expect"] == "refuse" for c in CASES) >= 5


@pytest.mark.parametrize("case", CASES, ids=[c["question"][:60] for c in CASES])
def test_question(ask_kb: KnowledgeBase, case: dict[str, Any]) -> None:
    assert eval_ask.judge(ask(ask_kb, case["question"]), case) == []
