"""Evidence-aware clinical knowledge base (core library; imports no web framework)."""

from .errors import (
    ArticleNotFound,
    ClaimNotFound,
    ConditionNotFound,
    ConflictNotFound,
    IndexBusy,
    InvalidData,
    InvalidDocument,
    InvalidQuery,
    KBError,
    NotFound,
    ReferenceNotFound,
)
from .knowledgebase import KnowledgeBase

__all__ = [
    "ArticleNotFound",
    "ClaimNotFound",
    "ConditionNotFound",
    "ConflictNotFound",
    "IndexBusy",
    "InvalidData",
    "InvalidDocument",
    "InvalidQuery",
    "KBError",
    "KnowledgeBase",
    "NotFound",
    "ReferenceNotFound",
]
