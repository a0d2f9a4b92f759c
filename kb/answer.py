"""Ask: a question in, an answer built only from knowledge-base claims out.

1. **Understand** the question with the vocabularies (``kb/vocab/ask_cues.json`` and the
   condition vocabulary): which interventions and conditions it names, which kinds of claim it
   asks about (dose, side effects, response …).
2. **Refuse plainly** when the knowledge base cannot answer: the question names no intervention
   or condition the knowledge base holds, or names a term no claim or reference ever uses
   ("metformin", "migraine"). Then no claims are shown at all.
3. **Collect** the claims about those interventions and conditions (a condition matches its
   sub-conditions too), of the kinds asked for — or of every kind when none was asked.
4. **Answer**: the bottom line of the article that holds most of those claims, if one does;
   otherwise an evidence summary counting, per kind, the sources for and against. Then sections
   by kind, strongest evidence first; every conflict among the claims; and three follow-up
   questions about kinds of evidence the knowledge base holds for the same topic.
"""

from __future__ import annotations

import difflib
import heapq
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from .contested import conflict_view
from .errors import InvalidQuery
from .evidence import GRADE_ORDER
from .shapes import claim_json

if TYPE_CHECKING:
    from .knowledgebase import KnowledgeBase

MAX_QUESTION = 500
PER_SECTION = 6
_WORD = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@cache
def cues() -> dict[str, Any]:
    """The question vocabularies (data, not code)."""
    text = resources.files("kb.vocab").joinpath("ask_cues.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _phrase_pattern(phrase: str) -> re.Pattern[str]:
    # Short all-capital abbreviations (MS, FM, OA) must match in capitals: "ms" is a unit.
    flags = 0 if (phrase.isupper() and len(phrase) <= 4) else re.IGNORECASE
    return re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", flags)


@dataclass
class _Vocabulary:
    interventions: list[tuple[re.Pattern[str], str]]
    conditions: list[tuple[re.Pattern[str], str]]
    kinds: list[tuple[re.Pattern[str], str]]
    known_stems: frozenset[str]
    stopwords: frozenset[str]
    by_intervention: dict[str, set[str]]
    by_condition: dict[str, set[str]]
    by_kind: dict[str, set[str]]
    # Filled as questions come in, then reused: word stems per claim, kind counts per topic.
    claim_stems: dict[str, frozenset[str]] = field(default_factory=dict)
    topic_kinds: dict[tuple[str, str], Counter[str]] = field(default_factory=dict)


def _stem(word: str) -> str:
    """A crude shared prefix, enough to tell "titrated" and "titration" apart from "metformin"."""
    return word[:5]


def _vocabulary(kb: KnowledgeBase) -> _Vocabulary:
    # Built once per generation of the knowledge base: every later question reuses it.
    return kb.cache("ask.vocabulary", _build_vocabulary)


def _build_vocabulary(kb: KnowledgeBase) -> _Vocabulary:
    data = cues()
    held = {c.intervention for c in kb.claims.values()}
    interventions = [
        (_phrase_pattern(alias), name)
        for name, aliases in data["interventions"].items()
        if name in held
        for alias in sorted(aliases, key=len, reverse=True)
    ]
    for name in held:
        interventions.append((_phrase_pattern(name), name))
    conditions = []
    for cond in kb.conditions.conditions.values():
        for phrase in (cond.label, cond.id.replace("-", " "), *cond.synonyms):
            conditions.append((_phrase_pattern(phrase), cond.id))
    kinds = [
        (_phrase_pattern(word), kind) for kind, words in data["kinds"].items() for word in words
    ]
    words: set[str] = set()
    texts = [c.text for c in kb.claims.values()] + [c.plain_text or "" for c in kb.claims.values()]
    texts += [r.title for r in kb.references.values()]
    texts += [c.label + " " + " ".join(c.synonyms) for c in kb.conditions.conditions.values()]
    texts += [" ".join(ws) for ws in data["kinds"].values()]
    texts += [" ".join(ws) for ws in data["interventions"].values()]
    for text in texts:
        words.update(_stem(w) for w in _WORD.findall(text.lower()) if len(w) >= 5)
    by_intervention: dict[str, set[str]] = defaultdict(set)
    by_condition: dict[str, set[str]] = defaultdict(set)
    by_kind: dict[str, set[str]] = defaultdict(set)
    for claim in kb.claims.values():
        by_intervention[claim.intervention].add(claim.id)
        by_kind[claim.kind].add(claim.id)
        for cid in kb.conditions.with_ancestors(claim.conditions):
            by_condition[cid].add(claim.id)
    vocab = _Vocabulary(
        interventions,
        conditions,
        kinds,
        frozenset(words),
        frozenset(data["stopwords"]),
        dict(by_intervention),
        dict(by_condition),
        dict(by_kind),
    )
    return vocab


def _clean(question: str) -> str:
    if not isinstance(question, str):
        raise InvalidQuery("the question must be text")
    text = _CONTROL.sub(" ", question).strip()
    if not text:
        raise InvalidQuery("the question is empty")
    if len(text) > MAX_QUESTION:
        raise InvalidQuery(f"the question is longer than {MAX_QUESTION} characters")
    return text


def understand(kb: KnowledgeBase, question: str) -> dict[str, Any]:
    """What the question names: interventions, conditions, kinds, and terms nothing uses."""
    text = _clean(question)
    vocab = _vocabulary(kb)
    interventions = sorted({name for pat, name in vocab.interventions if pat.search(text)})
    # "naltrexone" alone means LDN here; keep the standard-dose node only if asked for by name.
    if "low-dose naltrexone" in interventions and "naltrexone" in interventions:
        interventions.remove("naltrexone")
    conditions = sorted({cid for pat, cid in vocab.conditions if pat.search(text)})
    kinds = sorted({kind for pat, kind in vocab.kinds if pat.search(text)})
    unknown = []
    for word in _WORD.findall(text.lower()):
        if len(word) >= 5 and word not in vocab.stopwords and _stem(word) not in vocab.known_stems:
            unknown.append(word)
    return {
        "question": text,
        "interventions": interventions,
        "conditions": conditions,
        "kinds": kinds,
        "unknown_terms": sorted(set(unknown)),
    }


def _label(kind: str) -> str:
    return str(cues()["kind_labels"].get(kind, kind.replace("_", " ")))


def ask(kb: KnowledgeBase, question: str) -> dict[str, Any]:
    """Answer ``question`` from the knowledge base only (see the module docstring).

    Raises :class:`InvalidQuery` for an empty, over-long or non-text question.
    """
    parsed = understand(kb, question)
    vocab = _vocabulary(kb)
    answer: dict[str, Any] = {
        "question": parsed["question"],
        "understood": parsed,
        "relevant": False,
        "message": "",
        "suggestion": None,
        "bottom_line": None,
        "summary": [],
        "sections": [],
        "contested": [],
        "follow_ups": [],
    }
    if parsed["unknown_terms"]:
        terms = ", ".join(f"“{t}”" for t in parsed["unknown_terms"])
        answer["message"] = (
            f"The knowledge base holds no evidence on {terms}. It covers {_coverage(kb)}."
        )
        return answer
    if not parsed["interventions"] and not parsed["conditions"]:
        answer["message"] = (
            "The question names no treatment or condition the knowledge base "
            f"holds. It covers {_coverage(kb)}."
        )
        answer["suggestion"] = _suggest(kb, parsed["question"])
        if answer["suggestion"]:
            answer["message"] += f" Did you mean “{answer['suggestion']}”?"
        return answer

    pool: set[str] | None = None
    for name in parsed["interventions"]:
        ids = vocab.by_intervention.get(name, set())
        pool = ids if pool is None else pool | ids
    if parsed["conditions"]:
        by_cond: set[str] = set()
        for cid in parsed["conditions"]:
            by_cond |= vocab.by_condition.get(cid, set())
        pool = by_cond if pool is None else pool & by_cond
    assert pool is not None
    asked = [k for k in parsed["kinds"] if pool & vocab.by_kind.get(k, set())]
    if asked:
        pool = pool & set().union(*(vocab.by_kind[k] for k in asked))
    if not pool:
        answer["message"] = (
            "The knowledge base holds no claims on that combination of "
            "treatment, condition and question."
        )
        return answer

    grades = kb.grades
    words = {_stem(w) for w in _WORD.findall(parsed["question"].lower()) if len(w) >= 5}
    stems = vocab.claim_stems

    def rank(cid: str) -> tuple[int, int, str]:
        if cid not in stems:
            stems[cid] = frozenset(_stem(w) for w in _WORD.findall(kb.claims[cid].text.lower()))
        return (-len(words & stems[cid]), GRADE_ORDER.index(grades[cid].grade), cid)

    by_kind: dict[str, list[str]] = defaultdict(list)
    for cid in pool:
        by_kind[kb.claims[cid].kind].append(cid)
    order = asked or sorted(by_kind, key=lambda k: (-len(by_kind[k]), k))
    shown: list[str] = []
    for kind in order:
        best = heapq.nsmallest(PER_SECTION, by_kind[kind], key=rank)
        shown.extend(best)
        answer["sections"].append(
            {
                "kind": kind,
                "label": _label(kind),
                "total": len(by_kind[kind]),
                "claims": [claim_json(kb, cid) for cid in best],
            }
        )
    answer["summary"] = _summary(kb, by_kind, order)
    answer["bottom_line"] = _bottom_line(kb, pool, answer["summary"], asked)
    conflict_ids = sorted({x for cid in shown for x in kb.active_conflict_ids(cid)})
    # Large knowledge bases have conflicts with thousands of claims a side: list the
    # strongest per side (always including the claims shown here), with counts of the rest.
    answer["contested"] = [conflict_view(kb, x, keep=frozenset(shown)) for x in conflict_ids]
    answer["follow_ups"] = _follow_ups(kb, parsed, pool_kinds=set(by_kind), asked=set(asked))
    answer["relevant"] = True
    answer["message"] = (
        f"{len(pool)} claims in the knowledge base bear on this question; the "
        f"strongest are shown by kind."
    )
    return answer


def _suggest(kb: KnowledgeBase, question: str) -> str | None:
    """The question with a misspelt condition or drug name replaced by the closest known one."""
    names = {c.label.lower() for c in kb.conditions.conditions.values()}
    names |= {a.lower() for aliases in cues()["interventions"].values() for a in aliases}
    single = sorted({w for n in names for w in n.split() if len(w) >= 5})
    out, changed = [], False
    for word in question.split():
        core = word.strip("?.,!;:").lower()
        close = difflib.get_close_matches(core, single, n=1, cutoff=0.8) if len(core) >= 5 else []
        if close and close[0] != core:
            out.append(close[0])
            changed = True
        else:
            out.append(word)
    return " ".join(out) if changed else None


def _coverage(kb: KnowledgeBase) -> str:
    vocab = _vocabulary(kb)
    top = sorted(vocab.by_intervention, key=lambda name: (-len(vocab.by_intervention[name]), name))[
        :3
    ]
    return ", ".join(top) + " for chronic pain conditions"


def _summary(
    kb: KnowledgeBase, by_kind: dict[str, list[str]], order: list[str]
) -> list[dict[str, Any]]:
    """Per kind: how many distinct sources report benefit, no benefit, mixed or neutral."""
    out = []
    for kind in order:
        sources: dict[str, set[str]] = defaultdict(set)
        for cid in by_kind[kind]:
            ref = kb.grades[cid].basis_ref or f"uncited:{cid}"
            sources[kb.claims[cid].direction].add(ref)
        out.append(
            {
                "kind": kind,
                "label": _label(kind),
                "benefit": len(sources["benefit"]),
                "no_benefit": len(sources["no-benefit"]),
                "mixed": len(sources["mixed"]),
                "neutral": len(sources["neutral"]),
                "sources": len(set().union(*sources.values())),
            }
        )
    return out


def _bottom_line(
    kb: KnowledgeBase, pool: set[str], summary: list[dict[str, Any]], asked: list[str]
) -> dict[str, Any]:
    """The bottom line of the article holding most of the claims, when it speaks to the kinds
    asked about; otherwise a count of sources for and against, per kind."""
    best, overlap = None, 0
    for art in kb.articles.values():
        n = len(pool & set(art.claim_ids()))
        if n > overlap:
            best, overlap = art, n
    kinds_asked = {item["kind"] for item in summary}
    if (
        best is not None
        and overlap >= 2
        and best.bottom_line
        and (not asked or kinds_asked & {kb.claims[c].kind for c in best.bottom_line})
    ):
        claims = [claim_json(kb, cid) for cid in best.bottom_line]
        return {
            "source": "article",
            "article_id": best.id,
            "title": best.title,
            "text": " ".join(c["text"] for c in claims),
            "claims": claims,
        }
    parts = []
    for item in summary:
        bits = [
            f"{item[key]} {label}"
            for key, label in (("benefit", "for"), ("no_benefit", "against"), ("mixed", "mixed"))
            if item[key]
        ]
        if bits:
            noun = "source" if item["sources"] == 1 else "sources"
            parts.append(f"{item['label']}: of {item['sources']} {noun}, " + ", ".join(bits))
    text = (
        "; ".join(parts) + "."
        if parts
        else "The claims found describe the evidence without a direction of effect."
    )
    return {
        "source": "evidence-summary",
        "article_id": None,
        "title": None,
        "text": text,
        "claims": [],
    }


def _follow_ups(
    kb: KnowledgeBase, parsed: dict[str, Any], *, pool_kinds: set[str], asked: set[str]
) -> list[str]:
    vocab = _vocabulary(kb)
    interventions = parsed["interventions"] or ["low-dose naltrexone"]
    intervention = interventions[0]
    condition = parsed["conditions"][0] if parsed["conditions"] else "chronic-pain"
    counts = vocab.topic_kinds.get((intervention, condition))
    if counts is None:
        topic = vocab.by_intervention.get(intervention, set()) & vocab.by_condition.get(
            condition, set()
        )
        counts = vocab.topic_kinds[(intervention, condition)] = Counter(
            kb.claims[c].kind for c in topic
        )
    templates = cues()["follow_up_templates"]
    label = {"low-dose naltrexone": "low-dose naltrexone (LDN)"}.get(intervention, intervention)
    cond_label = kb.conditions.label(condition).lower() if condition != "crps" else "CRPS"
    out = []
    for kind, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if kind in asked or kind not in templates:
            continue
        out.append(templates[kind].format(intervention=label, condition=cond_label))
        if len(out) == 3:
            break
    return out
