"""What the search index holds for each claim and reference: a weighted body, facets, a hash.

A claim document's ``body`` holds, each part with a weight (see :mod:`kb.search.concepts` for
words and concepts): the claim text (weight 1), its plain-language text (0.5), its numbers with
units — the headline value and the reported numbers (0.5) — the concepts of its kind,
intervention and conditions and the words of its outcome (0.5), and at 0.25 the conditions above them ("neuropathic pain"
finds CRPS claims), the design of the study it rests on and the label of each cited reference
(authors, year, journal). Grade and direction are filters and facets. A reference document
holds its title (1), its DOI, PMID and PMCID (1), authors, journal and year (0.5), and the
concepts of its conditions and design.

Grades and evidence weights are not indexed (an editorial decision changes them; ranking reads
them from memory), so building documents never needs the grades. The facets (type, kind,
design, direction) are one column value per document and its conditions (with the conditions
above them) another: few distinct values each, so filters and facet counts work on a few
hundred values rather than on every document.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .. import evidence as evidence_mod
from ..claims import KINDS
from ..text import WORD
from .concepts import Vocabulary

if TYPE_CHECKING:
    from ..knowledgebase import KnowledgeBase

# The body column: sections joined by SECTION_SEP, each "<weight>BOOST_SEP<tokens>" (the index
# decodes it in kb.search.index._BodyFormat).
SECTION_SEP, BOOST_SEP = "\x1e", "\x1f"
_FACET = "\x1f"


def evidence_weight(start: int, grade: int) -> float:
    """The ranking multiplier of :mod:`kb.search.ranking` (0.6 … 1.0)."""
    return round(0.6 + 0.25 * (start - 1) / 3 + 0.15 * (grade - 1) / 3, 4)


@dataclass
class Doc:
    """One claim or reference as the index stores it (body already analysed)."""

    key: str
    body: str
    facets: bytes
    spell: list[str]
    conds: bytes = b""
    hash: str = ""

    def __post_init__(self) -> None:
        digest = hashlib.sha1(self.body.encode("utf-8") + b"\0" + self.facets + b"\0" + self.conds)
        self.hash = digest.hexdigest()[:20]


def _body(parts: Iterable[tuple[float, str]]) -> str:
    return SECTION_SEP.join(f"{w:g}{BOOST_SEP}{toks}" for w, toks in parts if toks)


def _spellable(*texts: str | None) -> list[str]:
    """Distinct words of four letters or more, lower-cased: the "did you mean" vocabulary."""
    return list(
        dict.fromkeys(
            w for t in texts if t for w in WORD.findall(t.lower()) if len(w) >= 4 and w.isalpha()
        )
    )


def _facet_bytes(*values: str) -> bytes:
    return _FACET.join(values).encode("utf-8")


def _claim_doc(
    kb: KnowledgeBase, vocab: Vocabulary, cid: str, labels: dict[str, str], analyze_meta: Any
) -> Doc:
    claim = kb.claims[cid]
    source = evidence_mod.evidence_source(kb, claim)
    design = evidence_mod.design_of(source) if source else ""  # with the dossier's corrections
    direct = list(claim.conditions)
    above = sorted(kb.conditions.with_ancestors(direct) - set(direct))
    linked = vocab.linked
    numbers = [claim.value_text or "", (claim.value or {}).get("as_stated", "")]
    numbers += [
        v
        for v in claim.record.get("reported_numbers", {}).values()
        if isinstance(v, (str, int, float)) and not isinstance(v, bool)
    ]
    main_meta = [t for c in direct for t in linked("conditions", c)]
    main_meta += linked("kinds", claim.kind) + linked("interventions", claim.intervention)
    # what the claim measures ("discontinuation rate", "time to response")
    main_meta.append(analyze_meta(claim.outcome.replace("-", " ")))
    side_meta = [t for c in above for t in linked("conditions", c)]
    side_meta += linked("designs", design) if design else []
    side_text = " ".join(labels[r] for r in claim.cited_refs)
    text_words = WORD.findall(claim.text.lower())
    plain_words = WORD.findall(claim.plain_text.lower()) if claim.plain_text else []
    body = _body(
        [
            (1.0, vocab.analyze(claim.text, text_words)),
            (0.5, vocab.analyze("", plain_words)),
            (0.5, analyze_meta(" ".join(str(n) for n in numbers))),
            (0.5, " ".join(main_meta)),
            (0.25, " ".join(side_meta) + " " + analyze_meta(side_text)),
        ]
    )
    facets = _facet_bytes("claim", claim.kind, design, claim.direction)
    conds = " ".join(sorted(kb.conditions.with_ancestors(direct))).encode("utf-8")
    spell = list(dict.fromkeys(w for w in text_words + plain_words if len(w) >= 4 and w.isalpha()))
    return Doc(f"claim:{cid}", body, facets, spell, conds)


def _ref_label(kb: KnowledgeBase, rid: str) -> str:
    csl = kb.references[rid].csl
    names = [a.get("family") or a.get("literal") or "" for a in (csl.get("author") or [])[:3]]
    year = kb.references[rid].year
    return " ".join(
        [*names, str(year or ""), csl.get("container-title") or csl.get("publisher") or ""]
    )


def _reference_doc(kb: KnowledgeBase, vocab: Vocabulary, rid: str) -> Doc:
    ref = kb.references[rid]
    csl = ref.csl
    design = evidence_mod.design_of(ref)
    conds = sorted(kb.conditions.with_ancestors(c for c in ref.condition_ids if c in kb.conditions))
    authors = " ".join(
        " ".join(filter(None, (a.get("given"), a.get("family"), a.get("literal"))))
        for a in csl.get("author") or []
    )
    literal = [
        f"doi:{ref.doi.lower()}" if ref.doi else "",
        ref.pmid or "",
        (ref.pmcid or "").lower(),
    ]
    meta = [t for c in conds for t in vocab.linked("conditions", c)]
    meta += vocab.linked("designs", design)
    body = _body(
        [
            (1.0, vocab.analyze(ref.title)),
            (1.0, " ".join(x for x in literal if x.isprintable() and " " not in x)),
            (
                0.5,
                vocab.analyze(
                    " ".join(
                        [
                            authors,
                            csl.get("container-title") or "",
                            ref.publisher or "",
                            str(ref.year or ""),
                        ]
                    )
                ),
            ),
            (0.25, " ".join(meta)),
        ]
    )
    facets = _facet_bytes("reference", "", design, "")
    return Doc(
        f"reference:{rid}", body, facets, _spellable(ref.title), " ".join(conds).encode("utf-8")
    )


def build_vocabulary(kb: KnowledgeBase) -> Vocabulary:
    """The concepts for ``kb``: synonyms.json plus its conditions, kinds, interventions and
    designs."""
    return Vocabulary.build(
        kb.conditions,
        kinds=KINDS,
        interventions={c.intervention for c in kb.claims.values()},
        designs=evidence_mod.DESIGNS,
    )


def documents(kb: KnowledgeBase, vocab: Vocabulary) -> Iterator[Doc]:
    """Every document of ``kb``'s index: claims, then references."""
    labels = {rid: _ref_label(kb, rid) for rid in kb.references}
    analyze_meta = functools.lru_cache(maxsize=1 << 16)(vocab.analyze)  # labels repeat a lot
    for cid in kb.claims:
        yield _claim_doc(kb, vocab, cid, labels, analyze_meta)
    for rid in kb.references:
        yield _reference_doc(kb, vocab, rid)


FACET_ATTRS = ("type", "kind", "design", "direction")


def parse_facets(raw: bytes) -> tuple[str, str, str, str]:
    """(type, kind, design, direction) of a facets column value."""
    parts = raw.decode("utf-8").split(_FACET) if raw else []
    if len(parts) != len(FACET_ATTRS):
        return ("", "", "", "")
    return (parts[0], parts[1], parts[2], parts[3])
