"""The change feed's contract: what a page that updates by itself is told when an incident opens or changes.

The service tells each committed change to one callback (``Service(on_change=...)``); a feed turns it into a
small :class:`IncidentNotice` and hands it to every page listening. The daemon's feed lives in its own memory
(:class:`engine.desk.LocalFeed`); across several daemons over one database, a feed that publishes through the
database (PostgreSQL's LISTEN/NOTIFY) fits the same two methods, which is why the notice is plain data.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from engine.service import Change

__all__ = ["ChangeFeed", "IncidentNotice", "Subscription"]


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


class Subscription(Protocol):
    """One listener's notices, in the order they were published. Iterating ends when the listener is closed or
    was dropped for falling behind (a page then reconnects and reads the state afresh)."""

    def __aiter__(self) -> AsyncIterator[IncidentNotice]: ...

    def close(self) -> None: ...


class ChangeFeed(Protocol):
    """Publishes changes (from any thread, never blocking on a listener) to subscriptions (made on the event
    loop that reads them)."""

    def publish(self, change: Change) -> None: ...

    def subscribe(self) -> Subscription: ...
