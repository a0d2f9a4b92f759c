"""Reading a question: what it names (treatments, drug classes, conditions), what it asks
(intents), which misspellings to correct, and which subjects lie outside the knowledge base."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import InvalidQuery
from .vocab import MAIN_INTERVENTION, STOPS, Index, Intent, index, intent_words, stem, tokens, vocab

if TYPE_CHECKING:
    from ..knowledgebase import KnowledgeBase

MAX_QUESTION = 500
GAP = 4  # words allowed where an intent phrase says "..."
COMPARING = frozenset({"better", "compare", "compared", "comparison", "versus", "vs", "than"})
# Words that introduce the subject of a question: an unknown word right after one of them (or
# opening the question) is what the question is about ("for lupus", "does cannabis").
SUBJECT_AFTER = frozenset(
    [
        "for",
        "in",
        "with",
        "of",
        "on",
        "about",
        "does",
        "do",
        "can",
        "could",
        "is",
        "are",
        "should",
        "help",
        "helps",
        "treat",
        "treats",
        "treating",
        "take",
        "takes",
        "taking",
        "using",
        "use",
        "versus",
        "vs",
        "than",
        "against",
        "and",
        "or",
        "like",
        "after",
        "during",
        "while",
        "prescribe",
        "prescribing",
        "give",
    ]
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Reading:
    question: str  # as asked (cleaned)
    text: str  # with misspellings corrected
    interventions: list[str] = field(default_factory=list)
    conditions: list[str] = field(default_factory=list)
    intents: list[Intent] = field(default_factory=list)
    classes: list[dict[str, str]] = field(default_factory=list)  # {drug, class, label}
    corrections: list[dict[str, str]] = field(default_factory=list)  # {from, to}
    unknown: list[str] = field(default_factory=list)
    populations: list[str] = field(default_factory=list)
    defaulted: bool = False  # no treatment named: the knowledge base's main one assumed

    @property
    def intent(self) -> Intent | None:
        return self.intents[0] if self.intents else None

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "corrected": self.text if self.corrections else None,
            "interventions": self.interventions,
            "conditions": self.conditions,
            "intents": [i.id for i in self.intents],
            "kinds": sorted({k for i in self.intents[:1] for k in i.kinds}),
            "classes": self.classes,
            "corrections": self.corrections,
            "unknown_terms": self.unknown + self.populations,
        }


def clean(question: Any) -> str:
    if not isinstance(question, str):
        raise InvalidQuery("the question must be text")
    text = _CONTROL.sub(" ", question).strip()
    if not text:
        raise InvalidQuery("the question is empty")
    if len(text) > MAX_QUESTION:
        raise InvalidQuery(f"the question is longer than {MAX_QUESTION} characters")
    return text


def read(kb: KnowledgeBase, question: Any) -> Reading:
    """Everything Ask needs to know about ``question`` before looking for claims."""
    text = clean(question)
    ix = index(kb)
    reading = Reading(text, text)
    _correct(ix, reading)
    _name(ix, reading)
    reading.intents = _intents(_without_names(ix, reading.text))
    _scope(kb, ix, reading)
    others = [i for i in reading.interventions if i != MAIN_INTERVENTION]
    words = set(tokens(reading.text))
    if MAIN_INTERVENTION in reading.interventions and others and not words & COMPARING:
        # LDN named with another drug: whatever else is asked, interactions come first.
        _put_first(reading, "interactions")
    elif not reading.intents and reading.interventions and not reading.conditions:
        _put_first(reading, "definition")  # "What is LDN?"
    return reading


def _put_first(reading: Reading, intent_id: str) -> None:
    found = next((i for i in vocab().intents if i.id == intent_id), None)
    if found is not None:
        reading.intents = [found] + [i for i in reading.intents if i is not found]


def _words_to_check(ix: Index, text: str) -> list[str]:
    v = vocab()
    stop = STOPS | frozenset(v.cues["stopwords"]) | v.filler
    out = []
    for w in tokens(text):
        if w[0].isdigit() or len(w) < 4 or w in stop or "'" in w:
            continue
        if w.endswith("ly") and len(w) >= 6:  # adverbs: "quickly", "roughly"
            continue
        if w in ix.known or stem(w) in ix.known:
            continue
        out.append(w)
    return out


def _correct(ix: Index, reading: Reading) -> None:
    """Replace an unknown word by the one known term it is a near-miss of."""
    members = {m for c in vocab().classes for m in c.members}
    text = reading.text
    for w in _words_to_check(ix, text):
        if w in members or w in vocab().populations or len(w) < 5:
            continue
        close = difflib.get_close_matches(w, ix.spellable, n=2, cutoff=0.8)
        if not close:
            continue
        ratio = [difflib.SequenceMatcher(None, w, c).ratio() for c in close]
        if len(close) == 2 and ratio[1] >= ratio[0] - 0.02:
            continue  # ambiguous: leave it, it will be reported as unknown
        text = re.sub(rf"(?<!\w){re.escape(w)}(?!\w)", close[0], text, flags=re.IGNORECASE)
        reading.corrections.append({"from": w, "to": close[0]})
    reading.text = text


def _name(ix: Index, reading: Reading) -> None:
    text = reading.text
    found = {name for pat, name in ix.interventions if pat.search(text)}
    # "naltrexone" alone means LDN here; keep the standard-dose node only if asked by name.
    if MAIN_INTERVENTION in found:
        found.discard("naltrexone")
    words = set(tokens(text))
    for cls in vocab().classes:
        hits = sorted(words & cls.members)
        for drug in hits:
            held = [i for i in cls.interventions if i in ix.by_intervention]
            found.update(held)
            if drug not in {i.lower() for i in held}:
                reading.classes.append({"drug": drug, "class": cls.id, "label": cls.label})
    reading.interventions = sorted(found)
    found_conditions = {cid for pat, cid in ix.conditions if pat.search(text)}
    # The most specific condition named: "HIV neuropathy" is not also "neuropathy".
    reading.conditions = sorted(
        c
        for c in found_conditions
        if not any(c in kb_ancestors(ix, other) for other in found_conditions if other != c)
    )


def kb_ancestors(ix: Index, cid: str) -> frozenset[str]:
    return ix.ancestors.get(cid, frozenset())


# A dose written with the drug ("naltrexone 4.5 mg", "at a low dose") names the regimen asked
# about; it does not make the question a dosing one.
_REGIMEN = re.compile(
    r"\b\d+(?:[.,]\d+)?\s*mg\b|\b(?:at\s+)?(?:a\s+)?(?:very\s+)?low[\s-]+dose\b", re.IGNORECASE
)


def _without_names(ix: Index, text: str) -> str:
    """The question with treatment and condition names blanked: "low-dose" is not a dose
    question, "pain" in "neuropathic pain" is not an efficacy one."""
    for pat, _ in ix.interventions + ix.conditions:
        text = pat.sub(" , ", text)
    return _REGIMEN.sub(" , ", text)


def _matches(seq: list[str], phrase: tuple[tuple[str, ...], ...]) -> bool:
    start = 0
    for n, run in enumerate(phrase):
        limit = len(seq) if n == 0 else min(len(seq), start + GAP + len(run))
        pos = _find(seq, run, start, limit)
        if pos < 0:
            return False
        start = pos + len(run)
    return True


def _find(seq: list[str], run: tuple[str, ...], start: int, limit: int) -> int:
    for i in range(start, limit - len(run) + 1):
        if tuple(seq[i : i + len(run)]) == run:
            return i
    return -1


def _intents(text: str) -> list[Intent]:
    seq = [stem(w) for w in tokens(text)]
    hits = [i for i in vocab().intents if any(_matches(seq, p) for p in i.phrases)]
    return sorted(hits, key=lambda i: -i.priority)


def _subjects(words: list[str], names: frozenset[str]) -> set[str]:
    """Words in a subject position: opening the question, or within two words after a word
    that introduces a subject, unless the first of them is a treatment or condition name (the
    subject is then that name: "is the evidence for LDN robust")."""
    out = set(words[:1])
    for i, w in enumerate(words):
        if w in SUBJECT_AFTER:
            following = words[i + 1 : i + 3]
            out.update(following[:1] if following[:1] and following[0] in names else following)
    return out


# "dose of X", "side effects of X": X stands where a treatment goes.
_TREATMENT_SLOT = re.compile(
    r"\b(?:dose|doses|dosage|dosing|side[\s-]+effects?|adverse[\s-]+effects?|cost|price|"
    r"interactions?|mechanism|titration)\s+(?:of|for)\s+(?:the\s+|a\s+)?([a-z][a-z-]+)",
    re.IGNORECASE,
)


def _name_words(kb: KnowledgeBase) -> frozenset[str]:
    """One-word treatment, drug-class and condition names the knowledge base holds ("ldn",
    "revia", "fibromyalgia", "ms"); words of longer names ("long" of "long-term") are not."""

    def build(kb: KnowledgeBase) -> frozenset[str]:
        v = vocab()
        names = [n for name, a in v.cues["interventions"].items() for n in [name, *a]]
        names += [m for c in v.classes for m in c.members] + [c.term for c in v.classes]
        for c in kb.conditions.conditions.values():
            names += [c.label, *c.synonyms]
        names += [n for a in v.condition_aliases.values() for n in a]
        return frozenset(w for n in names if len(t := tokens(n)) == 1 for w in t)

    return kb.cache("kb.ask.name_words", build, records=True)


def _slot_unknown(ix: Index, text: str, names: frozenset[str]) -> set[str]:
    """A word in a treatment slot ("the dose of ketamine") that names no treatment held."""
    out = set()
    stop = STOPS | frozenset(vocab().cues["stopwords"]) | vocab().filler
    for m in _TREATMENT_SLOT.finditer(text):
        word = m.group(1).lower()
        rest = text[m.start(1) :]
        if word in names or word in stop or len(word) < 3 or word in intent_words():
            continue
        if any(pat.match(rest) for pat, _ in ix.interventions + ix.conditions):
            continue
        out.add(word)
    return out


def _scope(kb: KnowledgeBase, ix: Index, reading: Reading) -> None:
    v = vocab()
    words = tokens(reading.text)
    reading.populations = sorted(
        {w for w in words if w in v.populations and stem(w) not in ix.known and w not in ix.known}
    )
    members = {m for c in v.classes for m in c.members}
    unknown = {w for w in _words_to_check(ix, reading.text) if w not in members}
    unknown -= set(reading.populations)
    names = _name_words(kb)
    if reading.intents or reading.conditions:
        # The question is understood: an unknown word sinks it only where a subject goes.
        unknown &= _subjects(words, names)
    unknown |= _slot_unknown(ix, reading.text, names) - members
    reading.unknown = sorted(unknown)
    if not reading.interventions and (reading.intents or reading.conditions):
        reading.interventions = (
            [MAIN_INTERVENTION] if MAIN_INTERVENTION in ix.by_intervention else []
        )
        reading.defaulted = True
