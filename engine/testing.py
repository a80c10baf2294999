"""Test helpers for users' and our own tests: a clock you move by hand, and a store in memory.

Every time-dependent part of calmly takes ``now`` as an argument; in tests, take it from a :class:`FakeClock` and
move the clock instead of sleeping. :func:`memory_store` gives the store ``calmly simulate`` and ``calmly test``
run in: the daemon's own SQL over a database in memory, so a test of code that takes a store runs what the daemon
runs, and leaves nothing behind.
"""

from __future__ import annotations

from engine.service import SimulatedClock
from engine.store import SQLiteStore

__all__ = ["FakeClock", "memory_store"]


class FakeClock(SimulatedClock):
    """A clock that only moves when told: ``clock.advance("15m")`` or ``clock.advance(timedelta(hours=1))``.

    The daemon's own simulated clock, under the name tests know it by.
    """


def memory_store() -> SQLiteStore:
    """A store in memory with its schema (:meth:`SQLiteStore.in_memory`); close it when done."""
    return SQLiteStore.in_memory()
