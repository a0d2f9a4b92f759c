"""A synthetic knowledge base of any size that grows the way a real one does.

Shared by the benchmarks. :func:`make_synthetic_kb` writes a data directory with the same
schema as ``data/``. The real conditions, references, claims and article are kept unchanged
(so every real id still resolves); on top of them it adds, for ``N`` claims:

* **references**: about one per five claims (``N / 5``), each a copy of a real reference's
  design and scope with a new title (words of real titles plus new vocabulary), new authors
  drawn from a growing list of surnames (Zipf-like: a few prolific authors, a long tail) and
  a year; synthetic references carry **no** DOI, PMID or URL (those must never be invented);
* **conditions**: about ``N / 500`` new sub-conditions under the real ones;
* **articles**: about ``N / 5,000`` new articles, each with sections and a reference list
  over its own claims;
* **vocabulary**: ``~30·√N`` new words (Heaps' law), used with a Zipf(1.1) frequency, so the
  number of distinct words grows with ``N`` and most new words are rare;
* **claims**: recombined from real claims of the same kind (clauses spliced, numbers varied),
  each citing one of the references near it, filed under a real scope or a new
  sub-condition; and with most of them about a new sub-condition, the groups conflict
  detection compares (intervention × kind × outcome × overlapping scope) stay of realistic
  size instead of holding every claim of an outcome.

Generated text reads like the real claims; its word distribution is that of the real texts
plus a long tail, which is the hard case for a search engine (long posting lists for common
words), not an easy one. The same ``seed`` always gives the same files.

Run as a script: ``python benchmarks/synthetic.py 100000 /tmp/synthetic`` (a progress bar on a
terminal, quiet otherwise).
"""

from __future__ import annotations

import bisect
import copy
import itertools
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"

_CLAUSE_SPLIT = re.compile(r"(?<=[,;:])\s+|\s+(?=whereas |while |and then |but )")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_ONSETS = ["b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "br", "cl", "st", "tr"]
_VOWELS = ["a", "e", "i", "o", "u", "ae", "io"]
_CODAS = ["", "n", "r", "s", "l", "x", "m", "th"]
_SUFFIXES = ["", "", "in", "ase", "ide", "ol", "ia", "ic", "osis", "al"]


def _pseudo_words(rng: random.Random, count: int, taken: set[str]) -> list[str]:
    """``count`` distinct made-up words (two or three syllables), none of them in ``taken``."""
    out: list[str] = []
    while len(out) < count:
        n = rng.choice([2, 2, 3])
        w = "".join(rng.choice(_ONSETS) + rng.choice(_VOWELS) for _ in range(n))
        w += rng.choice(_CODAS) + rng.choice(_SUFFIXES)
        if w not in taken and len(w) >= 5:
            taken.add(w)
            out.append(w)
    return out


class _Zipf:
    """Draws items with probability proportional to 1 / rank^s."""

    def __init__(self, items: list[str], s: float = 1.1) -> None:
        self.items = items
        self.cum = list(itertools.accumulate(1 / (r**s) for r in range(1, len(items) + 1)))

    def draw(self, rng: random.Random) -> str:
        return self.items[bisect.bisect_left(self.cum, rng.random() * self.cum[-1])]


def _vary_number(rng: random.Random, match: re.Match[str]) -> str:
    text = match.group(0)
    if "." in text:
        return f"{rng.uniform(0.5, 99):.1f}"
    return str(rng.randint(1, 400))


def _vary_value(rng: random.Random, value: dict[str, Any] | None) -> dict[str, Any] | None:
    """The same kind of headline number with a different value (schema stays valid)."""
    if value is None:
        return None
    v = copy.deepcopy(value)
    t = v["type"]
    if t == "percentage":
        v["value"] = round(rng.uniform(1, 99), 1)
        v["as_stated"] = f"{v['value']:g}%"
    elif t == "quantity":
        v["value"] = rng.choice([0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 6, 8, 50])
        v["as_stated"] = f"{v['value']:g} {v['unit']}"
    elif t == "range":
        low = rng.choice([0.5, 1, 1.5, 2, 3, 4])
        v["low"], v["high"] = low, low + rng.choice([0.5, 1, 2, 3, 4])
        v["as_stated"] = f"{v['low']:g}-{v['high']:g} {v['unit']}"
    elif t == "count":
        v["value"] = rng.randint(2, 2000)
        v["as_stated"] = f"{v['value']} {v['unit']}"
    elif t == "ratio":
        den = rng.randint(2, 200)
        v["numerator"], v["denominator"] = rng.randint(1, den), den
        v["as_stated"] = f"{v['numerator']}/{v['denominator']}"
    return v


def _splice(rng: random.Random, texts: list[str]) -> str:
    """A sentence built from clauses of one to three real texts, numbers varied."""
    clauses: list[str] = []
    for text in rng.sample(texts, min(len(texts), rng.choice([1, 2, 2, 3]))):
        parts = [p.strip(" ,;:") for p in _CLAUSE_SPLIT.split(text.rstrip(".")) if p.strip(" ,;:")]
        start = rng.randrange(len(parts))
        clauses.extend(parts[start : start + rng.choice([1, 2])])
    out = ", ".join(clauses)
    out = _NUMBER.sub(lambda m: _vary_number(rng, m), out)
    return out[:1].upper() + out[1:] + "."


def _progress(total: int, label: str) -> Any:
    """A click progress bar on a terminal; a silent counter otherwise (logs, CI, pipes)."""
    if sys.stderr.isatty():
        import click

        return click.progressbar(length=total, label=label, file=sys.stderr)

    class _Quiet:
        def __enter__(self) -> _Quiet:
            return self

        def __exit__(self, *exc: object) -> None:
            return None

        def update(self, n: int) -> None:
            return None

    return _Quiet()


def _new_references(
    rng: random.Random,
    refs: list[dict[str, Any]],
    new_conds: list[dict[str, Any]],
    count: int,
    zipf_words: _Zipf,
    zipf_names: _Zipf,
) -> list[dict[str, Any]]:
    """``count`` references modelled on real ones, most about one of ``new_conds``."""
    titles = [r["title"] for r in refs if r.get("title")]
    new_refs: list[dict[str, Any]] = []
    for k in range(1, count + 1):
        base = rng.choice(refs)
        custom = {
            key: base["custom"][key]
            for key in ("design", "role", "conditions", "condition_ids")
            if key in base.get("custom", {})
        }
        if new_conds and rng.random() < 0.9:
            cond = rng.choice(new_conds)["id"]
            custom["condition_ids"] = custom["conditions"] = [cond]
        if isinstance(base.get("custom", {}).get("n"), int):
            custom["n"] = rng.randint(8, 600)
        title = _splice(rng, titles).rstrip(".")
        title += " in " + " ".join(zipf_words.draw(rng) for _ in range(rng.randint(1, 3)))
        rec = {
            "id": f"syn-ref-{k:06d}",
            "type": base.get("type", "article-journal"),
            "title": title,
            "author": [
                {"family": zipf_names.draw(rng), "given": rng.choice("ABCDEFGHJKLMNPRST") + "."}
                for _ in range(rng.randint(1, 6))
            ],
            "issued": {"date-parts": [[rng.randint(1985, 2025)]]},
            "custom": custom,
        }
        if base.get("container-title"):
            rec["container-title"] = base["container-title"]
        new_refs.append(rec)
    return new_refs


def _new_articles(
    rng: random.Random,
    template: dict[str, Any],
    synthetic: list[dict[str, Any]],
    count: int,
    zipf_words: _Zipf,
) -> list[dict[str, Any]]:
    """Up to ``count`` articles shaped like ``template``, each over 40 consecutive claims."""
    articles: list[dict[str, Any]] = []
    for k in range(1, count + 1):
        run = synthetic[(k - 1) * 40 : k * 40]
        chunk = [c["id"] for c in run]
        if len(chunk) < 6:
            break
        cited = list(
            dict.fromkeys(c["ref"] for rec in run for c in rec["citations"] if c.get("ref"))
        )
        art = copy.deepcopy(template)
        art.update(
            id=f"syn-article-{k:03d}",
            title=f"Synthetic article {k}: {zipf_words.draw(rng)}",
            question=f"What is known about {zipf_words.draw(rng)}?",
            source_ref=None,
            review_status="submitted",
            bottom_line=chunk[:3],
            sections=[
                {"heading": f"Section {j + 1}", "claims": chunk[j * 6 : j * 6 + 6]}
                for j in range(len(chunk) // 6)
            ],
            reference_list=[{"number": j + 1, "ref": r} for j, r in enumerate(cited)],
            citation_resolutions=[],
        )
        articles.append(art)
    return articles


def make_synthetic_kb(n_claims: int, out_dir: Path, seed: int = 0) -> Path:
    """Write a data directory with ``n_claims`` claims to ``out_dir`` and return it.

    The real records come first (``n_claims`` below the number of real claims still keeps
    them all), then generated ones: claims ``syn-000001`` …, references ``syn-ref-000001`` …,
    conditions ``syn-cond-0001`` …, articles ``syn-article-001`` ….
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    real: list[dict[str, Any]] = json.loads((DATA / "claims.json").read_text("utf-8"))
    refs: list[dict[str, Any]] = json.loads((DATA / "references.json").read_text("utf-8"))
    conds: list[dict[str, Any]] = json.loads((DATA / "conditions.json").read_text("utf-8"))
    articles: list[dict[str, Any]] = json.loads((DATA / "articles.json").read_text("utf-8"))
    rng = random.Random(seed)
    extra = max(0, n_claims - len(real))

    # vocabulary: real words are taken; new ones follow Heaps' law, drawn Zipf-like
    taken = {w.lower() for r in real for w in re.findall(r"[A-Za-z]+", r["text"])}
    new_words = _pseudo_words(rng, int(30 * max(extra, 1) ** 0.5), taken)
    zipf_words = _Zipf(new_words)
    real_names = sorted({a["family"] for r in refs for a in r.get("author") or [] if "family" in a})
    names = real_names + [w.capitalize() for w in _pseudo_words(rng, extra // 20 + 10, taken)]
    zipf_names = _Zipf(names, s=0.9)

    # conditions: new sub-conditions under the real ones
    new_conds: list[dict[str, Any]] = []
    for k in range(1, extra // 500 + 1):
        parent = rng.choice(conds)
        label = f"{zipf_words.draw(rng).capitalize()} {parent['label'].split(' (')[0].lower()}"
        new_conds.append(
            {"id": f"syn-cond-{k:04d}", "label": label, "parents": [parent["id"]], "synonyms": []}
        )

    # references: about one per five claims
    new_refs = _new_references(rng, refs, new_conds, extra // 5, zipf_words, zipf_names)
    ref_conditions = {r["id"]: r["custom"].get("condition_ids") for r in new_refs}

    # claims
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for rec in real:
        by_kind.setdefault(rec["kind"], []).append(rec)
    texts = {k: [r["text"] for r in v] for k, v in by_kind.items()}
    plains = {k: [r.get("plain_text") or r["text"] for r in v] for k, v in by_kind.items()}
    scopes = [rec["conditions"] for rec in real]
    dossier = [rec for rec in real if rec["origin"] == "dossier"]
    claims = list(real)
    with _progress(extra, "claims") as bar:
        for i in range(1, extra + 1):
            base = rng.choice(dossier)
            rec = copy.deepcopy(base)
            rec["id"] = f"syn-{i:06d}"
            text = _splice(rng, texts[base["kind"]])
            if rng.random() < 0.7:  # a clause of the growing, Zipf-distributed vocabulary
                tail = " ".join(zipf_words.draw(rng) for _ in range(rng.randint(1, 4)))
                text = text[:-1] + f", in {tail}."
            if rng.random() < 0.3:
                text = text[:-1] + f" ({zipf_names.draw(rng)} {rng.randint(1990, 2025)})."
            rec["text"] = text
            if "plain_text" in rec:
                if rng.random() < 0.5:
                    rec["plain_text"] = _splice(rng, plains[base["kind"]])
                else:
                    del rec["plain_text"]
            rec["value"] = _vary_value(rng, base["value"])
            rec["reported_numbers"] = {
                k: (
                    _NUMBER.sub(lambda m: _vary_number(rng, m), v)
                    if isinstance(v, str)
                    else rng.randint(1, 500)
                    if isinstance(v, int)
                    else v
                )
                for k, v in base["reported_numbers"].items()
            }
            if new_refs:  # cite a reference near this claim's position: ~5 claims each
                ref = new_refs[min(len(new_refs) - 1, (i - 1) // 5 + rng.randint(-2, 2))]["id"]
                rec["citations"] = [{"ref": ref}]
                if rec.get("primary") is not None:
                    rec["primary"] = {**rec["primary"], "ref": ref}
                scope = ref_conditions.get(ref)
            else:
                scope = None
            if scope:
                rec["conditions"] = list(scope)
            elif new_conds and rng.random() < 0.6:
                rec["conditions"] = [rng.choice(new_conds)["id"]]
            elif rng.random() < 0.3:
                rec["conditions"] = list(rng.choice(scopes))
            claims.append(rec)
            if i % 1000 == 0:
                bar.update(1000)
        bar.update(extra % 1000)

    # articles: each over a run of consecutive synthetic claims
    articles += _new_articles(rng, articles[0], claims[len(real) :], extra // 5000, zipf_words)

    def dump(name: str, records: list[dict[str, Any]]) -> None:
        text = json.dumps(records, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        (out_dir / name).write_text(text, encoding="utf-8")

    dump("conditions.json", conds + new_conds)
    dump("references.json", refs + new_refs)
    dump("claims.json", claims)
    dump("articles.json", articles)
    return out_dir


def cached_kb(n_claims: int, root: Path | None = None) -> Path:
    """The data directory of a synthetic knowledge base of ``n_claims``, made once and kept
    under ``root`` (default ``$KB_SYNTHETIC_ROOT``, else ``/tmp/kb-synthetic``: the benchmarks
    share it; its index goes to ``../instance/index``). The folder is named after the real
    data and this generator, so a change to either makes a new one."""
    import hashlib
    import os

    if root is None:
        root = Path(os.environ.get("KB_SYNTHETIC_ROOT") or "/tmp/kb-synthetic")

    h = hashlib.sha1(Path(__file__).read_bytes())
    for name in ("conditions.json", "references.json", "claims.json", "articles.json"):
        h.update((DATA / name).read_bytes())
    data_dir = root / f"{n_claims}-{h.hexdigest()[:10]}" / "data"
    if not (data_dir / "claims.json").exists():
        tmp = data_dir.with_name("data.tmp")
        make_synthetic_kb(n_claims, tmp)
        tmp.rename(data_dir)
    return data_dir


if __name__ == "__main__":  # pragma: no cover - convenience entry point
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    target = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(f"/tmp/synthetic-{n}")
    print(make_synthetic_kb(n, target))
