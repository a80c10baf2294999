"""A report: the figures of the incidents of a period, in all and per group, with what its charts need.

:func:`make_report` reads recorded incidents one at a time (from the store or an export), turns each into a
:class:`~engine.report.Case` on its own playbook's rulebook and adds it to the tallies: the whole period's, the
chosen grouping's, and the weeks' and severities' the charts draw. Nothing but the tallies is kept.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.report._case import Case, case_of
from engine.report._period import Period, iso_week
from engine.report._rulebooks import Rulebooks
from engine.report._tally import Tally
from engine.store import RecordedIncident

__all__ = ["FORMAT_VERSION", "Grouping", "Report", "make_report"]

#: The version of the JSON report's shape; it changes only when a field changes meaning or goes away.
FORMAT_VERSION = 1

#: An incident that no one with a role acted on (opened and closed by the rules alone) counts under this role.
NO_ROLE = "(nobody acted)"


class Grouping(enum.StrEnum):
    """What ``--by`` groups incidents by. An incident counts under each role that acted on it."""

    PLAYBOOK = "playbook"
    SEVERITY = "severity"
    CHANNEL = "channel"
    WEEK = "week"
    ROLE = "role"


_KEYS: dict[Grouping, Callable[[Case], tuple[str, ...]]] = {
    Grouping.PLAYBOOK: lambda case: (case.playbook,),
    Grouping.SEVERITY: lambda case: (case.severity,),
    Grouping.CHANNEL: lambda case: (case.channel,),
    Grouping.WEEK: lambda case: (iso_week(case.opened_at),),
    Grouping.ROLE: lambda case: tuple(sorted(case.roles)) or (NO_ROLE,),
}


@dataclass(frozen=True, slots=True)
class Report:
    """The figures, JSON-ready: ``overall`` for the whole period, ``groups`` per ``by`` (empty without one), and
    per week and per severity for the charts; ``first_response_seconds`` for the distribution chart."""

    period: Period
    by: Grouping | None
    as_of: datetime
    overall: dict[str, Any]
    groups: tuple[dict[str, Any], ...]
    weeks: tuple[dict[str, Any], ...]
    severities: tuple[dict[str, Any], ...]
    first_response_seconds: tuple[float, ...]
    missing_playbooks: tuple[str, ...]
    closed_only: bool

    def as_json(self) -> dict[str, Any]:
        return {
            "format_version": FORMAT_VERSION,
            "period": self.period.as_json(),
            "as_of": self.as_of.isoformat(),
            "closed_only": self.closed_only,
            "by": None if self.by is None else self.by.value,
            "percentiles": "median: the middle value (mean of the two middle ones); p90: nearest rank",
            "missing_playbooks": list(self.missing_playbooks),
            "overall": self.overall,
            "groups": list(self.groups),
        }


def make_report(
    recorded: Iterable[RecordedIncident],
    rulebooks: Rulebooks,
    period: Period,
    by: Grouping | None,
    as_of: datetime,
    *,
    closed_only: bool = True,
    trends: bool = True,
) -> Report:
    """The report over ``recorded`` (already the period's incidents; any outside ``period`` are left out).

    ``trends`` False leaves out the per-week and per-severity tallies only the charts draw."""
    overall = Tally("all")
    groups: dict[str, Tally] = {}
    weeks: dict[str, Tally] = {}
    severities: dict[str, Tally] = {}
    ranks: dict[str, int] = {}  # each severity's place among its playbook's levels, lowest first: the charts' order
    for item in recorded:
        if not period.holds(item.incident.opened_at) or (closed_only and not item.final):
            continue
        pinned = rulebooks.get(item.incident.playbook_digest)
        case = case_of(item, pinned, as_of)
        if pinned is not None and case.severity not in ranks:
            ranks[case.severity] = pinned.book.levels.get(case.severity, len(pinned.book.levels))
        overall.add(case)
        if by is not None:
            for key in _KEYS[by](case):
                groups.setdefault(key, Tally(key)).add(case)
        if trends:
            week = iso_week(case.opened_at)
            weeks.setdefault(week, Tally(week)).add(case)
            severities.setdefault(case.severity, Tally(case.severity)).add(case)

    def by_level(level: str) -> tuple[int, str]:
        return ranks.get(level, len(ranks)), level

    return Report(
        period=period,
        by=by,
        as_of=as_of,
        overall=overall.figures(),
        groups=tuple(
            groups[key].figures() for key in sorted(groups, key=by_level if by is Grouping.SEVERITY else None)
        ),
        weeks=tuple(weeks[key].figures() for key in sorted(weeks)),
        severities=tuple(severities[key].figures() for key in sorted(severities, key=by_level)),
        first_response_seconds=tuple(overall.first_response.calendar),
        missing_playbooks=tuple(sorted(rulebooks.missing)),
        closed_only=closed_only,
    )
