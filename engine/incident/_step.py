"""The step function: an incident, a command and the current time in; the new incident and its effects out.

Pure and deterministic: the same incident, command, time and rulebook always give the same result, and a refused
command returns a :class:`Refused` that says which rule and why, leaving the incident as it was.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from engine.incident._clocks import deadline_key, due_occurrences, next_occurrence, start_clock
from engine.incident._fields import check_fields
from engine.incident._mention import Mention
from engine.incident._record import (
    Act,
    ArmDeadline,
    Audit,
    CancelDeadline,
    ClockState,
    Command,
    DeadlineReached,
    Effect,
    Incident,
    JoinMention,
    Notify,
    NotifyKind,
    RefusalReason,
    Refused,
    Stepped,
)
from engine.incident._rulebook import Rulebook
from engine.playbook import LIFECYCLE, format_duration

__all__ = ["open_incident", "step"]


class _Proxy:
    """What the shared machine fires on: just a state. Incidents are never registered as models."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _limit_name(state: str) -> str:
    return f"limit:{state}"


def _arm(incident_id: str, clock: ClockState) -> list[Effect]:
    if clock.next is None:
        return []
    return [ArmDeadline(deadline_key(incident_id, clock, clock.next), clock.next.at, clock.name)]


def _cancel(incident_id: str, clock: ClockState) -> list[Effect]:
    if clock.next is None:
        return []
    return [CancelDeadline(deadline_key(incident_id, clock, clock.next), clock.name)]


def _clock_limit(book: Rulebook, name: str, state: str, severity: str) -> Any:
    if name.startswith("limit:"):
        return book.state_limit(state, severity)
    return book.target_limit(name, severity)


def _start(book: Rulebook, incident: Incident, name: str, now: datetime) -> ClockState | None:
    found = _clock_limit(book, name, incident.state, incident.severity)
    if found is None:
        return None
    limit, counter = found
    points = book.points(book.clock_kind(name), incident.severity)
    return start_clock(name, incident.revision, points, limit, counter, now)


def _enter(book: Rulebook, incident: Incident, previous: str | None, now: datetime) -> tuple[Incident, list[Effect]]:
    """Stop and start clocks for entering ``incident.state`` (from ``previous``, or at opening)."""
    effects: list[Effect] = []
    state = incident.state
    final = book.is_final(state)
    kept: list[ClockState] = []
    finished = set(incident.finished_clocks)
    for clock in incident.clocks:
        target = book.playbook.targets.get(clock.name)
        met = target is not None and state in target.until
        if clock.name.startswith("limit:") or met or final:
            effects += _cancel(incident.id, clock)
            if target is not None:
                finished.add(clock.name)
                late = now - clock.due_at
                verdict = "met" if met else "stopped"
                timing = f"{format_duration(late)} late" if late.total_seconds() > 0 else "on time"
                effects.append(
                    Audit(
                        now,
                        f"target_{verdict}",
                        f"{clock.name} {verdict} ({timing})",
                        details={"clock": clock.name, "due_at": clock.due_at.isoformat()},
                    )
                )
            continue
        kept.append(clock)
    incident = replace(incident, clocks=tuple(kept), finished_clocks=frozenset(finished))
    if final:
        return incident, effects
    running = {clock.name for clock in kept}
    names = [_limit_name(state)] + [
        name
        for name, target in book.playbook.targets.items()
        if target.start == state and name not in running and name not in finished
    ]
    started = [new for name in names if (new := _start(book, incident, name, now)) is not None]
    for clock in started:
        effects += _arm(incident.id, clock)
    return replace(incident, clocks=(*kept, *started)), effects


def _reschedule(book: Rulebook, incident: Incident, skip: frozenset[str]) -> tuple[Incident, list[Effect]]:
    """After a severity change, running clocks count against the new level's limits from the same start.

    Clocks in ``skip`` have just started at the new level and need nothing.
    """
    effects: list[Effect] = []
    clocks = []
    for clock in incident.clocks:
        if clock.name in skip:
            clocks.append(clock)
            continue
        found = _clock_limit(book, clock.name, incident.state, incident.severity)
        if found is None:  # the new level has no limit here: the clock stops
            effects += _cancel(incident.id, clock)
            continue
        limit, counter = found
        points = book.points(book.clock_kind(clock.name), incident.severity)
        moved = replace(
            clock,
            due_at=counter.add(clock.started_at, limit),
            next=next_occurrence(points, limit, counter, clock.started_at, clock.fired),
        )
        if moved != clock:
            effects += [*_cancel(incident.id, clock), *_arm(incident.id, moved)]
        clocks.append(moved)
    return replace(incident, clocks=tuple(clocks)), effects


def open_incident(incident_id: str, mention: Mention, book: Rulebook, now: datetime) -> Stepped:
    """A new incident in ``detected`` for a mention this rulebook applies to, with its clocks running."""
    playbook = book.playbook
    severity = book.severity_of(mention)
    incident = Incident(
        id=incident_id,
        playbook=playbook.id,
        playbook_version=playbook.version,
        playbook_digest=playbook.digest,
        state=LIFECYCLE[0],
        severity=severity,
        channel=mention.channel,
        author=mention.author.handle,
        thread_id=mention.thread_id,
        opened_at=now,
        entered_at=now,
        last_mention_at=mention.posted_at,
        mentions=(mention.key,),
    )
    opened = Audit(
        now,
        "opened",
        f"opened under {playbook.id} v{playbook.version} with severity {severity}: a {mention.channel} mention "
        f"by {mention.author.handle}",
        details={"channel": mention.channel, "external_id": mention.external_id, "author": mention.author.handle},
    )
    incident, effects = _enter(book, incident, None, now)
    return Stepped(incident, (opened, *effects))


def step(incident: Incident, command: Command, now: datetime, book: Rulebook) -> Stepped | Refused:
    """Apply one command at ``now`` under the incident's own rulebook."""
    if isinstance(command, DeadlineReached):
        return _deadline(incident, command, now, book)
    if isinstance(command, JoinMention):
        return _join(incident, command, now, book)
    return _act(incident, command, now, book)


def _act(incident: Incident, act: Act, now: datetime, book: Rulebook) -> Stepped | Refused:
    if book.is_final(incident.state):
        return Refused(RefusalReason.CLOSED, f"the incident is closed ({incident.state}); nothing more can be done")
    if act.expected_revision is not None and act.expected_revision != incident.revision:
        return Refused(
            RefusalReason.STALE,
            f"the incident changed since you looked (you saw revision {act.expected_revision}, it is now "
            f"{incident.revision}); look again before acting",
        )
    if act.trigger not in book.playbook.triggers:
        actions = ", ".join(sorted(book.playbook.triggers))
        return Refused(RefusalReason.UNKNOWN_ACTION, f"{book.playbook.id} has no action {act.trigger!r} ({actions})")
    transition = book.transition(act.trigger, incident.state)
    if transition is None:
        return Refused(
            RefusalReason.NOT_AVAILABLE,
            f"{act.trigger!r} can be taken from {', '.join(book.sources_of(act.trigger))}; the incident is in "
            f"{incident.state}",
        )
    if not act.actor.roles & set(transition.by):
        return Refused(
            RefusalReason.ROLE_NOT_ALLOWED,
            f"{act.trigger!r} is for {', '.join(transition.by)}; {act.actor.person} has "
            f"{', '.join(sorted(act.actor.roles)) or 'no role'}",
        )
    checked = check_fields(transition, act.fields, incident, book)
    if isinstance(checked, Refused):
        return checked
    proxy = _Proxy(incident.state)
    book.machine.events[act.trigger].trigger(proxy)
    previous = incident.state
    facts = dict(incident.facts)
    facts.update(checked)
    severity = checked.get("severity", incident.severity)
    changed = replace(
        incident,
        state=proxy.state,
        severity=severity,
        entered_at=now,
        revision=incident.revision + 1,
        facts=MappingProxyType(facts),
    )
    summary = f"{act.trigger}: {previous} -> {proxy.state}"
    effects: list[Effect] = [
        Audit(
            now,
            "transition",
            summary,
            act.actor.person,
            {"trigger": act.trigger, "from": previous, "to": proxy.state, "fields": dict(act.fields)},
        )
    ]
    changed, entered = _enter(book, changed, previous, now)
    effects += entered
    if severity != incident.severity:
        effects.append(Audit(now, "severity", f"severity {incident.severity} -> {severity}", act.actor.person))
        fresh = frozenset(clock.name for clock in changed.clocks if clock.epoch == changed.revision)
        changed, moved = _reschedule(book, changed, fresh)
        effects += moved
    return Stepped(changed, tuple(effects))


def _join(incident: Incident, join: JoinMention, now: datetime, book: Rulebook) -> Stepped | Refused:
    mention = join.mention
    if book.is_final(incident.state):
        return Refused(RefusalReason.CLOSED, f"the incident is closed ({incident.state}); open a new one")
    if mention.key in incident.mentions:
        return Stepped(incident, ())
    changed = replace(
        incident,
        mentions=(*incident.mentions, mention.key),
        last_mention_at=max(incident.last_mention_at, mention.posted_at),
        revision=incident.revision + 1,
    )
    effects: list[Effect] = [
        Audit(
            now,
            "mention",
            f"mention {mention.channel}/{mention.external_id} joined",
            details={"author": mention.author.handle, "external_id": mention.external_id},
        )
    ]
    level = book.severity_of(mention)
    if book.levels[level] > book.levels[incident.severity]:
        changed = replace(changed, severity=level)
        effects.append(Audit(now, "severity", f"severity {incident.severity} -> {level} (a new mention)"))
        changed, moved = _reschedule(book, changed, frozenset())
        effects += moved
    return Stepped(changed, tuple(effects))


def _kind(fraction: float) -> NotifyKind:
    if fraction < 1.0:
        return NotifyKind.WARNING
    return NotifyKind.BREACH if fraction == 1.0 else NotifyKind.ESCALATION


def _deadline(incident: Incident, reached: DeadlineReached, now: datetime, book: Rulebook) -> Stepped:
    clock = next(
        (item for item in incident.clocks if item.next and deadline_key(incident.id, item, item.next) == reached.key),
        None,
    )
    if clock is None:  # already handled, or the clock stopped: a deadline that fires twice changes nothing twice
        return Stepped(incident, ())
    found = _clock_limit(book, clock.name, incident.state, incident.severity)
    if found is None:  # pragma: no cover - a running clock always has a limit at the current level
        return Stepped(incident, ())
    limit, counter = found
    points = book.points(book.clock_kind(clock.name), incident.severity)
    due, following = due_occurrences(clock, points, limit, counter, now)
    by_step = {point.step: point for point in points}
    latest = {occurrence.step: occurrence for occurrence in due}  # repeats missed while down collapse to one
    notices: list[Notify] = []
    breached = False
    for occurrence in sorted(latest.values(), key=lambda item: (item.offset, item.step)):
        point = by_step[occurrence.step]
        breached = breached or point.fraction >= 1.0
        if not point.roles:
            continue
        notices.append(
            Notify(
                key=deadline_key(incident.id, clock, occurrence),
                incident=incident.id,
                roles=point.roles,
                kind=_kind(point.fraction),
                clock=clock.name,
                state=incident.state,
                severity=incident.severity,
                step=occurrence.step,
                repetition=occurrence.repetition,
                threshold=point.fraction,
                scheduled_at=occurrence.at,
                due_at=clock.due_at,
                late_by=max(now - occurrence.at, timedelta(0)),
            )
        )
    moved = replace(clock, fired=due[-1] if due else clock.fired, next=following)
    changed = replace(incident, clocks=tuple(moved if item is clock else item for item in incident.clocks))
    audits: list[Effect] = []
    if breached and clock.name not in incident.breached:
        changed = replace(changed, breached=incident.breached | {clock.name})
        audits.append(
            Audit(
                now,
                "breach",
                f"{clock.name} breached: its time was up at {clock.due_at:%Y-%m-%d %H:%M}Z",
                details={"clock": clock.name, "due_at": clock.due_at.isoformat()},
            )
        )
    for notify in notices:
        audits.append(
            Audit(
                now,
                "escalation",
                f"{notify.kind} on {clock.name}: notify {', '.join(notify.roles)}",
                details={"key": notify.key, "roles": list(notify.roles)},
            )
        )
    return Stepped(changed, (*audits, *notices, *_arm(incident.id, moved)))
