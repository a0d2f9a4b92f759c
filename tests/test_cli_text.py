"""The CLI's text output for reviewers: readable sentences, claim texts, correct plurals,
no empty labels; ``--json`` keeps the library's shapes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner, Result

from kb import KnowledgeBase, integrity
from kb.cli import cli
from kb.cli.common import plural, sources_label


def run(data_dir: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(data_dir), *args], obj={})


def test_plural() -> None:
    assert plural(1, "article") == "1 article"
    assert plural(2, "article") == "2 articles"
    assert plural(0, "claim") == "0 claims"
    assert (
        plural(1, "study", "studies") == "1 study" and plural(3, "study", "studies") == "3 studies"
    )
    assert sources_label([]) == "no source cited" and sources_label(["", "A 2020"]) == "A 2020"


def test_no_singular_count_takes_a_plural(data_dir: Path) -> None:
    for args in (["validate"], ["dependents", "hivma_idsa2017"], ["integrity"], ["contested"]):
        out = run(data_dir, *args).output
        assert not re.search(r"\b1 (articles|claims|references|conflicts)\b", out), (args, out)
    assert "and 1 article depend on it" in run(data_dir, "dependents", "hivma_idsa2017").output
    assert "1 article are valid" in run(data_dir, "validate").output


def test_dependents_print_claim_texts(data_dir: Path, kb: KnowledgeBase) -> None:
    out = run(data_dir, "dependents", "hivma_idsa2017").output
    # SEED_MAP §5: [6] is the HIVMA/IDSA 2017 guideline behind the seed's gabapentin statement.
    assert f"seed-gabapentin-first-line: {kb.claims['seed-gabapentin-first-line'].text}" in out
    assert kb.articles["ldn-chronic-pain"].title in out


def test_integrity_is_readable_not_python_dicts(data_dir: Path, kb: KnowledgeBase) -> None:
    out = run(data_dir, "integrity").output
    assert "{'" not in out and '{"' not in out
    # SEED_MAP §0: [6] and [7] are cited but missing from the seed's list.
    assert "cites [6], missing from the list of ldn-chronic-pain" in out
    assert "proposed: Rassi-Mariani 2024 (rassimariani2024) (match, proposed)" in out
    assert kb.claims["seed-stop-worsening"].text in out
    # The dossier saw no DOI or PMID for the diabetic-neuropathy trial.
    assert "(srinivasan2021), primary study: no DOI or PMID" in out
    for key, items in integrity.report(kb).items():
        title = key.replace("_", " ")
        assert f"{title[:1].upper()}{title[1:]}: {len(items)}" in out


def test_no_empty_source_label(data_dir: Path) -> None:
    out = run(data_dir, "contested").output
    assert "; ;" not in out and "; )" not in out and "[; " not in out
    # The seed's 32% adverse-effect statement cites nothing (while it sits in a conflict).
    flat = " ".join(out.split())
    if "seed-adverse-effect-rate-32pct" in flat:
        assert "no source cited; seed-adverse-effect-rate-32pct" in flat


def test_json_is_unchanged(data_dir: Path, kb: KnowledgeBase) -> None:
    data = json.loads(run(data_dir, "integrity", "--json").output)
    assert data == json.loads(json.dumps(integrity.report(kb)))
