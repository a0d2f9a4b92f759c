"""Evidence pictures: the evidence map and the forest plot, from the bundled data.

Labelled examples come from the dossier (ldn_evidence.json): FINAL (bruun2024_final) is an RCT
of 99 women with fibromyalgia; Bested 2023 a crossover RCT of 58 finding no effect; Younger 2009
a pilot of 10; Rassi-Mariani 2024 a systematic review of 406 patients judging LDN not
effective; Hegde 2025's fibromyalgia subgroup SMD is -0.34 (95% CI -0.62 to -0.06); the CRPS
evidence is a case series and a two-patient case report, with no confidence interval.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from kb import KnowledgeBase, pictures

LDN = "low-dose naltrexone"


def _marks(kb: KnowledgeBase, condition: str) -> dict[str, dict]:
    emap = pictures.evidence_map(kb, condition=condition, intervention=LDN)
    return {m["ref"]: m for m in emap["marks"]}


def test_fibromyalgia_map_places_studies_by_design_and_direction(real_kb: KnowledgeBase) -> None:
    marks = _marks(real_kb, "fibromyalgia")
    assert marks["bruun2024_final"]["design"] == "randomized-controlled-trial"
    assert marks["bruun2024_final"]["n"] == 99
    assert marks["bested2023"]["design"] == "crossover-rct"
    assert marks["bested2023"]["direction"] == "no-benefit"
    assert marks["younger2009"]["design"] == "pilot-rct" and marks["younger2009"]["n"] == 10
    # Size follows participants; a study that states no number is hollow.
    assert marks["bruun2024_final"]["r"] > marks["bested2023"]["r"] > marks["younger2009"]["r"]
    assert all(m["hollow"] == (m["n"] is None) for m in marks.values())
    # A CRPS-only case report is not fibromyalgia evidence.
    assert "chopra2013" not in marks


def test_a_condition_includes_its_sub_conditions(real_kb: KnowledgeBase) -> None:
    broad = _marks(real_kb, "chronic-pain")
    assert set(_marks(real_kb, "fibromyalgia")) <= set(broad)
    assert broad["rassimariani2024"]["direction"] == "no-benefit"
    assert broad["rassimariani2024"]["design"] == "systematic-review"


def test_map_rows_follow_the_design_hierarchy(real_kb: KnowledgeBase) -> None:
    emap = pictures.evidence_map(real_kb, condition="chronic-pain", intervention=LDN)
    designs = [r["design"] for r in emap["rows"]]
    order = list(pictures.DESIGNS)
    assert designs == sorted(designs, key=order.index)
    for m in emap["marks"]:
        row = next(r for r in emap["rows"] if r["design"] == m["design"])
        col = next(c for c in emap["columns"] if c["direction"] == m["direction"])
        assert row["y"] <= m["cy"] <= row["y"] + row["height"]
        assert col["x"] <= m["cx"] <= col["x"] + col["width"]
    assert f"{emap['studies']} studies" in emap["description"]


def test_crps_map_and_no_forest(real_kb: KnowledgeBase) -> None:
    marks = _marks(real_kb, "crps")
    assert {m["design"] for m in marks.values()} == {"case-series", "case-report"}
    forest = pictures.forest_plot(real_kb, condition="crps", intervention=LDN)
    assert forest["panels"] == [] and "nothing is plotted" in forest["message"]


def test_forest_plot_draws_structured_intervals(real_kb: KnowledgeBase) -> None:
    forest = pictures.forest_plot(real_kb, condition="chronic-pain", intervention=LDN)
    assert forest["message"] is None
    smd = next(p for p in forest["panels"] if p["unit"] == "SMD")
    row = next(r for r in smd["rows"] if r["claim"] == "hegde2025-f2")
    assert (row["estimate"], row["low"], row["high"]) == (-0.34, -0.62, -0.06)
    assert row["x_low"] < row["x"] < row["x_high"] < smd["x0"]  # wholly below no effect
    assert "−0.34 (95% CI −0.62 to −0.06)" in smd["description"]
    # Points on a study's own scale never share an axis with another study's.
    for panel in forest["panels"]:
        if panel["unit"] not in pictures.COMMON_SCALE_UNITS:
            assert len({r["ref"] for r in panel["rows"]}) == 1, panel["title"]


def test_forest_plot_reads_only_structured_values(data_dir: Path) -> None:
    path = data_dir / "claims.json"
    claims = json.loads(path.read_text("utf-8"))
    for rec in claims:
        if rec["value"] and "ci" in rec["value"]:
            del rec["value"]["ci"]  # the interval stays in as_stated, as free text
    path.write_text(json.dumps(claims), "utf-8")
    kb = KnowledgeBase.load(data_dir)
    assert any("95% CI" in (c.value or {}).get("as_stated", "") for c in kb.claims.values())
    forest = pictures.forest_plot(kb)
    assert forest["panels"] == [] and forest["message"]


@pytest.mark.parametrize("value", [None, {"value": 1}, {"value": 1, "ci": {"low": "a", "high": 2}}])
def test_structured_ci_refuses_anything_else(value: dict | None) -> None:
    assert pictures.structured_ci(value) is None


def test_article_page_draws_labelled_pictures_with_links(real_client: FlaskClient) -> None:
    html = real_client.get("/articles/ldn-chronic-pain").text
    svg = html[html.index('<svg class="evidence-map"') :]
    svg = svg[: svg.index("</svg>")]
    labelled = re.search(r'aria-labelledby="([^" ]+) ([^"]+)"', svg)
    assert labelled and f'id="{labelled[1]}"' in svg and f'id="{labelled[2]}"' in svg
    links = re.findall(r'<a class="mark-link" href="(/references/[^"]+)" aria-label="([^"]+)"', svg)
    assert len(links) >= 10
    for href, label in links[:5]:
        assert real_client.get(href).status_code == 200 and "participants" in label
    assert "The same as a table" in html and '<svg class="forest-plot"' in html
    # No script and no inline style, even in the pictures (the CSP stays strict).
    assert "<script" not in html and " style=" not in html


def test_condition_pictures_for_another_page(real_kb: KnowledgeBase) -> None:
    both = pictures.for_condition(real_kb, "fibromyalgia", intervention=LDN)
    assert both["evidence_map"]["condition_label"] == "Fibromyalgia"
    assert both["forest"]["panels"]


def test_an_answer_gets_the_map_of_what_it_asks_about(real_kb: KnowledgeBase) -> None:
    from kb import answer

    emap = pictures.for_answer(real_kb, answer.ask(real_kb, "Does LDN work for fibromyalgia?"))
    assert emap is not None and emap["condition"] == "fibromyalgia"
    assert {m["ref"] for m in emap["marks"]} >= {"bruun2024_final", "bested2023"}
    assert pictures.for_answer(real_kb, answer.ask(real_kb, "metformin dose")) is None


def test_condition_page_draws_its_pictures_as_its_json_twin_holds(real_client: FlaskClient) -> None:
    """/conditions/fibromyalgia: the evidence map (FINAL, 99 participants, among its marks) and
    the forest plot (Hegde 2025's fibromyalgia subgroup, SMD -0.34, 95% CI -0.62 to -0.06), each
    with its text alternative and a table; /api/conditions/fibromyalgia carries the same."""
    data = real_client.get("/api/conditions/fibromyalgia").get_json()["pictures"]
    emap, forest = data["evidence_map"], data["forest"]
    assert "bruun2024_final" in {m["ref"] for m in emap["marks"]}
    rows = [r for p in forest["panels"] for r in p["rows"]]
    assert (-0.34, -0.62, -0.06) in {(r["estimate"], r["low"], r["high"]) for r in rows}
    html = real_client.get("/conditions/fibromyalgia").text.replace("&#39;", "'")
    assert '<svg class="evidence-map"' in html and '<svg class="forest-plot"' in html
    assert emap["description"] in html  # the text alternative, shown beside the picture
    for panel in forest["panels"]:
        assert panel["description"] in html
    assert html.count("The same as a table") == 1 + len(forest["panels"])
    for m in emap["marks"]:
        assert f'href="/references/{m["ref"]}"' in html
    assert "<script" not in html and " style=" not in html


def test_a_condition_without_intervals_says_so(real_client: FlaskClient) -> None:
    """CRPS evidence is a case series and a case report: mapped, but no interval to plot."""
    data = real_client.get("/api/conditions/crps").get_json()["pictures"]
    assert data["forest"]["panels"] == [] and data["forest"]["message"]
    html = real_client.get("/conditions/crps").text.replace("&#39;", "'")
    assert '<svg class="evidence-map"' in html and data["forest"]["message"] in html
