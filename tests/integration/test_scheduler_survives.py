"""The scheduler thread outlives a failure (a locked or full database): it logs it and keeps firing deadlines."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.daemon import Scheduler


class FlakyService:
    """Fails once, as SQLite does when another process holds the database past the busy timeout."""

    def __init__(self) -> None:
        self.calls = 0

    def fire_due(self, limit: int = 100, *, enough: Callable[[], bool] | None = None) -> list[Any]:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("database is locked")
        return []

    def next_due(self) -> datetime | None:
        return None


def test_the_scheduler_goes_on_after_a_failure_and_stays_ready() -> None:
    service = FlakyService()
    scheduler = Scheduler(service, lambda: datetime(2026, 11, 23, 9, tzinfo=UTC), simulated=True)  # type: ignore[arg-type]
    scheduler.start()
    try:
        give_up = time.monotonic() + 10
        while service.calls < 3 and time.monotonic() < give_up:
            scheduler.wake()  # look again at once rather than after the pause
            time.sleep(0.01)
        assert service.calls >= 3
        assert scheduler.alive
    finally:
        scheduler.stop()


class LaterService:
    """Nothing due; the earliest pending deadline an hour from the clock's fixed now."""

    NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)

    def __init__(self) -> None:
        self.calls = 0

    def fire_due(self, limit: int = 100, *, enough: Callable[[], bool] | None = None) -> list[Any]:
        self.calls += 1
        return []

    def next_due(self) -> datetime | None:
        return self.NOW + timedelta(hours=1)


def test_a_deadline_armed_after_the_schedulers_next_look_does_not_wake_it_and_a_sooner_one_does() -> None:
    service = LaterService()
    scheduler = Scheduler(service, lambda: LaterService.NOW, simulated=False)  # type: ignore[arg-type]
    scheduler.start()
    try:
        give_up = time.monotonic() + 10
        # While it looks (and before its first look) every new deadline wakes it; once it sleeps, it knows when
        # it looks next: in 30 s at the latest, though the earliest deadline is an hour away.
        while scheduler.armed(LaterService.NOW + timedelta(hours=2)) and time.monotonic() < give_up:
            time.sleep(0.01)
        turns = service.calls

        assert not scheduler.armed(LaterService.NOW + timedelta(seconds=30))
        assert scheduler.armed(LaterService.NOW + timedelta(seconds=5))
        while service.calls == turns and time.monotonic() < give_up:
            time.sleep(0.01)
        assert service.calls > turns  # woken, it looked again
    finally:
        scheduler.stop()
