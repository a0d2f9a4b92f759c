"""Fixtures over copies of the real data files (never the originals)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kb import KnowledgeBase

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"


@pytest.fixture(scope="session")
def real_kb() -> KnowledgeBase:
    """The bundled data, loaded once, read-only by convention (tests must not mutate it)."""
    return KnowledgeBase.load(DATA)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A private copy of the bundled data directory."""
    target = tmp_path / "data"
    shutil.copytree(DATA, target, ignore=shutil.ignore_patterns("_parts"))
    return target


@pytest.fixture
def kb(data_dir: Path) -> KnowledgeBase:
    return KnowledgeBase.load(data_dir)
