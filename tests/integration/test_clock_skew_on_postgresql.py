"""A daemon on a shared PostgreSQL store checks its clock against the database's: the skew shows in /readyz under
``details.store``; past ``max_clock_skew_ms`` the daemon answers 503 and claims no due deadline until its clock agrees
again. The daemon's wall clock is set off from the system's by the test (the system clock is never touched), so a
deadline hours away is due at once by the daemon's clock. Skips, saying how to enable it, without
CALMLY_TEST_POSTGRES_URL.

A deadline that is not fired is looked for over a short bounded wait after waking the scheduler; one that is fired is
polled for with a timeout."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import fresh_schema
from intake_support import mention
from starlette.exceptions import StarletteDeprecationWarning

from engine.daemon import Config, Daemon, build
from engine.desk import create_web_app

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
HOURS_AHEAD = timedelta(hours=3)  # past any limit of the shipped playbooks' detected state for a low severity
WAIT_S = 5.0


class OffsetClock:
    """The system's time set off by ``offset``: a daemon whose clock is wrong by that much."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


def _daemon(url: str, wall: OffsetClock, tmp_path: Path, limit_ms: int = 2000) -> Daemon:
    config = Config(
        data=tmp_path,
        store=url,
        playbooks=(ROOT / "playbooks",),
        roster=ROOT / "examples" / "roster.yaml",
        max_clock_skew_ms=limit_ms,
    )
    return build(config, wall_clock=wall)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Daemon, OffsetClock, TestClient]]:
    """A daemon on a fresh schema whose wall clock the case sets off, its scheduler running, and a client of its app."""
    with fresh_schema() as url:
        wall = OffsetClock()
        daemon = _daemon(url, wall, tmp_path)
        daemon.scheduler.start()
        try:
            yield daemon, wall, TestClient(create_web_app(daemon.context, daemon.presence))
        finally:
            daemon.scheduler.stop()
            daemon.store.close()


def _earliest(daemon: Daemon) -> datetime | None:
    """The earliest pending deadline: it moves later once the ones due are fired (and their next steps armed)."""
    return daemon.service.next_due()


def test_readyz_shows_the_skew_between_the_daemons_clock_and_the_databases(
    running: tuple[Daemon, OffsetClock, TestClient],
) -> None:
    _, _, http = running

    ready = http.get("/readyz")

    assert ready.status_code == 200, ready.text
    store: dict[str, Any] = ready.json()["details"]["store"]
    assert store["backend"] == "postgresql"
    assert abs(store["clock_skew_seconds"]) < 1.0  # the database runs on this machine's clock
    assert 0 <= store["round_trip_seconds"] < 1.0
    assert store["max_clock_skew_seconds"] == 2.0
    assert datetime.fromisoformat(store["measured_at"]).tzinfo is not None


def test_a_daemon_whose_clock_is_past_the_limit_is_not_ready_until_it_agrees_again(
    running: tuple[Daemon, OffsetClock, TestClient],
) -> None:
    daemon, wall, http = running
    assert daemon.skew is not None

    wall.offset = timedelta(seconds=5)
    daemon.skew.check()
    skewed = http.get("/readyz")
    wall.offset = timedelta(0)
    daemon.skew.check()
    again = http.get("/readyz")

    assert skewed.status_code == 503
    error = skewed.json()["error"]
    assert error["code"] == "not_ready"
    assert error["message"].startswith("this daemon's clock is ")
    assert " s ahead of the database's, more than max_clock_skew_ms (2000) allows" in error["message"]
    assert error["details"]["store"] == "clock_skew"
    assert round(error["details"]["clock"]["clock_skew_seconds"]) == -5
    assert again.status_code == 200, again.text


def test_a_daemon_whose_clock_is_past_the_limit_claims_no_due_deadline(
    running: tuple[Daemon, OffsetClock, TestClient],
) -> None:
    daemon, wall, _ = running
    assert daemon.skew is not None
    daemon.service.ingest([mention("tw-1")])
    earliest = _earliest(daemon)

    wall.offset = HOURS_AHEAD  # its first deadlines are due by its clock, and none by the database's
    daemon.skew.check()
    daemon.scheduler.wake()
    time.sleep(1.0)  # a scheduler that claimed would have fired them within milliseconds

    assert earliest is not None
    assert earliest <= wall()
    assert _earliest(daemon) == earliest


def test_with_the_check_turned_off_the_same_daemon_fires_what_its_clock_says_is_due(tmp_path: Path) -> None:
    with fresh_schema() as url:
        wall = OffsetClock()
        daemon = _daemon(url, wall, tmp_path, limit_ms=0)
        daemon.scheduler.start()
        try:
            daemon.service.ingest([mention("tw-1")])
            earliest = _earliest(daemon)
            wall.offset = HOURS_AHEAD
            assert daemon.skew is not None
            daemon.skew.check()
            daemon.scheduler.wake()
            ends = time.monotonic() + WAIT_S
            while _earliest(daemon) == earliest and time.monotonic() < ends:
                time.sleep(0.05)
            after = _earliest(daemon)
        finally:
            daemon.scheduler.stop()
            daemon.store.close()

    assert earliest is not None
    assert after is None or after > earliest
