"""How the code is put together: owned state, layering, one definition per name.

These guard the rules README "Module map" states, so a change that breaks one fails here
with the file and line to look at.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from kb import KnowledgeBase
from kb.editorial import Editor

REPO = Path(__file__).resolve().parent.parent


def _modules(package: str) -> list[Path]:
    return sorted((REPO / package).rglob("*.py"))


# -- the knowledge base owns its derived state -------------------------------------------------
def test_no_module_reaches_into_the_knowledge_base() -> None:
    offenders = [
        f"{path.relative_to(REPO)}:{lineno}: {line.strip()}"
        for path in _modules("kb") + _modules("web")
        if path.name != "knowledgebase.py"
        for lineno, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if re.search(r"\bkb\.(__dict__|_[a-z])", line)
    ]
    assert offenders == []


def test_freshness_is_never_decided_by_object_identity() -> None:
    """ids are reused once an object is freed: caches key on KnowledgeBase.generation (and
    EditorialState.serial), never on id() of a knowledge base, its state or its views."""
    offenders = [
        f"{path.relative_to(REPO)}:{lineno}: {line.strip()}"
        for path in _modules("kb") + _modules("web")
        for lineno, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if re.search(r"\bid\((self\.)?(kb|state|grades|editorial)\b", line)
    ]
    assert offenders == []


def test_an_editorial_verdict_replaces_the_claim_and_moves_the_generation(
    data_dir: Path, tmp_path: Path
) -> None:
    kb = KnowledgeBase.load(data_dir)
    editor = Editor.open(kb, tmp_path / "instance")
    before, generation = kb.claim("seed-inexpensive"), kb.generation
    kept = kb.cache("test.claim-count", lambda k: len(k.claims))
    assert kb.cache("test.claim-count", lambda k: -1) == kept  # reused while fresh
    editor.record(
        "eve",
        "editor",
        "set_verdict",
        "claim:seed-inexpensive",
        after={"verdict": "not_stated", "note": "editor check"},
    )
    after = kb.claim("seed-inexpensive")
    assert after is not before and after.primary["verdict"] == "not_stated"
    assert (before.primary or {}).get("verdict") != "not_stated"  # the old record is untouched
    assert kb.generation != generation
    assert kb.cache("test.claim-count", lambda k: -1) == -1  # rebuilt for the new generation


def test_state_read_from_records_alone_outlives_a_verdict_but_not_a_record_change(
    data_dir: Path, tmp_path: Path
) -> None:
    """Ask's vocabulary (seconds to build at 100k claims) is kept across verdicts and board
    decisions; grade-dependent caches are not; a changed record drops both."""
    kb = KnowledgeBase.load(data_dir)
    editor = Editor.open(kb, tmp_path / "instance")
    records = kb.cache("test.texts", lambda k: object(), records=True)
    graded = kb.cache("test.grades", lambda k: object())
    editor.record(
        "eve",
        "editor",
        "set_verdict",
        "claim:vatvani2024-f1",
        after={"verdict": "not_supported_as_worded", "note": "editor check"},
    )
    assert kb.cache("test.texts", lambda k: object(), records=True) is records
    assert kb.cache("test.grades", lambda k: object()) is not graded
    kb.amend_claim("vatvani2024-f1", text="Reworded by an editor.")
    assert kb.cache("test.texts", lambda k: object(), records=True) is not records


def test_generations_are_never_reused_across_knowledge_bases(data_dir: Path) -> None:
    seen = set()
    for _ in range(20):
        kb = KnowledgeBase.load(data_dir)
        seen.add(kb.generation)
        kb.invalidate()
        seen.add(kb.generation)
    assert len(seen) == 40


# -- layering ----------------------------------------------------------------------------------
def _imports(path: Path) -> list[tuple[int, str]]:
    """Absolute module names ``path`` imports (relative imports resolved), with line numbers."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level + (1 if path.name == "__init__.py" else 0)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.append((node.lineno, name))
            out.extend((node.lineno, f"{name}.{a.name}") for a in node.names)
    return out


def test_kb_is_a_library_that_never_imports_the_web_layer() -> None:
    bad = [
        f"{p.relative_to(REPO)}:{n}: {name}"
        for p in _modules("kb")
        for n, name in _imports(p)
        if name.split(".")[0] in ("flask", "werkzeug", "web", "flask_login", "flask_wtf")
    ]
    assert bad == []


def test_the_site_never_imports_the_command_line() -> None:
    bad = [
        f"{p.relative_to(REPO)}:{n}: {name}"
        for p in _modules("web")
        for n, name in _imports(p)
        if name == "kb.cli" or name.startswith("kb.cli.")
    ]
    assert bad == []


def test_every_module_imports_on_its_own() -> None:
    """No import cycle breaks a library module imported first (each with no kb module loaded;
    every web module starts by loading the whole of kb)."""
    names = [
        ".".join(p.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        for p in _modules("kb")
    ]
    script = (
        "import importlib, sys\n"
        f"for name in {names!r}:\n"
        "    for loaded in [m for m in sys.modules if m.split('.')[0] == 'kb']:\n"
        "        del sys.modules[loaded]\n"
        "    importlib.import_module(name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_no_private_name_is_imported_from_another_module() -> None:
    """A name shared between modules is public (no leading underscore): a private name is
    free to change without looking for users elsewhere."""
    found = sorted(
        f"{p.relative_to(REPO)}:{n}: {name}"
        for p in _modules("kb") + _modules("web")
        for n, name in _imports(p)
        if name.rpartition(".")[2].startswith("_") and not name.endswith("__")
    )
    assert found == []


def test_the_lock_file_pins_every_declared_dependency() -> None:
    """CI installs requirements-lock.txt only: a dependency added to pyproject.toml without
    running `bash .ci/lock` would be missing there."""

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    project = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]
    declared = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        declared += extra
    pinned = {
        norm(line.split("==")[0])
        for line in (REPO / "requirements-lock.txt").read_text("utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    missing = [d for d in declared if norm(re.split(r"[<>=!~ \[;]", d)[0]) not in pinned]
    assert missing == []
