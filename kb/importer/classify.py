"""Rules that decide each statement's kind, outcome, intervention, conditions and direction."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from ..knowledgebase import KnowledgeBase
from .document import Document, Statement
from .values import Value
from .vocabularies import compiled, phrase_pattern, rules, vocab


class Classifier:
    """Kind, outcome, intervention, conditions, direction and line of each statement."""

    def __init__(self, kb: KnowledgeBase, doc: Document) -> None:
        self.kb = kb
        names: list[tuple[re.Pattern[str], str]] = []
        for name, aliases in vocab("ask_cues.json")["interventions"].items():
            for alias in sorted({name, *aliases}, key=len, reverse=True):
                names.append((phrase_pattern(alias), name))
        held = sorted({c.intervention for c in kb.claims.values()}, key=len, reverse=True)
        names += [(phrase_pattern(n), n) for n in held]
        self.interventions = names
        ignored = {p.casefold() for p in rules()["condition_phrases_ignored"]}
        self.conditions = [
            (phrase_pattern(p), c.id)
            for c in kb.conditions.conditions.values()
            for p in (c.label, c.id.replace("-", " "), *c.synonyms)
            if p.casefold() not in ignored
        ]
        top = f"{doc.title} {doc.question or ''}"
        found = self.mentions(top)
        self.main = found[0][1] if found else rules()["default_intervention"]
        self.doc_conditions = self.find_conditions(doc.title)

    def mentions(self, text: str) -> list[tuple[int, str]]:
        """(position, intervention) named in ``text``, in order. A match inside a longer one is
        dropped ("capsaicin" inside "capsaicin cream"); where one word names two
        (``naltrexone``), low-dose naltrexone wins, as in the question parser."""
        spans: dict[tuple[int, int], str] = {}
        for pat, name in self.interventions:
            for m in pat.finditer(text):
                key = (m.start(), m.end())
                if key not in spans or name == "low-dose naltrexone":
                    spans[key] = name
        out: list[tuple[int, str]] = []
        seen: set[str] = set()
        reach = -1  # the furthest end of a match so far: a span ending within it is inside
        for (start, end), name in sorted(spans.items(), key=lambda kv: (kv[0][0], -kv[0][1])):
            if end <= reach:
                continue
            reach = end
            if name not in seen:
                seen.add(name)
                out.append((start, name))
        return out

    def find_conditions(self, text: str) -> list[str]:
        found = {cid for pat, cid in self.conditions if pat.search(text)}
        tree = self.kb.conditions
        return sorted(c for c in found if not any(c in tree.ancestors(o) for o in found))

    def kind_outcome(self, st: Statement, values: list[Value]) -> tuple[str, str] | None:
        classes = {v.unit_class for v in values}
        has = {
            "dose": "dose" in classes,
            "percentage": "percentage" in classes,
            "time": "time" in classes,
            "dose_range": any(
                v.unit_class == "dose" and v.record["type"] == "range" for v in values
            ),
        }
        texts = [st.core, *st.context]
        for text in texts:
            for pat, rule in compiled()["statement_rules"]:
                if pat.search(text) and (not rule.get("requires") or has[rule["requires"]]):
                    return rule["kind"], rule["outcome"]
        order = list(rules()["kind_default_outcomes"])
        for text in texts:  # last resort: the question parser's kind words
            counts = Counter(kind for pat, kind in compiled()["kind_cues"] if pat.search(text))
            if counts:
                kind = min(counts, key=lambda k: (-counts[k], order.index(k)))
                return kind, rules()["kind_default_outcomes"][kind]
        return None

    def intervention(self, st: Statement, kind: str) -> str:
        named = self.mentions(st.core)
        if not named or kind == "contraindication":  # a contraindication *of* the drug
            return self.main
        if kind == "treatment_line":
            return named[0][1]
        if self.main in (n for _, n in named):
            return self.main
        start, first = named[0]
        # Another drug is the subject only when the statement opens with it ("Gabapentin is
        # titrated …"); "fewer adverse effects than opioids" is about the article's drug.
        cmp = compiled()["comparison"].search(st.core)
        opens_with = len(st.core[:start].split()) <= 1
        return first if opens_with and not (cmp and cmp.start() < start) else self.main

    def conditions_of(self, st: Statement) -> list[str]:
        for text in (st.core, *st.context):
            found = self.find_conditions(text)
            if found:
                return found
        return self.doc_conditions or [rules()["default_condition"]]

    def direction(self, st: Statement, kind: str, outcome: str) -> str:
        for text in (st.core, *st.context[:1]):
            for pat, rule in compiled()["direction_rules"]:
                applies = kind in rule.get("kinds", ()) or outcome in rule.get("outcomes", ())
                if applies and pat.search(text):
                    return str(rule["direction"])
        return "neutral"

    def recommendation(self, st: Statement, kind: str) -> dict[str, Any] | None:
        if kind != "treatment_line":
            return None
        for text in (st.core, *st.context[:1]):
            for pat, line in compiled()["lines"]:
                if pat.search(text):
                    return {"strength": "unrated", "line": line}
        return None
