"""The skew between the daemon's clock and the database's: measured across the round trip, judged against the limit
allowing for that round trip, and told in words that say which way and what to fix. Fake clocks only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.daemon._skew import SkewCheck, SkewReading, measure

DATABASE_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LIMIT = timedelta(seconds=2)


class Ticks:
    """A monotonic clock that moves ``step`` seconds at each reading: the round trip is two readings apart."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_the_skew_is_the_databases_time_less_the_middle_of_the_round_trip() -> None:
    daemon_reads = DATABASE_NOW - timedelta(seconds=3)  # the daemon's clock is 3 s behind, less half a round trip

    reading = measure(lambda: DATABASE_NOW, lambda: daemon_reads - timedelta(seconds=0.1), Ticks(0.2))

    assert reading.round_trip == timedelta(seconds=0.2)
    assert reading.skew == timedelta(seconds=3)
    assert reading.at == daemon_reads - timedelta(seconds=0.1)


def test_a_skew_is_past_the_limit_only_when_it_is_so_however_the_round_trip_fell() -> None:
    at = DATABASE_NOW
    slow_trip = SkewReading(timedelta(seconds=2.4), timedelta(seconds=1), at)  # between 1.9 and 2.9 s
    clear = SkewReading(timedelta(seconds=-2.6), timedelta(seconds=1), at)  # between 2.1 and 3.1 s behind

    assert not slow_trip.beyond(LIMIT)
    assert clear.beyond(LIMIT)
    assert not clear.beyond(timedelta(0))  # a zero limit only measures


def test_a_daemon_whose_clock_runs_ahead_claims_nothing_and_says_why_until_it_agrees_again() -> None:
    offset = [timedelta(seconds=5)]
    backs: list[str] = []
    check = SkewCheck(
        lambda: DATABASE_NOW, lambda: DATABASE_NOW + offset[0], LIMIT, on_back=lambda: backs.append("back")
    )

    check.check()
    ahead, problem, details = check.claims, check.problem(), check.details()
    offset[0] = timedelta(milliseconds=30)
    check.check()

    assert ahead is False
    assert problem is not None
    assert problem.startswith(
        "this daemon's clock is 5.000 s ahead of the database's, more than max_clock_skew_ms (2000)"
    )
    assert "NTP" in problem
    assert details["clock_skew_seconds"] == -5.0
    assert details["max_clock_skew_seconds"] == 2.0
    assert check.claims is True
    assert check.problem() is None
    assert backs == ["back"]


def test_a_daemon_whose_clock_runs_behind_is_told_so() -> None:
    check = SkewCheck(lambda: DATABASE_NOW, lambda: DATABASE_NOW - timedelta(seconds=4), LIMIT)

    check.check()

    assert check.problem() is not None
    assert "4.000 s behind the database's" in str(check.problem())
