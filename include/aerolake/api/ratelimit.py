"""A sliding-window rate limit per client key (address), in memory, thread-safe.

Enough for one API process; several processes each enforce their own window (documented in the README).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most ``limit`` hits per ``window_s`` seconds per key."""

    def __init__(self, limit: int, window_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float | None:
        """Record a hit; None if allowed, else the seconds until the next hit would be."""
        now = self._clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.window_s:
                hits.popleft()
            if len(hits) >= self.limit:
                return max(0.0, self.window_s - (now - hits[0]))
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients so the map stays small
                for idle in [k for k, v in self._hits.items() if not v or now - v[-1] >= self.window_s]:
                    del self._hits[idle]
            return None
