"""Counting time: around the clock, or in the open hours of a business calendar.

A business calendar has a time zone (with daylight saving), weekly opening hours and public holidays. Both kinds
answer the same two questions, so clocks never care which they count in: what moment is ``amount`` of counted
time after ``start``, and how much counted time lies between two moments.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from engine.playbook import Calendar

__all__ = ["AroundTheClock", "BusinessCalendar", "TimeCounter"]

#: How far ahead a deadline is searched for before giving up (a calendar open one hour a year still fits).
_HORIZON_DAYS = 3 * 366


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
        self.name = calendar.name

    def _holidays(self, year: int) -> frozenset[date]:
        if not self._country:
            return frozenset()
        if year not in self._closed:
            import holidays  # noqa: PLC0415 - loading every country's rules takes a quarter of a second; only here

            found = holidays.country_holidays(self._country, subdiv=self._region, years=year)
            self._closed[year] = frozenset(found)
        return self._closed[year]

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
                else datetime.combine(day + timedelta(days=1), time(0), tzinfo=self._zone)
            )
            spans.append((start, end_local.astimezone(UTC)))
        return spans

    def _spans_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = moment.astimezone(self._zone).date() - timedelta(days=1)  # a span may start the local day before
        for offset in range(_HORIZON_DAYS):
            for start, end in self._open_spans(day + timedelta(days=offset)):
                if end > moment:
                    yield max(start, moment), end

    def add(self, start: datetime, amount: timedelta) -> datetime:
        remaining = amount
        if remaining <= timedelta(0):
            return start
        for opens, closes in self._spans_from(start):
            length = closes - opens
            if remaining <= length:
                return opens + remaining
            remaining -= length
        return start + timedelta(days=_HORIZON_DAYS)  # pragma: no cover - a calendar that never opens

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        total = timedelta(0)
        if end <= start:
            return total
        for opens, closes in self._spans_from(start):
            if opens >= end:
                break
            total += min(closes, end) - opens
        return total
