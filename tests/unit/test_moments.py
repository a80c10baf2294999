"""How moments read to people: due times on the clock the team keeps, never raw ISO stamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from engine.files import load_file
from engine.service import clock_time, clock_zone_name, due_phrase, offset_zone, since_phrase, wall_time, zone

ROOT = Path(__file__).resolve().parents[2]
SUMMER = datetime(2026, 6, 15, 10, 8, tzinfo=UTC)  # London keeps summer time, an hour ahead of UTC


def test_a_due_time_reads_as_how_long_is_left_and_the_time_in_the_calendars_zone() -> None:
    due = datetime(2026, 6, 15, 13, 20, tzinfo=UTC)

    assert due_phrase(due, SUMMER, zone("Europe/London")) == "due in 3h12m (14:20 Europe/London)"
    assert due_phrase(due, SUMMER, zone(None)) == "due in 3h12m (13:20 UTC)"


def test_an_overdue_time_says_how_long_ago_and_a_time_now_says_now() -> None:
    due = SUMMER - timedelta(minutes=12)

    assert due_phrase(due, SUMMER, zone("UTC")) == "due 12m ago (09:56 UTC)"
    assert due_phrase(SUMMER, SUMMER, zone("UTC")) == "due now (10:08 UTC)"


def test_a_time_on_another_day_names_the_day_and_a_clock_time_is_to_the_minute() -> None:
    assert clock_time(SUMMER + timedelta(days=1), zone("UTC"), SUMMER) == "Tue 16 Jun 10:08 UTC"
    assert clock_time(SUMMER + timedelta(seconds=30), zone("UTC"), SUMMER) == "10:08 UTC"
    assert since_phrase(SUMMER - timedelta(hours=2), SUMMER) == "2h ago (08:08 UTC)"


def test_a_span_beyond_a_day_reads_in_days_and_hours_not_weeks_and_minutes() -> None:
    week_old = SUMMER - timedelta(days=8, hours=13, minutes=4)

    assert since_phrase(week_old, SUMMER).startswith("8d13h ago (")
    assert due_phrase(SUMMER + timedelta(days=5), SUMMER, zone("UTC")) == "due in 5d (Sat 20 Jun 10:08 UTC)"
    assert due_phrase(SUMMER + timedelta(hours=23, minutes=59), SUMMER, zone("UTC")).startswith("due in 23h59m (")


def test_a_zone_this_machine_does_not_know_falls_back_to_utc() -> None:
    assert zone("Mars/Olympus_Mons").label == "UTC"


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-11-23T10:00:00+01:00", "2026-11-23 10:00+01:00"),
        ("2026-11-23T09:00:00+00:00", "2026-11-23 09:00Z"),
        ("2026-11-23T04:00:30-05:00", "2026-11-23 04:00:30-05:00"),
    ],
)
def test_a_story_time_is_written_in_the_timelines_own_offset(start: str, expected: str) -> None:
    moment = datetime.fromisoformat(start)
    in_utc = moment.astimezone(UTC)

    assert wall_time(in_utc, offset_zone(moment)) == expected


def test_a_clock_is_kept_in_its_calendars_zone_and_in_utc_without_one() -> None:
    loaded = load_file(ROOT / "playbooks" / "customer-complaint.yaml")
    assert loaded.playbook is not None

    assert clock_zone_name(loaded.playbook, "limit:assessed") == "Europe/London"  # calendar: office
    assert clock_zone_name(loaded.playbook, "limit:detected") == "UTC"
    assert clock_zone_name(loaded.playbook, "first_response") == "UTC"
    assert offset_zone(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=1)))).label == "+01:00"
