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
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

# pydantic (which makes the OpenAPI schemas of kb.shapes) reads TypedDicts from
# typing_extensions only, before Python 3.12.
from typing_extensions import TypedDict

from .claims import DIRECTIONS
from .evidence import DESIGNS

if TYPE_CHECKING:
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
PER_ROW = CELL_W // SLOT  # marks on one line of a cell
MORE_H = 18  # the "+N more" line under a cell that holds more studies than it draws

# How much a picture draws, however large the knowledge base: a map of 10,000 circles cannot
# be read (nor drawn in time). A cell (design by direction) draws its largest studies, one
# line of marks (a map of every design and direction: at most ~170 marks); the rest are
# counted in the cell ("+N more"), the text alternative and the table.
MAX_MARKS_PER_CELL = PER_ROW
# A forest plot draws at most this many panels (common scales first, then the scales with the
# most estimates) and this many estimates per panel (the narrowest intervals: the most
# precise); the totals still count every estimate.
MAX_FOREST_PANELS = 8
MAX_FOREST_ROWS = 12
# Pictures kept per version of the records (topics and answers' claim sets).
MEMO_SIZE = 128

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


def _memo(
    kb: KnowledgeBase, key: tuple[Any, ...], build: Callable[[], dict[str, Any]]
) -> dict[str, Any]:
    """A picture kept per version of the records (LRU of :data:`MEMO_SIZE`), as a shallow
    copy: callers must treat the nested lists as read-only.

    Pictures read only records (claims' kind, conditions, direction, structured value and
    cited source; references' label, design and n), never grades or verdicts, so they are
    kept across re-gradings and editorial decisions and rebuilt after any change to a record
    (at 100k claims the main topic's pair cost about 0.5 s to compute)."""
    store = kb.cache("pictures.memo", lambda _kb: _Memo(), records=True)
    with store.lock:
        held = store.items.get(key)
        if held is not None:
            store.items.move_to_end(key)
            return dict(held)
    value = build()
    with store.lock:
        store.items[key] = value
        while len(store.items) > MEMO_SIZE:
            store.items.popitem(last=False)
    return dict(value)


class _Memo:
    def __init__(self) -> None:
        self.items: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self.lock = threading.Lock()


class _Index:
    """What the pictures can show, read once per version of the records, in the knowledge
    base's order, with positions per condition: a picture then reads only its own scope
    instead of scanning every claim (0.4 s per picture at 100k claims).

    ``findings``: cited findings of an effect kind (not seed statements, not study conduct)
    as ``(claim id, study ref id, intervention, direction)``; ``intervals``: claims with a
    structured confidence interval as ``(claim id, intervention, (outcome, unit, source),
    (estimate, low, high, level))``."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.findings: list[tuple[str, str, str | None, str]] = []
        self.findings_by_condition: dict[str, list[int]] = {}
        self.intervals: list[
            tuple[str, str | None, tuple[str, str, str], tuple[float, float, float, float]]
        ] = []
        self.intervals_by_condition: dict[str, list[int]] = {}
        # Read from the records directly: this loop visits every claim (speed at 100k).
        for claim in kb.claims.values():
            rec = claim.record
            value = rec["value"]
            if value and "ci" in value:
                ci = structured_ci(value)
                if ci is not None:
                    unit = str(value.get("unit", ""))
                    source = (
                        "" if unit in COMMON_SCALE_UNITS else (claim.cited_refs or [claim.id])[0]
                    )
                    for cond in rec["conditions"]:
                        self.intervals_by_condition.setdefault(cond, []).append(len(self.intervals))
                    self.intervals.append(
                        (rec["id"], rec["intervention"], (rec["outcome"], unit, source), ci)
                    )
            if rec["origin"] == "seed" or rec["kind"] not in EFFECT_KINDS:
                continue
            refs = claim.cited_refs
            if claim.role == "study-conduct" or not refs:
                continue
            for cond in rec["conditions"]:
                self.findings_by_condition.setdefault(cond, []).append(len(self.findings))
            self.findings.append((rec["id"], refs[0], rec["intervention"], rec["direction"]))
        # Each study's label, design (one of DESIGNS or NOT_STATED_DESIGN) and n.
        self.studies: dict[str, tuple[str, str, int | None]] = {}
        for ref_id in dict.fromkeys(f[1] for f in self.findings):
            ref = kb.references[ref_id]
            design = ref.design if ref.design in DESIGNS else NOT_STATED_DESIGN
            self.studies[ref_id] = (ref.label, design, ref.n)


def _index(kb: KnowledgeBase) -> _Index:
    return kb.cache("pictures.index", _Index, records=True)


def warm(kb: KnowledgeBase, topics: Iterable[tuple[str | None, str | None]] = ()) -> None:
    """Read what every picture reuses (0.1-0.2 s at 100k claims) before the first page asks,
    and draw both pictures of each ``(condition, intervention)`` in ``topics`` (an article's
    topic: its first view then costs no more than the next)."""
    _index(kb)
    for condition, intervention in topics:
        evidence_map(kb, condition=condition, intervention=intervention)
        forest_plot(kb, condition=condition, intervention=intervention)


def _positions(
    by_condition: dict[str, list[int]], size: int, scope: set[str] | None
) -> Iterable[int]:
    """Positions of the entries about a condition in ``scope`` (every entry for None), in
    order, each once."""
    if scope is None:
        return range(size)
    lists = [by_condition[c] for c in scope if c in by_condition]
    if len(lists) == 1:
        return lists[0]
    return sorted({i for held in lists for i in held})


def _study_direction(directions: set[str]) -> str:
    """One direction for a study from its findings' directions."""
    effect = directions - {"neutral"}
    if not effect:
        return "neutral"
    if len(effect) > 1 or "mixed" in effect:
        return "mixed"
    return next(iter(effect))


def _plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else many or word + 's'}"


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
    ``columns`` (directions), ``marks`` (``ref``, ``label``, ``design_label``,
    ``direction``, ``n``, ``claims``, ``cx``/``cy``/``r``, ``hollow``, ``text``), ``counts``
    per direction, ``studies`` and ``participants``.

    Every study is counted, but each cell (design by direction) draws at most
    :data:`MAX_MARKS_PER_CELL` marks, the largest studies first; ``more`` lists the cells
    that hold more (``design``, ``design_label``, ``direction``, ``count`` not drawn, ``x``/
    ``y`` of the "+N more" text, ``after``: the position in ``marks`` of the cell's last
    drawn mark, ``text``). Kept per version of the records (read-only).
    """
    only = frozenset(claim_ids) if claim_ids is not None else None
    return _memo(
        kb,
        ("map", condition, intervention, only),
        lambda: _evidence_map(kb, condition, intervention, only),
    )


def _evidence_map(
    kb: KnowledgeBase,
    condition: str | None,
    intervention: str | None,
    only: frozenset[str] | None,
) -> dict[str, Any]:
    scope = _scope(kb, condition)
    held = _index(kb)
    by_study: dict[str, list[int]] = {}
    findings = held.findings
    for i in _positions(held.findings_by_condition, len(findings), scope):
        claim_id, ref_id, about, _ = findings[i]
        if intervention is not None and about != intervention:
            continue
        if only is not None and claim_id not in only:
            continue
        found = by_study.get(ref_id)
        if found is None:
            by_study[ref_id] = found = []
        found.append(i)

    design_order = [*DESIGNS, NOT_STATED_DESIGN]
    rank = {d: i for i, d in enumerate(design_order)}
    # (design rank, -n, label, ref id, direction, n, findings): strongest design first, then
    # the largest study; dicts are made only for the studies drawn.
    studies: list[tuple[int, int, str, str, str, int | None, list[int]]] = []
    for ref_id, found in by_study.items():
        label, design, n = held.studies[ref_id]
        if len(found) == 1:
            direction = findings[found[0]][3]
        else:
            direction = _study_direction({findings[i][3] for i in found})
        studies.append((rank[design], -(n or 0), label, ref_id, direction, n, found))
    studies.sort(key=lambda s: s[:3])

    columns: list[dict[str, Any]] = [
        {"direction": d, "label": DIRECTION_LABELS[d], "x": LABEL_W + i * CELL_W, "width": CELL_W}
        for i, d in enumerate(DIRECTIONS)
    ]
    col_x: dict[str, int] = {c["direction"]: c["x"] for c in columns}
    cells: dict[tuple[int, str], list[Any]] = {}
    for s in studies:
        cells.setdefault((s[0], s[4]), []).append(s)
    largest = max((s[5] or 0 for s in studies), default=0)
    rows: list[dict[str, Any]] = []
    marks: list[dict[str, Any]] = []
    more: list[dict[str, Any]] = []
    per_design: dict[str, int] = {}
    y = HEADER_H
    for d_rank, design in enumerate(design_order):
        in_row = {d: cells.get((d_rank, d), []) for d in DIRECTIONS}
        total = sum(len(x) for x in in_row.values())
        if not total:
            continue
        per_design[design] = total
        lines = max(math.ceil(min(len(x), MAX_MARKS_PER_CELL) / PER_ROW) for x in in_row.values())
        capped = any(len(x) > MAX_MARKS_PER_CELL for x in in_row.values())
        height = max(1, lines) * SLOT + (MORE_H if capped else 0)
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
        for d, in_cell in in_row.items():
            for i, (_, _, name, ref_id, direction, n, found) in enumerate(
                in_cell[:MAX_MARKS_PER_CELL]
            ):
                r = R_MIN + (R_MAX - R_MIN) * math.sqrt(n / largest) if n and largest else R_MIN
                mark = {
                    "ref": ref_id,
                    "label": name,
                    "design": design,
                    "design_label": label,
                    "direction": direction,
                    "n": n,
                    "claims": [findings[i][0] for i in found],
                    "cx": col_x[d] + (i % PER_ROW) * SLOT + SLOT / 2 + 4,
                    "cy": y + (i // PER_ROW) * SLOT + SLOT / 2,
                    "r": round(r, 1),
                    "hollow": n is None,
                }
                mark["text"] = _mark_text(mark)
                marks.append(mark)
            if len(in_cell) > MAX_MARKS_PER_CELL:
                count = len(in_cell) - MAX_MARKS_PER_CELL
                more.append(
                    {
                        "design": design,
                        "design_label": label,
                        "direction": d,
                        "count": count,
                        "x": col_x[d] + 8,
                        "y": y + lines * SLOT + MORE_H / 2 + 2,
                        "after": len(marks) - 1,
                        "text": f"{_plural(count, 'more study', 'more studies')} "
                        f"({label.lower()}, {DIRECTION_LABELS[d].lower()}) not listed",
                    }
                )
        y += height
    counts = {d: sum(len(x) for (_, dd), x in cells.items() if dd == d) for d in DIRECTIONS}
    participants = sum(s[5] or 0 for s in studies)
    where = kb.conditions.label(condition) if condition else "all conditions"
    what = intervention or "the treatments in the knowledge base"
    title = f"Evidence map: {what} for {where}"
    if studies:
        parts = ", ".join(
            f"{_plural(counts[d], 'study', 'studies')} {DIRECTION_PHRASES[d]}"
            for d in DIRECTIONS
            if counts[d]
        )
        unknown = sum(1 for s in studies if s[5] is None)
        description = (
            f"{_plural(len(studies), 'study', 'studies')} with "
            f"{participants:,} participants counted across them"
            + (f" ({unknown:,} not stating a number)" if unknown else "")
            + " (a review's participants may include trials shown separately)"
            + f": {parts}. Strongest designs: "
            + "; ".join(f"{r['label']} {per_design[r['design']]:,}" for r in rows[:3])
            + "."
        )
        if more:
            description += (
                f" {_plural(len(marks), 'study', 'studies')} drawn (at most "
                f"{MAX_MARKS_PER_CELL} per design and direction, the largest first); "
                "the rest are counted."
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
        "more": more,
        "max_per_cell": MAX_MARKS_PER_CELL,
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
    ``x0`` (pixel of no effect), ``ticks`` (``value``, ``x``), ``rows`` (``claim``,
    ``label``, ``estimate``, ``low``, ``high``, ``level``, ``text``, ``x``/``x_low``/``x_high``,
    ``y``), ``estimates`` (all of them) and ``more`` (how many are not drawn, with
    ``more_text``). ``panels`` is empty and ``message`` says why when no claim in scope has
    one; ``more_panels``/``more_estimates``/``more_text`` count the panels not drawn.

    At most :data:`MAX_FOREST_PANELS` panels (common scales first, then the most estimates)
    and :data:`MAX_FOREST_ROWS` rows per panel are drawn: the narrowest intervals (the most
    precise estimates; the earlier claim first on a tie), in the knowledge base's order.
    Counts and the intervals crossing no effect are over every estimate. Kept per version
    of the records (read-only).
    """
    only = frozenset(claim_ids) if claim_ids is not None else None
    return _memo(
        kb,
        ("forest", condition, intervention, only),
        lambda: _forest_plot(kb, condition, intervention, only),
    )


def _forest_plot(
    kb: KnowledgeBase,
    condition: str | None,
    intervention: str | None,
    only: frozenset[str] | None,
) -> dict[str, Any]:
    scope = _scope(kb, condition)
    held = _index(kb)
    intervals = held.intervals
    groups: dict[tuple[str, str, str], list[tuple[str, tuple[float, float, float, float]]]] = {}
    for i in _positions(held.intervals_by_condition, len(intervals), scope):
        claim_id, about, key, ci = intervals[i]
        if intervention is not None and about != intervention:
            continue
        if only is not None and claim_id not in only:
            continue
        groups.setdefault(key, []).append((claim_id, ci))
    # Estimates on a common scale first, then one panel per source's own scale; when there
    # are too many, the common scales and the scales with the most estimates are drawn.
    keys = sorted(groups, key=lambda k: (bool(k[2]), k))
    if len(keys) > MAX_FOREST_PANELS:
        kept = set(sorted(keys, key=lambda k: (bool(k[2]), -len(groups[k]), k))[:MAX_FOREST_PANELS])
        keys = [k for k in keys if k in kept]
    panels = [_panel(kb, key, groups[key]) for key in keys]
    more_panels = len(groups) - len(panels)
    more_estimates = sum(len(v) for v in groups.values()) - sum(p["estimates"] for p in panels)
    message = (
        None
        if panels
        else "No claim here carries an effect with a confidence interval as structured values, "
        "so nothing is plotted. Effects as the sources report them are in the statements."
    )
    return {
        "panels": panels,
        "message": message,
        "more_panels": more_panels,
        "more_estimates": more_estimates,
        "more_text": (
            f"{_plural(more_panels, 'more plot')} ({_plural(more_estimates, 'estimate')}) "
            f"not drawn: at most {MAX_FOREST_PANELS} plots are shown, common scales first, "
            "then the scales with the most estimates."
            if more_panels
            else None
        ),
    }


def _panel(
    kb: KnowledgeBase,
    key: tuple[str, str, str],
    items: list[tuple[str, tuple[float, float, float, float]]],
) -> dict[str, Any]:
    outcome, unit, source = key
    total = len(items)
    crosses = sum(1 for _, ci in items if ci[1] <= 0 <= ci[2])
    if total > MAX_FOREST_ROWS:
        # The most precise estimates (narrowest intervals), drawn in their usual order.
        keep = sorted(range(total), key=lambda i: (items[i][1][2] - items[i][1][1], i))
        items = [items[i] for i in sorted(keep[:MAX_FOREST_ROWS])]
    lo = min(0.0, *(ci[1] for _, ci in items))
    hi = max(0.0, *(ci[2] for _, ci in items))
    pad = (hi - lo) * 0.08 or 1.0
    lo, hi = lo - pad, hi + pad
    x_left = FOREST_LABEL_W

    def px(v: float) -> float:
        return round(x_left + (v - lo) / (hi - lo) * FOREST_PLOT_W, 1)

    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for i, (claim_id, (est, low, high, level)) in enumerate(items):
        claim = kb.claims[claim_id]
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
    more = total - len(rows)
    listed = "; ".join(f"{r['label']} ({r['sublabel']}) {r['text']}" for r in rows)
    axis_y = 30 + len(rows) * FOREST_ROW_H
    return {
        "outcome": outcome,
        "unit": unit,
        "title": title,
        "description": (
            f"{_plural(total, 'estimate')} of {name.lower()} ({scale})"
            + (f", the {len(rows)} most precise listed" if more else "")
            + f": {listed}. Intervals including no effect (0): {crosses:,} of {total:,}."
        ),
        "width": FOREST_LABEL_W + FOREST_PLOT_W + FOREST_TEXT_W,
        "height": axis_y + 30 + (MORE_H if more else 0),
        "plot_left": x_left,
        "plot_right": x_left + FOREST_PLOT_W,
        "axis_y": axis_y,
        "x0": px(0.0),
        "ticks": [{"value": _fmt(t), "x": px(t)} for t in _ticks(lo, hi)],
        "rows": rows,
        "estimates": total,
        "more": more,
        "more_text": (
            f"{_plural(more, 'more estimate')} not drawn: the {len(rows)} with the narrowest "
            "intervals (the most precise) are shown."
            if more
            else None
        ),
        "more_y": axis_y + 42,
    }


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
