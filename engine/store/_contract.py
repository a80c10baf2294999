"""What every store backend provides, by concern: one unit of work whose repositories write together, and the
read-side views the service shows.

A backend implements small pieces: a repository per concern (incidents, the event log, deadlines, the outbox and
its deliveries, mentions, intake receipts, tokens, playbooks), each working inside the unit of work it belongs
to, and the views (one group per concern, and the figures for readiness and ``/metrics``). Every change is written
through one unit of work, ``with store.write() as tx: tx.incidents.save(...); tx.deadlines.arm(...)``, and
commits together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol

from engine.errors import Conflict, StoreError, StoreUnavailable
from engine.incident import Incident
from engine.store._records import (
    Delivery,
    DeskSession,
    DueDeadline,
    Event,
    IncidentFilter,
    IncidentRow,
    MentionBody,
    MentionRecord,
    OutboxRow,
    PlaybookRecord,
    RecordedIncident,
    Tally,
    TokenRecord,
)

__all__ = [
    "Conflict",
    "DeadlineRepository",
    "DeadlineViews",
    "DeliveryViews",
    "EventLog",
    "Figures",
    "IncidentRepository",
    "IncidentViews",
    "MentionRepository",
    "MentionViews",
    "OutboxRepository",
    "PlaybookRepository",
    "PlaybookViews",
    "ReceiptRepository",
    "SessionRepository",
    "SessionViews",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TokenRepository",
    "TokenViews",
    "UnitOfWork",
]


# --- the write side: repositories inside one unit of work ------------------------------------------------------


class IncidentRepository(Protocol):
    def get(self, incident_id: str) -> Incident | None: ...

    def open_for(self, channel: str, author: str, thread_id: str | None) -> list[Incident]:
        """Open incidents on ``channel`` by ``author`` or in ``thread_id``: the ones a new mention may join.

        ``author`` is the author as joining compares them (:func:`engine.playbook.handle_key`: ``@Zed`` is ``zed``).
        """
        ...

    def merged_for(self, channel: str, author: str, thread_id: str | None) -> list[Incident]:
        """Closed incidents on ``channel`` by ``author`` or in ``thread_id`` that a merge closed (their
        ``merged_into`` names another), the latest first: the ones a later mention would have joined."""
        ...

    def muted_for(self, channel: str, author: str, now: datetime) -> Incident | None:
        """The latest closed incident on ``channel`` whose ``author`` is muted past ``now``, if any."""
        ...

    def grouped(self, group: str, since: datetime | None) -> Incident | None:
        """The open incident gathering the mentions of ``group`` whose latest mention is at or after ``since`` (any,
        when None), the latest such: the one a mention of the group joins. One index search."""
        ...

    def new_id(self) -> str: ...

    def save(
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


class EventLog(Protocol):
    def append(
        self,
        incident_id: str,
        *,
        at: datetime,
        kind: str,
        actor: str | None,
        playbook_digest: str,
        command: Mapping[str, Any],
        history: Sequence[Mapping[str, Any]],
    ) -> int:
        """Append one command to the incident's log; returns its sequence number."""
        ...


class DeadlineRepository(Protocol):
    def claim(self, now: datetime, limit: int) -> list[DueDeadline]:
        """Pending deadlines due by ``now``, the earliest first (ties in key order), up to ``limit``: this unit of
        work's to fire. No other unit of work fires them before it ends (SQLite: its write lock keeps every other
        writer out; PostgreSQL, shared by several daemons, locks these rows and their incidents' rows, skipping
        rows another unit of work holds, so two daemons claim disjoint sets)."""
        ...

    def arm(self, key: str, incident_id: str, clock: str, due_at: datetime) -> None: ...

    def cancel(self, key: str) -> None: ...

    def complete(self, key: str, at: datetime) -> bool:
        """Mark a pending deadline done; False when it was not pending (already done or cancelled)."""
        ...


class OutboxRepository(Protocol):
    def enqueue(self, key: str, incident_id: str, at: datetime, body: Mapping[str, Any]) -> bool:
        """Add a notification to the outbox; False when one with this key is there already."""
        ...

    def route(self, outbox_key: str, destinations: Sequence[tuple[str, str]], at: datetime) -> None:
        """Give a notification its (destination, channel) pairs, each a pending delivery due now, in one go."""
        ...

    def claim(self, now: datetime, limit: int, lease: timedelta, leased_at: datetime | None = None) -> list[Delivery]:
        """Pending deliveries due by ``now``, the earliest first, up to ``limit``: this daemon's to send until
        ``leased_at + lease`` (``leased_at`` is ``now`` unless given). The claim is committed with the unit of work
        and the sending happens after it, so a database shared by several daemons keeps a lease on each claimed
        delivery, skipped by the others until it runs out (a daemon that died while sending is taken over then)
        or the outcome is recorded. The lease measures real time (a channel's timeout), so a daemon on a simulated
        clock, which jumps, gives the wall clock as ``leased_at``. SQLite's store has one daemon, and claims by
        reading."""
        ...

    def delivered(self, outbox_key: str, destination: str, at: datetime) -> None: ...

    def failed(self, outbox_key: str, destination: str, error: str, retry_at: datetime | None, at: datetime) -> None:
        """Count a failed attempt: try again at ``retry_at``, or give up (dead) when it is None."""
        ...

    def retry_dead(self, outbox_key: str | None, at: datetime) -> int:
        """Dead deliveries (of one notification, or all) back to pending, due at once on any clock, attempts reset."""
        ...


class MentionRepository(Protocol):
    def get(self, channel: str, external_id: str) -> MentionRecord | None: ...

    def by_url(self, url_key: str) -> MentionRecord | None:
        """The mention recorded with this normalised link (a unique index): the same post from another tool."""
        ...

    def record(
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


class ReceiptRepository(Protocol):
    def take(self, webhook_id: str, at: datetime, forget_before: datetime) -> bool:
        """Remember a signed request's ``webhook-id``; False when it was taken already (a replay).

        Ids seen before ``forget_before`` are forgotten: a request that old fails its timestamp check anyway.
        """
        ...


class TokenRepository(Protocol):
    def add(self, record: TokenRecord) -> None: ...

    def revoke(self, person: str, at: datetime) -> int:
        """Revoke every live token of ``person``; returns how many."""
        ...


class SessionRepository(Protocol):
    def add(self, session: DeskSession) -> None: ...

    def end(self, id_hash: str) -> None:
        """Forget the session (signed out); nothing happens when there is none."""
        ...

    def end_all_of(self, person: str) -> int:
        """Forget every session of ``person`` and spend their sign-in links (their access was revoked); returns how
        many sessions."""
        ...

    def forget_expired(self, now: datetime) -> int:
        """Forget the sessions (and sign-in links) expired by ``now``; returns how many sessions."""
        ...

    def add_link(self, code_hash: str, person: str, expires_at: datetime) -> None:
        """Keep a one-time sign-in code for ``person``."""
        ...

    def spend_link(self, code_hash: str, now: datetime) -> str | None:
        """The person of a sign-in code not yet used nor expired, which is then spent; None otherwise."""
        ...


class PlaybookRepository(Protocol):
    def save(self, record: PlaybookRecord, at: datetime) -> None:
        """Keep a playbook version (once: a digest already kept is left as it is)."""
        ...


class UnitOfWork(Protocol):
    """Everything written through one of these commits together, or not at all."""

    @property
    def incidents(self) -> IncidentRepository: ...

    @property
    def events(self) -> EventLog: ...

    @property
    def deadlines(self) -> DeadlineRepository: ...

    @property
    def outbox(self) -> OutboxRepository: ...

    @property
    def mentions(self) -> MentionRepository: ...

    @property
    def receipts(self) -> ReceiptRepository: ...

    @property
    def tokens(self) -> TokenRepository: ...

    @property
    def sessions(self) -> SessionRepository: ...

    @property
    def playbooks(self) -> PlaybookRepository: ...


# --- the read side: views, by concern --------------------------------------------------------------------------


class IncidentViews(Protocol):
    def incident(self, incident_id: str) -> IncidentRow | None: ...

    def incidents(self, where: IncidentFilter) -> list[IncidentRow]: ...

    def events(self, incident_id: str) -> list[Event]: ...

    def all_incident_ids(self) -> Iterator[str]: ...

    def recorded(
        self, since: datetime | None, until: datetime | None, *, closed_only: bool = True
    ) -> Iterator[RecordedIncident]:
        """The incidents opened at or after ``since`` and before ``until`` (either may be open-ended), each with its
        whole event log, in the order they opened: what reports and exports read.

        Streamed a page at a time, each page one query, so a period of 100,000 incidents is never all in memory and
        the store is not held while the caller works on a page.
        """
        ...


class MentionViews(Protocol):
    def mention(self, channel: str, external_id: str) -> MentionRecord | None: ...

    def mentions_of(self, incident_id: str) -> list[MentionBody]:
        """The mentions that opened or joined an incident, in the order they came (an index search by incident)."""
        ...

    def latest_mentions(self, incident_ids: Sequence[str]) -> dict[str, MentionBody]:
        """The latest mention of each of these incidents (by id), read together: a list's previews, however long
        each incident's thread has grown."""
        ...


class DeadlineViews(Protocol):
    def pending_deadlines(self, incident_id: str) -> list[DueDeadline]: ...

    def due(self, now: datetime, limit: int) -> list[DueDeadline]:
        """Pending deadlines due by ``now``, the earliest first (ties in key order, so every run fires alike)."""
        ...

    def earliest_due(self) -> datetime | None: ...


class DeliveryViews(Protocol):
    def outbox(self, state: str | None = None, limit: int = 100) -> list[OutboxRow]: ...

    def unrouted(self, limit: int) -> list[OutboxRow]:
        """Notifications not yet routed to their destinations, oldest first."""
        ...

    def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]: ...

    def deliveries(self, state: str | None, limit: int) -> list[Delivery]: ...

    def deliveries_of(self, incident_id: str) -> list[Delivery]:
        """Every delivery of the incident's notifications, in the order they were due: who was told, and how it went."""
        ...

    def earliest_delivery(self) -> datetime | None: ...


class TokenViews(Protocol):
    def token(self, token_hash: str) -> TokenRecord | None: ...


class SessionViews(Protocol):
    def desk_session(self, id_hash: str) -> DeskSession | None: ...


class PlaybookViews(Protocol):
    def playbook(self, digest: str) -> PlaybookRecord | None: ...


class Figures(Protocol):
    def counts(self) -> Mapping[str, int]:
        """How many incidents (open and all), pending deadlines and pending outbox rows: for readiness and logs."""
        ...

    def tallies(self) -> list[Tally]:
        """Incidents by playbook, state and severity, with how many breached, for every combination: /metrics."""
        ...


class Store(
    IncidentViews,
    MentionViews,
    DeadlineViews,
    DeliveryViews,
    TokenViews,
    SessionViews,
    PlaybookViews,
    Figures,
    Protocol,
):
    """A backend: its schema, one unit of work per change, and the views."""

    def migrate(self) -> int:
        """Apply the schema migrations not applied yet; returns the schema version."""
        ...

    def write(self, *, durable: bool = True) -> AbstractContextManager[UnitOfWork]:
        """One unit of work, committed when the block ends (rolled back if it raises).

        ``durable=False`` is for bookkeeping that is safe to redo after a power loss (a deadline that fires again
        with the same keys, a delivery sent again with the same idempotency key): the backend may skip the flush to
        disk for it. What a caller is answered for (a mention, an action, a token) is always durable.
        """
        ...

    def close(self) -> None: ...
