"""Import answer documents (the seed page's format) as a new article with claims and references.

A document is UTF-8 text laid out like the seed page:

1. a question line; page furniture (review-status widgets, "Personalize", "Last updated: …",
   the disclaimer, "Have a follow-up question?" …) anywhere, recognised and skipped;
2. a title, then a bottom-line paragraph ending in citation numbers ("… 1, 2" or "… 1 2");
3. section and sub-section headings with statements — bulleted (•, -, *) or not — each ending
   in its citation numbers;
4. a "References" list; per entry an optional kind line (Guideline, Research …), a title line,
   a "Source, Year" line and optionally a DOI line.

Everything is decided by rules: kinds, outcomes, directions and treatment lines by
``kb/vocab/import_rules.json``; interventions by ``kb/vocab/ask_cues.json`` and the names the
knowledge base already uses; conditions by ``conditions.json``. Citations resolve to references
already held when title and year (or DOI) match after normalisation, otherwise a new reference
is made from the entry; numbers the document's list lacks stay unresolved.

Nothing is written until the whole resulting knowledge base has validated in memory; then the
files are saved atomically. The article id is derived from the document's content, so
importing the same document again finds its article and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from .articles import Article
from .claims import Claim, format_value
from .errors import InvalidDocument
from .references import Reference
from .schema import validate_records
from .storage import write_json_atomic

from .knowledgebase import ARTICLES_FILE, CLAIMS_FILE, REFERENCES_FILE, KnowledgeBase

MAX_BYTES = 1_000_000  # "huge": an answer page is a few kilobytes
PRIMARY_NOTE = "Imported; not yet traced to a primary source."
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
# UTF-8 text that was decoded as Latin-1/Windows-1252 and saved again ("â€¢" for "•").
_MOJIBAKE = re.compile("â€|Ã[\u0080-\u00bf]|Â[\u00a0-\u00bf]")
_BULLET = re.compile(r"[•◦▪‣*\-–]\s+")
CITATION_TAIL = 200  # citation numbers are looked for at the end of a line only
_CIT_RUN = re.compile(r"(?<=\S)\s+(?P<run>\d{1,3}(?:\s*,\s*\d{1,3}|\s+\d{1,3})*)\s*\.?$")
_CIT_BRACKETS = re.compile(r"\s*(?P<run>(?:\[\s*\d{1,3}(?:\s*[,;]\s*\d{1,3})*\s*\]\s*)+)\.?$")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(])")
_SOURCE = re.compile(r"^(?P<source>.+?),\s*(?P<year>(?:1[89]|20)\d{2})\.?$")
_NUMBERED = re.compile(r"^(?:\[(?P<a>\d{1,3})\]|(?P<b>\d{1,3})[.)])\s+(?P<text>.+)$")
_DOI = re.compile(r"^(?:doi:?\s*|https?://(?:dx\.)?doi\.org/)(?P<doi>10\.\S+?)\.?$", re.I)


# -- vocabularies ------------------------------------------------------------------------------
@cache
def _vocab(name: str) -> dict[str, Any]:
    return json.loads(resources.files("kb.vocab").joinpath(name).read_text("utf-8"))


def rules() -> dict[str, Any]:
    """The import rules (``kb/vocab/import_rules.json``): data, not code."""
    return _vocab("import_rules.json")


@cache
def _compiled() -> dict[str, Any]:
    r = rules()
    units = r["units"]
    unit_alt = "|".join(re.escape(u) for u in sorted(
        ["%", *units["dose"], *units["time"], *units["count"]], key=len, reverse=True))
    words = "|".join(sorted(r["number_words"], key=len, reverse=True))
    quals = "|".join(f"(?P<q{i}>{pat})" for i, pat in enumerate(r["qualifiers"].values()))
    num = r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?"
    per = "|".join(f"(?P<p{i}>{pat})" for i, pat in enumerate(r["per"].values()))
    value = re.compile(
        rf"(?:(?<![\w])(?:{quals})\s*)?(?<![\w.])(?P<lo>{num})(?:\s*(?:-|–|—|to)\s*(?P<hi>{num}))?"
        rf"\s*(?P<unit>{unit_alt})(?![\w])(?:{per})?"
        rf"(?:\s*every\s+(?P<ivn>\d+|{words})?\s*(?P<ivu>day|week|month)s?\b)?", re.I)
    interval = re.compile(rf"every\s+(?P<ivn>\d+|{words})?\s*(?P<ivu>day|week|month)s?\b"
                          rf"|(?P<ivn2>\d+)-(?P<ivu2>day|week|month)\s+intervals?", re.I)
    return {
        "value": value, "interval": interval,
        "qualifiers": list(r["qualifiers"]), "per": list(r["per"]),
        "statement_rules": [(re.compile(x["pattern"], re.I), x) for x in r["statement_rules"]],
        "direction_rules": [(re.compile(x["pattern"], re.I), x) for x in r["direction_rules"]],
        "lines": [(re.compile(p, re.I), line) for line, p in r["recommendation_lines"].items()],
        "comparison": re.compile(r["comparison_cues"], re.I),
        "last_updated": re.compile(r["furniture"]["last_updated"], re.I),
        "kind_cues": [(_phrase(w), kind) for kind, ws in _vocab("ask_cues.json")["kinds"].items()
                      for w in ws],
    }


def _phrase(phrase: str) -> re.Pattern[str]:
    # Short all-capital abbreviations (MS, FM, OA) must match in capitals: "ms" is a unit.
    flags = 0 if (phrase.isupper() and len(phrase) <= 4) else re.IGNORECASE
    return re.compile(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", flags)


# -- reading -----------------------------------------------------------------------------------
def decode_document(data: bytes, *, name: str) -> str:
    """The text of an uploaded or read document, or :class:`InvalidDocument` saying why not.

    Refused: more than 1 MB, empty, UTF-16, binary (NUL or control bytes), not UTF-8, or UTF-8
    that was mis-decoded and saved again (mojibake). A UTF-8 byte-order mark is accepted.
    Line endings are normalised to ``\\n`` and the text to Unicode NFC.
    """
    if len(data) > MAX_BYTES:
        raise InvalidDocument(name, f"the file is {len(data):,} bytes; an answer document may "
                                    f"be at most {MAX_BYTES:,} bytes (1 MB)")
    if not data.strip():
        raise InvalidDocument(name, "the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidDocument(name, "the file is UTF-16 text; save it as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InvalidDocument(name, f"binary file (NUL byte at offset {nul}), not a text "
                                    f"document", line=data[:nul].count(b"\n") + 1)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidDocument(
            name, f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); the "
                  f"file may be Latin-1 or Windows-1252 — save it as UTF-8",
            line=data[:exc.start].count(b"\n") + 1) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for pattern, what in ((_CONTROL, "binary content (control characters), not a text "
                                     "document"),
                          (_MOJIBAKE, "wrongly encoded text: UTF-8 that was read as "
                                      "Latin-1/Windows-1252 and saved again (e.g. 'â€¢' for "
                                      "'•'); import the original UTF-8 file")):
        bad = pattern.search(text)
        if bad:
            raise InvalidDocument(name, what, line=text.count("\n", 0, bad.start()) + 1)
    return unicodedata.normalize("NFC", text)


# -- parsing (pure: no knowledge base needed) --------------------------------------------------
@dataclass
class _Line:
    number: int
    text: str
    indent: int
    bullet: bool


@dataclass
class Statement:
    """One statement of the document, the future claim."""

    line: int
    text: str               # the claim's text (a sub-bullet is prefixed by its lead-in)
    core: str               # the line's own words, without bullet and citation numbers
    citations: list[int]
    context: list[str]      # the lead-in statement, then headings innermost first


@dataclass
class Section:
    heading: str
    line: int
    statements: list[Statement] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)


@dataclass
class RefEntry:
    """One entry of the document's reference list."""

    number: int
    line: int
    title: str
    source: str
    year: int
    kind: str | None = None
    doi: str | None = None


@dataclass
class Document:
    """A parsed answer document: structure only, no decisions about claims yet."""

    name: str
    digest: str
    question: str | None
    title: str
    last_updated: str | None
    bottom_line: list[Statement]
    sections: list[Section]
    references: list[RefEntry]
    not_understood: list[dict[str, Any]]
    furniture: list[dict[str, Any]]
    warnings: list[str]

    def statements(self) -> Iterator[Statement]:
        """Every statement in document order, bottom line first."""
        yield from self.bottom_line

        def walk(sections: list[Section]) -> Iterator[Statement]:
            for sec in sections:
                yield from sec.statements
                yield from walk(sec.subsections)
        yield from walk(self.sections)


def split_citations(text: str) -> tuple[str, list[int]]:
    """Split trailing citation numbers off a statement: ``"… 4.5 mg 1, 2"`` → (…, [1, 2]).

    Accepts "1, 2", "1 2" and "[1][2]". A number right after a word such as "week" belongs to
    the text ("… at week 12 3" cites 3 only), unless the word is a unit ("every week 1").
    """
    # Only the tail is searched: these patterns backtrack, and a line can be long.
    offset = max(0, len(text) - CITATION_TAIL)
    tail = text[offset:]
    m = _CIT_BRACKETS.search(tail)
    if m and m.start() + offset > 0:
        return text[:m.start() + offset].rstrip(), [int(x) for x in re.findall(r"\d+", m["run"])]
    m = _CIT_RUN.search(tail)
    if not m:
        return text, []
    nums = list(re.finditer(r"\d+", m["run"]))
    cut = m.start() + offset
    before = text[:cut].rsplit(None, 2)
    if (before and before[-1].lower() in rules()["citation_number_nouns"] and not (
            len(before) > 1
            and before[-2].lower() in rules()["citation_number_nouns_unless_after"])):
        cut = m.start("run") + offset + nums[0].end()
        nums = nums[1:]
    numbers = [int(n.group()) for n in nums]
    if not numbers or 0 in numbers:
        return text, []
    return text[:cut].rstrip(), numbers


def _heading_like(text: str) -> bool:
    words = text.split()
    return 1 <= len(words) <= 12 and text[-1] not in ".:;!?," and not text[0].islower()


def _is_heading(item: _Line) -> bool:
    core, cits = split_citations(item.text)
    return not item.bullet and not cits and _heading_like(core)


def _furniture(text: str) -> str | None:
    f = rules()["furniture"]
    low = text.casefold()
    if any(low == x.casefold() for x in f["lines"]) or any(
            low.startswith(x.casefold()) for x in f["prefixes"]):
        return "line"
    if any(low == x.casefold() for x in f["with_paragraph"]):
        return "paragraph"
    return None


def _parse_date(text: str) -> str | None:
    for fmt in rules()["date_formats"]:
        try:
            return datetime.strptime(text.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _digest(text: str) -> str:
    canon = "\n".join(line.rstrip() for line in text.strip().split("\n"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


def parse_document(text: str, *, name: str = "document") -> Document:
    """Parse the structure of an answer document (see the module docstring).

    Raises :class:`InvalidDocument` when there is no title or no statement at all.
    """
    furniture: list[dict[str, Any]] = []
    not_understood: list[dict[str, Any]] = []
    warnings: list[str] = []
    last_updated = None
    items: list[_Line] = []
    skip_paragraph = False
    for number, raw in enumerate(text.split("\n"), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        if skip_paragraph:  # the paragraph under a disclaimer-like heading
            furniture.append({"line": number, "text": stripped})
            skip_paragraph = False
            continue
        kind = _furniture(stripped)
        if kind is not None:
            furniture.append({"line": number, "text": stripped})
            skip_paragraph = kind == "paragraph"
            continue
        m = _compiled()["last_updated"].match(stripped)
        if m:
            furniture.append({"line": number, "text": stripped})
            parsed = _parse_date(m["date"])
            if parsed is None:
                not_understood.append({"line": number, "text": stripped,
                                       "reason": "date not understood"})
            elif last_updated is None:
                last_updated = parsed
            continue
        line = raw.expandtabs(4).rstrip()
        bullet = _BULLET.match(stripped)
        items.append(_Line(number, stripped[bullet.end():] if bullet else stripped,
                           len(line) - len(line.lstrip()), bullet is not None))

    pos, question = 0, None
    if items and not items[0].bullet and items[0].text.endswith("?"):
        question, pos = items[0].text, 1
    else:
        warnings.append("No question line (a first line ending in '?'); the title is used as "
                        "the question.")
    if pos >= len(items):
        raise InvalidDocument(name, "no title: the document holds nothing but page furniture")
    title_item = items[pos]
    if title_item.bullet or _is_references_heading(title_item.text):
        raise InvalidDocument(name, "expected the title line here", line=title_item.number)
    ref_at = next((i for i in range(pos + 1, len(items))
                   if not items[i].bullet and _is_references_heading(items[i].text)), None)
    body = items[pos + 1:ref_at] if ref_at is not None else items[pos + 1:]
    if ref_at is None:
        warnings.append("No References list: every citation number stays unresolved.")
    bottom, sections = _parse_body(body)
    references = _parse_references(items[ref_at + 1:] if ref_at is not None else [],
                                   not_understood)
    if not bottom:
        warnings.append("No bottom-line paragraph after the title.")
    doc = Document(name, _digest(text), question, title_item.text, last_updated, bottom,
                   sections, references, not_understood, furniture, warnings)
    if next(doc.statements(), None) is None:
        raise InvalidDocument(name, "no statements found: this does not look like an answer "
                                    "document (a question, a title, a bottom line, sections)")
    return doc


def _is_references_heading(text: str) -> bool:
    return text.rstrip(":").strip().casefold() in {
        h.casefold() for h in rules()["references_headings"]}


def _sentences(core: str, fallback: list[int]) -> list[tuple[str, list[int]]]:
    """An unbulleted paragraph, one statement per sentence; a sentence without its own
    citation numbers takes the paragraph's trailing ones."""
    out = []
    for sentence in _SENTENCE.split(core):
        text, cits = split_citations(sentence.strip())
        if text:
            out.append((text, cits or list(fallback)))
    return out


def _parse_body(body: list[_Line]) -> tuple[list[Statement], list[Section]]:
    bottom: list[Statement] = []
    sections: list[Section] = []
    top: Section | None = None
    current: Section | None = None
    top_has_subs = False
    leads: list[tuple[int, str]] = []  # (indent, text) of statements that may lead sub-bullets
    for i, item in enumerate(body):
        core, cits = split_citations(item.text)
        if _is_heading(item):
            node = Section(core, item.number)
            # A heading straight after a heading opens a section with sub-sections; a heading
            # followed by statements is a sub-section inside such a section, else a section.
            followed_by_heading = i + 1 < len(body) and _is_heading(body[i + 1])
            if followed_by_heading or top is None or not top_has_subs:
                sections.append(node)
                top, top_has_subs = node, followed_by_heading
            else:
                top.subsections.append(node)
            current, leads = node, []
            continue
        indent = item.indent if item.bullet else item.indent - 1  # bullets nest under prose
        while leads and leads[-1][0] >= indent:
            leads.pop()
        lead = leads[-1][1] if leads and leads[-1][1].endswith(":") else None
        headings = [] if current is None else [current.heading] + (
            [top.heading] if top is not None and top is not current else [])
        context = ([lead] if lead else []) + headings
        parts = [(core, cits)] if item.bullet else _sentences(core, cits)
        for text, numbers in parts:
            claim_text = text.rstrip(":").rstrip()
            if lead:
                claim_text = f"{lead.rstrip(':').rstrip()}: {claim_text}"
            st = Statement(item.number, claim_text, text, numbers, context)
            (bottom if current is None else current.statements).append(st)
        leads.append((indent, core))
    return bottom, sections


def _parse_references(lines: list[_Line], not_understood: list[dict[str, Any]]
                      ) -> list[RefEntry]:
    kinds = {k.casefold() for k in rules()["reference_kinds"]}
    entries: list[RefEntry] = []
    pending: list[_Line] = []

    def unknown(item: _Line, reason: str) -> None:
        not_understood.append({"line": item.number, "text": item.text, "reason": reason})

    for item in lines:
        doi = _DOI.match(item.text)
        if doi:
            if entries and not pending and entries[-1].doi is None:
                entries[-1].doi = doi["doi"]
            else:
                unknown(item, "DOI line not after a reference entry")
            continue
        m = _SOURCE.match(item.text)
        if not (m and pending):
            pending.append(item)
            continue
        title_item, rest = pending[-1], pending[:-1]
        kind = None
        if rest and (rest[-1].text.casefold() in kinds or (
                len(rest[-1].text.split()) <= 3 and not rest[-1].text.endswith("."))):
            kind = rest.pop().text
        for extra in rest:
            unknown(extra, "reference line not understood (expected kind, title, "
                           "'Source, Year')")
        pending = []
        nm = _NUMBERED.match(title_item.text)
        title = nm["text"] if nm else title_item.text
        number = int(nm["a"] or nm["b"]) if nm else (entries[-1].number + 1 if entries else 1)
        if any(e.number == number for e in entries):
            unknown(title_item, f"reference number {number} appears twice")
            continue
        title = title[:-1] if title.endswith(".") else title
        entries.append(RefEntry(number, title_item.number, title, m["source"].strip(),
                                int(m["year"]), kind))
    for item in pending:
        unknown(item, "reference line not understood (expected kind, title, 'Source, Year')")
    return entries


# -- values ------------------------------------------------------------------------------------
@dataclass
class _Value:
    start: int
    end: int
    record: dict[str, Any]

    @property
    def unit_class(self) -> str:
        units = rules()["units"]
        unit = self.record["unit"]
        if unit == "%":
            return "percentage"
        for cls in ("dose", "time"):
            if unit.lower() in {u.lower() for u in units[cls]}:
                return cls
        return "count"


def _number(text: str) -> float | int:
    x = float(text.replace(",", ""))
    return int(x) if x.is_integer() and "." not in text else x


def _interval(n: str | None, unit: str) -> dict[str, Any]:
    words = rules()["number_words"]
    value = 1 if not n else (words[n.lower()] if n.lower() in words else _number(n))
    return {"value": value, "unit": unit.lower()}


def extract_values(text: str) -> list[_Value]:
    """Every number with a unit in ``text``, as structured values (data-model ``value``).

    Quantities ("4.5 mg", "123 days"), percentages ("32%"), ranges ("3-5 mg", "3 to 5 mg"),
    counts ("7 RCTs"); with ``qualifier`` (about, at least …), ``per`` (daily, nightly) and
    ``interval`` ("every 2 weeks") where stated, and ``as_stated`` always.
    """
    c = _compiled()
    out = []
    for m in c["value"].finditer(text):
        unit = m["unit"]
        time_units = {u.lower() for u in rules()["units"]["time"]}
        if unit.lower() in time_units:
            unit = unit.lower() if unit.lower().endswith("s") else unit.lower() + "s"
        elif unit.lower() in ("mg", "g"):
            unit = unit.lower()
        elif unit.lower() in ("ug", "mcg"):
            unit = "µg"
        rec: dict[str, Any]
        if m["hi"] is not None:
            rec = {"type": "range", "low": _number(m["lo"]), "high": _number(m["hi"]),
                   "unit": unit}
        elif unit == "%":
            rec = {"type": "percentage", "value": _number(m["lo"]), "unit": "%"}
        elif unit in rules()["units"]["count"] and unit != "points":
            rec = {"type": "count", "value": _number(m["lo"]), "unit": unit}
        else:
            rec = {"type": "quantity", "value": _number(m["lo"]), "unit": unit}
        for i, q in enumerate(c["qualifiers"]):
            if m[f"q{i}"]:
                rec["qualifier"] = q
        for i, p in enumerate(c["per"]):
            if m[f"p{i}"]:
                rec["per"] = p
        if m["ivu"]:
            rec["interval"] = _interval(m["ivn"], m["ivu"])
        rec["as_stated"] = m.group().strip()
        out.append(_Value(m.start(), m.end(), rec))
    return out


def _headline(values: list[_Value], outcome: str, text: str) -> dict[str, Any] | None:
    """The claim's headline value among those found, chosen by what the claim is about."""
    if not values:
        return None
    doses = [v for v in values if v.unit_class == "dose"]
    pick: _Value | None = None
    if outcome == "titration-schedule" and doses:
        pick = next((v for v in doses if "interval" in v.record), doses[0])
        if "interval" not in pick.record:  # "… 0.5 mg at 2-week intervals"
            iv = _compiled()["interval"].search(text)
            if iv:
                pick = _Value(pick.start, pick.end, {**pick.record, "interval": _interval(
                    iv["ivn"] or iv["ivn2"], iv["ivu"] or iv["ivu2"])})
    elif outcome == "maximum-dose" and doses:
        cue = re.search(r"maxim|\bmax\b|ceiling|up to|exceed|target", text, re.I)
        after = [v for v in doses if cue and v.start >= cue.start()]
        pick = after[0] if after else max(doses, key=lambda v: v.record.get(
            "high", v.record.get("value", 0)))
    elif outcome == "dose-range":
        pick = next((v for v in doses if v.record["type"] == "range"), None)
    elif outcome in ("starting-dose", "typical-dose", "effective-dose") and doses:
        pick = doses[0]
    elif outcome.endswith("-rate") or outcome == "prescription-fill":
        pick = next((v for v in values if v.unit_class == "percentage"), None)
    elif outcome in ("time-to-response", "treatment-duration", "stopping-rule"):
        pick = next((v for v in values if v.unit_class == "time"), None)
    if pick is not None and pick.unit_class == "dose" and not (
            {"per", "interval"} & pick.record.keys()) and outcome != "titration-schedule":
        # "Begin at 1.5 mg taken at bedtime": the schedule word need not follow the unit.
        for name, pattern in rules()["per"].items():
            if re.search(pattern.replace("\\s*", "", 1), text, re.I):
                pick = _Value(pick.start, pick.end, {**pick.record, "per": name})
                break
    return dict((pick or values[0]).record)


# -- classifying -------------------------------------------------------------------------------
class _Classifier:
    """Kind, outcome, intervention, conditions, direction and line of each statement."""

    def __init__(self, kb: KnowledgeBase, doc: Document) -> None:
        self.kb = kb
        names: list[tuple[re.Pattern[str], str]] = []
        for name, aliases in _vocab("ask_cues.json")["interventions"].items():
            for alias in sorted({name, *aliases}, key=len, reverse=True):
                names.append((_phrase(alias), name))
        held = sorted({c.intervention for c in kb.claims.values()}, key=len, reverse=True)
        names += [(_phrase(n), n) for n in held]
        self.interventions = names
        ignored = {p.casefold() for p in rules()["condition_phrases_ignored"]}
        self.conditions = [(_phrase(p), c.id) for c in kb.conditions.conditions.values()
                           for p in (c.label, c.id.replace("-", " "), *c.synonyms)
                           if p.casefold() not in ignored]
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

    def kind_outcome(self, st: Statement, values: list[_Value]) -> tuple[str, str] | None:
        classes = {v.unit_class for v in values}
        has = {"dose": "dose" in classes, "percentage": "percentage" in classes,
               "time": "time" in classes,
               "dose_range": any(v.unit_class == "dose" and v.record["type"] == "range"
                                 for v in values)}
        texts = [st.core, *st.context]
        for text in texts:
            for pat, rule in _compiled()["statement_rules"]:
                if pat.search(text) and (not rule.get("requires") or has[rule["requires"]]):
                    return rule["kind"], rule["outcome"]
        order = list(rules()["kind_default_outcomes"])
        for text in texts:  # last resort: the question parser's kind words
            counts = Counter(kind for pat, kind in _compiled()["kind_cues"] if pat.search(text))
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
        cmp = _compiled()["comparison"].search(st.core)
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
            for pat, rule in _compiled()["direction_rules"]:
                applies = kind in rule.get("kinds", ()) or outcome in rule.get("outcomes", ())
                if applies and pat.search(text):
                    return rule["direction"]
        return "neutral"

    def recommendation(self, st: Statement, kind: str) -> dict[str, Any] | None:
        if kind != "treatment_line":
            return None
        for text in (st.core, *st.context[:1]):
            for pat, line in _compiled()["lines"]:
                if pat.search(text):
                    return {"strength": "unrated", "line": line}
        return None


# -- the report --------------------------------------------------------------------------------
@dataclass
class ImportReport:
    """What an import did (or, with ``dry_run``, would do). ``to_dict`` is the JSON shape."""

    file: str
    article_id: str
    title: str
    question: str
    last_updated: str
    last_updated_from: str
    dry_run: bool
    unchanged: bool = False
    written: bool = False
    claims: list[dict[str, Any]] = field(default_factory=list)
    references_new: list[dict[str, Any]] = field(default_factory=list)
    references_matched: list[dict[str, Any]] = field(default_factory=list)
    unresolved_citations: list[dict[str, Any]] = field(default_factory=list)
    not_understood: list[dict[str, Any]] = field(default_factory=list)
    skipped_furniture: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    knowledge_base: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON: every field but the resulting knowledge base, plus counts."""
        data = {k: v for k, v in self.__dict__.items() if k != "knowledge_base"}
        data["counts"] = {"claims": len(self.claims),
                          "references_new": len(self.references_new),
                          "references_matched": len(self.references_matched),
                          "unresolved_citations": len(self.unresolved_citations),
                          "not_understood": len(self.not_understood),
                          "skipped_furniture": len(self.skipped_furniture),
                          "conflicts": len(self.conflicts)}
        return json.loads(json.dumps(data))  # a deep, JSON-clean copy


# -- building records --------------------------------------------------------------------------
def _ascii_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z0-9]+", folded)


def article_id_for(doc: Document) -> str:
    """The article id: a slug of the title plus a digest of the content (same file, same id)."""
    slug = "-".join(_ascii_words(doc.title)[:6])[:48].strip("-") or "document"
    return f"{slug}-{doc.digest[:8]}"


def normalise_title(title: str) -> str:
    """Case, punctuation (dashes of every kind), whitespace and a trailing period removed."""
    text = unicodedata.normalize("NFKC", title).casefold()
    return " ".join(re.sub(r"[\W_]+", " ", text).split())


def normalise_doi(doi: str) -> str:
    doi = doi.strip().lower()
    return re.sub(r"^(doi:\s*|https?://(dx\.)?doi\.org/)", "", doi)


def _new_ref_id(entry: RefEntry, taken: set[str]) -> str:
    stop = set(_vocab("ask_cues.json")["stopwords"])
    source = next((w for w in _ascii_words(entry.source) if w not in stop), "source")
    words = [w for w in _ascii_words(entry.title) if w not in stop][:3] or ["untitled"]
    base = f"{source}{entry.year}_{'-'.join(words)}"
    rid, n = base, 2
    while rid in taken:
        rid, n = f"{base}-{n}", n + 1
    return rid


def _resolve_references(kb: KnowledgeBase, doc: Document, report: ImportReport
                        ) -> tuple[dict[int, str], list[dict[str, Any]]]:
    """Each list entry → an existing reference (DOI, or title and year) or a new CSL item."""
    by_doi: dict[str, str] = {}
    by_title: dict[tuple[str, int], str] = {}
    for ref in sorted(kb.references.values(), key=lambda r: r.id):
        if ref.doi:
            by_doi.setdefault(normalise_doi(ref.doi), ref.id)
        if ref.year is not None and ref.title:
            by_title.setdefault((normalise_title(ref.title), ref.year), ref.id)
    kinds = {k.casefold(): v for k, v in rules()["reference_kinds"].items()}
    taken = set(kb.references)
    numbers: dict[int, str] = {}
    new: list[dict[str, Any]] = []
    for e in doc.references:
        key = (normalise_title(e.title), e.year)
        rid, how = None, None
        if e.doi and normalise_doi(e.doi) in by_doi:
            rid, how = by_doi[normalise_doi(e.doi)], "doi"
        elif key in by_title:
            rid, how = by_title[key], "title and year"
        if rid is not None:
            numbers[e.number] = rid
            report.references_matched.append({"number": e.number, "line": e.line, "ref": rid,
                                              "title": e.title, "year": e.year,
                                              "matched_by": how})
            continue
        spec = kinds.get((e.kind or "").casefold(), rules()["reference_kind_default"])
        rid = _new_ref_id(e, taken)
        taken.add(rid)
        csl: dict[str, Any] = {
            "id": rid, "type": spec["type"], "title": e.title, "container-title": e.source,
            "issued": {"date-parts": [[e.year]]},
            "custom": {"role": spec["role"], "design": "not stated", "n": "not stated",
                       "verification": "imported", "provenance": [], "traced_to": [],
                       "condition_ids": [], "conditions": []},
        }
        if e.kind:
            csl["custom"]["kind_as_stated"] = e.kind
        if e.doi:  # only a DOI the document itself gives; identifiers are never invented
            csl["DOI"] = e.doi
        new.append(csl)
        numbers[e.number] = rid
        by_title[key] = rid
        if e.doi:
            by_doi[normalise_doi(e.doi)] = rid
        report.references_new.append({"number": e.number, "line": e.line, "ref": rid,
                                      "title": e.title, "year": e.year, "type": spec["type"],
                                      "role": spec["role"]})
    return numbers, new


def _build(kb: KnowledgeBase, doc: Document, report: ImportReport
           ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """The new references, claims and article of ``doc`` (not yet validated)."""
    numbers, new_refs = _resolve_references(kb, doc, report)
    cls = _Classifier(kb, doc)
    aid = report.article_id
    claims: list[dict[str, Any]] = []
    ids: dict[int, str] = {}  # id(Statement) → claim id
    unresolved: dict[int, dict[str, Any]] = {}
    for st in doc.statements():
        values = extract_values(st.core)
        ko = cls.kind_outcome(st, values)
        if ko is None:
            report.not_understood.append({"line": st.line, "text": st.text,
                                          "reason": "no rule gives the kind of statement"})
            continue
        kind, outcome = ko
        cid = f"imp-{aid}-{len(claims) + 1}"
        citations = []
        for n in dict.fromkeys(st.citations):
            citations.append({"ref": numbers.get(n), "number": n})
            if n not in numbers:
                item = unresolved.setdefault(n, {"number": n, "lines": [], "claims": []})
                item["lines"].append(st.line)
                item["claims"].append(cid)
        value = _headline(values, outcome, st.core)
        rec = {
            "id": cid, "origin": "import", "kind": kind, "text": st.text,
            "intervention": cls.intervention(st, kind), "conditions": cls.conditions_of(st),
            "outcome": outcome, "value": value,
            "reported_numbers": {"as_stated": [v.record["as_stated"] for v in values]}
            if values else {},
            "direction": cls.direction(st, kind, outcome), "citations": citations,
            "reported_in": "secondary", "seen_at": None,
            "recommendation": cls.recommendation(st, kind),
            "primary": {"ref": None, "verdict": "not_assessed", "note": PRIMARY_NOTE,
                        "basis": "import"},
        }
        claims.append(rec)
        ids[id(st)] = cid
        report.claims.append({"id": cid, "line": st.line, "kind": kind, "outcome": outcome,
                              "intervention": rec["intervention"],
                              "conditions": rec["conditions"], "value_text": format_value(value),
                              "direction": rec["direction"],
                              "citations": [c["number"] for c in citations], "text": st.text})
    if not claims:
        raise InvalidDocument(doc.name, "no statement could be classified; nothing to import")
    report.unresolved_citations = [unresolved[n] for n in sorted(unresolved)]
    report.not_understood.sort(key=lambda item: item["line"])

    def section(sec: Section) -> dict[str, Any]:
        out: dict[str, Any] = {"heading": sec.heading,
                               "claims": [ids[id(s)] for s in sec.statements if id(s) in ids]}
        if sec.subsections:
            out["subsections"] = [section(s) for s in sec.subsections]
        return out

    article = {
        "id": aid, "title": doc.title, "question": doc.question or doc.title,
        "source_ref": None, "review_status": "submitted", "last_updated": report.last_updated,
        "bottom_line": [ids[id(s)] for s in doc.bottom_line if id(s) in ids],
        "sections": [section(s) for s in doc.sections],
        "reference_list": [{"number": n, "ref": r} for n, r in sorted(numbers.items())],
        "citation_resolutions": [],
    }
    return new_refs, claims, article


def _assemble(kb: KnowledgeBase, refs: list[dict[str, Any]], claims: list[dict[str, Any]],
              article: dict[str, Any]) -> KnowledgeBase:
    """The whole resulting knowledge base, validated in memory as loading would validate it."""
    new_ids = {c["id"] for c in claims}
    # Claims left by an interrupted earlier import of this document are replaced, not doubled.
    claim_recs = [c.record for c in kb.claims.values() if c.id not in new_ids] + claims
    ref_recs = [r.csl for r in kb.references.values()] + refs
    art_recs = [a.record for a in kb.articles.values()] + [article]
    validate_records(REFERENCES_FILE, "csl-data.json", ref_recs)
    validate_records(CLAIMS_FILE, "claims.schema.json", claim_recs)
    validate_records(ARTICLES_FILE, "articles.schema.json", art_recs)
    new_kb = KnowledgeBase(data_dir=kb.data_dir, conditions=kb.conditions,
                           references={str(r["id"]): Reference(r) for r in ref_recs},
                           claims={c["id"]: Claim(c) for c in claim_recs},
                           articles={a["id"]: Article(a) for a in art_recs})
    new_kb._check_references()  # the loader's referential-integrity pass
    if getattr(kb, "index_dir", None) is not None:
        new_kb.index_dir = kb.index_dir  # type: ignore[attr-defined]
    return new_kb


def _conflicts_of(kb: KnowledgeBase, claim_ids: set[str]) -> list[dict[str, Any]]:
    out = []
    for conflict in kb.conflicts.values():
        mine = [c for c in conflict.claim_ids() if c in claim_ids]
        if mine:
            out.append({"id": conflict.id, "type": conflict.type,
                        "explanation": conflict.explanation, "claims": mine,
                        "with": [c for c in conflict.claim_ids() if c not in claim_ids]})
    return out


# -- entry points ------------------------------------------------------------------------------
def import_document(kb: KnowledgeBase, text: str, *, name: str, today: date,
                    dry_run: bool = False) -> ImportReport:
    """Import the answer document ``text`` into ``kb``'s data directory.

    ``today`` is the article's last-updated date when the document states none. With
    ``dry_run`` nothing is written. The report's ``knowledge_base`` is the resulting knowledge
    base (``kb`` itself when nothing changed). Raises :class:`InvalidDocument` for a document
    that cannot be imported and :class:`InvalidData` if the result would not validate; in
    both cases nothing is written.
    """
    doc = parse_document(text, name=name)
    aid = article_id_for(doc)
    report = ImportReport(
        file=name, article_id=aid, title=doc.title, question=doc.question or doc.title,
        last_updated=doc.last_updated or today.isoformat(),
        last_updated_from="document" if doc.last_updated else "caller", dry_run=dry_run,
        not_understood=list(doc.not_understood), skipped_furniture=list(doc.furniture),
        warnings=list(doc.warnings))
    if aid in kb.articles:  # the same document again: report what it holds, change nothing
        report.unchanged = True
        report.knowledge_base = kb
        art = kb.articles[aid]
        _build(kb, doc, report)  # the same rules give the same claims (reported, not saved)
        report.conflicts = _conflicts_of(kb, set(art.claim_ids()))
        return report
    refs, claims, article = _build(kb, doc, report)
    new_kb = _assemble(kb, refs, claims, article)
    report.conflicts = _conflicts_of(new_kb, {c["id"] for c in claims})
    report.knowledge_base = new_kb
    if not dry_run:
        # Only the three changed files, each atomically, in dependency order: a crash between
        # writes leaves unused references or article-less claims, never dangling ids.
        for fname, records in (
                (REFERENCES_FILE, [r.csl for r in new_kb.references.values()]),
                (CLAIMS_FILE, [c.record for c in new_kb.claims.values()]),
                (ARTICLES_FILE, [a.record for a in new_kb.articles.values()])):
            write_json_atomic(kb.data_dir / fname, records)
        report.written = True
    return report


def import_bytes(kb: KnowledgeBase, data: bytes, *, name: str, today: date,
                 dry_run: bool = False) -> ImportReport:
    """:func:`import_document` for raw bytes (an upload): checked and decoded first."""
    return import_document(kb, decode_document(data, name=name), name=name, today=today,
                           dry_run=dry_run)


def import_file(kb: KnowledgeBase, path: str | Path, *, today: date,
                dry_run: bool = False) -> ImportReport:
    """:func:`import_document` for a file; a file over 1 MB is refused before it is read."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise InvalidDocument(path.name, "is a folder, not a document")
        if size > MAX_BYTES:
            raise InvalidDocument(path.name, f"the file is {size:,} bytes; an answer document "
                                             f"may be at most {MAX_BYTES:,} bytes (1 MB)")
        data = path.read_bytes()
    except FileNotFoundError:
        raise InvalidDocument(path.name, "file not found") from None
    except OSError as exc:
        raise InvalidDocument(path.name, f"cannot be read ({exc.strerror})") from None
    return import_bytes(kb, data, name=path.name, today=today, dry_run=dry_run)
