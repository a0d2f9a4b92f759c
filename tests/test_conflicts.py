"""Conflicts are computed from the data: the disagreements the sources document are found, and
what the sources do not call a disagreement is not reported (tests/labels/conflicts.json, written
from the dossier notes and SEED_MAP before looking at the detector's output)."""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.conflicts import CONTEXT_TYPES, TYPE_LABELS, Conflict

LABELS = json.loads((Path(__file__).parent / "labels" / "conflicts.json").read_text("utf-8"))


def _find(kb: KnowledgeBase, ctype: str, *claim_ids: str) -> list[Conflict]:
    return [
        c for c in kb.conflicts.values() if c.type == ctype and set(claim_ids) <= set(c.claim_ids())
    ]


def _opposed(conflict: Conflict, left: set[str], right: set[str]) -> bool:
    """True when ``left`` and ``right`` sit on different sides of ``conflict``."""
    side_of = {cid: i for i, side in enumerate(conflict.sides) for cid in side.claims}
    if not (left | right) <= set(side_of):
        return False
    return (
        len({side_of[c] for c in left}) == 1
        and len({side_of[c] for c in right}) == 1
        and side_of[next(iter(left))] != side_of[next(iter(right))]
    )


def _label_ids(entry: dict) -> list[str]:
    return [c for side in entry.get("sides", []) for c in side] + entry.get("claims", [])


# -- the labelled list ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "entry",
    LABELS["conflicts"] + LABELS["context"] + LABELS["non_conflicts"],
    ids=lambda e: e["id"],
)
def test_every_labelled_claim_exists(real_kb: KnowledgeBase, entry: dict) -> None:
    assert entry["reason"] and entry["source"]
    for cid in _label_ids(entry):
        real_kb.claim(cid)


@pytest.mark.parametrize("entry", LABELS["conflicts"], ids=lambda e: e["id"])
def test_every_expected_conflict_is_found_once(real_kb: KnowledgeBase, entry: dict) -> None:
    left, right = (set(s) for s in entry["sides"])
    found = [c for c in real_kb.conflicts.values() if not c.is_context and _opposed(c, left, right)]
    assert len(found) == 1, [c.id for c in found]
    assert found[0].type == entry["type"]


@pytest.mark.parametrize("entry", LABELS["context"], ids=lambda e: e["id"])
def test_expected_indirect_context_is_shown_as_context(real_kb: KnowledgeBase, entry: dict) -> None:
    left, right = (set(s) for s in entry["sides"])
    found = [c for c in real_kb.conflicts.values() if _opposed(c, left, right)]
    assert found and all(c.is_context for c in found)


@pytest.mark.parametrize("entry", LABELS["non_conflicts"], ids=lambda e: e["id"])
def test_no_expected_non_conflict_is_reported(real_kb: KnowledgeBase, entry: dict) -> None:
    a, b = entry["claims"]
    for c in real_kb.conflicts.values():
        if entry["level"] == "context" and c.is_context:
            continue
        assert not _opposed(c, {a}, {b}), (c.id, c.type, c.title)


def test_one_disagreement_is_one_conflict(real_kb: KnowledgeBase) -> None:
    """No two claims stand against each other in two conflicts (nor in two context entries)."""
    seen: dict[tuple[bool, str, str], str] = {}
    for c in real_kb.conflicts.values():
        for s1, s2 in combinations(c.sides, 2):
            for a in s1.claims:
                for b in s2.claims:
                    key = (c.is_context, *sorted((a, b)))
                    assert key not in seen, (seen[key], c.id)
                    seen[key] = c.id


def test_indirect_context_never_lowers_a_grade(real_kb: KnowledgeBase) -> None:
    in_conflict = {
        cid for c in real_kb.conflicts.values() if not c.is_context for cid in c.claim_ids()
    }
    context_only = {
        cid
        for c in real_kb.conflicts.values()
        if c.is_context
        for cid in c.claim_ids()
        if cid not in in_conflict
    }
    assert {"cree2010-f1", "dieckmann2021-f1", "hivma_idsa2017-f4"} <= context_only
    for cid in context_only:
        assert not any("Inconsistency" in r for r in real_kb.grade(cid).reasons), cid


# -- behaviour a reader notices ------------------------------------------------------------------
def test_fibromyalgia_efficacy_trials_disagree(real_kb: KnowledgeBase) -> None:
    benefit = {"younger2013-f1", "vatvani2024-f1"}
    no_benefit = {"bruun2024_final-f1", "bested2023-f1"}
    found = _find(real_kb, "opposite_direction", *benefit, *no_benefit)
    assert len(found) == 1
    conflict = found[0]
    assert conflict.condition == "fibromyalgia" and conflict.scope == "same"
    assert _opposed(conflict, benefit, no_benefit)


def test_chronic_pain_overall_reviews_disagree_with_cohort(real_kb: KnowledgeBase) -> None:
    found = _find(
        real_kb, "opposite_direction", "rassimariani2024-f3", "hegde2025-f1", "martin2022-f1"
    )
    assert any(
        c.condition == "chronic-pain"
        and c.scope == "same"
        and _opposed(c, {"rassimariani2024-f3", "hegde2025-f1"}, {"martin2022-f1"})
        for c in found
    )


def test_condition_specific_vs_mixed_review_is_indirect_context(real_kb: KnowledgeBase) -> None:
    # Was "reported as an indirect opposite_direction conflict"; a fibromyalgia result against
    # an all-chronic-pain review is now context, a type of its own that lowers no grade.
    found = _find(real_kb, "indirect_context", "rassimariani2024-f3", "vatvani2024-f1")
    assert found and all(c.scope == "broader" and c.is_context for c in found)
    assert not _find(real_kb, "opposite_direction", "rassimariani2024-f3", "vatvani2024-f1")


def test_seed_maximum_dose_meets_higher_doses(real_kb: KnowledgeBase) -> None:
    found = _find(
        real_kb,
        "incompatible_values",
        "seed-max-dose",
        "seed-dose-range-3-5-mg",
        "bruun2024_final-f4",
        "bruunplesner2020-f1",
    )
    assert len(found) == 1
    assert _opposed(
        found[0],
        {"seed-max-dose"},
        {"seed-dose-range-3-5-mg", "bruun2024_final-f4", "bruunplesner2020-f1"},
    )
    assert "4.5 mg" in found[0].explanation
    assert found[0].title.startswith("Maximum dose of LDN: 4.5 mg in the article")


def test_adverse_effect_and_stopping_rates_diverge(real_kb: KnowledgeBase) -> None:
    ae = _find(real_kb, "divergent_estimates", "driver2023-f3", "irwin2024-f3", "spargo2025-f3")
    assert len(ae) == 1 and len(ae[0].sides) >= 3
    # A trial's any-adverse-event rate in both arms is another outcome definition.
    assert "bruun2024_final-f3" not in ae[0].claim_ids()
    stop = _find(real_kb, "divergent_estimates", "driver2023-f4", "spargo2025-f1", "irwin2024-f2")
    assert len(stop) == 1
    labels = [s.label for s in stop[0].sides]
    assert labels[0] == "36%" and labels[-1] == "87%"
    assert any("continuing" in label for label in labels)  # "about half still taking"


def test_capsaicin_patch_recommendation_differs_for_the_same_population(
    real_kb: KnowledgeBase,
) -> None:
    # Was: HIVMA/IDSA "strong" against NeuPSIG "weak" in one conflict. The HIV-neuropathy
    # guideline speaks for a narrower population, so it is indirect context; the conflict for
    # neuropathic pain in general is the article and NeuPSIG against NICE.
    found = _find(real_kb, "recommendation_strength", "seed-capsaicin-8-patch", "nice_cg173-f3")
    assert len(found) == 1
    assert [s.label for s in found[0].sides] == ["recommended", "not recommended"]
    assert "hivma_idsa2017-f4" not in found[0].claim_ids()
    context = _find(real_kb, "indirect_context", "hivma_idsa2017-f4")
    assert len(context) == 1 and context[0].condition == "hiv-neuropathy"


def test_no_drug_interactions_meets_the_precautions(real_kb: KnowledgeBase) -> None:
    found = _find(real_kb, "safety_contradiction", "seed-no-drug-interactions")
    assert len(found) == 1
    assert found[0].title.startswith("Drug interactions of LDN: none in the article")


def test_titles_are_words_not_keys(real_kb: KnowledgeBase) -> None:
    outcomes = {c.outcome for c in real_kb.claims.values()}
    for c in real_kb.conflicts.values():
        assert c.title and c.title[0].isupper()
        assert "_" not in c.title and " · " not in c.title
        assert not any(re.search(rf"\b{re.escape(o)}\b", c.title) for o in outcomes if "-" in o)
    assert set(TYPE_LABELS) >= {c.type for c in real_kb.conflicts.values()}
    assert set(TYPE_LABELS) >= CONTEXT_TYPES


def test_conflict_ids_are_stable_across_loads(data_dir: Path) -> None:
    first = set(KnowledgeBase.load(data_dir).conflicts)
    assert first == set(KnowledgeBase.load(data_dir).conflicts)


def test_ids_of_unchanged_conflicts_are_kept(real_kb: KnowledgeBase) -> None:
    """Editorial decisions reference these ids (they predate the new rules)."""
    kept = {
        "cf-af1c6bc608": "bruun2024_final-f1",  # fibromyalgia pain
        "cf-9b63399607": "martin2022-f1",  # mixed chronic pain
        "cf-a3afa3cc53": "seed-max-dose",  # maximum dose
        "cf-e44b0b5688": "driver2023-f3",  # adverse-effect rates
        "cf-56a901604f": "irwin2024-f2",  # stopping rates
    }
    for cid, member in kept.items():
        assert member in real_kb.conflicts[cid].claim_ids()


def test_conflicts_follow_the_data(data_dir: Path) -> None:
    """Flip FINAL's result to benefit: fibromyalgia then has one fewer claim on the null side."""
    path = data_dir / "claims.json"
    records = json.loads(path.read_text("utf-8"))
    for rec in records:
        if rec["id"] in ("bruun2024_final-f1", "bested2023-f1"):
            rec["direction"] = "benefit"
    path.write_text(json.dumps(records), "utf-8")
    kb = KnowledgeBase.load(data_dir)
    same = [
        c
        for c in kb.conflicts.values()
        if c.type == "opposite_direction" and c.condition == "fibromyalgia" and c.scope == "same"
    ]
    assert same == []


def test_disjoint_conditions_never_conflict(real_kb: KnowledgeBase) -> None:
    tree = real_kb.conditions
    for conflict in real_kb.conflicts.values():
        claims = [[real_kb.claims[c] for c in side.claims] for side in conflict.sides]
        for i, side in enumerate(claims):
            others = [c for j, s in enumerate(claims) if j != i for c in s]
            for claim in side:
                assert any(
                    tree.relation(claim.conditions, o.conditions) != "disjoint" for o in others
                ), (conflict.id, claim.id)


def test_conflict_id_survives_a_new_claim_joining(data_dir: Path) -> None:
    """Editorial decisions are keyed by conflict id: adding evidence must not change it."""
    before = {c.id: c for c in KnowledgeBase.load(data_dir).conflicts.values()}
    path = data_dir / "claims.json"
    records = json.loads(path.read_text("utf-8"))
    extra = dict(next(r for r in records if r["id"] == "irwin2024-f3"), id="irwin2024-f3-copy")
    extra["value"] = dict(extra["value"], value=50, as_stated="50%")
    records.append(extra)
    path.write_text(json.dumps(records), "utf-8")
    after = KnowledgeBase.load(data_dir).conflicts
    grown = [cid for cid, c in after.items() if "irwin2024-f3-copy" in c.claim_ids()]
    assert grown and all(cid in before for cid in grown)


def test_outcome_labels_cover_the_schema() -> None:
    from importlib import resources

    from kb.conflicts import outcome_labels

    schema = json.loads(resources.files("kb.schemas").joinpath("claims.schema.json").read_text())
    assert set(outcome_labels()) == set(schema["items"]["properties"]["outcome"]["enum"])


# -- /contested, kb contested and the cached views ------------------------------------------------
def test_contested_puts_the_main_topic_and_safety_first(real_kb: KnowledgeBase) -> None:
    from kb.contested import contested

    data = contested(real_kb)
    assert data["main_topic"] == "naltrexone"
    flat = [c for g in data["groups"] for c in g["conflicts"]]
    assert flat[0]["type"] == "safety_contradiction"
    first_other = next(i for i, c in enumerate(flat) if "naltrexone" not in c["intervention"])
    assert all(
        "naltrexone" not in c["intervention"] for c in flat[first_other:] if not c["context"]
    )
    # Conflicts before indirect context, and the group headings are words.
    contexts = [c["context"] for c in flat]
    assert contexts == sorted(contexts)
    assert data["groups"][0]["label"] == "LDN: Drug interactions"
    assert data["counts"] == {"conflicts": 11, "context": 9}


def test_contested_filters_are_kept(real_kb: KnowledgeBase) -> None:
    from kb.contested import contested

    data = contested(real_kb, type="treatment_line")
    assert data["filters"]["type"] == "treatment_line" and data["shown"] == 2
    data = contested(real_kb, condition="fibromyalgia")
    assert all(c["condition"] == "fibromyalgia" for g in data["groups"] for c in g["conflicts"])


def test_conflict_views_are_cached_until_the_board_acts(data_dir: Path, tmp_path: Path) -> None:
    from kb.contested import conflict_view, view_cache_stats
    from kb.editorial import Editor

    kb = KnowledgeBase.load(data_dir)
    ed = Editor.open(kb, tmp_path / "instance")
    cid = next(c.id for c in kb.conflicts.values() if c.type == "safety_contradiction")
    first = conflict_view(kb, cid)
    first["title"] = "changed by a caller"
    # The patient view rewrites claim texts in place: nothing nested is shared either.
    first["sides"][0]["claims"][0]["text"] = "rewritten"
    first["sides"][0]["claims"][0]["sources"].append("invented")
    first["sides"].pop()
    first["editorial"]["version"] = 99
    again = conflict_view(kb, cid)
    assert again["title"] != "changed by a caller"  # the cached view is never handed out
    assert (
        again["sides"][0]["claims"][0]["text"]
        == kb.claims[again["sides"][0]["claims"][0]["id"]].text
    )
    assert "invented" not in again["sides"][0]["claims"][0]["sources"]
    assert len(again["sides"]) == len(kb.conflict(cid).sides)
    assert again["editorial"]["version"] == 0
    assert view_cache_stats(kb)["hits"] == 1
    assert again["editorial"]["decision"] is None
    ed.record(
        "eve",
        "editor",
        "dismiss_conflict",
        f"conflict:{cid}",
        reason="reviewed",
        base_version=ed.version(f"conflict:{cid}"),
    )
    after = conflict_view(kb, cid)
    assert after["editorial"]["decision"]["decision"] == "dismissed"
    # Built afresh, not served from the cache (which the event may also have replaced).
    stats = view_cache_stats(kb)
    assert stats["hits"] <= 1 and stats["misses"] >= 1


def test_kb_contested_prints_titles_sides_texts_grades_and_sources(data_dir: Path) -> None:
    from click.testing import CliRunner

    from kb.cli import cli as main

    result = CliRunner().invoke(main, ["--data-dir", str(data_dir), "contested"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("11 conflicts, 9 pieces of indirect context")
    assert "1. Drug interactions of LDN: none in the article" in out
    assert "- no drug interactions:" in out
    assert "LDN is said to have no clinically significant interactions" in out
    flat = " ".join(out.split())
    assert "[Very low; Bostick 2019; seed-no-drug-interactions]" in flat
    assert out.index("== Conflicts ==") < out.index("== Indirect context ==")
    as_json = json.loads(
        CliRunner().invoke(main, ["--data-dir", str(data_dir), "contested", "--json"]).output
    )
    assert {"id", "type", "topic", "sides", "explanation", "title", "context"} <= set(as_json[0])
