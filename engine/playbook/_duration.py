"""Durations and percentages as the playbook language writes them: ``1h30m``, ``75%``, within the language's caps.

A duration is at most :data:`MAX_DURATION` (52 weeks) and a percentage at most :data:`MAX_PERCENTAGE` (1000%):
longer is a slip of the keyboard, and a clock set that far ahead would pass the end of the calendar
(``99999999999w`` cannot even be held as a length of time).
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = [
    "MAX_DURATION",
    "MAX_PERCENTAGE",
    "duration_fits",
    "format_duration",
    "parse_duration",
    "parse_percentage",
    "percentage_fits",
]

#: The longest duration the language takes: a year, in the largest unit it has.
MAX_DURATION = timedelta(weeks=52)
#: The largest share of a limit an escalation may wait for: ten times the limit.
MAX_PERCENTAGE = 10.0

_DURATION = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)%$")
_UNITS = (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def _seconds(text: str) -> int | None:
    """The whole seconds ``text`` spells, or ``None`` when it is not a duration (counted before any timedelta, which
    cannot hold ``99999999999w``)."""
    match = _DURATION.match(text)
    if not text or match is None:
        return None
    return sum(int(part) * size for part, (_, size) in zip(match.groups(), _UNITS, strict=True) if part)


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
