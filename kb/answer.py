"""Ask's answers (kept for existing imports): see :mod:`kb.ask`."""

from __future__ import annotations

from typing import Any

from .ask import MAX_QUESTION, ask, understand
from .ask.vocab import vocab

__all__ = ["MAX_QUESTION", "ask", "cues", "understand"]


def cues() -> dict[str, Any]:
    """The question cues (``kb/vocab/ask_cues.json``): aliases, labels, follow-up templates."""
    return vocab().cues
