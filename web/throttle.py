"""Login throttling: a few failed attempts per account name and address, then a pause.

Kept in memory (per process): a restart forgets it, which is acceptable for a brake on
password guessing; the Argon2 check already makes each guess slow. Two limits apply: failures
for one name from one address (``max_failures`` in ``window`` seconds), and failures for any
names from one address (``max_per_address``), so trying many names is throttled too.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

MAX_KEYS = 10_000  # addresses and names remembered at most; the oldest are forgotten first


class LoginThrottle:
    """Counts login attempts; :meth:`attempt` counts one or says how long to wait."""

    def __init__(
        self,
        *,
        max_failures: int = 5,
        window: float = 900.0,
        max_per_address: int = 50,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.max_per_address = max_per_address
        self.clock = clock
        self._failures: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def _wait(self, name: str, address: str, now: float) -> int:
        waits = []
        for key, limit in (
            ((name.casefold(), address), self.max_failures),
            (("", address), self.max_per_address),
        ):
            times = self._recent(key, now)
            if len(times) >= limit:
                waits.append(times[len(times) - limit] + self.window - now)
        return max(1, int(max(waits)) + 1) if waits else 0

    def retry_after(self, name: str, address: str) -> int:
        """Seconds until ``name`` may try again from ``address``; 0 when it may now."""
        with self._lock:
            return self._wait(name, address, self.clock())

    def attempt(self, name: str, address: str) -> int:
        """Count an attempt *before* the password is checked and return 0, or return the
        seconds to wait (nothing counted) when over the limit. Checking and counting happen
        under one lock, so concurrent attempts can never run more checks than the limit; a
        success then takes its attempt back (:meth:`succeeded`)."""
        now = self.clock()
        with self._lock:
            wait = self._wait(name, address, now)
            if wait:
                return wait
            for key in ((name.casefold(), address), ("", address)):
                self._failures.setdefault(key, deque()).append(now)
            while len(self._failures) > MAX_KEYS:
                del self._failures[next(iter(self._failures))]
            return 0

    def succeeded(self, name: str, address: str) -> None:
        """Forget the attempts of ``name`` from ``address``, and this one from the
        address-wide count."""
        with self._lock:
            self._failures.pop((name.casefold(), address), None)
            wide = self._failures.get(("", address))
            if wide:
                wide.pop()
