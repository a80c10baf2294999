"""A simulated clock on a shared PostgreSQL store is one clock: moved through one daemon, the others follow by
themselves, and a daemon started later with an earlier start takes the shared time (a clock never goes back).
Real daemons, so the case polls with a timeout. Skips, saying how to enable it, without CALMLY_TEST_POSTGRES_URL."""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import httpx
from conftest import fresh_schema
from crash_harness import START, Daemon, Place, issue_tokens

FOLLOWED_WITHIN_S = 10.0


def _now_of(daemon: Daemon, token: str) -> datetime:
    """The daemon's simulated time (a move by nothing answers with it)."""
    answer = httpx.post(
        f"{daemon.url}/v1/admin/clock", json={"advance": "0m"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 200, answer.text
    return datetime.fromisoformat(answer.json()["now"])


def test_the_simulated_clock_moved_through_one_daemon_is_followed_by_the_others(tmp_path: Path) -> None:
    with fresh_schema() as url:
        place = Place(url)
        token = issue_tokens(tmp_path / "data", place)["bob"]  # bob is the social lead: an admin role
        first = Daemon(tmp_path, tmp_path / "data", START, 0, place)
        second = Daemon(tmp_path, tmp_path / "data", START, 1, place)
        later: Daemon | None = None
        try:
            first.wait_ready()
            second.wait_ready()
            moved = httpx.post(
                f"{first.url}/v1/admin/clock", json={"advance": "3h"}, headers={"Authorization": f"Bearer {token}"}
            )
            assert moved.status_code == 200, moved.text
            target = datetime.fromisoformat(moved.json()["now"])
            started = time.monotonic()
            while _now_of(second, token) < target and time.monotonic() - started < FOLLOWED_WITHIN_S:
                time.sleep(0.05)
            followed = _now_of(second, token)
            later = Daemon(tmp_path, tmp_path / "data", START, 2, place)  # asked to start 3 h back
            later.wait_ready()
            started_at = _now_of(later, token)
        finally:
            codes = [daemon.terminate() for daemon in (first, second, later) if daemon is not None]

    assert target == START.replace(hour=START.hour + 3)
    assert followed == target
    assert started_at == target
    assert codes == [0, 0, 0]
