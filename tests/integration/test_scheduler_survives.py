"""The scheduler thread outlives a failure (a locked or full database): it logs it and keeps firing deadlines; and it
is woken only by a deadline armed sooner than it would look again anyway."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
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


class QuietService:
    """No deadline is ever due: each call of ``fire_due`` is one turn of the scheduler."""

    def __init__(self) -> None:
        self.turns = 0

    def fire_due(self, limit: int = 100, *, enough: Callable[[], bool] | None = None) -> list[Any]:
        self.turns += 1
        return []

    def next_due(self) -> datetime | None:
        return None


def _until(condition: Callable[[], bool]) -> bool:
    """Whether ``condition`` held within a few seconds (the scheduler's thread doing its turn, not a deadline)."""
    give_up = time.monotonic() + 10
    while not condition() and time.monotonic() < give_up:
        time.sleep(0.005)
    return condition()


def test_a_deadline_armed_past_the_schedulers_next_look_lets_it_sleep_and_one_due_sooner_wakes_it() -> None:
    service = QuietService()
    scheduler = Scheduler(service, lambda: datetime.now(UTC), simulated=False)  # type: ignore[arg-type]
    scheduler.start()
    try:
        assert _until(lambda: service.turns == 1 and scheduler.looks_at is not None)

        hours_ahead = scheduler.wake_within(4 * 3600)
        turns_after_hours_ahead = service.turns
        seconds_ahead = scheduler.wake_within(2.0)

        assert hours_ahead is False
        assert turns_after_hours_ahead == 1
        assert seconds_ahead is True
        assert _until(lambda: service.turns == 2)
    finally:
        scheduler.stop()


def test_on_a_simulated_clock_every_deadline_armed_wakes_the_scheduler() -> None:
    service = QuietService()
    scheduler = Scheduler(service, lambda: datetime(2026, 11, 23, 9, tzinfo=UTC), simulated=True)  # type: ignore[arg-type]
    scheduler.start()
    try:
        assert _until(lambda: service.turns == 1)

        assert scheduler.looks_at is None
        assert scheduler.wake_within(4 * 3600) is True
        assert _until(lambda: service.turns == 2)
    finally:
        scheduler.stop()
