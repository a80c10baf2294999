"""What the service answers with: what became of a mention, an action, a fired deadline, an incident's details,
and each change it committed (for whoever watches: a simulation's story, a live page)."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.incident import Incident, Refused, Stepped
from engine.store import Delivery, DueDeadline, Event, IncidentRow, MentionBody

__all__ = ["ActResult", "Change", "FiredDeadline", "IncidentDetails", "IntakeResult", "IntakeStatus"]


class IntakeStatus(enum.StrEnum):
    """What became of one mention sent in."""

    OPENED = "opened"
    JOINED = "joined"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"  # no playbook applies to it
    MUTED = "muted"  # its author is muted: recorded on the closed incident that muted them, no incident opened
    INVALID = "invalid"  # it fails the mention schema: nothing recorded
    NOT_RECORDED = "not_recorded"  # valid, but another mention of an all-or-nothing batch was not


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What became of one mention: ``opened``, ``joined``, ``duplicate``, ``ignored`` or ``invalid``.

    ``same_as`` is, for a duplicate, the mention received before that this one repeats (channel, external id).
    """

    status: IntakeStatus
    incident_id: str | None = None
    playbook: str | None = None
    message: str | None = None
    errors: tuple[Mapping[str, str], ...] = ()
    same_as: tuple[str, str] | None = None

    @property
    def accepted(self) -> bool:
        return self.status != IntakeStatus.INVALID


@dataclass(frozen=True, slots=True)
class ActResult:
    """An action taken (``incident`` is the new state) or refused (``refused`` says why; nothing changed)."""

    incident: Incident
    refused: Refused | None = None
    history: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class FiredDeadline:
    key: str
    incident_id: str
    due_at: datetime
    fired_at: datetime
    notified: tuple[Mapping[str, Any], ...] = ()

    @property
    def late_by(self) -> timedelta:
        return self.fired_at - self.due_at


@dataclass(frozen=True, slots=True)
class IncidentDetails:
    row: IncidentRow
    deadlines: tuple[DueDeadline, ...]
    events: tuple[Event, ...]
    actions: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    #: The posts themselves, in the order they came: what the customer wrote, not only where.
    mentions: tuple[MentionBody, ...] = ()
    #: The time zone each running clock is kept in (its calendar's, else UTC): how its times are shown to people.
    zones: Mapping[str, str] = field(default_factory=dict)
    #: Each of its notifications at each destination: who was told, when, and whether it got there.
    deliveries: tuple[Delivery, ...] = ()
    #: For each clock standing still (a target's ``paused_in``): the time it has counted and the time it has left,
    #: in its own counted time. A paused clock is due at no time, so this is what it reads as instead.
    paused: Mapping[str, tuple[timedelta, timedelta]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Change:
    """One change the service committed: the incident before it (None when it opened), the runtime's step (the
    incident after, and the effects in the order the runtime gave them), and when."""

    before: Incident | None
    stepped: Stepped
    at: datetime
