"""Query understanding: what a searcher typed, turned into words, concepts, phrases and filters.

The grammar is small and forgiving. Words are OR-ed (more matching words rank higher);
``AND`` binds tighter than the implicit OR; ``OR`` is accepted and changes nothing; ``NOT word``
or ``-word`` excludes. ``"quoted words"`` are a phrase, matched word for word (no synonyms).
``( )`` group. ``kind:`` ``condition:`` ``grade:`` ``design:`` ``type:`` ``direction:``
filter (``-kind:x`` excludes). ``word*`` is a prefix (at least three letters before the
``*``; a leading ``*`` is dropped), ``word~`` or ``word~2`` a fuzzy match (edit distance at most
2). A DOI (``10.1111/...``, ``doi:...`` or its https://doi.org address) or ``pmid:N`` finds
the reference.

Every input parses: an unbalanced quote runs to the end, a missing ``)`` is closed at the
end, a stray ``)`` is ignored, operators without operands are dropped. What cannot be searched
for at all — a bare ``*``, only exclusions — raises :class:`~kb.errors.InvalidQuery` with the
reason; a query of only very common words ("with this") is answered with no results and a
message saying why (:attr:`ParsedQuery.nothing`). ``-0.34`` is a negative number, not an
exclusion. Size is bounded up front: at most
:data:`MAX_CHARS` characters, :data:`MAX_TERMS` search terms and :data:`MAX_DEPTH` nested
parentheses; a page holds at most :data:`MAX_LIMIT` results, and only the first
:data:`MAX_RESULTS` can be paged through.

Filters, typed or given as parameters, become the ids the index holds
(:func:`resolve_filters`) and then the values wanted per facet (:func:`filter_spec`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import InvalidQuery
from ..text import WORD, normalise
from .concepts import Word, keep, words

if TYPE_CHECKING:
    from ..conditions import ConditionTree
    from ..knowledgebase import KnowledgeBase
    from .concepts import Vocabulary

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_RESULTS = 1000  # page × limit: deeper pages are refused
MAX_CHARS = 500
MAX_TERMS = 32
MAX_DEPTH = 8
MAX_FUZZ = 2
MIN_PREFIX = 3
FILTER_FIELDS = ("kind", "condition", "grade", "design", "type", "direction")

_FILTER = re.compile(r"^(" + "|".join(FILTER_FIELDS) + r"):(.*)$", re.IGNORECASE | re.DOTALL)
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_PMID = re.compile(r"^pmid:(\d{1,9})$", re.IGNORECASE)
_FUZZY = re.compile(r"^(.*?)~(\d*)$", re.DOTALL)
_WILD = re.compile(r"[*?]")
_LEX = re.compile(r'"[^"]*"?|[()]|[^\s"()]+')


def _fail(reason: str) -> InvalidQuery:
    return InvalidQuery(f"could not understand the query: {reason}")


@dataclass(frozen=True)
class Leaf:
    """One search term: ``word`` (a stem), ``concept`` (a concept token), ``phrase`` (stems),
    ``prefix`` (a pattern over stems), ``fuzzy`` (a stem and a distance) or ``literal``."""

    kind: str
    value: tuple[str, ...]
    typed: str
    distance: int = 0


@dataclass(frozen=True)
class Node:
    """``and`` / ``or`` over children (leaves or nodes)."""

    op: str
    children: tuple[Node | Leaf, ...]


Tree = Node | Leaf


@dataclass
class ParsedQuery:
    """The understood query: a tree to score, exclusions, filters and notes for the user.

    ``words`` are the plain words as typed (candidates for a "did you mean"); ``notes`` say
    what was ignored and why.
    """

    text: str
    tree: Tree | None
    exclude: list[Tree] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    exclude_filters: dict[str, list[str]] = field(default_factory=dict)
    words: list[Word] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    nothing: str | None = None  # why a query of only common words finds nothing

    def leaves(self, *, positive_only: bool = True) -> list[Leaf]:
        """Every leaf of the tree (and of the exclusions unless ``positive_only``)."""
        out: list[Leaf] = []
        stack: list[Tree] = [self.tree] if self.tree is not None else []
        if not positive_only:
            stack.extend(self.exclude)
        while stack:
            node = stack.pop()
            if isinstance(node, Leaf):
                out.append(node)
            else:
                stack.extend(node.children)
        return out


class _Parser:
    def __init__(self, text: str, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.tokens: list[str] = _LEX.findall(text)
        self.i = 0
        self.q = ParsedQuery(text, None)
        self.stops: list[str] = []

    # -- token stream ----------------------------------------------------------------------
    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    # -- grammar ---------------------------------------------------------------------------
    def parse(self) -> ParsedQuery:
        tree = self.or_expr(0)
        while self.peek() is not None:  # only stray ")" can stop or_expr early
            self.take()
            more = self.or_expr(0)
            tree = _join("or", [t for t in (tree, more) if t is not None])
        self.q.tree = tree
        return self.q

    def or_expr(self, depth: int) -> Tree | None:
        items: list[Tree | list[str]] = []
        while (tok := self.peek()) is not None and tok != ")":
            if tok in ("OR", "AND"):
                self.take()
                if tok == "AND" and items:
                    right = self.unary(depth)
                    if right is not None:
                        # AND binds tighter than the implicit OR: only the last word joins it
                        left = items.pop()
                        if isinstance(left, list):
                            if len(left) > 1:
                                items.append(left[:-1])
                            left = [left[-1]]
                        left_tree = self.run(left) if isinstance(left, list) else left
                        joined = _join("and", [t for t in (left_tree, right) if t])
                        if joined is not None:  # never None: ``right`` is a tree
                            items.append(joined)
                continue
            plain = self.plain_word(tok)
            if plain is not None:
                self.take()
                if items and isinstance(items[-1], list):
                    items[-1].append(plain)
                else:
                    items.append([plain])
                continue
            item = self.unary(depth)
            if item is not None:
                items.append(item)
        trees = [self.run(it) if isinstance(it, list) else it for it in items]
        return _join("or", [t for t in trees if t is not None])

    def unary(self, depth: int) -> Tree | None:
        tok = self.peek()
        if tok != "NOT" and not (tok is not None and tok.startswith("-") and tok.strip("-")):
            return self.atom(depth)
        if tok != "NOT" and tok[1:2].isdigit():  # "-0.34" is a negative number, not NOT 0.34
            return self.atom(depth)
        self.take()
        if tok != "NOT":
            self.tokens.insert(self.i, tok.lstrip("-"))
        nxt = self.peek()
        if nxt is not None and _FILTER.match(nxt):
            self.take()
            self.filter(nxt, self.q.exclude_filters)
            return None
        inner = self.unary(depth)
        if inner is not None:
            self.q.exclude.append(inner)
        return None

    def atom(self, depth: int) -> Tree | None:
        tok = self.peek()
        if tok is None or tok == ")":
            return None
        self.take()
        if tok == "(":
            if depth >= MAX_DEPTH:
                raise _fail(f"more than {MAX_DEPTH} nested parentheses")
            inner = self.or_expr(depth + 1)
            if self.peek() == ")":
                self.take()
            return inner
        if tok.startswith('"'):
            return self.phrase(tok.strip('"'))
        return self.special(tok)

    # -- leaves ----------------------------------------------------------------------------
    def plain_word(self, tok: str) -> str | None:
        """``tok`` when it is an ordinary word that can join a run (for multi-word concepts)."""
        if tok in ("(", ")", "NOT", "AND", "OR") or tok.startswith('"'):
            return None
        if tok.startswith("-") and not tok[1:2].isdigit():
            return None
        if _FILTER.match(tok) or _DOI.match(tok) or _PMID.match(tok) or _WILD.search(tok):
            return None
        if "~" in tok or "^" in tok:
            return None
        return tok.lstrip("+")

    def run(self, typed: list[str]) -> Tree | None:
        """Leaves for consecutive plain words, with multi-word concepts recognised."""
        seq: list[Word] = []
        for t in typed:
            for w in words(t):
                seq.append(w)
            self.stops.extend(x.lower() for x in WORD.findall(t) if not keep(x.lower()))
        self.q.words.extend(seq)
        leaves: list[Tree] = []
        stems_ = [w.stem for w in seq]
        i = 0
        for start, length, token in self.vocab.tag(stems_):
            leaves.extend(Leaf("word", (w.stem,), w.surface) for w in seq[i:start])
            typed_span = " ".join(w.surface for w in seq[start : start + length])
            leaves.append(Leaf("concept", (token,), typed_span))
            i = start + length
        leaves.extend(Leaf("word", (w.stem,), w.surface) for w in seq[i:])
        return _join("or", leaves)

    def phrase(self, body: str) -> Tree | None:
        seq = words(body)
        if not seq:
            self.stops.extend(x.lower() for x in WORD.findall(body))
            return None
        if len(seq) == 1:
            self.q.words.extend(seq)
            return Leaf("word", (seq[0].stem,), seq[0].surface)
        return Leaf("phrase", tuple(w.stem for w in seq), body)

    def special(self, tok: str) -> Tree | None:
        if _FILTER.match(tok):
            self.filter(tok, self.q.filters)
            return None
        m = _DOI.match(tok)
        if m:
            return Leaf("literal", ("doi:" + m.group(1).lower().rstrip(".,;"),), tok)
        m = _PMID.match(tok)
        if m:
            return Leaf("word", (m.group(1),), tok)
        tok = tok.lstrip("+").split("^", 1)[0]
        m = _FUZZY.match(tok)
        if m and not _WILD.search(m.group(1)):
            base = words(m.group(1))
            if not base:
                return None
            dist = min(int(m.group(2)) if m.group(2) else 1, MAX_FUZZ)
            leaves: list[Tree] = [Leaf("word", (w.stem,), w.surface) for w in base[:-1]]
            last = base[-1]
            if len(last.surface) >= 4 and dist > 0 and not last.surface[0].isdigit():
                leaves.append(Leaf("fuzzy", (last.stem,), m.group(1), dist))
            else:
                leaves.append(Leaf("word", (last.stem,), last.surface))
            return _join("or", leaves)
        if _WILD.search(tok):
            return self.wildcard(tok)
        return self.run([tok])

    def filter(self, tok: str, into: dict[str, list[str]]) -> None:
        """``field:value`` (or ``field:"two words"``) into ``into``."""
        m = _FILTER.match(tok)
        assert m is not None
        value = m.group(2)
        if not value and (nxt := self.peek()) is not None and nxt.startswith('"'):
            value = self.take().strip('"')
        if value.strip():
            into.setdefault(m.group(1).lower(), []).append(value.strip())

    def wildcard(self, tok: str) -> Tree | None:
        pattern = re.sub(r"[^\w*?]", "", tok.lower()).lstrip("*?")
        literal = _WILD.split(pattern, 1)[0]
        if not pattern:
            self.q.notes.append(f"ignored {tok!r}: a wildcard on its own would match everything")
            return None
        if not _WILD.search(pattern):
            return self.run([pattern])
        if len(literal) < MIN_PREFIX:
            self.q.notes.append(
                f"ignored {tok!r}: a wildcard needs at least {MIN_PREFIX} letters before it"
            )
            return None
        return Leaf("prefix", (pattern,), tok)


def _join(op: str, items: list[Tree]) -> Tree | None:
    if not items:
        return None
    if len(items) == 1:
        return items[0]
    flat: list[Tree] = []
    for it in items:
        if isinstance(it, Node) and it.op == op:
            flat.extend(it.children)
        else:
            flat.append(it)
    flat = list(dict.fromkeys(flat))  # a word typed twice is looked up once
    return flat[0] if len(flat) == 1 else Node(op, tuple(flat))


def parse(text: str, vocab: Vocabulary) -> ParsedQuery:
    """Understand ``text``; raise :class:`InvalidQuery` when there is nothing to search for.

    A query that only filters (``kind:dose``) is valid and has no tree.
    """
    if not isinstance(text, str):
        raise _fail("it must be text")
    if len(text) > MAX_CHARS * 4:  # do not even normalise absurd input
        raise _fail(f"it is {len(text)} characters long; the limit is {MAX_CHARS}")
    text = normalise(text)
    if not text:
        raise _fail("it is empty; type a word to search for")
    if len(text) > MAX_CHARS:
        raise _fail(f"it is {len(text)} characters long; the limit is {MAX_CHARS}")
    parser = _Parser(text, vocab)
    q = parser.parse()
    n = len(q.leaves(positive_only=False))
    if n > MAX_TERMS:
        raise _fail(f"it has {n} search terms; the limit is {MAX_TERMS}")
    if q.tree is None and not q.filters:
        if q.exclude:
            raise _fail("it only excludes; add a word to search for")
        if q.notes:
            raise _fail(q.notes[0].replace("ignored ", "", 1))
        if parser.stops:
            # Not an error: the words are fine, they are just in nearly every text.
            common = ", ".join(dict.fromkeys(parser.stops))
            q.nothing = (
                f"Your search has only very common words ({common}), which are not "
                "searched for; add a more specific word, such as a condition, a drug, "
                "an outcome or an author."
            )
            return q
        raise _fail("it has no words to search for")
    return q


def _norm(value: str) -> str:
    return " ".join(value.lower().replace("_", " ").replace("-", " ").split())


def resolve_filters(
    filters: dict[str, list[str]], conditions: ConditionTree, design_filters: dict[str, list[str]]
) -> dict[str, frozenset[str]]:
    """Typed filter values as the ids the index holds, per filter.

    Forgiving about case, spaces, hyphens and underscores: ``kind:adverse-effect``,
    ``grade:very_low``, ``condition:CRPS`` (a label or synonym works too), ``design:rct`` (an
    alias from ``synonyms.json`` names several designs). An unknown value raises
    :class:`InvalidQuery` listing the choices.
    """
    from ..claims import DIRECTIONS, KINDS
    from ..evidence import DESIGNS, GRADE_ORDER

    out: dict[str, frozenset[str]] = {}
    for name, values in filters.items():
        found: set[str] = set()
        for value in values:
            v = _norm(value)
            if name == "kind":
                hit, choices = {k for k in KINDS if _norm(k) == v}, KINDS
            elif name == "grade":
                hit, choices = {g for g in GRADE_ORDER if g.lower() == v}, GRADE_ORDER
            elif name == "condition":
                hit = {
                    c.id
                    for c in conditions.conditions.values()
                    if v in {_norm(c.id), _norm(c.label), *map(_norm, c.synonyms)}
                }
                choices = tuple(conditions.conditions)
            elif name == "design":
                hit = {d for d, info in DESIGNS.items() if v in (_norm(d), _norm(info[2]))}
                hit |= {d for alias, ds in design_filters.items() if _norm(alias) == v for d in ds}
                choices = tuple(DESIGNS)
            elif name == "type":
                hit = (
                    {"claim"}
                    if v in ("claim", "claims")
                    else {"reference"}
                    if v in ("reference", "references", "ref", "refs")
                    else set()
                )
                choices = ("claim", "reference")
            else:
                hit, choices = {d for d in DIRECTIONS if _norm(d) == v}, DIRECTIONS
            if not hit:
                raise _fail(f"unknown {name} {value!r}; choose from: {', '.join(choices)}")
            found |= hit
        if found:
            out[name] = frozenset(found)
    return out


def as_list(value: Any) -> list[str]:
    """A filter value (one string, a list of them, or nothing) as a list of strings."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Iterable):
        return [str(v) for v in value if v not in (None, "")]
    raise InvalidQuery(f"could not understand the filter value {value!r}")


def page_bounds(limit: Any, page: Any) -> tuple[int, int]:
    """``limit`` and ``page`` as whole numbers within range, or :class:`InvalidQuery`."""
    try:
        limit, page = int(limit), int(page)
    except (TypeError, ValueError):
        raise InvalidQuery(
            "could not understand the query: limit and page must be whole numbers"
        ) from None
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidQuery(f"could not understand the query: limit must be 1 to {MAX_LIMIT}")
    if page < 1:
        raise InvalidQuery("could not understand the query: page must be 1 or more")
    if page * limit > MAX_RESULTS:
        raise InvalidQuery(
            f"could not understand the query: only the first {MAX_RESULTS} "
            "results can be paged through; add words or filters"
        )
    return limit, page


def filter_spec(
    kb: KnowledgeBase, vocab: Vocabulary, filters: dict[str, list[str]], *, exclude: bool = False
) -> tuple[Any, dict[str, frozenset[str]], frozenset[str] | None] | None:
    """(cache key, wanted values per facet, grades or None), or None when nothing filters.
    Values of one filter are alternatives; different filters must all hold (with
    ``exclude``: any excludes). Grades are not in the index (they change with editorial
    decisions): the ranking checks them against the grades in memory."""
    wanted = resolve_filters(filters, kb.conditions, vocab.design_filters)
    if not wanted:
        return None
    grades = wanted.pop("grade", None)
    key = (exclude, tuple(sorted((k, tuple(sorted(v))) for k, v in wanted.items())))
    return key, wanted, grades
