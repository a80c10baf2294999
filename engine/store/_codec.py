"""The records calmly keeps, as JSON and back, in one place: an incident's row, the commands of its event log,
its history entries, and the notifications in the outbox.

Incidents are written exactly: times as RFC 3339 UTC with microseconds (``2026-11-23T09:00:00.000000Z``), which
sorts as text; durations as whole microseconds. Commands, history entries and notifications keep the shapes the
stores of earlier releases hold, so a data folder written by any of them replays and delivers as it did.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from engine.incident import (
    Act,
    Actor,
    AddNote,
    Audit,
    ClockState,
    DeadlineReached,
    Draft,
    DraftReply,
    DraftStage,
    DraftStep,
    Incident,
    LinkIncident,
    LinkRelation,
    Notify,
    Occurrence,
    Promise,
    SetOwner,
    iso_moment,
)
from engine.store._records import EventKind

__all__ = [
    "AttemptCommand",
    "JoinCommand",
    "LoggedCommand",
    "MutedCommand",
    "OpenCommand",
    "PassedOnCommand",
    "canonical_json",
    "command_kind",
    "decode_command",
    "decode_incident",
    "encode_command",
    "encode_history",
    "encode_incident",
    "encode_notification",
    "moment",
    "parse_moment",
    "parse_optional_moment",
    "plain",
]


@functools.lru_cache(maxsize=4096)
def moment(value: datetime) -> str:
    """A moment as sortable text in UTC. Remembered a while: one change writes the same few moments many times (its
    time, each clock's start and end in the record, the row's columns, the deadlines)."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"  # quicker than strftime


def parse_moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_optional_moment(text: str | None) -> datetime | None:
    return None if text is None else parse_moment(text)


def canonical_json(value: Any) -> str:
    """JSON as the store keeps it: compact, keys sorted, text as written (not escaped to ASCII)."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def plain(value: Any) -> Any:
    """A value as JSON holds it: what ``json.loads(json.dumps(value, default=str))`` gives, without the round trip.

    Objects and arrays are kept (tuples become lists), JSON's scalars are kept, anything else becomes its text.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)  # an enum of text is its text
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, dict):
        return {_plain_key(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return str(value)


def _plain_key(key: Any) -> str:
    if isinstance(key, str):
        return str(key)
    if key is None or isinstance(key, bool):
        return json.dumps(key)  # null, true, false: as JSON writes such a key
    if isinstance(key, int | float):
        return json.dumps(key)
    return str(key)


def _micros(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


def _occurrence(value: Occurrence | None) -> list[Any] | None:
    if value is None:
        return None
    return [_micros(value.offset), value.step, value.repetition, moment(value.at)]


def _read_occurrence(value: list[Any] | None) -> Occurrence | None:
    if value is None:
        return None
    offset, step, repetition, at = value
    return Occurrence(timedelta(microseconds=offset), step, repetition, parse_moment(at))


def _promise(promise: Promise) -> dict[str, Any]:
    return {
        "id": promise.id,
        "kind": promise.kind,
        "promised_by": promise.promised_by,
        "promised_at": moment(promise.promised_at),
        "due_at": moment(promise.due_at),
        "amount": promise.amount,
        "currency": promise.currency,
        "note": promise.note,
        "contact": promise.contact,
        "kept_at": None if promise.kept_at is None else moment(promise.kept_at),
        "kept_by": promise.kept_by,
        "kept_note": promise.kept_note,
    }


def _read_promise(data: Mapping[str, Any]) -> Promise:
    return Promise(
        id=data["id"],
        kind=data["kind"],
        promised_by=data["promised_by"],
        promised_at=parse_moment(data["promised_at"]),
        due_at=parse_moment(data["due_at"]),
        amount=data["amount"],
        currency=data.get("currency"),
        note=data["note"],
        contact=data["contact"],
        kept_at=parse_optional_moment(data["kept_at"]),
        kept_by=data["kept_by"],
        kept_note=data["kept_note"],
    )


def encode_incident(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "playbook": incident.playbook,
        "playbook_version": incident.playbook_version,
        "playbook_digest": incident.playbook_digest,
        "state": incident.state,
        "severity": incident.severity,
        "channel": incident.channel,
        "author": incident.author,
        "opened_at": moment(incident.opened_at),
        "entered_at": moment(incident.entered_at),
        "last_mention_at": moment(incident.last_mention_at),
        "thread_id": incident.thread_id,
        "revision": incident.revision,
        "clocks": [
            {
                "name": clock.name,
                "started_at": moment(clock.started_at),
                "epoch": clock.epoch,
                "due_at": moment(clock.due_at),
                "fired": _occurrence(clock.fired),
                "next": _occurrence(clock.next),
                **({} if clock.judged_from is None else {"judged_from": moment(clock.judged_from)}),
                **({} if clock.replanned_at is None else {"replanned_at": moment(clock.replanned_at)}),
                # Written only for a clock that stood still: bodies from before pauses read as never paused.
                **({} if clock.paused_at is None else {"paused_at": moment(clock.paused_at)}),
                **({} if not clock.pauses else {"pauses": [[moment(a), moment(b)] for a, b in clock.pauses]}),
            }
            for clock in incident.clocks
        ],
        "finished_clocks": sorted(incident.finished_clocks),
        "breached": sorted(incident.breached),
        "mention_count": incident.mention_count,
        "facts": dict(incident.facts),
        "links": [list(link) for link in incident.links],
        **({} if incident.owner is None else {"owner": incident.owner}),
        **({} if not incident.told else {"told": {role: [moment(at), by] for role, (at, by) in incident.told.items()}}),
        **({} if incident.customer_id is None else {"customer_id": incident.customer_id}),
        **({} if incident.customer_segment is None else {"customer_segment": incident.customer_segment}),
        **({"promises": [_promise(promise) for promise in incident.promises]} if incident.promises else {}),
        **({} if incident.draft is None else {"draft": _draft(incident.draft)}),
        **({} if incident.group is None else {"group": incident.group}),
        **({"arrivals": [list(step) for step in incident.arrivals]} if incident.arrivals else {}),
        **({"surged": list(incident.surged)} if incident.surged else {}),
    }


def _draft(draft: Draft) -> dict[str, Any]:
    return {
        "trigger": draft.trigger,
        "text": draft.text,
        "channel": draft.channel,
        "digest": draft.digest,
        "stage": draft.stage.value,
        "drafted_by": draft.drafted_by,
        "drafted_at": moment(draft.drafted_at),
        "decided_by": draft.decided_by,
        "decided_at": None if draft.decided_at is None else moment(draft.decided_at),
        "note": draft.note,
    }


def _read_draft(data: Mapping[str, Any] | None) -> Draft | None:
    if data is None:
        return None
    return Draft(
        trigger=data["trigger"],
        text=data["text"],
        channel=data["channel"],
        digest=data["digest"],
        stage=DraftStage(data["stage"]),
        drafted_by=data["drafted_by"],
        drafted_at=parse_moment(data["drafted_at"]),
        decided_by=data.get("decided_by"),
        decided_at=parse_optional_moment(data.get("decided_at")),
        note=data.get("note"),
    )


def decode_incident(data: dict[str, Any]) -> Incident:
    return Incident(
        id=data["id"],
        playbook=data["playbook"],
        playbook_version=data["playbook_version"],
        playbook_digest=data["playbook_digest"],
        state=data["state"],
        severity=data["severity"],
        channel=data["channel"],
        author=data["author"],
        opened_at=parse_moment(data["opened_at"]),
        entered_at=parse_moment(data["entered_at"]),
        last_mention_at=parse_moment(data["last_mention_at"]),
        thread_id=data["thread_id"],
        revision=data["revision"],
        clocks=tuple(
            ClockState(
                name=clock["name"],
                started_at=parse_moment(clock["started_at"]),
                epoch=clock["epoch"],
                due_at=parse_moment(clock["due_at"]),
                fired=_read_occurrence(clock["fired"]),
                next=_read_occurrence(clock["next"]),
                judged_from=parse_moment(clock["judged_from"]) if "judged_from" in clock else None,
                replanned_at=parse_moment(clock["replanned_at"]) if "replanned_at" in clock else None,
                paused_at=parse_moment(clock["paused_at"]) if "paused_at" in clock else None,
                pauses=tuple((parse_moment(a), parse_moment(b)) for a, b in clock.get("pauses", ())),
            )
            for clock in data["clocks"]
        ),
        finished_clocks=frozenset(data["finished_clocks"]),
        breached=frozenset(data["breached"]),
        # Bodies written before the count kept every mention's key: their number is the count.
        mention_count=data["mention_count"] if "mention_count" in data else len(data["mentions"]),
        facts=MappingProxyType(dict(data["facts"])),
        links=tuple((incident_id, relation) for incident_id, relation in data.get("links", ())),  # none before links
        owner=data.get("owner"),
        told=MappingProxyType({role: (parse_moment(at), clock) for role, (at, clock) in data.get("told", {}).items()}),
        customer_id=data.get("customer_id"),  # none before known customers
        customer_segment=data.get("customer_segment"),
        promises=tuple(_read_promise(promise) for promise in data.get("promises", ())),  # none before the ledger
        draft=_read_draft(data.get("draft")),  # none before approval was a step of its own
        group=data.get("group"),  # none before groups
        arrivals=tuple((int(step), int(count)) for step, count in data.get("arrivals", ())),
        surged=tuple(data.get("surged", ())),
    )


# --- history entries and notifications ---------------------------------------------------------------------------


def encode_history(audit: Audit) -> dict[str, Any]:
    """An audit entry as the incident's history shows and keeps it (JSON-ready)."""
    return {
        "at": iso_moment(audit.at),
        "kind": audit.kind,
        "summary": audit.summary,
        "actor": audit.actor,
        "details": plain(dict(audit.details)),
    }


def encode_notification(notify: Notify, incident: Incident) -> dict[str, Any]:
    """A notification as the outbox keeps it and the channels deliver it, with the incident's playbook version."""
    return {
        "key": notify.key,
        "incident": notify.incident,
        "playbook": incident.playbook,
        "playbook_version": incident.playbook_version,
        "playbook_digest": incident.playbook_digest,
        "roles": list(notify.roles),
        "kind": notify.kind.value,
        "clock": notify.clock,
        "state": notify.state,
        "severity": notify.severity,
        "step": notify.step,
        "repetition": notify.repetition,
        "threshold": notify.threshold,
        "scheduled_at": iso_moment(notify.scheduled_at),
        "due_at": iso_moment(notify.due_at),
        "late_by_seconds": notify.late_by.total_seconds(),
        **({} if notify.event is None else {"event": notify.event}),
    }


# --- the commands of the event log -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenCommand:
    """A mention opened the incident ``id`` (``mention`` as it came); ``follows`` is (incident, playbook) when it
    was a follow-up of another incident under a lower-priority playbook. A crisis incident a surge opened is opened
    by the mention that made the surge fire."""

    id: str
    mention: Mapping[str, Any]
    follows: tuple[str, str] | None = None
    #: The group it gathers when not the mention's own: a crisis incident a surge opened.
    group: str | None = None


@dataclass(frozen=True, slots=True)
class JoinCommand:
    """A mention (as it came) joined the incident; ``via``: through the closed incident merged into it."""

    mention: Mapping[str, Any] = field(default_factory=dict)
    via: str | None = None


@dataclass(frozen=True, slots=True)
class MutedCommand:
    """A post by this closed incident's muted author, recorded here instead of opening an incident (``until``: when
    the mute ends). Like a passed-on mention, it changed nothing here, and a rebuild passes over it."""

    channel: str
    external_id: str
    until: str


@dataclass(frozen=True, slots=True)
class PassedOnCommand:
    """A mention about this closed incident went on to ``to``, the incident it was merged into. It changed nothing
    here, so a rebuild passes over it; it is kept so this incident's history says where its thread went."""

    channel: str
    external_id: str
    to: str


@dataclass(frozen=True, slots=True)
class AttemptCommand:
    """An action the rules refused (a reply a house rule stopped, a role that may not take it), kept so the team can
    learn from it. It changed nothing, so a rebuild passes over it."""

    trigger: str
    actor: Actor
    fields: Mapping[str, Any]
    reason: str
    message: str


#: What an event of the log holds: enough to replay the change through the runtime.
LoggedCommand = (
    OpenCommand
    | JoinCommand
    | Act
    | DeadlineReached
    | LinkIncident
    | SetOwner
    | AddNote
    | DraftReply
    | AttemptCommand
    | PassedOnCommand
    | MutedCommand
)


def command_kind(command: LoggedCommand) -> EventKind:
    if isinstance(command, OpenCommand):
        return EventKind.OPEN
    if isinstance(command, JoinCommand):
        return EventKind.JOIN
    if isinstance(command, Act):
        return EventKind.ACT
    if isinstance(command, DeadlineReached):
        return EventKind.DEADLINE
    if isinstance(command, SetOwner):
        return EventKind.OWNER
    if isinstance(command, AddNote):
        return EventKind.NOTE
    if isinstance(command, DraftReply):
        return EventKind.DRAFT
    if isinstance(command, AttemptCommand):
        return EventKind.ATTEMPT
    if isinstance(command, PassedOnCommand):
        return EventKind.PASSED_ON
    if isinstance(command, MutedCommand):
        return EventKind.MUTED
    return EventKind.LINK


def _person(actor: Actor) -> dict[str, Any]:
    # The roster name only when there is one: what a contact of the kind agent was checked against, kept so a
    # replay checks it against the same name.
    named = {} if actor.name is None else {"name": actor.name}
    return {"person": actor.person, "roles": sorted(actor.roles), **named}


def _read_person(data: Mapping[str, Any]) -> Actor:
    name = data.get("name")
    return Actor(str(data["person"]), frozenset(data["roles"]), None if name is None else str(name))


def encode_command(command: LoggedCommand) -> dict[str, Any]:
    """A command as the event log keeps it: a ``type`` and the command's own fields."""
    kind = command_kind(command)
    if isinstance(command, OpenCommand):
        opened: dict[str, Any] = {"type": kind.value, "id": command.id, "mention": command.mention}
        if command.follows is not None:
            opened["follows"] = {"incident": command.follows[0], "playbook": command.follows[1]}
        if command.group is not None:
            opened["group"] = command.group
        return opened
    if isinstance(command, JoinCommand):
        joined = {"type": kind.value, "mention": command.mention}
        if command.via is not None:
            joined["via"] = command.via
        return joined
    if isinstance(command, PassedOnCommand):
        return {"type": kind.value, "channel": command.channel, "external_id": command.external_id, "to": command.to}
    if isinstance(command, MutedCommand):
        return {
            "type": kind.value,
            "channel": command.channel,
            "external_id": command.external_id,
            "until": command.until,
        }
    if isinstance(command, Act):
        return {
            "type": kind.value,
            "trigger": command.trigger,
            **_person(command.actor),
            "fields": dict(command.fields),
            "expected_revision": command.expected_revision,
        }
    if isinstance(command, DeadlineReached):
        return {"type": kind.value, "key": command.key}
    if isinstance(command, SetOwner):
        owner = None if command.owner is None else _person(command.owner)
        return {"type": kind.value, **_person(command.actor), "owner": owner, "take_over": command.take_over}
    if isinstance(command, AddNote):
        return {"type": kind.value, **_person(command.actor), "text": command.text}
    if isinstance(command, DraftReply):
        return {
            "type": kind.value,
            **_person(command.actor),
            "step": command.step.value,
            "trigger": command.trigger,
            "fields": dict(command.fields),
            "expected_revision": command.expected_revision,
        }
    if isinstance(command, AttemptCommand):
        return {
            "type": kind.value,
            **_person(command.actor),
            "trigger": command.trigger,
            "fields": dict(command.fields),
            "reason": command.reason,
            "message": command.message,
        }
    linked = {"type": kind.value, "incident": command.incident, "playbook": command.playbook}
    if command.relation is not LinkRelation.FOLLOWED_UP_BY:  # the one relation logged before relations were
        linked["relation"] = command.relation.value
    return linked


def decode_command(data: Mapping[str, Any], *, revisions: bool = True) -> LoggedCommand:
    """A command read back from the event log; :class:`ValueError` for a type this calmly does not know. Without
    ``revisions``, an action or draft is read as it was meant, not as of the revision its person saw (what a replay
    takes, reaching other revisions)."""
    kind = data["type"]
    if kind == EventKind.OPEN:
        earlier = data.get("follows")
        follows = None if earlier is None else (str(earlier["incident"]), str(earlier["playbook"]))
        group = data.get("group")
        return OpenCommand(str(data["id"]), data["mention"], follows, None if group is None else str(group))
    if kind == EventKind.JOIN:
        via = data.get("via")
        return JoinCommand(data["mention"], None if via is None else str(via))
    if kind == EventKind.PASSED_ON:
        return PassedOnCommand(str(data["channel"]), str(data["external_id"]), str(data["to"]))
    if kind == EventKind.MUTED:
        return MutedCommand(str(data["channel"]), str(data["external_id"]), str(data["until"]))
    if kind == EventKind.ACT:
        revision = data["expected_revision"] if revisions else None
        return Act(str(data["trigger"]), _read_person(data), dict(data["fields"]), revision)
    if kind == EventKind.DEADLINE:
        return DeadlineReached(str(data["key"]))
    if kind == EventKind.LINK:
        relation = LinkRelation(data.get("relation", LinkRelation.FOLLOWED_UP_BY.value))
        return LinkIncident(str(data["incident"]), str(data["playbook"]), relation)
    if kind == EventKind.OWNER:
        owner = data["owner"]
        return SetOwner(_read_person(data), None if owner is None else _read_person(owner), bool(data["take_over"]))
    if kind == EventKind.NOTE:
        return AddNote(_read_person(data), str(data["text"]))
    if kind == EventKind.DRAFT:
        return DraftReply(
            DraftStep(data["step"]),
            str(data["trigger"]),
            _read_person(data),
            dict(data["fields"]),
            data["expected_revision"] if revisions else None,
        )
    if kind == EventKind.ATTEMPT:
        return AttemptCommand(
            str(data["trigger"]), _read_person(data), dict(data["fields"]), str(data["reason"]), str(data["message"])
        )
    raise ValueError(f"unknown event type {kind!r}")
