"""The change feed's contract: what a page that updates by itself is told when an incident opens or changes.

The service tells each committed change to one callback (``Service(on_change=...)``); a feed turns it into a
small :class:`IncidentNotice` and hands it to every page listening. The daemon's feed lives in its own memory
(:class:`engine.desk.LocalFeed`); across several daemons over one database, each daemon's feed is also handed the
notices the others' commits hinted through the database (PostgreSQL's LISTEN/NOTIFY), which is why the notices are
plain data, a few short fields.

Who else has an incident open goes the same way: the desk's presence registry says which incident's company
changed (:class:`PresenceNotice`), and each page's stream reads who is there now from the registry.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from engine.service import Change

__all__ = ["ChangeFeed", "IncidentNotice", "PresenceNotice", "Subscription"]


@dataclass(frozen=True, slots=True)
class IncidentNotice:
    """An incident opened or changed: which, its state and its revision now. Pages fetch the rest themselves."""

    id: str
    state: str
    revision: int

    @classmethod
    def of(cls, change: Change) -> IncidentNotice:
        incident = change.stepped.incident
        return cls(incident.id, incident.state, incident.revision)


@dataclass(frozen=True, slots=True)
class PresenceNotice:
    """Someone came to, started or stopped drafting on, or left an incident: which. Each page's stream reads who
    is there from the registry, leaving out the person the page is for."""

    incident: str


class Subscription(Protocol):
    """One listener's notices, in the order they were published. Iterating ends when the listener is closed or
    was dropped for falling behind (a page then reconnects and reads the state afresh)."""

    def __aiter__(self) -> AsyncIterator[IncidentNotice | PresenceNotice]: ...

    def close(self) -> None: ...


class ChangeFeed(Protocol):
    """Publishes changes (from any thread, never blocking on a listener) to subscriptions (made on the event
    loop that reads them)."""

    def publish(self, change: Change) -> None: ...

    def publish_presence(self, incident_id: str) -> None: ...

    def subscribe(self) -> Subscription: ...
