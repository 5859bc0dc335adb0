"""Single use of a sealed state within one process: the bindings already redeemed, until they expire.

Across processes and instances the flow cookie does the work instead: /callback clears it, so the
browser that started the flow cannot present the state a second time anywhere
(docs: how-it-works/account-linking.md)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MAX_ENTRIES = 100_000
"""About 10 MB at most; past it the oldest entries go first (they are the closest to expiring anyway)."""


class SpentStates:
    def __init__(
        self, lifetime_s: float, clock: Callable[[], float] = time.monotonic, max_entries: int = MAX_ENTRIES
    ) -> None:
        self._lifetime_s = lifetime_s
        self._clock = clock
        self._max_entries = max_entries
        self._lock = threading.Lock()
        self._until: dict[str, float] = {}
        """Insertion order is expiry order: every entry lives exactly `lifetime_s`."""

    def claim(self, binding: str) -> bool:
        """True the first time `binding` is claimed within its lifetime, False on any later claim."""
        with self._lock:
            now = self._clock()
            if self._until.get(binding, now) > now:
                return False
            # The expired go (an expired `binding` too, so it is re-inserted last), then the oldest while full.
            while self._until:
                oldest = next(iter(self._until))
                if self._until[oldest] > now and len(self._until) < self._max_entries:
                    break
                del self._until[oldest]
            self._until[binding] = now + self._lifetime_s
            return True
