"""The scheduler thread outlives a failure (a locked or full database): it logs it and keeps firing deadlines."""

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
