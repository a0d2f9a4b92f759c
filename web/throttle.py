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
    """Counts failed logins; :meth:`retry_after` says how long a name+address must wait."""

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

    def retry_after(self, name: str, address: str) -> int:
        """Seconds until ``name`` may try again from ``address``; 0 when it may now."""
        now = self.clock()
        waits = []
        with self._lock:
            for key, limit in (
                ((name.casefold(), address), self.max_failures),
                (("", address), self.max_per_address),
            ):
                times = self._recent(key, now)
                if len(times) >= limit:
                    waits.append(times[len(times) - limit] + self.window - now)
        return max(1, int(max(waits)) + 1) if waits else 0

    def failed(self, name: str, address: str) -> None:
        """Count one failed attempt."""
        now = self.clock()
        with self._lock:
            for key in ((name.casefold(), address), ("", address)):
                self._failures.setdefault(key, deque()).append(now)
            while len(self._failures) > MAX_KEYS:
                del self._failures[next(iter(self._failures))]

    def succeeded(self, name: str, address: str) -> None:
        """Forget the failures of ``name`` from ``address`` (not the address-wide count)."""
        with self._lock:
            self._failures.pop((name.casefold(), address), None)
