"""The records a store keeps and hands back, and the names of their states: plain frozen data, no I/O."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from engine.incident import Incident

__all__ = [
    "Delivery",
    "DeliveryState",
    "DueDeadline",
    "Event",
    "EventKind",
    "IncidentFilter",
    "IncidentRow",
    "MentionBody",
    "MentionOutcome",
    "MentionRecord",
    "OutboxRow",
    "OutboxState",
    "PlaybookRecord",
    "RecordedIncident",
    "Tally",
    "TokenRecord",
]


class MentionOutcome(enum.StrEnum):
    """What a recorded mention did: opened an incident, joined one, was ignored (no playbook applies), or was
    recorded on the closed incident that muted its author."""

    OPENED = "opened"
    JOINED = "joined"
    IGNORED = "ignored"
    MUTED = "muted"  # its author is muted: recorded on the closed incident that muted them


class EventKind(enum.StrEnum):
    """The kind of command an event of an incident's log holds."""

    OPEN = "open"
    JOIN = "join"
    ACT = "act"
    DEADLINE = "deadline"
    LINK = "link"
    OWNER = "owner"  # taken, assigned or released: not a change of state
    NOTE = "note"  # an internal note: not a change of state
    DRAFT = "draft"  # a draft reply submitted, approved or returned: not a change of state
    ATTEMPT = "attempt"  # an action the rules refused: it changed nothing
    PASSED_ON = "passed_on"  # a mention about this closed incident went to the one it was merged into
    MUTED = "muted"  # a post by this closed incident's muted author, recorded here and no further


class OutboxState(enum.StrEnum):
    """A notification waits to be routed to its destinations, then is routed (its deliveries carry on)."""

    PENDING = "pending"
    ROUTED = "routed"


class DeliveryState(enum.StrEnum):
    """A delivery to one destination: still to be tried, delivered, or given up on (dead)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


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
class RecordedIncident:
    """An incident as reports and exports read it: its record, whether it is closed, and its whole log in order."""

    incident: Incident
    final: bool
    events: tuple[Event, ...]


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
    state: str  # a DeliveryState: pending, delivered or dead
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
class DeskSession:
    """A signed-in desk session, kept by the hash of its cookie only, with the form token that guards its posts."""

    id_hash: str
    person: str
    csrf: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class IncidentFilter:
    """Which incidents to list. ``after`` is the last id of the previous page (ids sort by opening)."""

    states: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    playbooks: tuple[str, ...] = ()
    breached: bool | None = None
    open_only: bool = False
    waiting_on: str | None = None  # a role that may take one of the actions open to the incident now
    waiting_on_any: tuple[str, ...] = ()  # roles, any of which may act on the incident now
    channels: tuple[str, ...] = ()
    owner: str | None = None  # the person who has the incident
    #: Words in its id, its author's handle or the text of one of its posts (case ignored; a leading @ too).
    text: str | None = None
    after: str | None = None
    limit: int = 50
    #: ``opened`` (the order of opening, paged with ``after``) or ``due`` (the one whose next clock runs out first;
    #: incidents with no clock running last; one page, ``after`` is not taken).
    order: str = "opened"


class Tally(NamedTuple):
    """How many incidents of one playbook sit in one state at one severity, and how many of them breached."""

    playbook: str
    state: str
    severity: str
    incidents: int
    breached: int
