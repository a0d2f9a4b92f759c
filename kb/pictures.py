"""Evidence pictures: the geometry and words of an evidence map and a forest plot.

Both are drawn server-side as SVG by the site's templates (``_evidence_map.html``,
``_forest_plot.html``) from the dicts built here, so the site needs no JavaScript and the
``/api/`` twins return the same figures as data. Every picture carries a title, a text
alternative (``description``) and the rows of a table that says the same thing.

- :func:`evidence_map`: the studies behind a condition (and its sub-conditions), one mark per
  study, placed by design (rows, strongest first) and direction of its effect findings
  (columns), its area proportional to the participants (hollow when the number is not stated).
- :func:`forest_plot`: for each outcome and unit, the claims whose structured value carries a
  confidence interval (``value["ci"] = {"low", "high", "level"}``), as a point and a line
  against the line of no effect. Nothing is read out of free text: a claim without a
  structured interval is not plotted, and when no claim has one the plot says so.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

# pydantic (which makes the OpenAPI schemas of kb.shapes) reads TypedDicts from
# typing_extensions only, before Python 3.12.
from typing_extensions import TypedDict

from .claims import DIRECTIONS
from .evidence import DESIGNS

if TYPE_CHECKING:
    from .claims import Claim
    from .knowledgebase import KnowledgeBase

# Kinds whose direction says whether the treatment worked.
EFFECT_KINDS: tuple[str, ...] = ("efficacy", "response_rate")
DIRECTION_LABELS: dict[str, str] = {
    "benefit": "Benefit",
    "no-benefit": "No benefit",
    "mixed": "Mixed",
    "neutral": "No difference shown",
}
# The same, as a phrase after "N studies" in a text alternative.
DIRECTION_PHRASES: dict[str, str] = {
    "benefit": "showing benefit",
    "no-benefit": "showing no benefit",
    "mixed": "with mixed results",
    "neutral": "showing no difference",
}
NOT_STATED_DESIGN = "not stated"

# Evidence-map layout, in SVG user units (the SVG scales to its container).
LABEL_W = 200
CELL_W = 150
HEADER_H = 34
SLOT = 40  # one mark's square in a cell
R_MIN, R_MAX = 4.0, 17.0
LEGEND_H = 46

# Units on a common scale across studies; any other unit (points on a study's own pain scale,
# kPa) is plotted per source, since scales and sign conventions differ between instruments.
COMMON_SCALE_UNITS = frozenset({"SMD", "RR", "OR", "HR", "IRR", "RD"})

# Forest-plot layout.
FOREST_LABEL_W = 210
FOREST_PLOT_W = 330
FOREST_TEXT_W = 190
FOREST_ROW_H = 34


def _scope(kb: KnowledgeBase, condition: str | None) -> set[str] | None:
    if condition is None:
        return None
    return {condition, *kb.conditions.descendants(condition)}


def _in_scope(
    kb: KnowledgeBase,
    claim: Claim,
    scope: set[str] | None,
    intervention: str | None,
    claim_ids: frozenset[str] | None,
) -> bool:
    if claim_ids is not None and claim.id not in claim_ids:
        return False
    if intervention is not None and claim.intervention != intervention:
        return False
    return scope is None or bool(scope & set(claim.conditions))


class _EffectClaims:
    """The claims a map can show (cited findings of an effect kind), in the knowledge base's
    order, and their positions per condition: a map then reads only its own scope instead of
    scanning every claim (0.4 s per map at 100k claims)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.claims: list[Claim] = []
        self.by_condition: dict[str, list[int]] = {}
        for claim in kb.claims.values():
            if claim.origin == "seed" or claim.kind not in EFFECT_KINDS:
                continue
            if claim.role == "study-conduct" or not claim.cited_refs:
                continue
            for cond in claim.conditions:
                self.by_condition.setdefault(cond, []).append(len(self.claims))
            self.claims.append(claim)


def _candidates(kb: KnowledgeBase, scope: set[str] | None) -> list[Claim]:
    held = kb.cache("pictures.effect_claims", _EffectClaims)
    if scope is None:
        return held.claims
    positions = sorted({i for cond in scope for i in held.by_condition.get(cond, ())})
    return [held.claims[i] for i in positions]


def _study_direction(directions: set[str]) -> str:
    """One direction for a study from its findings' directions."""
    effect = directions - {"neutral"}
    if not effect:
        return "neutral"
    if len(effect) > 1 or "mixed" in effect:
        return "mixed"
    return next(iter(effect))


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n} {word if n == 1 else many or word + 's'}"


def evidence_map(
    kb: KnowledgeBase,
    *,
    condition: str | None = None,
    intervention: str | None = None,
    claim_ids: list[str] | None = None,
) -> dict[str, Any]:
    """The evidence map of ``condition`` (with its sub-conditions; None: every condition).

    A study appears when it is the cited source of a finding (not a seed statement, not study
    conduct) of kind :data:`EFFECT_KINDS` about ``intervention`` (None: any) and a condition in
    scope; ``claim_ids`` narrows to those claims (an answer's). Returns ``title``,
    ``description`` (the text alternative), ``width``/``height``, ``rows`` (designs),
    ``columns`` (directions), ``marks`` (one per study: ``ref``, ``label``, ``design_label``,
    ``direction``, ``n``, ``claims``, ``cx``/``cy``/``r``, ``hollow``, ``text``), ``counts``
    per direction, ``studies`` and ``participants``.
    """
    scope = _scope(kb, condition)
    only = frozenset(claim_ids) if claim_ids is not None else None
    by_study: dict[str, list[Claim]] = {}
    for claim in _candidates(kb, scope):
        if _in_scope(kb, claim, scope, intervention, only):
            by_study.setdefault(claim.cited_refs[0], []).append(claim)

    design_order = [*DESIGNS, NOT_STATED_DESIGN]
    studies: list[dict[str, Any]] = []
    for ref_id, claims in by_study.items():
        ref = kb.references[ref_id]
        design = ref.design if ref.design in DESIGNS else NOT_STATED_DESIGN
        studies.append(
            {
                "ref": ref_id,
                "label": ref.label,
                "design": design,
                "design_label": _design_label(design),
                "direction": _study_direction({c.direction for c in claims}),
                "n": ref.n,
                "claims": [c.id for c in claims],
            }
        )
    studies.sort(key=lambda s: (design_order.index(s["design"]), -(s["n"] or 0), s["label"]))

    columns: list[dict[str, Any]] = [
        {"direction": d, "label": DIRECTION_LABELS[d], "x": LABEL_W + i * CELL_W, "width": CELL_W}
        for i, d in enumerate(DIRECTIONS)
    ]
    col_x: dict[str, int] = {c["direction"]: c["x"] for c in columns}
    per_row = max(1, CELL_W // SLOT)
    largest = max((s["n"] or 0 for s in studies), default=0)
    rows: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    y = HEADER_H
    for design in design_order:
        in_row = [s for s in studies if s["design"] == design]
        if not in_row:
            continue
        lines = max(
            math.ceil(sum(1 for s in in_row if s["direction"] == d) / per_row) for d in DIRECTIONS
        )
        height = max(1, lines) * SLOT
        label = _design_label(design)
        rows.append(
            {
                "design": design,
                "label": label,
                "label_lines": _wrap(label, 24),
                "y": y,
                "height": height,
            }
        )
        for d in DIRECTIONS:
            for i, s in enumerate(x for x in in_row if x["direction"] == d):
                n = s["n"]
                r = R_MIN + (R_MAX - R_MIN) * math.sqrt(n / largest) if n and largest else R_MIN
                marks.append(
                    {
                        **s,
                        "cx": col_x[d] + (i % per_row) * SLOT + SLOT / 2 + 4,
                        "cy": y + (i // per_row) * SLOT + SLOT / 2,
                        "r": round(r, 1),
                        "hollow": n is None,
                        "text": _mark_text(s),
                    }
                )
        y += height
    counts = {d: sum(1 for s in studies if s["direction"] == d) for d in DIRECTIONS}
    participants = sum(s["n"] or 0 for s in studies)
    where = kb.conditions.label(condition) if condition else "all conditions"
    what = intervention or "the treatments in the knowledge base"
    title = f"Evidence map: {what} for {where}"
    if studies:
        parts = ", ".join(
            f"{_plural(counts[d], 'study', 'studies')} {DIRECTION_PHRASES[d]}"
            for d in DIRECTIONS
            if counts[d]
        )
        unknown = sum(1 for s in studies if s["n"] is None)
        description = (
            f"{_plural(len(studies), 'study', 'studies')} with "
            f"{participants:,} participants counted across them"
            + (f" ({unknown} not stating a number)" if unknown else "")
            + " (a review's participants may include trials shown separately)"
            + f": {parts}. Strongest designs: "
            + "; ".join(
                f"{r['label']} {sum(1 for s in studies if s['design'] == r['design'])}"
                for r in rows[:3]
            )
            + "."
        )
    else:
        description = f"No study in the knowledge base reports an effect of {what} for {where}."
    return {
        "title": title,
        "description": description,
        "condition": condition,
        "condition_label": kb.conditions.label(condition) if condition else None,
        "intervention": intervention,
        "width": LABEL_W + CELL_W * len(DIRECTIONS),
        "height": y + LEGEND_H,
        "legend_y": y + 14,
        "rows": rows,
        "columns": columns,
        "marks": marks,
        "counts": [
            {"direction": d, "label": DIRECTION_LABELS[d], "studies": counts[d]} for d in DIRECTIONS
        ],
        "studies": len(studies),
        "participants": participants,
        "legend": {"r_min": R_MIN, "r_max": R_MAX, "largest": largest},
    }


def _wrap(text: str, width: int) -> list[str]:
    """Words of ``text`` in lines of at most ``width`` characters (SVG text does not wrap)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def _design_label(design: str) -> str:
    if design not in DESIGNS:
        return "Design not stated"
    desc = DESIGNS[design][2].split(" (")[0]
    return desc[:1].upper() + desc[1:]


def _mark_text(study: dict[str, Any]) -> str:
    n = f"{study['n']:,} participants" if study["n"] is not None else "participants not stated"
    return (
        f"{study['label']}: {study['design_label'].lower()}, {n}; "
        f"{DIRECTION_LABELS[study['direction']].lower()} "
        f"({_plural(len(study['claims']), 'finding')})"
    )


# -- forest plot -------------------------------------------------------------------------------
def structured_ci(value: dict[str, Any] | None) -> tuple[float, float, float, float] | None:
    """``(estimate, low, high, level)`` from a structured value, or None.

    Only ``value["value"]`` and ``value["ci"] = {"low", "high", "level"?}`` count (level 95
    when not given); nothing is parsed out of ``as_stated``.
    """
    if not value or not isinstance(value.get("ci"), dict):
        return None
    ci = value["ci"]
    est, low, high = value.get("value"), ci.get("low"), ci.get("high")
    number = int | float
    if not (isinstance(est, number) and isinstance(low, number) and isinstance(high, number)):
        return None
    level = ci.get("level", 95)
    if not isinstance(level, int | float):
        return None
    return float(est), float(low), float(high), float(level)


def _ticks(lo: float, hi: float) -> list[float]:
    span = hi - lo
    raw = span / 4 if span > 0 else 1.0
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.ceil(lo / step) * step
    out = []
    t = start
    while t <= hi + 1e-9:
        out.append(round(t, 10))
        t += step
    return out


def _fmt(x: float) -> str:
    return f"{x:g}".replace("-", "−")


def forest_plot(
    kb: KnowledgeBase,
    *,
    condition: str | None = None,
    intervention: str | None = None,
    claim_ids: list[str] | None = None,
) -> dict[str, Any]:
    """Forest-style panels, one per (outcome, unit), of claims with a structured interval.

    Each panel: ``outcome``, ``unit``, ``title``, ``description``, ``width``/``height``,
    ``x0`` (pixel of no effect), ``ticks`` (``value``, ``x``) and ``rows`` (``claim``,
    ``label``, ``estimate``, ``low``, ``high``, ``level``, ``text``, ``x``/``x_low``/``x_high``,
    ``y``). ``panels`` is empty and ``message`` says why when no claim in scope has one.
    """
    scope = _scope(kb, condition)
    only = frozenset(claim_ids) if claim_ids is not None else None
    groups: dict[tuple[str, str, str], list[tuple[Claim, tuple[float, float, float, float]]]] = {}
    for claim in kb.claims.values():
        ci = structured_ci(claim.value)
        if ci is None or not _in_scope(kb, claim, scope, intervention, only):
            continue
        unit = str((claim.value or {}).get("unit", ""))
        source = "" if unit in COMMON_SCALE_UNITS else (claim.cited_refs or [claim.id])[0]
        groups.setdefault((claim.outcome, unit, source), []).append((claim, ci))
    panels = []
    # Estimates on a common scale first, then one panel per source's own scale.
    for (outcome, unit, source), items in sorted(
        groups.items(), key=lambda g: (bool(g[0][2]), g[0])
    ):
        lo = min(0.0, *(ci[1] for _, ci in items))
        hi = max(0.0, *(ci[2] for _, ci in items))
        pad = (hi - lo) * 0.08 or 1.0
        lo, hi = lo - pad, hi + pad
        x_left = FOREST_LABEL_W

        def px(v: float, lo: float = lo, hi: float = hi, x_left: int = x_left) -> float:
            return round(x_left + (v - lo) / (hi - lo) * FOREST_PLOT_W, 1)

        rows: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for i, (claim, (est, low, high, level)) in enumerate(items):
            ref = kb.references[claim.cited_refs[0]] if claim.cited_refs else None
            label = ref.label if ref else claim.id
            where = ", ".join(kb.conditions.label(c) for c in claim.conditions)
            sublabel = where
            if (label, where) in seen and ref is not None:
                sublabel = f"{where}, finding {claim.id.removeprefix(ref.id + '-')}"
            seen.add((label, where))
            text = f"{_fmt(est)} ({level:g}% CI {_fmt(low)} to {_fmt(high)})"
            rows.append(
                {
                    "claim": claim.id,
                    "ref": ref.id if ref else None,
                    "label": label,
                    "sublabel": sublabel,
                    "conditions": where,
                    "direction": claim.direction,
                    "estimate": est,
                    "low": low,
                    "high": high,
                    "level": level,
                    "text": text,
                    "x": px(est),
                    "x_low": px(low),
                    "x_high": px(high),
                    "y": 30 + i * FOREST_ROW_H + FOREST_ROW_H / 2,
                }
            )
        name = outcome.replace("-", " ").capitalize()
        scale = f"{unit}, {kb.references[source].label}" if source in kb.references else unit
        title = f"{name} ({scale})" if scale else name
        crosses = sum(1 for r in rows if r["low"] <= 0 <= r["high"])
        panels.append(
            {
                "outcome": outcome,
                "unit": unit,
                "title": title,
                "description": (
                    f"{_plural(len(rows), 'estimate')} of {name.lower()} ({scale}): "
                    + "; ".join(f"{r['label']} ({r['sublabel']}) {r['text']}" for r in rows)
                    + f". Intervals including no effect (0): {crosses} of {len(rows)}."
                ),
                "width": FOREST_LABEL_W + FOREST_PLOT_W + FOREST_TEXT_W,
                "height": 30 + len(rows) * FOREST_ROW_H + 30,
                "plot_left": x_left,
                "plot_right": x_left + FOREST_PLOT_W,
                "axis_y": 30 + len(rows) * FOREST_ROW_H,
                "x0": px(0.0),
                "ticks": [{"value": _fmt(t), "x": px(t)} for t in _ticks(lo, hi)],
                "rows": rows,
            }
        )
    message = (
        None
        if panels
        else "No claim here carries an effect with a confidence interval as structured values, "
        "so nothing is plotted. Effects as the sources report them are in the statements."
    )
    return {"panels": panels, "message": message}


class Pictures(TypedDict):
    """Both pictures of one topic: :func:`evidence_map` and :func:`forest_plot`."""

    evidence_map: dict[str, Any]
    forest: dict[str, Any]


def for_condition(
    kb: KnowledgeBase, condition: str, *, intervention: str | None = None
) -> Pictures:
    """Both pictures of one condition (for a condition page: render ``evidence_map`` with
    ``_evidence_map.html`` and ``forest`` with ``_forest_plot.html``)."""
    kb.conditions.get(condition)  # unknown id -> NotFound
    return {
        "evidence_map": evidence_map(kb, condition=condition, intervention=intervention),
        "forest": forest_plot(kb, condition=condition, intervention=intervention),
    }


def for_answer(kb: KnowledgeBase, answer: dict[str, Any]) -> dict[str, Any] | None:
    """The evidence map behind an Ask answer (:func:`kb.answer.ask`'s dict): the first
    condition and intervention the question names (every condition when it names none); None
    when the answer is not relevant. Render it with ``_evidence_map.html`` as ``emap``."""
    if not answer.get("relevant"):
        return None
    understood = answer.get("understood") or {}
    conditions = [c for c in understood.get("conditions", []) if c in kb.conditions]
    interventions = understood.get("interventions") or [None]
    return evidence_map(
        kb, condition=conditions[0] if conditions else None, intervention=interventions[0]
    )
