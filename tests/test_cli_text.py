"""The CLI's text output for reviewers: readable sentences, claim texts, correct plurals,
no empty labels; ``--json`` keeps the library's shapes."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner, Result

from kb import KnowledgeBase, integrity
from kb.cli import cli
from kb.cli.common import call_with, plural, sources_label
from kb.cli.common import progress as progress_bar


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


# -- progress on long work ---------------------------------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_shows_steps_and_counts_on_a_terminal() -> None:
    out = _Terminal()
    seen: list[tuple[int, int]] = []

    def work(*, progress: Callable[[int, int], None]) -> str:
        for done in (1000, 50_000, 100_000):
            progress(done, 100_000)
            seen.append((done, 100_000))
        return "ok"

    with progress_bar("Search index", ["loading", "indexing"], file=out) as prog:
        prog.step()
        prog.step()
        assert call_with(work, prog) == "ok"
    text = out.getvalue()
    assert "Search index" in text and "loading" in text and "indexing" in text
    assert "50,000 of 100,000" in text and "2/2" in text
    assert seen


def test_progress_is_quiet_off_a_terminal_or_with_json() -> None:
    for stream, quiet in ((io.StringIO(), False), (_Terminal(), True)):
        with progress_bar("Import", ["a", "b"], file=stream, quiet=quiet) as prog:
            prog.step()
            prog.update(5, 10)
            assert call_with(lambda **kw: sorted(kw), prog) == []  # no progress= passed
        assert stream.getvalue() == ""


def test_index_json_output_stays_clean(data_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["--data-dir", str(data_dir), "--index-dir", str(tmp_path / "ix"), "index", "--json"],
        obj={},
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["documents"] > 0
