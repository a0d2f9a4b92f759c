"""Reading an answer document: bytes to checked text, then lines to a :class:`Document`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import InvalidDocument
from ..text import canonical
from .vocabularies import compiled, rules

MAX_BYTES = 1_000_000  # "huge": an answer page is a few kilobytes
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


# -- reading -----------------------------------------------------------------------------------
def decode_document(data: bytes, *, name: str) -> str:
    """The text of an uploaded or read document, or :class:`InvalidDocument` saying why not.

    Refused: more than 1 MB, empty, UTF-16, binary (NUL or control bytes), not UTF-8, or UTF-8
    that was mis-decoded and saved again (mojibake). A UTF-8 byte-order mark is accepted.
    Line endings are normalised to ``\\n`` and the text to Unicode NFC.
    """
    if len(data) > MAX_BYTES:
        raise InvalidDocument(
            name,
            f"the file is {len(data):,} bytes; an answer document may "
            f"be at most {MAX_BYTES:,} bytes (1 MB)",
        )
    if not data.strip():
        raise InvalidDocument(name, "the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidDocument(name, "the file is UTF-16 text; save it as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InvalidDocument(
            name,
            f"binary file (NUL byte at offset {nul}), not a text document",
            line=data[:nul].count(b"\n") + 1,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidDocument(
            name,
            f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); the "
            f"file may be Latin-1 or Windows-1252 — save it as UTF-8",
            line=data[: exc.start].count(b"\n") + 1,
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    for pattern, what in (
        (_CONTROL, "binary content (control characters), not a text document"),
        (
            _MOJIBAKE,
            "wrongly encoded text: UTF-8 that was read as "
            "Latin-1/Windows-1252 and saved again (e.g. 'â€¢' for "
            "'•'); import the original UTF-8 file",
        ),
    ):
        bad = pattern.search(text)
        if bad:
            raise InvalidDocument(name, what, line=text.count("\n", 0, bad.start()) + 1)
    return canonical(text)


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
    text: str  # the claim's text (a sub-bullet is prefixed by its lead-in)
    core: str  # the line's own words, without bullet and citation numbers
    citations: list[int]
    context: list[str]  # the lead-in statement, then headings innermost first


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
        return text[: m.start() + offset].rstrip(), [int(x) for x in re.findall(r"\d+", m["run"])]
    m = _CIT_RUN.search(tail)
    if not m:
        return text, []
    nums = list(re.finditer(r"\d+", m["run"]))
    cut = m.start() + offset
    before = text[:cut].rsplit(None, 2)
    if (
        before
        and before[-1].lower() in rules()["citation_number_nouns"]
        and not (
            len(before) > 1 and before[-2].lower() in rules()["citation_number_nouns_unless_after"]
        )
    ):
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
        low.startswith(x.casefold()) for x in f["prefixes"]
    ):
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
        m = compiled()["last_updated"].match(stripped)
        if m:
            furniture.append({"line": number, "text": stripped})
            parsed = _parse_date(m["date"])
            if parsed is None:
                not_understood.append(
                    {"line": number, "text": stripped, "reason": "date not understood"}
                )
            elif last_updated is None:
                last_updated = parsed
            continue
        line = raw.expandtabs(4).rstrip()
        bullet = _BULLET.match(stripped)
        items.append(
            _Line(
                number,
                stripped[bullet.end() :] if bullet else stripped,
                len(line) - len(line.lstrip()),
                bullet is not None,
            )
        )

    pos, question = 0, None
    if items and not items[0].bullet and items[0].text.endswith("?"):
        question, pos = items[0].text, 1
    else:
        warnings.append(
            "No question line (a first line ending in '?'); the title is used as the question."
        )
    if pos >= len(items):
        raise InvalidDocument(name, "no title: the document holds nothing but page furniture")
    title_item = items[pos]
    if title_item.bullet or _is_references_heading(title_item.text):
        raise InvalidDocument(name, "expected the title line here", line=title_item.number)
    ref_at = next(
        (
            i
            for i in range(pos + 1, len(items))
            if not items[i].bullet and _is_references_heading(items[i].text)
        ),
        None,
    )
    body = items[pos + 1 : ref_at] if ref_at is not None else items[pos + 1 :]
    if ref_at is None:
        warnings.append("No References list: every citation number stays unresolved.")
    bottom, sections = _parse_body(body)
    references = _parse_references(
        items[ref_at + 1 :] if ref_at is not None else [], not_understood
    )
    if not bottom:
        warnings.append("No bottom-line paragraph after the title.")
    doc = Document(
        name,
        _digest(text),
        question,
        title_item.text,
        last_updated,
        bottom,
        sections,
        references,
        not_understood,
        furniture,
        warnings,
    )
    if next(doc.statements(), None) is None:
        raise InvalidDocument(
            name,
            "no statements found: this does not look like an answer "
            "document (a question, a title, a bottom line, sections)",
        )
    return doc


def _is_references_heading(text: str) -> bool:
    return text.rstrip(":").strip().casefold() in {
        h.casefold() for h in rules()["references_headings"]
    }


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
        headings = (
            []
            if current is None
            else [current.heading]
            + ([top.heading] if top is not None and top is not current else [])
        )
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


def _parse_references(lines: list[_Line], not_understood: list[dict[str, Any]]) -> list[RefEntry]:
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
        if rest and (
            rest[-1].text.casefold() in kinds
            or (len(rest[-1].text.split()) <= 3 and not rest[-1].text.endswith("."))
        ):
            kind = rest.pop().text
        for extra in rest:
            unknown(extra, "reference line not understood (expected kind, title, 'Source, Year')")
        pending = []
        nm = _NUMBERED.match(title_item.text)
        title = nm["text"] if nm else title_item.text
        number = int(nm["a"] or nm["b"]) if nm else (entries[-1].number + 1 if entries else 1)
        if any(e.number == number for e in entries):
            unknown(title_item, f"reference number {number} appears twice")
            continue
        title = title[:-1] if title.endswith(".") else title
        entries.append(
            RefEntry(number, title_item.number, title, m["source"].strip(), int(m["year"]), kind)
        )
    for item in pending:
        unknown(item, "reference line not understood (expected kind, title, 'Source, Year')")
    return entries
