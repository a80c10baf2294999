"""Test helpers for users' and our own tests: a clock you move by hand.

Every time-dependent part of calmly takes ``now`` as an argument; in tests, take it from a :class:`FakeClock` and
move the clock instead of sleeping.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.playbook import parse_duration

__all__ = ["FakeClock"]


class FakeClock:
    """A clock that only moves when told: ``clock.advance("15m")`` or ``clock.advance(timedelta(hours=1))``."""

    def __init__(self, start: datetime | str = "2026-01-05T09:00:00+00:00") -> None:
        moment = datetime.fromisoformat(start) if isinstance(start, str) else start
        if moment.tzinfo is None:
            raise ValueError("a FakeClock needs an aware datetime (with a UTC offset)")
        self._now = moment.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta | str) -> datetime:
        """Move forward (never back) and return the new time."""
        step = parse_duration(by) if isinstance(by, str) else by
        if step < timedelta(0):
            raise ValueError("a clock does not go back")
        self._now += step
        return self._now

    def set(self, moment: datetime) -> datetime:
        """Jump to a moment at or after the current time."""
        if moment < self._now:
            raise ValueError("a clock does not go back")
        self._now = moment.astimezone(UTC)
        return self._now
