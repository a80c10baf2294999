"""The queue: open incidents in the order their next clock runs out, filtered as the URL says, each row with what
a person needs to pick the next one (the start of its latest post, who it waits on, how much of its limit is used).

The filters are the query string's (``severity``, ``state``, ``playbook``, ``channel``, ``waiting_on``, ``mine``,
``breached``, ``q``), so a view can be bookmarked and shared. The deadlines are the server's: the page only counts
down to them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from engine.desk._gauge import Gauge, gauge
from engine.desk._session import Visitor
from engine.incident import ClockState
from engine.service import Service, post_view
from engine.store import IncidentFilter, IncidentRow

__all__ = ["QUEUE_FILTERS", "QueueFilters", "QueueRow", "queue"]

#: The query parameters the queue reads; the live fragment takes the same ones.
QUEUE_FILTERS = ("severity", "state", "playbook", "channel", "waiting_on", "mine", "breached", "q")
#: The page size the queue reads the open incidents in: the store lists them by opening, not by deadline, so the
#: queue reads them all to order them (a store ordered by next deadline is the way to a faster queue).
_SCAN = 500
_SHOWN = 50
_PREVIEW = 140


@dataclass(frozen=True, slots=True)
class QueueFilters:
    """The queue's filters as the URL gives them (blank: not filtered)."""

    severity: str = ""
    state: str = ""
    playbook: str = ""
    channel: str = ""
    waiting_on: str = ""
    mine: bool = False
    breached: bool = False
    q: str = ""

    @classmethod
    def of(cls, query: Mapping[str, str]) -> QueueFilters:
        def text(name: str) -> str:
            return query.get(name, "").strip()

        return cls(
            text("severity"),
            text("state"),
            text("playbook"),
            text("channel"),
            text("waiting_on"),
            text("mine") in ("1", "true", "on"),
            text("breached") in ("1", "true", "on"),
            text("q"),
        )

    def query(self) -> dict[str, str]:
        """The filters set, as query parameters again."""
        every = {
            "severity": self.severity,
            "state": self.state,
            "playbook": self.playbook,
            "channel": self.channel,
            "waiting_on": self.waiting_on,
            "mine": "1" if self.mine else "",
            "breached": "true" if self.breached else "",
            "q": self.q,
        }
        return {name: value for name, value in every.items() if value}


@dataclass(frozen=True, slots=True)
class QueueRow:
    """One incident as the queue shows it; ``gauge`` is its first clock's (None: no clock running)."""

    id: str
    playbook: str
    severity: str
    state: str
    channel: str
    author: str
    revision: int
    latest: str
    waiting_on: tuple[str, ...]
    clock: str | None
    due_at: datetime | None
    gauge: Gauge | None
    breached: bool
    roles_mine: bool = field(default=False)


def _latest(service: Service, incident_id: str) -> str:
    posts = service.store.mentions_of(incident_id)
    if not posts:
        return ""
    text = str(post_view(posts[-1]).get("text", ""))
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 1] + "…"


def _matches(row: IncidentRow, filters: QueueFilters, seen: Visitor) -> bool:
    incident = row.incident
    if filters.channel and incident.channel != filters.channel:
        return False
    return not (filters.mine and not seen.roles & set(row.waiting_on))


def _searched(service: Service, row: IncidentRow, words: str) -> bool:
    needle = words.casefold().lstrip("@")
    incident = row.incident
    if needle in incident.id.casefold() or needle in incident.author.casefold():
        return True
    return any(
        needle in str(post_view(post).get("text", "")).casefold() for post in service.store.mentions_of(incident.id)
    )


def _every(service: Service, where: IncidentFilter) -> Iterator[IncidentRow]:
    """Every incident ``where`` keeps, page by page."""
    while True:
        page = service.incidents(where)
        yield from page
        if len(page) < where.limit:
            return
        where = dataclasses.replace(where, after=page[-1].incident.id)


def _first_due(row: IncidentRow) -> ClockState | None:
    return min(row.incident.clocks, key=lambda clock: clock.due_at) if row.incident.clocks else None


def queue(service: Service, filters: QueueFilters, seen: Visitor, now: datetime) -> list[QueueRow]:
    """The open incidents the filters keep, the one whose clock runs out first at the top (those with no clock
    running last)."""
    where = IncidentFilter(
        states=(filters.state,) if filters.state else (),
        severities=(filters.severity,) if filters.severity else (),
        playbooks=(filters.playbook,) if filters.playbook else (),
        breached=True if filters.breached else None,
        open_only=True,
        waiting_on=filters.waiting_on or None,
        limit=_SCAN,
    )
    rows = [row for row in _every(service, where) if _matches(row, filters, seen)]
    if filters.q:
        rows = [row for row in rows if _searched(service, row, filters.q)]
    far = datetime.max.replace(tzinfo=now.tzinfo)
    rows.sort(key=lambda row: (first.due_at if (first := _first_due(row)) else far, row.incident.id))
    shown = []
    for row in rows[:_SHOWN]:
        incident = row.incident
        first = _first_due(row)
        shown.append(
            QueueRow(
                incident.id,
                incident.playbook,
                incident.severity,
                incident.state,
                incident.channel,
                incident.author,
                incident.revision,
                _latest(service, incident.id),
                tuple(row.waiting_on),
                first.name if first else None,
                first.due_at if first else None,
                gauge(first, incident, service.library.by_digest(incident.playbook_digest), now) if first else None,
                bool(incident.breached),
                bool(seen.roles & set(row.waiting_on)),
            )
        )
    return shown
