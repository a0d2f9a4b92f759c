"""The vocabularies Ask reads questions with, loaded from ``kb/vocab/`` and checked.

- ``ask_intents.json``: what a question asks (intents → claim kinds and outcomes), the
  populations no claim covers, and filler words that never make a question out of scope;
- ``ask_drug_classes.json``: drugs the knowledge base does not name, mapped to a class it holds;
- ``ask_cues.json``: intervention aliases, stop words, follow-up templates, kind labels.

A malformed file raises :class:`~kb.errors.InvalidData` naming the file, record and field.
Then, per knowledge base, :func:`index` builds the lookups every question reuses.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from whoosh.analysis import STOP_WORDS

from .. import text
from ..claims import KINDS
from ..errors import InvalidData

if TYPE_CHECKING:
    from ..knowledgebase import KnowledgeBase

INTENTS_FILE = "ask_intents.json"
CLASSES_FILE = "ask_drug_classes.json"
CUES_FILE = "ask_cues.json"
# Outcomes that describe how a study was run, never what the treatment did (until every claim
# carries ``role``; then role "study-conduct" says it).
CONDUCT_OUTCOMES = frozenset({"study-conduct", "study-schedule"})
MAIN_INTERVENTION = "low-dose naltrexone"
# The parent drug's claims (approval, mechanism) answer questions about the low dose too.
SAME_DRUG = {"low-dose naltrexone": ("naltrexone",)}
STOPS = frozenset(STOP_WORDS)


def stem(word: str) -> str:
    return text.stem(word)


def tokens(value: str) -> list[str]:
    """Lower-case words of ``value`` (:func:`kb.text.tokens`)."""
    return text.tokens(value)


def stems(value: str) -> list[str]:
    return [text.stem(t) for t in text.tokens(value)]


@dataclass(frozen=True)
class Intent:
    id: str
    label: str
    priority: int
    targets: tuple[tuple[str, str], ...]
    related: tuple[tuple[str, str], ...]
    query: str
    phrases: tuple[tuple[tuple[str, ...], ...], ...]  # per phrase: stem runs joined by "..."
    meter: bool = False
    widen: bool = False
    conduct_ok: bool = False  # dosing: a trial's regimen (study conduct) answers it too

    @property
    def kinds(self) -> list[str]:
        return sorted({k for k, _ in self.targets + self.related})


@dataclass(frozen=True)
class DrugClass:
    id: str
    label: str
    interventions: tuple[str, ...]
    term: str
    members: frozenset[str]


@dataclass(frozen=True)
class Vocab:
    intents: tuple[Intent, ...]
    classes: tuple[DrugClass, ...]
    populations: frozenset[str]
    filler: frozenset[str]
    cues: dict[str, Any]
    condition_aliases: dict[str, tuple[str, ...]]


def _read(name: str) -> Any:
    path = f"kb/vocab/{name}"
    try:
        return json.loads(resources.files("kb.vocab").joinpath(name).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidData(path, f"cannot read the vocabulary: {exc}") from None


def _strings(value: Any, file: str, record: str, name: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InvalidData(file, "must be a list of non-empty strings", record=record, field=name)
    return value


def _pairs(value: Any, file: str, record: str, name: str) -> tuple[tuple[str, str], ...]:
    ok = isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in value
    )
    if not ok:
        raise InvalidData(
            file, "must be a list of [kind, outcome] pairs", record=record, field=name
        )
    for kind, _ in value:
        if kind not in KINDS:
            raise InvalidData(
                file,
                f"unknown kind {kind!r}; choose from {', '.join(KINDS)}",
                record=record,
                field=name,
            )
    return tuple((k, o) for k, o in value)


def _phrase(text: str) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(stems(part)) for part in text.split("...") if stems(part))


def parse_intents(data: Any, file: str = f"kb/vocab/{INTENTS_FILE}") -> tuple[Intent, ...]:
    """The intents of an ``ask_intents.json`` document (checked)."""
    if not isinstance(data, dict) or not isinstance(data.get("intents"), list):
        raise InvalidData(file, "must be an object with a list 'intents'")
    out, seen = [], set()
    for i, rec in enumerate(data["intents"]):
        rid = rec.get("id") if isinstance(rec, dict) else None
        if not isinstance(rid, str) or not rid:
            raise InvalidData(file, "every intent needs a string id", record=str(i), field="id")
        if rid in seen:
            raise InvalidData(file, "duplicate intent id", record=rid, field="id")
        seen.add(rid)
        if not isinstance(rec.get("priority"), int) or not isinstance(rec.get("label"), str):
            raise InvalidData(file, "needs a string label and an integer priority", record=rid)
        targets = _pairs(rec.get("targets"), file, rid, "targets")
        if not targets:
            raise InvalidData(file, "needs at least one target", record=rid, field="targets")
        phrases = [_phrase(p) for p in _strings(rec.get("phrases"), file, rid, "phrases")]
        out.append(
            Intent(
                id=rid,
                label=rec["label"],
                priority=rec["priority"],
                targets=targets,
                related=_pairs(rec.get("related", []), file, rid, "related"),
                query=str(rec.get("query", "")),
                phrases=tuple(p for p in phrases if p),
                meter=bool(rec.get("meter", False)),
                widen=bool(rec.get("widen", False)),
                conduct_ok=bool(rec.get("conduct_ok", False)),
            )
        )
    return tuple(out)


def parse_classes(data: Any, file: str = f"kb/vocab/{CLASSES_FILE}") -> tuple[DrugClass, ...]:
    """The drug classes of an ``ask_drug_classes.json`` document (checked)."""
    if not isinstance(data, dict) or not isinstance(data.get("classes"), dict):
        raise InvalidData(file, "must be an object with an object 'classes'")
    out = []
    for cid, rec in data["classes"].items():
        if not isinstance(rec, dict) or not isinstance(rec.get("label"), str):
            raise InvalidData(file, "needs a string label", record=cid, field="label")
        if not isinstance(rec.get("term"), str):
            raise InvalidData(file, "needs a string term", record=cid, field="term")
        members = _strings(rec.get("members"), file, cid, "members")
        interventions = rec.get("interventions")
        if not isinstance(interventions, list) or not all(
            isinstance(x, str) for x in interventions
        ):
            raise InvalidData(file, "must be a list of strings", record=cid, field="interventions")
        out.append(
            DrugClass(
                cid,
                rec["label"],
                tuple(interventions),
                rec["term"],
                frozenset(m.lower() for m in members),
            )
        )
    return tuple(out)


@cache
def vocab() -> Vocab:
    """All three vocabularies, read and checked once per process."""
    data = _read(INTENTS_FILE)
    file = f"kb/vocab/{INTENTS_FILE}"
    intents = parse_intents(data, file)
    scope = data.get("out_of_scope") or {}
    populations = _strings(scope.get("populations", []), file, "out_of_scope", "populations")
    filler = _strings(data.get("filler", []), file, "filler", "filler")
    aliases = data.get("condition_aliases", {})
    if not isinstance(aliases, dict):
        raise InvalidData(file, "must be an object", record="condition_aliases")
    condition_aliases = {
        cid: tuple(_strings(v, file, "condition_aliases", cid))
        for cid, v in aliases.items()
        if cid != "about"
    }
    cues = _read(CUES_FILE)
    for key in ("interventions", "stopwords", "follow_up_templates", "kind_labels"):
        if key not in cues:
            raise InvalidData(f"kb/vocab/{CUES_FILE}", f"missing key {key!r}")
    return Vocab(
        intents,
        parse_classes(_read(CLASSES_FILE)),
        frozenset(p.lower() for p in populations),
        frozenset(f.lower() for f in filler),
        cues,
        condition_aliases,
    )


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    # Short all-capital abbreviations (MS, FM, OA) must match in capitals: "ms" is a unit.
    flags = 0 if (phrase.isupper() and len(phrase) <= 4) else re.IGNORECASE
    body = r"[\s-]+".join(re.escape(p) for p in re.split(r"[\s-]+", phrase))
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", flags)


@dataclass
class Index:
    """What every question about one knowledge base reuses (built on the first question)."""

    interventions: list[tuple[re.Pattern[str], str]]
    conditions: list[tuple[re.Pattern[str], str]]
    known: frozenset[str]  # stems any claim, reference, condition or vocabulary uses
    spellable: list[str]  # words a misspelling may be corrected to
    by_intervention: dict[str, set[str]]
    below: dict[str, set[str]]  # condition → claims on it or on a condition under it
    exact: dict[str, set[str]]  # condition → claims filed under exactly it
    by_target: dict[tuple[str, str], set[str]]
    by_kind: dict[str, set[str]]
    general: frozenset[str]  # claims filed under a top-level condition (chronic pain)
    conduct: frozenset[str]
    signature: tuple[int, int]
    frequency: dict[str, int]  # stem → number of claims whose text holds it
    condition_kinds: dict[str, dict[str, int]]  # condition → claims per kind on it or below
    ancestors: dict[str, frozenset[str]]
    topic_kinds: dict[Any, Any] = field(default_factory=dict)


def _is_conduct(claim: Any) -> bool:
    return claim.role == "study-conduct" or (
        claim.role is None and claim.outcome in CONDUCT_OUTCOMES
    )


def index(kb: KnowledgeBase) -> Index:
    """The lookups for ``kb``, kept for its current generation (see ``KnowledgeBase.cache``)."""
    return kb.cache("ask.index", _build_index, records=True)


def _build_index(kb: KnowledgeBase) -> Index:
    signature = (kb.records_generation, len(kb.claims))
    v = vocab()
    held = {c.intervention for c in kb.claims.values()}
    interventions = [
        (phrase_pattern(alias), name)
        for name, aliases in v.cues["interventions"].items()
        if name in held
        for alias in sorted(aliases, key=len, reverse=True)
    ]
    interventions += [(phrase_pattern(name), name) for name in sorted(held)]
    conditions = [
        (phrase_pattern(phrase), cond.id)
        for cond in kb.conditions.conditions.values()
        for phrase in (
            cond.label,
            cond.id.replace("-", " "),
            *cond.synonyms,
            *v.condition_aliases.get(cond.id, ()),
        )
    ]
    by_intervention: dict[str, set[str]] = defaultdict(set)
    below: dict[str, set[str]] = defaultdict(set)
    exact: dict[str, set[str]] = defaultdict(set)
    by_target: dict[tuple[str, str], set[str]] = defaultdict(set)
    by_kind: dict[str, set[str]] = defaultdict(set)
    roots = {c.id for c in kb.conditions.conditions.values() if not c.parents}
    general, conduct = set(), set()
    known: set[str] = set()
    condition_kinds: dict[str, Counter[str]] = defaultdict(Counter)
    # Claims come in few shapes (intervention, kind, outcome, conditions, conduct): file each
    # shape's ids at once (100k claims one at a time took seconds).
    shapes: dict[tuple[Any, ...], list[str]] = defaultdict(list)
    for cid, claim in kb.claims.items():
        rec = claim.record
        shapes[
            (
                rec["intervention"],
                rec["kind"],
                rec["outcome"],
                tuple(rec["conditions"]),
                _is_conduct(claim),
            )
        ].append(cid)
    for (intervention, kind, outcome, conds, is_conduct), ids in shapes.items():
        by_intervention[intervention].update(ids)
        by_target[(kind, outcome)].update(ids)
        by_kind[kind].update(ids)
        for cond in conds:
            exact[cond].update(ids)
        for cond in kb.conditions.with_ancestors(conds):
            below[cond].update(ids)
            condition_kinds[cond][kind] += len(ids)
        if roots.intersection(conds):
            general.update(ids)
        if is_conduct:
            conduct.update(ids)
    text_count = Counter(claim.record["text"] for claim in kb.claims.values())
    frequency: Counter[str] = Counter()
    stem_of: dict[str, str] = {}
    for body, n in text_count.items():  # large knowledge bases repeat texts: tokenise once
        words = set(tokens(body))
        for w in words - known:
            stem_of[w] = stem(w)
        known |= words
        found = {stem_of[w] for w in words}
        if n == 1:
            frequency.update(found)
        else:
            for s in found:
                frequency[s] += n
    texts = [r.title for r in kb.references.values()]
    texts += [c.label + " " + " ".join(c.synonyms) for c in kb.conditions.conditions.values()]
    texts += [" ".join(a) for a in v.cues["interventions"].values()]
    texts += [" ".join(a) for a in v.condition_aliases.values()]
    texts += [" ".join(sorted(c.members)) + " " + c.term for c in v.classes]
    for body in texts:
        known.update(tokens(body))
    spellable = sorted(
        {w for t in texts for w in tokens(t) if len(w) >= 5}
        | {w for i in _intent_words(v) for w in [i] if len(w) >= 5}
    )
    known_stems = frozenset(stem(w) for w in known) | frozenset(known)
    result = Index(
        interventions,
        conditions,
        known_stems | frozenset(stem(w) for w in _intent_words(v)),
        spellable,
        dict(by_intervention),
        dict(below),
        dict(exact),
        dict(by_target),
        dict(by_kind),
        frozenset(general),
        frozenset(conduct),
        signature,
        dict(frequency),
        {c: dict(k) for c, k in condition_kinds.items()},
        {c: frozenset(kb.conditions.ancestors(c)) for c in kb.conditions.conditions},
    )
    return result


@cache
def _intent_words_cached() -> frozenset[str]:
    data = _read(INTENTS_FILE)
    words: set[str] = set()
    for rec in data.get("intents", []):
        for p in rec.get("phrases", []):
            words.update(tokens(p.replace("...", " ")))
        words.update(tokens(rec.get("query", "")))
    return frozenset(words)


def intent_words() -> frozenset[str]:
    """Every word of the intent phrases ("mode of action": "action" asks, it is no subject)."""
    return _intent_words_cached()


def _intent_words(v: Vocab) -> frozenset[str]:
    return _intent_words_cached()


def topic_ids(ix: Index, interventions: list[str]) -> frozenset[str]:
    """Claims about any of ``interventions`` (the low dose includes its parent drug)."""
    key = ("topic-ids", tuple(interventions))
    hit = ix.topic_kinds.get(key)
    if hit is None:
        out: set[str] = set()
        for name in interventions:
            out |= ix.by_intervention.get(name, set())
            for same in SAME_DRUG.get(name, ()):
                out |= ix.by_intervention.get(same, set())
        hit = ix.topic_kinds[key] = frozenset(out)
    return hit


def target_ids(ix: Index, pairs: tuple[tuple[str, str], ...]) -> frozenset[str]:
    """Claims of any of the (kind, outcome) pairs (outcome "*": any outcome of the kind)."""
    key = ("targets", pairs)
    hit = ix.topic_kinds.get(key)
    if hit is None:
        out: set[str] = set()
        for kind, outcome in pairs:
            if outcome == "*":
                out |= ix.by_kind.get(kind, set())
            else:
                out |= ix.by_target.get((kind, outcome), set())
        hit = ix.topic_kinds[key] = frozenset(out)
    return hit
