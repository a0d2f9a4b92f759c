"""Conflicts are computed from the data: the disagreements the dossier documents are found."""

from __future__ import annotations

import json
from pathlib import Path

from kb import KnowledgeBase
from kb.conflicts import Conflict


def _find(kb: KnowledgeBase, ctype: str, *claim_ids: str) -> list[Conflict]:
    return [
        c for c in kb.conflicts.values() if c.type == ctype and set(claim_ids) <= set(c.claim_ids())
    ]


def _opposed(conflict: Conflict, left: set[str], right: set[str]) -> bool:
    """True when ``left`` and ``right`` sit on different sides of ``conflict``."""
    side_of = {cid: i for i, side in enumerate(conflict.sides) for cid in side.claims}
    return (
        len({side_of[c] for c in left}) == 1
        and len({side_of[c] for c in right}) == 1
        and side_of[next(iter(left))] != side_of[next(iter(right))]
    )


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


def test_broader_scope_is_reported_as_indirect(real_kb: KnowledgeBase) -> None:
    # Rassi-Mariani (all chronic pain) against a fibromyalgia benefit: indirect, not same.
    found = _find(real_kb, "opposite_direction", "rassimariani2024-f3", "vatvani2024-f1")
    assert found and all(c.scope == "broader" for c in found)


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


def test_adverse_effect_and_stopping_rates_diverge(real_kb: KnowledgeBase) -> None:
    ae = _find(real_kb, "divergent_estimates", "driver2023-f3", "irwin2024-f3", "spargo2025-f3")
    assert len(ae) == 1 and len(ae[0].sides) >= 3
    stop = _find(real_kb, "divergent_estimates", "driver2023-f4", "spargo2025-f1", "irwin2024-f2")
    assert len(stop) == 1
    labels = [s.label for s in stop[0].sides]
    assert labels[0] == "36%" and labels[-1] == "87%"
    assert any("continuing" in label for label in labels)  # "about half still taking"


def test_capsaicin_patch_strength_differs_between_guidelines(real_kb: KnowledgeBase) -> None:
    found = _find(
        real_kb,
        "recommendation_strength",
        "hivma_idsa2017-f4",
        "finnerup2015_neupsig-f2-capsaicin-patch",
    )
    assert len(found) == 1
    labels = [s.label for s in found[0].sides]
    assert labels[0] == "strong" and labels[1].startswith("weak")


def test_conflict_ids_are_stable_across_loads(data_dir: Path) -> None:
    first = set(KnowledgeBase.load(data_dir).conflicts)
    assert first == set(KnowledgeBase.load(data_dir).conflicts)


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
