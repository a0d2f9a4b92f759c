"""Saving is canonical, atomic and lossless."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kb import KnowledgeBase
from kb.storage import write_json_atomic

FILES = ("references.json", "claims.json", "articles.json", "conditions.json")


def test_load_then_save_is_byte_identical(data_dir: Path) -> None:
    before = {name: (data_dir / name).read_bytes() for name in FILES}
    KnowledgeBase.load(data_dir).save()
    for name in FILES:
        assert (data_dir / name).read_bytes() == before[name], name


def test_save_to_another_folder_loads_back_the_same(kb: KnowledgeBase, tmp_path: Path) -> None:
    target = tmp_path / "copy"
    kb.save(target)
    again = KnowledgeBase.load(target)
    assert set(again.claims) == set(kb.claims)
    assert {c: g.grade for c, g in again.grades.items()} == {
        c: g.grade for c, g in kb.grades.items()
    }


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    write_json_atomic(path, [1, 2, 3])
    with pytest.raises(TypeError):
        write_json_atomic(path, [object()])
    assert path.read_text() == "[\n  1,\n  2,\n  3\n]\n"
    assert os.listdir(tmp_path) == ["x.json"]
