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
from kb.editorial import Editor

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


# -- a crowded knowledge base: the pictures draw the strongest, count the rest ---------------
# Fictitious studies (clearly named "Fixture NN", no DOI or link), copies of the FINAL trial's
# record and its pain finding with a new id, participants, direction and interval: enough
# randomised trials showing benefit for fibromyalgia to fill a map cell, and enough intervals
# to fill a forest panel (SMD) and to give more study-scale plots than are drawn.
CROWD = 20


def _crowd(data_dir: Path) -> Path:
    refs = json.loads((data_dir / "references.json").read_text("utf-8"))
    claims = json.loads((data_dir / "claims.json").read_text("utf-8"))
    ref = next(r for r in refs if r["id"] == "bruun2024_final")
    claim = next(c for c in claims if c["id"] == "bruun2024_final-f1")
    for i in range(CROWD):
        rid = f"fixture{i:02d}"
        new_ref = {k: v for k, v in ref.items() if k not in ("DOI", "URL", "PMID", "PMCID")}
        new_ref.update(
            id=rid,
            title=f"Fictitious trial {i:02d} (test fixture, not a real study)",
            author=[{"family": f"Fixture{i:02d}"}],
            custom={**ref["custom"], "n": 20 + i, "provenance": []},
        )
        refs.append(new_ref)
        width = 0.1 + 0.05 * i  # fixture00 has the narrowest interval
        for f, unit in (("f1", "SMD"), ("f2", "points")):
            claims.append(
                {
                    **claim,
                    "id": f"{rid}-{f}",
                    "citations": [{"ref": rid}],
                    "direction": "benefit",
                    "value": {
                        "as_stated": "fictitious",
                        "type": "quantity",
                        "unit": unit,
                        "value": -0.5,
                        "ci": {"low": -0.5 - width, "high": -0.5 + width, "level": 95},
                    },
                }
            )
    (data_dir / "references.json").write_text(json.dumps(refs), "utf-8")
    (data_dir / "claims.json").write_text(json.dumps(claims), "utf-8")
    return data_dir


@pytest.fixture
def crowded(data_dir: Path) -> KnowledgeBase:
    return KnowledgeBase.load(_crowd(data_dir))


def _cells(emap: dict) -> dict[tuple[str, str], set[str]]:
    cells: dict[tuple[str, str], set[str]] = {}
    for m in emap["marks"]:
        cells.setdefault((m["design"], m["direction"]), set()).add(m["ref"])
    return cells


RCT_BENEFIT = ("randomized-controlled-trial", "benefit")


def test_a_crowded_cell_draws_its_largest_studies_and_counts_the_rest(
    crowded: KnowledgeBase, real_kb: KnowledgeBase
) -> None:
    # Every study: the real data's (drawn whole), and the fixtures' randomised trials.
    cells = _cells(pictures.evidence_map(real_kb, condition="fibromyalgia", intervention=LDN))
    cells.setdefault(RCT_BENEFIT, set()).update(f"fixture{i:02d}" for i in range(CROWD))
    emap = pictures.evidence_map(crowded, condition="fibromyalgia", intervention=LDN)
    cap = emap["max_per_cell"]
    assert cap == pictures.MAX_MARKS_PER_CELL
    drawn: dict[tuple[str, str], list[dict]] = {}
    for m in emap["marks"]:
        drawn.setdefault((m["design"], m["direction"]), []).append(m)
    assert all(len(marks) <= cap for marks in drawn.values())
    rct = RCT_BENEFIT
    assert len(cells[rct]) >= CROWD > cap and len(drawn[rct]) == cap
    # The largest trials are drawn: fixture19 (39 participants) before fixture18 (38) …
    assert [m["n"] for m in drawn[rct]] == sorted((m["n"] for m in drawn[rct]), reverse=True)
    assert "fixture19" in {m["ref"] for m in drawn[rct]}
    assert "fixture00" not in {m["ref"] for m in drawn[rct]}
    # "+N more" counts exactly the studies of the cell not drawn, and only where there are.
    more = {(x["design"], x["direction"]): x["count"] for x in emap["more"]}
    assert more == {cell: len(refs) - cap for cell, refs in cells.items() if len(refs) > cap}
    # Totals stay over every study.
    assert emap["studies"] == sum(len(refs) for refs in cells.values())
    counts = {c["direction"]: c["studies"] for c in emap["counts"]}
    assert counts["benefit"] == sum(len(r) for (_, d), r in cells.items() if d == "benefit")
    assert f"{emap['studies']} studies" in emap["description"]
    assert f"{len(emap['marks'])} studies drawn" in emap["description"]
    assert "the rest are counted" in emap["description"]
    # Each mark still lies inside its cell, above the "+N more" line.
    for x in emap["more"]:
        row = next(r for r in emap["rows"] if r["design"] == x["design"])
        assert max(m["cy"] for m in drawn[(x["design"], x["direction"])]) < x["y"]
        assert x["y"] <= row["y"] + row["height"]


def test_the_real_data_is_drawn_whole(real_kb: KnowledgeBase) -> None:
    """The bundled 30 sources never reach a cap: nothing is left undrawn."""
    for condition in [None, *real_kb.conditions.conditions]:
        emap = pictures.evidence_map(real_kb, condition=condition)
        assert emap["more"] == [] and len(emap["marks"]) == emap["studies"]
        assert "drawn" not in emap["description"]
        forest = pictures.forest_plot(real_kb, condition=condition)
        assert forest["more_panels"] == 0 and forest["more_text"] is None
        assert all(p["more"] == 0 for p in forest["panels"])


def test_a_crowded_forest_draws_the_most_precise_estimates(crowded: KnowledgeBase) -> None:
    forest = pictures.forest_plot(crowded, condition="fibromyalgia", intervention=LDN)
    smd = next(p for p in forest["panels"] if p["unit"] == "SMD")
    cap = pictures.MAX_FOREST_ROWS
    intervals = [
        (c.id, c.value["ci"]["high"] - c.value["ci"]["low"])
        for c in crowded.claims.values()
        if c.value
        and pictures.structured_ci(c.value)
        and c.value.get("unit") == "SMD"
        and "fibromyalgia" in c.conditions
        and c.intervention == LDN
    ]
    assert smd["estimates"] == len(intervals) > cap
    assert len(smd["rows"]) == cap and smd["more"] == len(intervals) - cap
    narrowest = {cid for cid, _ in sorted(intervals, key=lambda x: x[1])[:cap]}
    assert {r["claim"] for r in smd["rows"]} == narrowest
    assert "fixture00-f1" in narrowest and "fixture19-f1" not in narrowest
    assert f"{smd['more']} more estimates not drawn" in smd["more_text"]
    # The text alternative counts every estimate, lists only the drawn ones.
    assert smd["description"].startswith(f"{len(intervals)} estimates of pain (SMD)")
    crosses = sum(1 for cid, _ in intervals if _crosses(crowded, cid))
    assert (
        f"Intervals including no effect (0): {crosses} of {len(intervals)}." in smd["description"]
    )
    assert crowded.references["fixture00"].label in smd["description"]
    assert crowded.references["fixture19"].label not in smd["description"]
    # More study-scale plots than are drawn: the rest are counted.
    assert len(forest["panels"]) == pictures.MAX_FOREST_PANELS
    assert (
        forest["more_panels"] > 0 and f"{forest['more_panels']} more plots" in forest["more_text"]
    )


def _crosses(kb: KnowledgeBase, claim_id: str) -> bool:
    ci = pictures.structured_ci(kb.claims[claim_id].value)
    return ci is not None and ci[1] <= 0 <= ci[2]


def test_a_crowded_page_says_what_is_not_drawn(data_dir: Path, index_dir: Path) -> None:
    from web import create_app

    _crowd(data_dir)
    app = create_app(
        {"TESTING": True, "KB_DATA_DIR": str(data_dir), "KB_INDEX_DIR": str(index_dir)}
    )
    client = app.test_client()
    data = client.get("/api/conditions/fibromyalgia").get_json()["pictures"]
    emap, forest = data["evidence_map"], data["forest"]
    html = client.get("/conditions/fibromyalgia").text.replace("&#39;", "'")
    svg = html[html.index('<svg class="evidence-map"') :]
    svg = svg[: svg.index("</svg>")]
    for x in emap["more"]:
        assert f">+{x['count']:,} more</text>" in svg
    table = html[html.index("<table>", html.index("evidence-map-figure")) :]
    table = table[: table.index("</table>")]
    # The table lists exactly the drawn studies, then says how many more it does not list.
    assert table.count('<th scope="row">') == len(emap["marks"])
    rct = next(x for x in emap["more"] if x["design"] == "randomized-controlled-trial")
    assert f"{rct['count']} more studies (randomised controlled trial, benefit) not listed" in (
        table
    )
    smd = next(p for p in forest["panels"] if p["unit"] == "SMD")
    assert html.count(smd["more_text"]) == 2  # in the plot and in its table
    assert forest["more_text"] in html


# -- pictures are kept, never stale -----------------------------------------------------------
def test_pictures_are_kept_until_the_records_change(kb: KnowledgeBase, instance_dir: Path) -> None:
    """Asked twice, a picture is the same (and a caller changing its copy changes nothing);
    after an edit to a record the next picture shows it; a verdict (which moves grades, not
    a study's design, size or direction) leaves the pictures as they were."""
    first = pictures.evidence_map(kb, condition="fibromyalgia", intervention=LDN)
    again = pictures.evidence_map(kb, condition="fibromyalgia", intervention=LDN)
    assert again == first
    again["title"] = "changed by a caller"
    assert pictures.evidence_map(kb, condition="fibromyalgia", intervention=LDN) == first
    forest = pictures.forest_plot(kb, condition="fibromyalgia", intervention=LDN)
    assert pictures.forest_plot(kb, condition="fibromyalgia", intervention=LDN) == forest

    Editor.open(kb, instance_dir).record(
        "eve",
        "editor",
        "set_verdict",
        "claim:bested2023-f1",
        after={"verdict": "not_supported_as_worded", "note": "editor check"},
    )
    assert pictures.evidence_map(kb, condition="fibromyalgia", intervention=LDN) == first
    assert pictures.forest_plot(kb, condition="fibromyalgia", intervention=LDN) == forest

    # Bested 2023 found no effect; were its findings recorded as a benefit, the map moves it.
    assert _marks(kb, "fibromyalgia")["bested2023"]["direction"] == "no-benefit"
    for claim in [c for c in kb.claims.values() if c.cited_refs[:1] == ["bested2023"]]:
        kb.amend_claim(claim.id, direction="benefit")
    moved = pictures.evidence_map(kb, condition="fibromyalgia", intervention=LDN)
    assert {m["ref"]: m for m in moved["marks"]}["bested2023"]["direction"] == "benefit"
    assert moved["counts"] != first["counts"]
