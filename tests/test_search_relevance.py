"""Search relevance a clinician would notice, on the real data (issue 14 item 1).

The judged queries live in ``tests/search_judged/queries.json`` (chosen from the data files,
the dossier and SEED_MAP, not from search output); ``benchmarks/eval_search.py`` prints their
nDCG@10.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from kb import KnowledgeBase
from kb.evidence import GRADE_ORDER

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from eval_search import judge, load_judged

JUDGED = load_judged()


@pytest.fixture(scope="module")
def judged_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    data = Path(__file__).resolve().parent.parent / "data"
    kb = KnowledgeBase.load(data, index_dir=tmp_path_factory.mktemp("judged") / "index")
    kb.search_index.result_cache_size = 0
    return kb


def test_the_judged_set_is_large_enough() -> None:
    assert len(JUDGED) >= 30


@pytest.mark.parametrize("item", JUDGED, ids=[i["q"] for i in JUDGED])
def test_judged_query(judged_kb: KnowledgeBase, item: dict[str, Any]) -> None:
    row = judge(judged_kb, item)
    assert not row["misses"], f"{item['q']!r}: {row['misses']} (top 10: {row['ids']})"


def test_condition_claims_rank_first(judged_kb: KnowledgeBase) -> None:
    """'CRPS response': every CRPS claim found ranks above every claim about other conditions."""
    res = judged_kb.search("CRPS response", limit=20)
    crps = [
        ("crps" in judged_kb.conditions.with_ancestors(r["conditions"]))
        for r in res["results"]
        if r["type"] == "claim"
    ]
    assert crps and crps[0]
    assert crps == sorted(crps, reverse=True)


def test_common_words_only_get_an_answer_not_an_error(judged_kb: KnowledgeBase) -> None:
    res = judged_kb.search("with this")
    assert res["total"] == 0 and res["results"] == []
    assert any("common words" in w for w in res["warnings"])


def test_common_words_only_over_http(real_client: Any) -> None:
    resp = real_client.get("/api/search?q=with+this")
    assert resp.status_code == 200
    assert any("common words" in w for w in resp.get_json()["warnings"])


def test_grade_facet_in_natural_order(judged_kb: KnowledgeBase) -> None:
    grades = list(judged_kb.search("pain")["facets"]["grade"])
    order = [g for g in GRADE_ORDER if g in grades]
    assert grades == order + [g for g in grades if g not in GRADE_ORDER]
    assert len(grades) >= 3


def test_judged_file_names_only_real_ids() -> None:
    data = Path(__file__).resolve().parent.parent / "data"
    ids = {c["id"] for c in json.loads((data / "claims.json").read_text("utf-8"))}
    ids |= {r["id"] for r in json.loads((data / "references.json").read_text("utf-8"))}
    for item in JUDGED:
        for i in item.get("top3", []) + item.get("not_top10", []):
            assert i in ids, (item["q"], i)
