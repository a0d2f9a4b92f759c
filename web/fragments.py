"""Rendered template fragments, kept by what they are drawn from.

A conflict card or an evidence map is a pure function of its arguments (plus the site's URL
prefix), and an article page draws dozens of them: rendering them is most of the page's cost
at scale. A template wraps such a fragment in ``{% call fragment(*inputs) %}…{% endcall %}``;
the rendered HTML is kept under a digest of ``inputs`` (serialised in full), so any change to
what the fragment shows (a new grade, a board decision, other text) is a different key and
nothing can go stale. Only fragments that read nothing but their inputs may be wrapped: no
user, session, form token or request argument.
"""

from __future__ import annotations

import hashlib
import marshal
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from markupsafe import Markup

# Characters of rendered HTML kept per app (LRU). The largest article page at 100k claims
# holds about 0.5 M characters of cards and pictures.
BUDGET_CHARS = 16_000_000


class Fragments:
    """An LRU of rendered fragments with a character budget; safe across threads."""

    def __init__(self, budget: int = BUDGET_CHARS) -> None:
        self.budget = budget
        self._kept: OrderedDict[bytes, Markup] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def render(self, inputs: tuple[Any, ...], draw: Callable[[], str]) -> Markup:
        """The HTML ``draw()`` gives for ``inputs``: kept from an earlier call when it can be."""
        key = hashlib.blake2b(_serialised(inputs), digest_size=16).digest()
        with self._lock:
            html = self._kept.get(key)
            if html is not None:
                self._kept.move_to_end(key)
                self.hits += 1
                return html
        html = Markup(draw())
        with self._lock:
            self.misses += 1
            if key not in self._kept and len(html) <= self.budget:
                self._kept[key] = html
                self._chars += len(html)
                while self._chars > self.budget:
                    _, old = self._kept.popitem(last=False)
                    self._chars -= len(old)
        return html

    def stats(self) -> dict[str, int]:
        """Hits, misses, fragments and characters kept (for benchmarks)."""
        with self._lock:
            return {
                "hits": self.hits,
                "misses": self.misses,
                "kept": len(self._kept),
                "chars": self._chars,
            }


def _serialised(inputs: tuple[Any, ...]) -> bytes:
    # marshal is exact (True is not 1, a str subclass is refused) and a few times faster
    # than repr; anything it refuses is keyed by its repr. The first byte keeps the two
    # kinds of key apart.
    try:
        return b"m" + marshal.dumps(inputs)
    except ValueError:
        return b"r" + repr(inputs).encode("utf-8")


def fragment(*inputs: Any, caller: Callable[[], str]) -> Markup:
    """Template global for ``{% call fragment(...) %}``: the call block's HTML, kept by
    ``inputs`` and this request's URL prefix (links in the fragment carry it)."""
    fragments: Fragments = current_app.extensions["fragments"]
    return fragments.render((request.script_root, *inputs), caller)


def register(app: Flask) -> None:
    """Give ``app`` its own fragment store (``FRAGMENT_BUDGET`` characters; 0 keeps none) and
    the ``fragment`` template global."""
    budget = app.config["FRAGMENT_BUDGET"]
    try:
        chars = int(budget)
    except (TypeError, ValueError):
        raise ValueError(
            f"FRAGMENT_BUDGET (or $KB_FRAGMENT_BUDGET) is a number of characters, not {budget!r}"
        ) from None
    app.extensions["fragments"] = Fragments(max(chars, 0))
    app.add_template_global(fragment)
