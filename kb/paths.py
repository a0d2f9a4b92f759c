"""Where things live beside a data folder: the instance folder and the search index.

The instance folder holds what is not knowledge-base data — the editorial journal, accounts,
the session key, the search index. It sits beside the data folder, never inside it, so the
data folder stays exactly what is versioned and exported. Every adapter resolves it here.
"""

from __future__ import annotations

import os
from pathlib import Path

INSTANCE = "instance"  # the default instance folder's name, beside the data folder
INDEX = "index"  # the search index's folder inside the instance folder


def instance_dir(
    data_dir: str | os.PathLike[str], configured: str | os.PathLike[str] | None = None
) -> Path:
    """``configured`` when given, else ``<data_dir>/../instance``."""
    if configured:
        return Path(configured)
    return Path(data_dir).absolute().parent / INSTANCE


def index_dir(
    data_dir: str | os.PathLike[str], instance: str | os.PathLike[str] | None = None
) -> Path:
    """The search index folder: ``<instance>/index`` (instance resolved as above)."""
    return instance_dir(data_dir, instance) / INDEX
