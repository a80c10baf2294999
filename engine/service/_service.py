"""The daemon's work, without HTTP or threads: take mentions, let people act, fire due deadlines, rebuild incidents.

Each change is the pure runtime's ``step`` plus one store transaction: the command appended to the incident's event
log, the incident's row, its deadlines armed or cancelled, its notifications put in the outbox. The time comes from
the ``clock`` passed in, so tests drive it by hand.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog

from engine.incident import (
    Act,
    Actor,
    ArmDeadline,
    Audit,
    CancelDeadline,
    DeadlineReached,
    Incident,
    JoinInto,
    JoinMention,
    LinkIncident,
    Mention,
    NoMatch,
    Notify,
    Refused,
    Rulebook,
    Stepped,
    mend_mention,
    open_incident,
    parse_mention,
    route,
    step,
)
from engine.service import metrics
from engine.service._library import Library
from engine.service._moments import clock_zone_name
from engine.service._signing import TOLERANCE as SIGNATURE_TOLERANCE
from engine.store import DueDeadline, Event, IncidentFilter, IncidentRow, MentionBody, Store, WriteTransaction

__all__ = [
    "ActResult",
    "FiredDeadline",
    "IncidentDetails",
    "IntakeResult",
    "NotFound",
    "Replayed",
    "Service",
    "history_entry",
    "waiting_on",
]


_log = structlog.get_logger("calmly.service")


class NotFound(LookupError):
    """No incident has this id."""


class Replayed(Exception):
    """A signed intake request whose ``webhook-id`` was taken already: nothing is recorded again."""


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What became of one mention: ``opened``, ``joined``, ``duplicate``, ``ignored`` or ``invalid``."""

    status: str
    incident_id: str | None = None
    playbook: str | None = None
    message: str | None = None
    errors: tuple[Mapping[str, str], ...] = ()

    @property
    def accepted(self) -> bool:
        return self.status != "invalid"


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


def history_entry(audit: Audit) -> dict[str, Any]:
    """An audit entry as the history shows it (JSON-ready)."""
    return {
        "at": audit.at.isoformat(),
        "kind": audit.kind,
        "summary": audit.summary,
        "actor": audit.actor,
        "details": json.loads(json.dumps(dict(audit.details), default=str)),
    }


def _notification(notify: Notify, incident: Incident) -> dict[str, Any]:
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
        "scheduled_at": notify.scheduled_at.isoformat(),
        "due_at": notify.due_at.isoformat(),
        "late_by_seconds": notify.late_by.total_seconds(),
    }


def _observe(fired: FiredDeadline) -> None:
    """A fired deadline, measured and logged: here, so every path that fires deadlines is counted the same."""
    metrics.DEADLINE_LATENESS.observe(max(0.0, fired.late_by.total_seconds()))
    _log.info(
        "deadline fired",
        incident_id=fired.incident_id,
        key=fired.key,
        due_at=fired.due_at.isoformat(),
        late_ms=round(fired.late_by.total_seconds() * 1000),
        notified=[",".join(notice["roles"]) for notice in fired.notified],
    )


def waiting_on(book: Rulebook, state: str) -> tuple[str, ...]:
    """The roles that may take one of the actions open from ``state``: whom an incident there waits on."""

    def work() -> tuple[str, ...]:
        roles = {
            role for transition in book.playbook.transitions if state in transition.sources for role in transition.by
        }
        return tuple(sorted(roles))

    result: tuple[str, ...] = book.memo(("waiting_on", state), work)
    return result


def available_actions(book: Rulebook, state: str) -> tuple[Mapping[str, Any], ...]:
    """The actions open from ``state``, with who may take them and what they require."""
    return tuple(
        {
            "trigger": transition.trigger,
            "to": transition.dest,
            "by": list(transition.by),
            "requires": sorted(requirement.value for requirement in transition.requires),
        }
        for transition in book.playbook.transitions
        if state in transition.sources
    )


class Service:
    """Mentions in, actions in, deadlines fired: every change one transaction, every answer after the commit."""

    def __init__(self, store: Store, library: Library, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.library = library
        self.clock = clock

    # --- applying a step ---------------------------------------------------------------------------------------

    def _apply(
        self,
        tx: WriteTransaction,
        stepped: Stepped,
        *,
        previous: Incident | None,
        command: Mapping[str, Any],
        actor: str | None,
        now: datetime,
    ) -> tuple[dict[str, Any], ...]:
        incident = stepped.incident
        book = self.library.by_digest(incident.playbook_digest)
        tx.save_incident(
            incident,
            final=book.is_final(incident.state),
            waiting_on=waiting_on(book, incident.state),
            previous_revision=None if previous is None else previous.revision,
            at=now,
        )
        history = tuple(history_entry(effect) for effect in stepped.effects if isinstance(effect, Audit))
        tx.append_event(
            incident.id,
            at=now,
            kind=str(command["type"]),
            actor=actor,
            playbook_digest=incident.playbook_digest,
            command=command,
            history=history,
        )
        for effect in stepped.effects:
            if isinstance(effect, ArmDeadline):
                tx.arm(effect.key, incident.id, effect.clock, effect.at)
            elif isinstance(effect, CancelDeadline):
                tx.cancel(effect.key)
            elif isinstance(effect, Notify):
                tx.enqueue(effect.key, incident.id, now, _notification(effect, incident))
        return history

    # --- mentions ----------------------------------------------------------------------------------------------

    def ingest(
        self, items: Sequence[Any], *, receipt: tuple[str, datetime] | None = None, all_or_nothing: bool = False
    ) -> list[IntakeResult]:
        """Each mention opens an incident, joins one, is a duplicate, is ignored (no playbook applies) or is
        invalid. Valid ones are committed together before this returns; invalid ones change nothing. With
        ``all_or_nothing``, one invalid mention means nothing is recorded: the others come back ``not_recorded``.

        ``receipt`` is a signed request's ``webhook-id`` and the wall-clock time it came (signatures are judged by
        the wall clock, even when the daemon runs on a simulated one): it is remembered in the same transaction,
        and :class:`Replayed` is raised (nothing written) when it was taken already.
        """
        now = self.clock()
        # Kept as mended (a cut emoji's lone surrogate replaced, and the repair noted): what the store can hold.
        items = [mend_mention(item) for item in items]
        parsed: list[Mention | IntakeResult] = []
        for item in items:
            found = parse_mention(item, now=now)
            if isinstance(found, list):
                errors = tuple({"pointer": error.pointer, "message": error.message} for error in found)
                parsed.append(IntakeResult("invalid", message="; ".join(e["message"] for e in errors), errors=errors))
            else:
                parsed.append(found)
        if all_or_nothing and any(isinstance(entry, IntakeResult) for entry in parsed):
            return [entry if isinstance(entry, IntakeResult) else IntakeResult("not_recorded") for entry in parsed]
        results: list[IntakeResult] = []
        with self.store.write() as tx:
            if receipt is not None:
                webhook_id, received_at = receipt
                if not tx.take_receipt(webhook_id, received_at, received_at - 2 * SIGNATURE_TOLERANCE):
                    raise Replayed(webhook_id)
            for item, entry in zip(items, parsed, strict=True):
                results.append(entry if isinstance(entry, IntakeResult) else self._intake(tx, entry, item, now))
        return results

    def _intake(self, tx: WriteTransaction, mention: Mention, raw: Any, now: datetime) -> IntakeResult:
        seen = tx.mention(mention.channel, mention.external_id)
        if seen is not None:
            return IntakeResult("duplicate", seen.incident_id, message=f"already received ({seen.outcome})")
        link = mention.url_key
        seen = None if link is None else tx.mention_by_url(link)
        if seen is not None:  # the same post, reported by another listening tool (or under another id)
            return IntakeResult(
                "duplicate",
                seen.incident_id,
                message=f"the same post as {seen.channel}/{seen.external_id}, already received ({seen.outcome})",
            )

        def record(outcome: str, incident_id: str | None) -> None:
            tx.record_mention(
                mention.channel,
                mention.external_id,
                outcome=outcome,
                incident_id=incident_id,
                body=raw,
                at=now,
                url_key=link,
                source=mention.source,
            )

        candidates = [
            (candidate, self.library.by_digest(candidate.playbook_digest))
            for candidate in tx.open_incidents_for(mention.channel, mention.author_key, mention.thread_id)
        ]
        where = route(mention, candidates, self.library.current)
        if isinstance(where, JoinInto):
            candidate, book = where.incident, where.book
            outcome = step(candidate, JoinMention(mention), now, book)
            if isinstance(outcome, Stepped) and outcome.incident is not candidate:
                join = {"type": "join", "mention": raw}
                self._apply(tx, outcome, previous=candidate, command=join, actor=None, now=now)
            record("joined", candidate.id)
            return IntakeResult("joined", candidate.id, book.playbook.id)
        if isinstance(where, NoMatch):
            record("ignored", None)
            return IntakeResult("ignored", message=where.message)
        chosen, earlier = where.book, where.follows
        incident_id = tx.new_incident_id()
        follows = None if earlier is None else (earlier.id, earlier.playbook)
        opened = open_incident(incident_id, mention, chosen, now, follows=follows)
        command: dict[str, Any] = {"type": "open", "id": incident_id, "mention": raw}
        if earlier is not None:
            command["follows"] = {"incident": earlier.id, "playbook": earlier.playbook}
        self._apply(tx, opened, previous=None, command=command, actor=None, now=now)
        record("opened", incident_id)
        if earlier is None:
            return IntakeResult("opened", incident_id, chosen.playbook.id)
        # The older incident's log records the link too, so its history says so and a rebuild finds it.
        linking = LinkIncident(incident_id, chosen.playbook.id)
        linked = step(earlier, linking, now, self.library.by_digest(earlier.playbook_digest))
        if isinstance(linked, Stepped) and linked.effects:
            command = {"type": "link", "incident": incident_id, "playbook": chosen.playbook.id}
            self._apply(tx, linked, previous=earlier, command=command, actor=None, now=now)
        message = (
            f"a follow-up from the author of {earlier.id}: it matches {chosen.playbook.id}, a higher-priority "
            f"playbook than {earlier.playbook}, so it opened an incident of its own, linked to {earlier.id}"
        )
        return IntakeResult("opened", incident_id, chosen.playbook.id, message=message)

    # --- actions -----------------------------------------------------------------------------------------------

    def act(
        self,
        incident_id: str,
        trigger: str,
        *,
        person: str,
        roles: frozenset[str],
        fields: Mapping[str, Any],
        version: int | None,
    ) -> ActResult:
        now = self.clock()
        with self.store.write() as tx:
            incident = tx.incident(incident_id)
            if incident is None:
                raise NotFound(f"there is no incident {incident_id}")
            book = self.library.by_digest(incident.playbook_digest)
            outcome = step(incident, Act(trigger, Actor(person, roles), dict(fields), version), now, book)
            if isinstance(outcome, Refused):
                return ActResult(incident, outcome)
            command = {
                "type": "act",
                "trigger": trigger,
                "person": person,
                "roles": sorted(roles),
                "fields": dict(fields),
                "expected_revision": version,
            }
            history = self._apply(tx, outcome, previous=incident, command=command, actor=person, now=now)
            return ActResult(outcome.incident, None, history)

    # --- deadlines ---------------------------------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        return self.store.earliest_due()

    def fire_due(self, limit: int = 200) -> list[FiredDeadline]:
        """Every deadline due by now (up to ``limit``), each fired once in its own transaction, saying how late."""
        now = self.clock()
        fired: list[FiredDeadline] = []
        for deadline in self.store.due(now, limit):
            done: FiredDeadline | None = None
            with self.store.write() as tx:
                if not tx.complete(deadline.key, now):
                    continue  # done meanwhile (by another daemon sharing the store, or cancelled)
                incident = tx.incident(deadline.incident_id)
                if incident is None:  # pragma: no cover - deadlines are written with their incident
                    continue
                book = self.library.by_digest(incident.playbook_digest)
                outcome = step(incident, DeadlineReached(deadline.key), now, book)
                notified: tuple[Mapping[str, Any], ...] = ()
                if isinstance(outcome, Stepped) and outcome.effects:
                    command = {"type": "deadline", "key": deadline.key}
                    self._apply(tx, outcome, previous=incident, command=command, actor=None, now=now)
                    notified = tuple(
                        _notification(e, outcome.incident) for e in outcome.effects if isinstance(e, Notify)
                    )
                done = FiredDeadline(deadline.key, deadline.incident_id, deadline.due_at, now, notified)
            if done is not None:  # committed: count it, whichever path fired it (the scheduler, a clock moved)
                _observe(done)
                fired.append(done)
        return fired

    # --- reading -----------------------------------------------------------------------------------------------

    def incident(self, incident_id: str) -> IncidentDetails:
        row = self.store.incident(incident_id)
        if row is None:
            raise NotFound(f"there is no incident {incident_id}")
        book = self.library.by_digest(row.incident.playbook_digest)
        actions = () if row.final else available_actions(book, row.incident.state)
        return IncidentDetails(
            row,
            tuple(self.store.pending_deadlines(incident_id)),
            tuple(self.store.events(incident_id)),
            actions,
            tuple(self.store.mentions_of(incident_id)),
            self.clock_zones(row.incident),
        )

    def clock_zones(self, incident: Incident) -> dict[str, str]:
        """The time zone of each of the incident's running clocks, under the playbook version it runs."""
        playbook = self.library.by_digest(incident.playbook_digest).playbook
        return {clock.name: clock_zone_name(playbook, clock.name) for clock in incident.clocks}

    def incidents(self, where: IncidentFilter) -> list[IncidentRow]:
        return self.store.incidents(where)

    # --- the log is the truth ----------------------------------------------------------------------------------

    def rebuild(self, incident_id: str) -> Incident:
        """The incident replayed from its event log through the runtime: what its row must equal."""
        incident: Incident | None = None
        for event in self.store.events(incident_id):
            book = self.library.by_digest(event.playbook_digest)
            command = event.command
            kind = command["type"]
            if kind == "open":
                mention = parse_mention(command["mention"])
                if isinstance(mention, list):
                    raise ValueError(f"event {event.seq}: the stored mention no longer parses")
                earlier = command.get("follows")
                follows = None if earlier is None else (str(earlier["incident"]), str(earlier["playbook"]))
                incident = open_incident(str(command["id"]), mention, book, event.at, follows=follows).incident
                continue
            if incident is None:
                raise ValueError(f"event {event.seq} of {incident_id} comes before the incident opened")
            outcome = step(incident, _command(command), event.at, book)
            if isinstance(outcome, Refused):
                raise ValueError(f"event {event.seq} of {incident_id} is refused on replay: {outcome.message}")
            incident = outcome.incident
        if incident is None:
            raise NotFound(f"there is no incident {incident_id}")
        return incident


def _command(command: Mapping[str, Any]) -> Act | DeadlineReached | JoinMention | LinkIncident:
    kind = command["type"]
    if kind == "link":
        return LinkIncident(str(command["incident"]), str(command["playbook"]))
    if kind == "deadline":
        return DeadlineReached(str(command["key"]))
    if kind == "join":
        mention = parse_mention(command["mention"])
        if isinstance(mention, list):
            raise ValueError("a stored mention no longer parses")
        return JoinMention(mention)
    if kind == "act":
        actor = Actor(str(command["person"]), frozenset(command["roles"]))
        return Act(str(command["trigger"]), actor, dict(command["fields"]), command["expected_revision"])
    raise ValueError(f"unknown event type {kind!r}")
