"""Full-text search over claims and references, on a Whoosh index, ranked with the evidence.

:class:`SearchIndex` keeps one Whoosh index (outside ``data/``) in step with a
:class:`~kb.KnowledgeBase` and answers its searches. The modules, in the order they build on
each other:

- :mod:`.concepts`: words, stems and clinical concepts, the analyser shared by indexing,
  queries and highlighting;
- :mod:`.query`: query understanding: grammar, limits, filters;
- :mod:`.document`: what a claim or reference document holds: weighted body, facets, evidence
  weight;
- :mod:`.ranking`: BM25F × evidence weight over whole posting lists, with a deadline;
- :mod:`.results`: the answer: result shapes, highlights, facet counts, "did you mean";
- :mod:`.index`: the Whoosh schema, building and incremental updates, locking.

Everything public is re-exported here (``from kb.search import SearchIndex``).
"""

from ..errors import IndexBusy
from .document import build_vocabulary, documents, evidence_weight
from .index import (
    LOCK_TIMEOUT,
    PARALLEL_MIN,
    SCHEMA_VERSION,
    STATE_FILE,
    SYNC_LOCK,
    SearchIndex,
    SyncReport,
    default_index_dir,
    fingerprint,
)
from .query import DEFAULT_LIMIT, MAX_LIMIT, MAX_RESULTS
from .ranking import BM25_B, BM25_K1, MAX_EXPANSIONS, TIME_LIMIT
from .results import FACETS, reference_json

__all__ = [
    "BM25_B",
    "BM25_K1",
    "DEFAULT_LIMIT",
    "FACETS",
    "LOCK_TIMEOUT",
    "MAX_EXPANSIONS",
    "MAX_LIMIT",
    "MAX_RESULTS",
    "PARALLEL_MIN",
    "SCHEMA_VERSION",
    "STATE_FILE",
    "SYNC_LOCK",
    "TIME_LIMIT",
    "IndexBusy",
    "SearchIndex",
    "SyncReport",
    "build_vocabulary",
    "default_index_dir",
    "documents",
    "evidence_weight",
    "fingerprint",
    "reference_json",
]
