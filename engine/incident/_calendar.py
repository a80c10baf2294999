"""Counting time: around the clock, or in the open hours of a business calendar.

A business calendar has a time zone (with daylight saving), weekly opening hours and public holidays. Both kinds
answer the same two questions, so clocks never care which they count in: what moment is ``amount`` of counted
time after ``start``, and how much counted time lies between two moments.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from engine.playbook import Calendar

__all__ = ["AroundTheClock", "BusinessCalendar", "TimeCounter"]

#: How far ahead a deadline is searched for before giving up (a calendar open one hour a year still fits).
_HORIZON_YEARS = 3
_DAY = timedelta(days=1)
_ZERO = timedelta(0)


def _first_year(moment: datetime) -> int:
    """The first local year to look in for open time after ``moment``: a local date is within a day of the UTC
    one, so in the first two days of January it may still be last year somewhere."""
    year = moment.year
    return year - 1 if moment.month == 1 and moment.day <= 2 else year


class _Year(NamedTuple):
    """A local year's open spans in order, their closing moments (for bisecting), and the open time of the year
    before each span starts and once it ends (so adding open time is two bisections, however many spans it
    crosses)."""

    spans: tuple[tuple[datetime, datetime], ...]
    closes: list[datetime]
    before: list[timedelta]
    through: list[timedelta]


class TimeCounter(Protocol):
    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The moment when ``amount`` of counted time has passed since ``start``."""
        ...

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The counted time between ``start`` and ``end`` (zero when ``end`` is not after ``start``)."""
        ...


class AroundTheClock:
    """Every second counts."""

    def add(self, start: datetime, amount: timedelta) -> datetime:
        return start + amount

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        return max(end - start, timedelta(0))


class BusinessCalendar:
    """Only open hours count: the weekly hours in the calendar's time zone, less public holidays."""

    def __init__(self, calendar: Calendar) -> None:
        self._zone = ZoneInfo(calendar.timezone)
        self._hours = calendar.hours.days
        self._country, _, region = (calendar.holidays or "").partition("-")
        self._region = region or None
        self._closed: dict[int, frozenset[date]] = {}
        self._years: dict[int, _Year] = {}
        self.name = calendar.name

    def _holidays(self, year: int) -> frozenset[date]:
        if not self._country:
            return frozenset()
        if year not in self._closed:
            import holidays  # noqa: PLC0415 - loading every country's rules takes a quarter of a second; only here

            found = holidays.country_holidays(self._country, subdiv=self._region, years=year)
            self._closed[year] = frozenset(found)
        return self._closed[year]

    def _year(self, year: int) -> _Year:
        """Every open span of one local year, in order, as UTC moments; worked out once (the hot path of clocks)."""
        found = self._years.get(year)
        if found is None:
            day = date(year, 1, 1)
            spans: list[tuple[datetime, datetime]] = []
            while day.year == year:
                spans.extend(self._open_spans(day))
                day += _DAY
            before: list[timedelta] = []
            through: list[timedelta] = []
            counted = _ZERO
            for opens, closes in spans:
                before.append(counted)
                counted += closes - opens
                through.append(counted)
            found = self._years[year] = _Year(tuple(spans), [closes for _, closes in spans], before, through)
        return found

    def _open_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open spans of one local day, as UTC moments (DST-aware: a 09:00-18:00 day is 9 real hours)."""
        if day in self._holidays(day.year):
            return []
        spans = []
        for opens, closes in self._hours.get(day.weekday(), ()):
            start = datetime.combine(day, opens, tzinfo=self._zone).astimezone(UTC)
            end_local = (
                datetime.combine(day, closes, tzinfo=self._zone)
                if closes is not None
                else datetime.combine(day + _DAY, time(0), tzinfo=self._zone)
            )
            spans.append((start, end_local.astimezone(UTC)))
        return spans

    def _spans_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open time from ``moment`` on, span by span (the first one cut to start at ``moment``)."""
        first = _first_year(moment)
        for year in range(first, first + _HORIZON_YEARS + 1):
            spans, closes, _, _ = self._year(year)
            for index in range(bisect_right(closes, moment), len(spans)):
                opens, ends = spans[index]
                yield (opens if opens > moment else moment), ends

    def add(self, start: datetime, amount: timedelta) -> datetime:
        if amount <= _ZERO:
            return start
        # Every clock that starts or moves runs this: within the first year looked in, it is two bisections.
        first = _first_year(start)
        spans, closes, before, through = self._years.get(first) or self._year(first)
        index = bisect_right(closes, start)
        if index < len(spans):
            opens = spans[index][0]
            goal = (before[index] + (start - opens) if opens < start else before[index]) + amount
            end = bisect_left(through, goal, index)
            if end < len(spans):
                return spans[end][0] + (goal - before[end])
        return self._add_across_years(start, amount)

    def _add_across_years(self, start: datetime, amount: timedelta) -> datetime:
        remaining = amount
        for opens, closes in self._spans_from(start):
            length = closes - opens
            if remaining <= length:
                return opens + remaining
            remaining -= length
        return start + _HORIZON_YEARS * 366 * _DAY  # pragma: no cover - a calendar that never opens

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        if end <= start:
            return total
        for opens, closes in self._spans_from(start):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total
