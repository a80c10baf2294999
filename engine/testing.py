"""Test helpers for users' and our own tests: a clock you move by hand.

Every time-dependent part of calmly takes ``now`` as an argument; in tests, take it from a :class:`FakeClock` and
move the clock instead of sleeping.
"""

from __future__ import annotations

from engine.service import SimulatedClock

__all__ = ["FakeClock"]


class FakeClock(SimulatedClock):
    """A clock that only moves when told: ``clock.advance("15m")`` or ``clock.advance(timedelta(hours=1))``.

    The daemon's own simulated clock, under the name tests know it by.
    """
