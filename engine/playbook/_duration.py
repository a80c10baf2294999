"""Durations and percentages as the playbook language writes them: ``1h30m``, ``75%``, within the language's caps.

A duration is at most :data:`MAX_DURATION` (52 weeks) and a percentage at most :data:`MAX_PERCENTAGE` (1000%):
longer is a slip of the keyboard, and a clock set that far ahead would pass the end of the calendar
(``99999999999w`` cannot even be held as a length of time).

A limit on a business calendar may also be written in business days, ``2bd`` or ``1bd4h``: working days of the
calendar the clock counts on. What one is depends on that calendar, so :func:`business_days` only reads the
count; the playbook is built with the calendar's day (see :meth:`engine.playbook.Calendar.business_day`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import NamedTuple

__all__ = [
    "BUSINESS_DAY",
    "MAX_BUSINESS_DAYS",
    "MAX_DURATION",
    "MAX_PERCENTAGE",
    "BusinessDays",
    "business_days",
    "duration_fits",
    "format_duration",
    "limit_fits",
    "parse_duration",
    "parse_percentage",
    "percentage_fits",
]

#: The longest duration the language takes: a year, in the largest unit it has.
MAX_DURATION = timedelta(weeks=52)
#: The largest share of a limit an escalation may wait for: ten times the limit.
MAX_PERCENTAGE = 10.0
#: The unit of business days, as limits write it: ``2bd`` is two working days of the clock's calendar.
BUSINESS_DAY = "bd"
#: The most business days a limit takes: a year of five-day weeks.
MAX_BUSINESS_DAYS = 260

_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_BUSINESS = re.compile(r"^(\d+)bd(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")
_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def _seconds(text: str) -> int | None:
    """The whole seconds ``text`` spells, or ``None`` when it is not a duration (counted before any timedelta, which
    cannot hold ``99999999999w``)."""
    match = _DURATION.match(text)
    if not text or match is None:
        return None
    return sum(int(part) * size for part, (_, size) in zip(match.groups(), _UNITS, strict=True) if part)


class BusinessDays(NamedTuple):
    """A limit written in business days: ``1bd4h`` is one working day and four open hours."""

    days: int
    rest: timedelta

    def on(self, day: timedelta) -> timedelta:
        """The counted open time on a calendar whose business day is ``day`` long."""
        return day * self.days + self.rest


def business_days(text: str) -> BusinessDays | None:
    """``"2bd"`` -> 2 business days; None when ``text`` is not written in business days."""
    match = _BUSINESS.match(text)
    if match is None:
        return None
    days, *rest = match.groups()
    seconds = sum(int(part) * size for part, (_, size) in zip(rest, _UNITS[2:], strict=True) if part)
    return BusinessDays(int(days), timedelta(seconds=seconds))


def limit_fits(text: object) -> bool:
    """:func:`duration_fits` for a limit, which may also be written in business days (at most
    :data:`MAX_BUSINESS_DAYS`)."""
    found = business_days(text) if isinstance(text, str) else None
    if found is None:
        return duration_fits(text)
    return found.days <= MAX_BUSINESS_DAYS and found.rest <= MAX_DURATION


def parse_duration(text: str) -> timedelta:
    """``"1h30m"`` -> 90 minutes. Raises ValueError on anything else, and on a duration over :data:`MAX_DURATION`
    (the schema has already said why)."""
    seconds = _seconds(text)
    if seconds is None:
        raise ValueError(f"not a duration: {text!r}")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"{text} is longer than {format_duration(MAX_DURATION)}, the longest duration calmly takes")
    return timedelta(seconds=seconds)


def duration_fits(text: object) -> bool:
    """Whether a value written as a duration is within :data:`MAX_DURATION` (anything else is not this test's
    business: the schema's pattern says what a duration looks like)."""
    seconds = _seconds(text) if isinstance(text, str) else None
    return seconds is None or seconds <= MAX_DURATION.total_seconds()


def percentage_fits(text: object) -> bool:
    """Whether a value written as a percentage is within :data:`MAX_PERCENTAGE` (see :func:`duration_fits`)."""
    match = _PERCENT.match(text) if isinstance(text, str) else None
    return match is None or float(match.group(1)) / 100 <= MAX_PERCENTAGE


def format_duration(value: timedelta) -> str:
    """The shortest playbook spelling of a duration: 90 minutes -> ``"1h30m"``; negative values get a minus."""
    total = int(value.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    if total == 0:
        return "0s"
    parts = []
    for unit, size in _UNITS:
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count}{unit}")
    return sign + "".join(parts)


def parse_percentage(text: str) -> float:
    """``"75%"`` -> 0.75."""
    match = _PERCENT.match(text)
    if match is None:
        raise ValueError(f"not a percentage: {text!r}")
    return float(match.group(1)) / 100
