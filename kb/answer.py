"""Ask's answers (kept for existing imports): see :mod:`kb.ask`."""

from __future__ import annotations

from .ask import MAX_QUESTION, ask, understand

__all__ = ["MAX_QUESTION", "ask", "understand"]
