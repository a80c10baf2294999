"""The period a report covers, and the weeks it is grouped by.

A period holds the incidents *opened* at or after ``since`` and before ``until``. Either end may be open. Each end
is written as a date (``2026-11-01``, midnight UTC; for ``until`` a date means the end of that day, so
``--since 2026-11-01 --until 2026-11-30`` is all of November) or as an RFC 3339 moment with its offset
(``2026-11-01T09:00:00+01:00``). Weeks are ISO 8601 weeks (Monday to Sunday, in UTC), written ``2026-W48``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

__all__ = ["Period", "PeriodError", "iso_week", "parse_bound"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})")


class PeriodError(ValueError):
    """A period end that cannot be read, or a period that ends before it starts; the message says how to fix it."""


def parse_bound(text: str, *, end: bool = False) -> datetime:
    """One end of a period: a date or an RFC 3339 moment with its offset (see the module docstring)."""
    written = text.strip()
    try:
        if _DATE.fullmatch(written):
            day = date.fromisoformat(written)
            return datetime.combine(day + timedelta(days=1) if end else day, time(0), tzinfo=UTC)
        if _MOMENT.fullmatch(written):
            return datetime.fromisoformat(written.replace("z", "Z").replace("Z", "+00:00")).astimezone(UTC)
    except (ValueError, OverflowError):
        pass  # 2026-02-30 has the shape but not a day, and 9999-12-31 has no day after it: told below, as any other
    raise PeriodError(
        f"{text!r} is not a date or a moment; write a date such as 2026-11-01 or an RFC 3339 moment with its "
        "offset, such as 2026-11-01T09:00:00Z"
    )


@dataclass(frozen=True, slots=True)
class Period:
    """Incidents opened at or after ``since`` and before ``until`` (None: open at that end)."""

    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.until <= self.since:
            raise PeriodError(
                f"the period ends ({self.until.isoformat()}) before it starts ({self.since.isoformat()}); "
                "give a --since earlier than --until"
            )

    @classmethod
    def of(cls, since: str | None, until: str | None) -> Period:
        return cls(
            None if since is None else parse_bound(since), None if until is None else parse_bound(until, end=True)
        )

    def holds(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)

    def as_json(self) -> dict[str, str | None]:
        return {
            "since": None if self.since is None else self.since.isoformat(),
            "until": None if self.until is None else self.until.isoformat(),
        }

    def words(self) -> str:
        if self.since is None and self.until is None:
            return "every incident"
        since = "" if self.since is None else f" at or after {self.since.isoformat()}"
        until = "" if self.until is None else f" before {self.until.isoformat()}"
        return f"incidents opened{since}{' and' if since and until else ''}{until}"


def iso_week(moment: datetime) -> str:
    """The ISO 8601 week of a moment, in UTC: ``2026-W48``."""
    year, week, _ = moment.astimezone(UTC).isocalendar()
    return f"{year}-W{week:02d}"
