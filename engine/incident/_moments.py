"""How the runtime writes a moment into history: as :meth:`datetime.isoformat` does, and to the minute for people.

Nearly every moment the runtime holds is in UTC, read from the store or the clock; those are spelled by hand from a
table of two-digit numbers, at a tenth of the cost of ``isoformat``, which formats through a general printf and asks
the time zone its offset each time (a replay of a month of incidents spells millions of them). Any other moment is
left to ``isoformat``; a test checks the two agree.
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso", "minute"]

_TWO = tuple(f"{number:02d}" for number in range(100))


def iso(moment: datetime) -> str:
    """``moment.isoformat()``: ``2026-11-23T13:00:00+00:00``."""
    if moment.tzinfo is not UTC or moment.year < 1000:
        return moment.isoformat()
    two = _TWO
    text = (
        f"{moment.year}-{two[moment.month]}-{two[moment.day]}T{two[moment.hour]}:{two[moment.minute]}:"
        f"{two[moment.second]}"
    )
    micro = moment.microsecond
    if micro:
        return f"{text}.{micro:06d}+00:00"
    return text + "+00:00"


def minute(moment: datetime) -> str:
    """``2026-11-23 13:00Z``: a moment in UTC to the minute."""
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    if moment.year < 1000:
        text = moment.isoformat()
        return f"{text[:10]} {text[11:16]}Z"
    two = _TWO
    return f"{moment.year}-{two[moment.month]}-{two[moment.day]} {two[moment.hour]}:{two[moment.minute]}Z"
