"""Evidence-aware clinical knowledge base (core library; imports no web framework)."""

from .errors import (ArticleNotFound, ClaimNotFound, ConditionNotFound, ConflictNotFound,
                     IndexBusy, InvalidData, InvalidDocument, InvalidQuery, KBError, NotFound,
                     ReferenceNotFound)
from .knowledgebase import KnowledgeBase

__all__ = ["KnowledgeBase", "KBError", "InvalidData", "InvalidDocument", "InvalidQuery", "NotFound",
           "ClaimNotFound", "ReferenceNotFound", "ArticleNotFound", "ConditionNotFound",
           "ConflictNotFound", "IndexBusy"]
