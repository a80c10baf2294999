"""What every store backend provides: the records it keeps, one write transaction, and the reads the daemon needs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from engine.incident import Incident

__all__ = [
    "Conflict",
    "Delivery",
    "DueDeadline",
    "Event",
    "IncidentFilter",
    "IncidentRow",
    "MentionBody",
    "MentionRecord",
    "OutboxRow",
    "PlaybookRecord",
    "Store",
    "StoreError",
    "TokenRecord",
    "WriteTransaction",
]


class StoreError(Exception):
    """The store cannot do what was asked (it is unreachable, its files are damaged, its schema is too new)."""


class Conflict(StoreError):
    """An incident changed since it was read: the write is refused and nothing is changed."""


@dataclass(frozen=True, slots=True)
class PlaybookRecord:
    """A playbook version as it was loaded; incidents keep running under the version they opened with."""

    digest: str
    id: str
    version: int
    source: str
    path: str


@dataclass(frozen=True, slots=True)
class MentionRecord:
    """What became of a mention: ``opened``, ``joined`` or ``ignored`` (no playbook applies), and the incident."""

    channel: str
    external_id: str
    outcome: str
    incident_id: str | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class MentionBody:
    """A mention an incident holds, as the listening tool sent it: what the customer wrote, and when it came."""

    channel: str
    external_id: str
    outcome: str
    received_at: datetime
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of an incident's append-only log: the command that changed it, and what it changed.

    ``command`` is enough to replay the change through the runtime; ``history`` holds the runtime's audit entries,
    the incident's history as people read it.
    """

    seq: int
    incident_id: str
    at: datetime
    kind: str
    actor: str | None
    playbook_digest: str
    command: Mapping[str, Any]
    history: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class IncidentRow:
    incident: Incident
    final: bool
    waiting_on: tuple[str, ...]
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class DueDeadline:
    key: str
    incident_id: str
    clock: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxRow:
    key: str
    incident_id: str
    created_at: datetime
    body: Mapping[str, Any]
    state: str
    attempts: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """One notification on its way to one destination (a role's Slack, an address, a webhook, the log)."""

    outbox_key: str
    destination: str
    channel: str
    state: str  # pending, delivered or dead
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    delivered_at: datetime | None
    incident_id: str
    body: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class TokenRecord:
    hash: str
    person: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    label: str | None
    #: What the token may do: "full" (everything its person's roles allow) or "intake" (send mentions, nothing else).
    scope: str = "full"


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    """Which incidents to list. ``after`` is the last id of the previous page (ids sort by opening)."""

    states: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    playbooks: tuple[str, ...] = ()
    breached: bool | None = None
    open_only: bool = False
    waiting_on: str | None = None  # a role that may take one of the actions open to the incident now
    after: str | None = None
    limit: int = 50


class WriteTransaction(Protocol):
    """Everything written through one of these commits together, or not at all."""

    def incident(self, incident_id: str) -> Incident | None: ...

    def open_incidents_for(self, channel: str, author: str, thread_id: str | None) -> list[Incident]:
        """Open incidents on ``channel`` by ``author`` or in ``thread_id``: the ones a new mention may join.

        ``author`` is the author as joining compares them (:func:`engine.playbook.handle_key`: ``@Zed`` is ``zed``).
        """
        ...

    def mention(self, channel: str, external_id: str) -> MentionRecord | None: ...

    def mention_by_url(self, url_key: str) -> MentionRecord | None:
        """The mention recorded with this normalised link (a unique index): the same post from another tool."""
        ...

    def record_mention(
        self,
        channel: str,
        external_id: str,
        *,
        outcome: str,
        incident_id: str | None,
        body: Mapping[str, Any],
        at: datetime,
        url_key: str | None = None,
        source: str | None = None,
    ) -> None: ...

    def new_incident_id(self) -> str: ...

    def save_incident(
        self,
        incident: Incident,
        *,
        final: bool,
        waiting_on: Sequence[str],
        previous_revision: int | None,
        at: datetime,
    ) -> None:
        """Insert (``previous_revision`` None) or update the row; :class:`Conflict` if it moved meanwhile."""
        ...

    def append_event(
        self,
        incident_id: str,
        *,
        at: datetime,
        kind: str,
        actor: str | None,
        playbook_digest: str,
        command: Mapping[str, Any],
        history: Sequence[Mapping[str, Any]],
    ) -> int: ...

    def arm(self, key: str, incident_id: str, clock: str, due_at: datetime) -> None: ...

    def cancel(self, key: str) -> None: ...

    def complete(self, key: str, at: datetime) -> bool:
        """Mark a pending deadline done; False when it was not pending (already done or cancelled)."""
        ...

    def enqueue(self, key: str, incident_id: str, at: datetime, body: Mapping[str, Any]) -> bool:
        """Add a notification to the outbox; False when one with this key is there already."""
        ...

    def take_receipt(self, webhook_id: str, at: datetime, forget_before: datetime) -> bool:
        """Remember a signed request's ``webhook-id``; False when it was taken already (a replay).

        Ids seen before ``forget_before`` are forgotten: a request that old fails its timestamp check anyway.
        """
        ...


class Store(Protocol):
    def migrate(self) -> int:
        """Apply the schema migrations not applied yet; returns the schema version."""
        ...

    def write(self) -> AbstractContextManager[WriteTransaction]: ...

    def close(self) -> None: ...

    # --- playbooks -------------------------------------------------------------------------------------------

    def save_playbook(self, record: PlaybookRecord, at: datetime) -> None: ...

    def playbook(self, digest: str) -> PlaybookRecord | None: ...

    # --- reads -----------------------------------------------------------------------------------------------

    def incident(self, incident_id: str) -> IncidentRow | None: ...

    def incidents(self, where: IncidentFilter) -> list[IncidentRow]: ...

    def events(self, incident_id: str) -> list[Event]: ...

    def pending_deadlines(self, incident_id: str) -> list[DueDeadline]: ...

    def due(self, now: datetime, limit: int) -> list[DueDeadline]: ...

    def earliest_due(self) -> datetime | None: ...

    def mention(self, channel: str, external_id: str) -> MentionRecord | None: ...

    def mentions_of(self, incident_id: str) -> list[MentionBody]:
        """The mentions that opened or joined an incident, in the order they came (an index search by incident)."""
        ...

    def outbox(self, state: str | None = None, limit: int = 100) -> list[OutboxRow]: ...

    def counts(self) -> Mapping[str, int]:
        """How many incidents (open and all), pending deadlines and pending outbox rows: for readiness and logs."""
        ...

    def tallies(self) -> list[tuple[str, str, str, int, int]]:
        """(playbook, state, severity, incidents, of which breached) for every combination present: for /metrics."""
        ...

    def all_incident_ids(self) -> Iterator[str]: ...

    # --- notifications ---------------------------------------------------------------------------------------

    def unrouted(self, limit: int) -> list[OutboxRow]:
        """Notifications not yet routed to their destinations, oldest first."""
        ...

    def route(self, outbox_key: str, destinations: Sequence[tuple[str, str]], at: datetime) -> None:
        """Give a notification its (destination, channel) pairs, each a pending delivery due now, in one go."""
        ...

    def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]: ...

    def delivered(self, outbox_key: str, destination: str, at: datetime) -> None: ...

    def delivery_failed(
        self, outbox_key: str, destination: str, error: str, retry_at: datetime | None, at: datetime
    ) -> None:
        """Count a failed attempt: try again at ``retry_at``, or give up (dead) when it is None."""
        ...

    def deliveries(self, state: str | None, limit: int) -> list[Delivery]: ...

    def retry_dead(self, outbox_key: str | None, at: datetime) -> int:
        """Dead deliveries (of one notification, or all) back to pending, due at once on any clock, attempts reset."""
        ...

    def earliest_delivery(self) -> datetime | None: ...

    # --- tokens ----------------------------------------------------------------------------------------------

    def add_token(self, record: TokenRecord) -> None: ...

    def token(self, token_hash: str) -> TokenRecord | None: ...

    def revoke_tokens(self, person: str, at: datetime) -> int: ...
