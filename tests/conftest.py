"""Fixtures over copies of the real data files (never the originals)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from kb import KnowledgeBase

from helpers.web_client import PASSWORD

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


# -- web app fixtures ----------------------------------------------------------------------
@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    """Where a test's search index is built (never inside the repository)."""
    return tmp_path / "index"


@pytest.fixture
def app(data_dir: Path, index_dir: Path) -> Flask:
    """The web app over a private data copy, with its own search index."""
    from web import create_app

    return create_app(
        {"TESTING": True, "KB_DATA_DIR": str(data_dir), "KB_INDEX_DIR": str(index_dir)}
    )


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def real_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """One app over a copy of the bundled data, shared by read-only tests (built once)."""
    from web import create_app

    root = tmp_path_factory.mktemp("real_app")
    data = root / "data"
    shutil.copytree(DATA, data, ignore=shutil.ignore_patterns("_parts"))
    return create_app(
        {"TESTING": True, "KB_DATA_DIR": str(data), "KB_INDEX_DIR": str(root / "index")}
    )


@pytest.fixture
def real_client(real_app: Flask) -> FlaskClient:
    return real_app.test_client()


# -- editorial fixtures (issue 5) ----------------------------------------------------------
USERS = {"eve": "editor", "rita": "reviewer", "adam": "admin"}


@pytest.fixture(scope="session")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A users.json with :data:`USERS`, all with :data:`PASSWORD` (hashed once per session)."""
    from kb.accounts import Accounts

    folder = tmp_path_factory.mktemp("accounts")
    accounts = Accounts(folder)
    for name, role in USERS.items():
        accounts.add(name, role, PASSWORD)
    return accounts.path


@pytest.fixture
def instance_dir(data_dir: Path) -> Path:
    """The instance folder beside the private data copy (the default place)."""
    return data_dir.parent / "instance"


@pytest.fixture
def editorial_app(data_dir: Path, index_dir: Path, instance_dir: Path, users_file: Path) -> Flask:
    """The web app with editorial accounts (:data:`USERS`) and CSRF protection on."""
    from web import create_app

    instance_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy(users_file, instance_dir / "users.json")
    return create_app(
        {
            "TESTING": True,
            "KB_DATA_DIR": str(data_dir),
            "KB_INDEX_DIR": str(index_dir),
            "KB_INSTANCE_DIR": str(instance_dir),
            "WTF_CSRF_ENABLED": True,
        }
    )


@pytest.fixture
def editorial_client(editorial_app: Flask) -> FlaskClient:
    return editorial_app.test_client()
