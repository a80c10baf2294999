"""Rate limiting: a token bucket per caller (a bearer token, or a client address), in memory.

Each bucket holds a minute's worth of requests and refills continuously, so a caller may burst up to the limit and
then goes at the limit's pace. Buckets live in this process only: a restart forgets them, which is harmless.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

__all__ = ["RateLimiter"]

#: Past this many buckets, full ones (callers quiet for a minute or more) are dropped, so memory stays bounded.
_MAX_BUCKETS = 10_000


class RateLimiter:
    """``take(key)`` spends one request of ``key``'s bucket: None when allowed, else the seconds to wait."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, key: str) -> float | None:
        if self.per_minute <= 0:
            return None
        now = self._clock()
        capacity = float(self.per_minute)
        with self._lock:
            tokens, then = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - then) * self._rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / self._rate
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > _MAX_BUCKETS:
                self._forget_full(now, capacity)
        return None

    def _forget_full(self, now: float, capacity: float) -> None:
        full = [key for key, (tokens, then) in self._buckets.items() if tokens + (now - then) * self._rate >= capacity]
        for key in full:
            del self._buckets[key]
