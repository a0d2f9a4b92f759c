"""Text normalisation, words and stems: one definition shared by search, ask and the importer.

- :func:`normalise` makes typed or imported text comparable: Unicode NFKC (full-width letters,
  ligatures, non-breaking spaces become their plain forms) and control or formatting
  characters replaced by spaces.
- :func:`tokens` splits text into lower-case words: runs of letters, or numbers kept whole
  ("4.5", "1.5") and split from a unit written against them ("4.5mg" is "4.5" "mg").
- :func:`stem` is the Porter stem of one such word, memoised ("titrated" and "titration" both
  become "titrat"; numbers are left alone).
- :func:`fold` is the key for comparing titles and headings: normalised, case-folded, every
  run of punctuation or whitespace one space.
- :func:`ascii_words` gives the plain-ASCII words of a text, for identifiers and slugs.
- :func:`canonical` is the lossless form stored text is kept in (NFC, line endings ``\\n``).
"""

from __future__ import annotations

import re
import unicodedata

from whoosh.lang.porter import stem as _porter

# Numbers split from a unit written against them ("4.5mg" is "4.5" "mg"); "1.5" stays whole.
WORD = re.compile(r"\d+(?:\.\d+)*|[^\W\d]\w*(?:\.\w+)*")

_STEM_CACHE_MAX = 200_000  # bounds memory on pathological input
_stem_cache: dict[str, str] = {}


# ASCII text is its own NFKC form and its only "C" characters are these: the common case skips
# the per-character Unicode lookup (building Ask's vocabulary at 100k claims: 15 s -> 1 s).
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalise(text: str) -> str:
    """``text`` in NFKC with control and formatting characters as spaces, ends stripped."""
    if text.isascii():
        return _ASCII_CONTROL.sub(" ", text).strip()
    text = unicodedata.normalize("NFKC", text)
    return "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in text).strip()


def tokens(text: str) -> list[str]:
    """The lower-case words of ``text`` in order (see :data:`WORD`); nothing is dropped."""
    return WORD.findall(normalise(text).lower())


def stem(word: str) -> str:
    """The Porter stem of a lower-case word (numbers are left alone); memoised."""
    s = _stem_cache.get(word)
    if s is None:
        s = word if not word or word[0].isdigit() else _porter(word)
        if len(_stem_cache) < _STEM_CACHE_MAX:
            _stem_cache[word] = s
    return s


def fold(text: str) -> str:
    """A comparison key: normalised, case-folded, punctuation and whitespace runs as one space."""
    return " ".join(re.sub(r"[\W_]+", " ", normalise(text).casefold()).split())


def ascii_words(text: str) -> list[str]:
    """Lower-case ASCII letter-and-digit runs of ``text``, accents dropped ("Schöne" → "schone")."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.findall(r"[a-z0-9]+", folded)


def canonical(text: str) -> str:
    """Stored text as written, only made canonical: line endings ``\\n``, Unicode NFC."""
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
