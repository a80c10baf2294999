"""The daemon's clock checked against the shared database's: due deadlines and deliveries are judged by each
daemon's own clock, so several daemons on one database agree on what is due only while their clocks agree with the
database's, and so with one another.

:func:`measure` reads the database's time (``clock_timestamp()``) between two readings of the daemon's wall clock
and takes the middle of the round trip as the moment it was read: the skew is the database's time less that moment,
known to within half the round trip. :class:`SkewCheck` measures at start and every :data:`LOOK`, keeps the latest
reading, and says when the daemon's clock is past the limit (``max_clock_skew_ms``) even allowing for the round trip:
the daemon then claims no deadline and no delivery (the scheduler and the courier wait) and ``/readyz`` answers 503,
until a reading is back within the limit. It logs a warning when the clock goes past the limit and a line when it is
back. A reading that fails (the database does not answer) keeps the last one: the store's own outage is what
``/readyz`` reports then.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from engine.daemon._loops import _Loop

__all__ = ["LOOK", "SkewCheck", "SkewReading", "measure"]

#: How often the skew is measured again while the daemon runs.
LOOK = timedelta(seconds=30)

_log = structlog.get_logger("calmly.daemon")


@dataclass(frozen=True, slots=True)
class SkewReading:
    """One measurement: how far the database's clock is ahead of the daemon's (negative: behind), within half of
    ``round_trip``, as read at ``at`` by the daemon's wall clock."""

    skew: timedelta
    round_trip: timedelta
    at: datetime

    def beyond(self, limit: timedelta) -> bool:
        """Whether the clocks are further apart than ``limit`` however the round trip fell; never for a zero limit."""
        return limit > timedelta(0) and abs(self.skew) - self.round_trip / 2 > limit


def measure(
    database_time: Callable[[], datetime],
    wall_clock: Callable[[], datetime],
    monotonic: Callable[[], float] = time.monotonic,
) -> SkewReading:
    """The skew between the database's clock and the daemon's, now (the round trip timed by ``monotonic``)."""
    before, started = wall_clock(), monotonic()
    theirs = database_time()
    round_trip = timedelta(seconds=max(0.0, monotonic() - started))
    return SkewReading(theirs - (before + round_trip / 2), round_trip, before)


class SkewCheck(_Loop):
    """Measures the skew at start (:meth:`check`) and every :data:`LOOK` while it runs; :attr:`claims` says whether
    the daemon may claim due work, :meth:`problem` why not, :meth:`details` the latest reading for ``/readyz``."""

    def __init__(
        self,
        database_time: Callable[[], datetime],
        wall_clock: Callable[[], datetime],
        limit: timedelta,
        on_back: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__("clock-skew", LOOK, simulated=False)
        self._database_time = database_time
        self._wall_clock = wall_clock
        self._limit = limit
        #: Called when the clock is back within the limit (the daemon wakes its loops then).
        self.on_back = on_back
        self._lock = threading.Lock()
        self._reading: SkewReading | None = None

    @property
    def reading(self) -> SkewReading | None:
        with self._lock:
            return self._reading

    @property
    def claims(self) -> bool:
        """Whether the daemon may claim due deadlines and deliveries: not while the last reading is past the limit."""
        reading = self.reading
        return reading is None or not reading.beyond(self._limit)

    def check(self) -> SkewReading:
        """Measure now, keep the reading, and say when the clock went past the limit or came back within it."""
        reading = measure(self._database_time, self._wall_clock)
        with self._lock:
            before, self._reading = self._reading, reading
        was_beyond = before is not None and before.beyond(self._limit)
        if reading.beyond(self._limit) and not was_beyond:
            _log.warning(
                "this daemon's clock is too far from the database's: it claims no deadlines or deliveries until "
                "its clock is fixed (time sync, NTP), and /readyz answers 503",
                **self.details(),
            )
        elif was_beyond and not reading.beyond(self._limit):
            _log.info("this daemon's clock agrees with the database's again: claiming work", **self.details())
            self.on_back()
        return reading

    def _turn(self) -> float:
        self.check()
        return LOOK.total_seconds()

    def problem(self) -> str | None:
        """Why the daemon claims nothing, in words for ``/readyz``; None while the clocks agree."""
        reading = self.reading
        if reading is None or not reading.beyond(self._limit):
            return None
        seconds = reading.skew.total_seconds()
        way = "behind" if seconds > 0 else "ahead of"
        return (
            f"this daemon's clock is {abs(seconds):.3f} s {way} the database's, more than max_clock_skew_ms "
            f"({self._limit / timedelta(milliseconds=1):.0f}) allows: fix its time sync (NTP); it claims no "
            "deadlines or deliveries meanwhile"
        )

    def details(self) -> Mapping[str, Any]:
        """The latest reading, as ``/readyz`` shows it under ``details.store``."""
        reading = self.reading
        shown: dict[str, Any] = {"max_clock_skew_seconds": self._limit.total_seconds()}
        if reading is not None:
            shown |= {
                "clock_skew_seconds": round(reading.skew.total_seconds(), 6),
                "round_trip_seconds": round(reading.round_trip.total_seconds(), 6),
                "measured_at": reading.at.isoformat(),
            }
        return shown
