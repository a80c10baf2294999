"""Counting time: around the clock, or only in a business calendar's open hours (weekends, holidays, DST).

Times come from a :class:`engine.testing.FakeClock` set to fixed moments; nothing reads the real clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.incident import AroundTheClock, BusinessCalendar
from engine.playbook import Calendar, OpeningHours
from engine.testing import FakeClock

LONDON = ZoneInfo("Europe/London")
BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
M = timedelta(minutes=1)

NINE_TO_SIX = ((time(9), time(18)),)
WEEKDAYS = dict.fromkeys(range(5), NINE_TO_SIX)


def _calendar(
    timezone: str = "Europe/London",
    days: dict[int, tuple[tuple[time, time | None], ...]] | None = None,
    holidays: str | None = "GB-ENG",
) -> BusinessCalendar:
    return BusinessCalendar(Calendar("office", timezone, OpeningHours(WEEKDAYS if days is None else days), holidays))


def _at(local: str, zone: ZoneInfo = LONDON) -> datetime:
    """A FakeClock set to a local wall-clock time, read back as the UTC moment it is."""
    moment = datetime.fromisoformat(local).replace(tzinfo=zone)
    return FakeClock(moment).now()


# --- weekends -------------------------------------------------------------------------------------------------


def test_two_business_hours_from_friday_at_five_land_on_monday_at_ten() -> None:
    office = _calendar()

    assert office.add(_at("2026-01-09 17:00"), 2 * H) == _at("2026-01-12 10:00")


def test_the_weekend_does_not_count_as_business_time() -> None:
    office = _calendar()

    assert office.elapsed(_at("2026-01-09 17:00"), _at("2026-01-12 10:00")) == 2 * H


def test_time_added_on_a_saturday_starts_counting_on_monday_morning() -> None:
    office = _calendar()

    assert office.add(_at("2026-01-10 12:00"), H) == _at("2026-01-12 10:00")


def test_time_added_at_closing_time_starts_counting_at_the_next_opening() -> None:
    office = _calendar()

    assert office.add(_at("2026-01-07 18:00"), 30 * M) == _at("2026-01-08 09:30")


def test_a_full_business_day_ends_exactly_at_closing_time() -> None:
    office = _calendar()

    assert office.add(_at("2026-01-07 09:00"), 9 * H) == _at("2026-01-07 18:00")


def test_several_open_ranges_in_a_day_skip_the_break_between_them() -> None:
    office = _calendar(days=dict.fromkeys(range(5), ((time(9), time(12)), (time(13), time(17)))))

    assert office.add(_at("2026-01-07 11:30"), H) == _at("2026-01-07 13:30")
    assert office.elapsed(_at("2026-01-07 11:30"), _at("2026-01-07 13:30")) == H


def test_a_range_ending_at_midnight_runs_into_the_next_days_range() -> None:
    late = _calendar(days=dict.fromkeys(range(7), ((time(0), None),)), holidays=None)

    assert late.add(_at("2026-01-07 23:30"), H) == _at("2026-01-08 00:30")


def test_adding_nothing_is_the_same_moment_even_when_closed() -> None:
    office = _calendar()
    saturday = _at("2026-01-10 12:00")

    assert office.add(saturday, timedelta(0)) == saturday


def test_no_business_time_elapses_backwards_or_while_closed() -> None:
    office = _calendar()

    assert office.elapsed(_at("2026-01-08 12:00"), _at("2026-01-07 12:00")) == timedelta(0)
    assert office.elapsed(_at("2026-01-10 08:00"), _at("2026-01-11 20:00")) == timedelta(0)


# --- public holidays ------------------------------------------------------------------------------------------


def test_the_easter_holidays_in_england_are_closed() -> None:
    # Good Friday is 3 April 2026 and Easter Monday 6 April: from Thursday 17:00, 2h land on Tuesday at 10:00.
    office = _calendar(holidays="GB-ENG")

    assert office.add(_at("2026-04-02 17:00"), 2 * H) == _at("2026-04-07 10:00")


def test_without_holidays_the_same_easter_friday_is_a_working_day() -> None:
    office = _calendar(holidays=None)

    assert office.add(_at("2026-04-02 17:00"), 2 * H) == _at("2026-04-03 10:00")


def test_labour_day_in_germany_is_closed() -> None:
    # 1 May 2026 is a Friday and a public holiday everywhere in Germany.
    office = _calendar("Europe/Berlin", holidays="DE")

    assert office.add(_at("2026-04-30 17:00", BERLIN), 2 * H) == _at("2026-05-04 10:00", BERLIN)


def test_a_regional_holiday_applies_only_to_its_region() -> None:
    # St Andrew's Day falls on Saturday 28 November 2026; Scotland takes Monday 30 November off, England does not.
    scotland = _calendar(holidays="GB-SCT")
    england = _calendar(holidays="GB-ENG")
    friday = _at("2026-11-27 17:00")

    assert scotland.add(friday, 2 * H) == _at("2026-12-01 10:00")
    assert england.add(friday, 2 * H) == _at("2026-11-30 10:00")


def test_christmas_and_the_substitute_boxing_day_are_closed_in_england() -> None:
    # 25 December 2026 is a Friday; Boxing Day falls on Saturday, so Monday 28 December is the bank holiday.
    office = _calendar()

    assert office.add(_at("2026-12-24 17:00"), 2 * H) == _at("2026-12-29 10:00")


# --- daylight saving ------------------------------------------------------------------------------------------


def test_an_hour_over_the_spring_change_in_london_is_an_hour_of_local_business_time() -> None:
    # Clocks go forward on Sunday 29 March 2026: Friday is GMT, Monday is BST.
    office = _calendar()
    friday = _at("2026-03-27 17:30")

    monday = office.add(friday, H)

    assert monday == _at("2026-03-30 09:30")
    assert monday == datetime(2026, 3, 30, 8, 30, tzinfo=UTC)
    assert office.elapsed(friday, monday) == H


def test_an_hour_over_the_autumn_change_in_london_is_an_hour_of_local_business_time() -> None:
    # Clocks go back on Sunday 25 October 2026: Friday is BST, Monday is GMT.
    office = _calendar()
    friday = _at("2026-10-23 17:30")

    monday = office.add(friday, H)

    assert monday == _at("2026-10-26 09:30")
    assert monday == datetime(2026, 10, 26, 9, 30, tzinfo=UTC)
    assert office.elapsed(friday, monday) == H


@pytest.mark.parametrize(
    ("friday", "monday", "utc"),
    [
        ("2026-03-27 17:30", "2026-03-30 09:30", datetime(2026, 3, 30, 7, 30, tzinfo=UTC)),
        ("2026-10-23 17:30", "2026-10-26 09:30", datetime(2026, 10, 26, 8, 30, tzinfo=UTC)),
    ],
)
def test_business_hours_in_berlin_follow_local_time_across_both_changes(
    friday: str, monday: str, utc: datetime
) -> None:
    office = _calendar("Europe/Berlin", holidays="DE")

    assert office.add(_at(friday, BERLIN), H) == _at(monday, BERLIN) == utc


def test_a_working_day_after_the_change_is_still_nine_real_hours() -> None:
    office = _calendar()

    assert office.elapsed(_at("2026-03-30 00:00"), _at("2026-03-31 00:00")) == 9 * H
    assert office.elapsed(_at("2026-10-26 00:00"), _at("2026-10-27 00:00")) == 9 * H


@pytest.mark.parametrize(("day", "real"), [("2026-03-29", 2 * H), ("2026-10-25", 4 * H)])
def test_open_hours_spanning_the_change_count_the_real_time_that_passes(day: str, real: timedelta) -> None:
    # Open Sundays 00:30-03:30 local: on the spring change the hour 01:00-02:00 does not exist, in autumn the
    # hour 01:00-02:00 happens twice.
    night = _calendar(days={6: ((time(0, 30), time(3, 30)),)}, holidays=None)

    assert night.elapsed(_at(f"{day} 00:00"), _at(f"{day} 12:00")) == real


def test_a_calendar_open_all_day_every_day_counts_like_around_the_clock_across_a_change() -> None:
    always = _calendar(days=dict.fromkeys(range(7), ((time(0), None),)), holidays=None)
    saturday_night = _at("2026-03-28 22:00")

    assert always.add(saturday_night, 5 * H) == saturday_night + 5 * H
    assert always.elapsed(saturday_night, saturday_night + 30 * H) == 30 * H


_2026 = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)
_AMOUNT = st.integers(min_value=0, max_value=200 * 60).map(lambda minutes: minutes * M)


@settings(max_examples=100, deadline=None)
@given(start=_2026, amount=_AMOUNT)
def test_an_always_open_calendar_agrees_with_around_the_clock(start: datetime, amount: timedelta) -> None:
    always = _calendar(days=dict.fromkeys(range(7), ((time(0), None),)), holidays=None)

    assert always.add(start, amount) == AroundTheClock().add(start, amount)


@settings(max_examples=100, deadline=None)
@given(start=_2026, amount=_AMOUNT, zone=st.sampled_from(["Europe/London", "Europe/Berlin"]))
def test_the_business_time_between_a_start_and_its_deadline_is_the_amount_added(
    start: datetime, amount: timedelta, zone: str
) -> None:
    office = _calendar(zone, holidays="DE" if zone == "Europe/Berlin" else "GB-ENG")

    deadline = office.add(start, amount)

    assert deadline >= start
    assert office.elapsed(start, deadline) == amount


@settings(max_examples=100, deadline=None)
@given(start=_2026, first=_AMOUNT, second=_AMOUNT)
def test_adding_business_time_in_two_parts_lands_where_adding_it_at_once_does(
    start: datetime, first: timedelta, second: timedelta
) -> None:
    office = _calendar()

    assert office.add(office.add(start, first), second) == office.add(start, first + second)


_YEAR_END = st.datetimes(min_value=datetime(2026, 12, 15), max_value=datetime(2027, 1, 5)).map(
    lambda moment: moment.replace(tzinfo=UTC)
)
_WEEKS = st.integers(min_value=1, max_value=400 * 60).map(lambda minutes: minutes * M)


@settings(max_examples=150, deadline=None)
@given(start=st.one_of(_2026, _YEAR_END), amount=_WEEKS)
def test_a_deadline_is_the_first_moment_the_amount_of_open_time_has_passed(start: datetime, amount: timedelta) -> None:
    office = _calendar()

    deadline = office.add(start, amount)

    assert office.elapsed(start, deadline) == amount
    assert office.elapsed(start, deadline - timedelta(microseconds=1)) < amount


def test_business_time_added_over_new_year_skips_the_holidays_into_the_next_year() -> None:
    office = _calendar()

    # Thursday 31 December 2026 at 17:00; 1 January is a bank holiday, then a weekend: Monday 4 January at 10:00.
    assert office.add(_at("2026-12-31T17:00"), 2 * H) == _at("2027-01-04T10:00")


# --- around the clock -----------------------------------------------------------------------------------------


def test_around_the_clock_every_second_counts_weekends_and_holidays_included() -> None:
    always = AroundTheClock()
    friday = _at("2026-12-24 17:00")

    assert always.add(friday, 2 * H) == friday + 2 * H
    assert always.elapsed(friday, friday + 90 * H) == 90 * H


def test_around_the_clock_counts_real_time_across_a_change() -> None:
    always = AroundTheClock()
    before = _at("2026-03-29 00:30")
    after = _at("2026-03-29 03:30")

    assert always.elapsed(before, after) == 2 * H


def test_around_the_clock_no_time_elapses_backwards() -> None:
    always = AroundTheClock()
    now = FakeClock().now()

    assert always.elapsed(now, now - H) == timedelta(0)


def test_a_fake_clock_moves_only_forward() -> None:
    clock = FakeClock("2026-01-09T17:00:00+00:00")

    assert clock.advance("2h") == datetime(2026, 1, 9, 19, tzinfo=UTC)
    with pytest.raises(ValueError, match="does not go back"):
        clock.advance(-H)
