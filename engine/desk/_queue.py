"""The queue: open incidents in the order their next clock runs out, filtered as the URL says, each row with what
a person needs to pick the next one (the start of its latest post, who it waits on, how much of its limit is used).

The filters are the query string's (``severity``, ``state``, ``playbook``, ``channel``, ``waiting_on``, ``mine``,
``my_roles``, ``breached``, ``q``), so a view can be bookmarked and shared. The deadlines are the server's: the page
only counts down to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from engine.desk._gauge import Gauge, gauge
from engine.desk._session import Visitor
from engine.incident import ClockState
from engine.service import Service
from engine.store import IncidentFilter, IncidentRow, MentionBody

__all__ = ["QUEUE_FILTERS", "QueueFilters", "QueueRow", "queue"]

#: The query parameters the queue reads; the live fragment takes the same ones.
QUEUE_FILTERS = ("severity", "state", "playbook", "channel", "waiting_on", "mine", "my_roles", "breached", "q")
#: The rows shown: the store reads them straight from its index of open incidents by next deadline.
_SHOWN = 50
_PREVIEW = 140


@dataclass(frozen=True, slots=True)
class QueueFilters:
    """The queue's filters as the URL gives them (blank: not filtered). ``mine``: the incidents the person has;
    ``my_roles``: those waiting on one of their roles."""

    severity: str = ""
    state: str = ""
    playbook: str = ""
    channel: str = ""
    waiting_on: str = ""
    mine: bool = False
    my_roles: bool = False
    breached: bool = False
    q: str = ""

    @classmethod
    def of(cls, query: Mapping[str, str]) -> QueueFilters:
        def text(name: str) -> str:
            return query.get(name, "").strip()

        def ticked(name: str) -> bool:
            return text(name) in ("1", "true", "on")

        return cls(
            text("severity"),
            text("state"),
            text("playbook"),
            text("channel"),
            text("waiting_on"),
            ticked("mine"),
            ticked("my_roles"),
            ticked("breached"),
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
            "my_roles": "1" if self.my_roles else "",
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
    owner: str | None = None
    team_mine: bool = False  # the person has one of the playbook's roles, so may take it


def _preview(post: MentionBody | None) -> str:
    """The start of a post's text: as it was stored (mended at intake), not parsed again for a preview."""
    text = post.body.get("text") if post is not None else None
    if not isinstance(text, str):
        return ""
    return text if len(text) <= _PREVIEW else text[: _PREVIEW - 1] + "…"


def _first_due(row: IncidentRow) -> ClockState | None:
    """The running clock that runs out first; a clock standing still runs out at no time."""
    running = [clock for clock in row.incident.clocks if not clock.paused]
    return min(running, key=lambda clock: clock.due_at) if running else None


def queue(service: Service, filters: QueueFilters, seen: Visitor, now: datetime) -> list[QueueRow]:
    """The open incidents the filters keep, the one whose clock runs out first at the top (those with no clock
    running last)."""
    if filters.my_roles and not seen.roles:
        return []  # nothing waits on a person with no role
    where = IncidentFilter(
        states=(filters.state,) if filters.state else (),
        severities=(filters.severity,) if filters.severity else (),
        playbooks=(filters.playbook,) if filters.playbook else (),
        channels=(filters.channel,) if filters.channel else (),
        breached=True if filters.breached else None,
        open_only=True,
        waiting_on=filters.waiting_on or None,
        waiting_on_any=tuple(sorted(seen.roles)) if filters.my_roles else (),
        owner=seen.person if filters.mine else None,
        text=filters.q or None,
        order="due",
        limit=_SHOWN,
    )
    rows = service.incidents(where)
    latest = service.store.latest_mentions([row.incident.id for row in rows])
    shown = []
    for row in rows:
        incident = row.incident
        first = _first_due(row)
        book = service.library.by_digest(incident.playbook_digest)
        shown.append(
            QueueRow(
                incident.id,
                incident.playbook,
                incident.severity,
                incident.state,
                incident.channel,
                incident.author,
                incident.revision,
                _preview(latest.get(incident.id)),
                tuple(row.waiting_on),
                first.name if first else None,
                first.due_at if first else None,
                gauge(first, incident, book, now) if first else None,
                bool(incident.breached),
                bool(seen.roles & set(row.waiting_on)),
                incident.owner,
                bool(seen.roles & book.playbook.roles.keys()),
            )
        )
    return shown
