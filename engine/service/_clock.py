"""The simulated clock: time that moves only when told, for demos, playbook tests and a daemon run with
``--simulated-clock`` (moved by ``POST /v1/admin/clock``)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from engine.playbook import parse_duration

__all__ = ["SimulatedClock"]


class SimulatedClock:
    """A clock that only moves when told: ``clock.advance("15m")`` or ``clock.advance(timedelta(hours=1))``."""

    def __init__(self, start: datetime | str = "2026-01-05T09:00:00+00:00") -> None:
        moment = datetime.fromisoformat(start) if isinstance(start, str) else start
        if moment.tzinfo is None:
            raise ValueError("a simulated clock needs an aware datetime (with a UTC offset)")
        self._now = moment.astimezone(UTC)
        self._moving = threading.Lock()  # moved by requests and, on a shared store, by the daemon's follower

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta | str) -> datetime:
        """Move forward (never back) and return the new time."""
        step = parse_duration(by) if isinstance(by, str) else by
        if step < timedelta(0):
            raise ValueError("a clock does not go back")
        with self._moving:
            self._now += step
            return self._now

    def set(self, moment: datetime) -> datetime:
        """Jump to a moment at or after the current time."""
        with self._moving:
            if moment < self._now:
                raise ValueError("a clock does not go back")
            self._now = moment.astimezone(UTC)
            return self._now

    def catch_up(self, moment: datetime) -> bool:
        """Move to ``moment`` if it is later than the current time (never back); whether it moved."""
        with self._moving:
            if moment <= self._now:
                return False
            self._now = moment.astimezone(UTC)
            return True
