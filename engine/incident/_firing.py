"""A deadline falling due: the escalation steps it stands for notify their roles (once each, collapsed
when a change of severity made several overdue at once, merged when another clock told the same role since), a
breach is recorded once, and the clock's next step is armed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from engine.incident._clocks import deadline_key, due_occurrences
from engine.incident._events import told
from engine.incident._keys import DeadlineKey
from engine.incident._made import make_audit, make_notify, make_stepped
from engine.incident._moments import iso, minute
from engine.incident._moves import NO_TIME, arm
from engine.incident._pauses import clocked
from engine.incident._record import (
    ClockState,
    DeadlineReached,
    Effect,
    Incident,
    Notify,
    NotifyKind,
    Occurrence,
    Stepped,
)
from engine.incident._rulebook import Rulebook, Schedule
from engine.playbook import EventKind

__all__ = ["fire_deadline"]


def _kind(fraction: float) -> NotifyKind:
    if fraction < 1.0:
        return NotifyKind.WARNING
    return NotifyKind.BREACH if fraction == 1.0 else NotifyKind.ESCALATION


def _armed(incident: Incident, key: str) -> ClockState | None:
    """The running clock whose armed deadline has this key, if any."""
    name = DeadlineKey.clock_in(key, incident.id)
    for clock in incident.clocks:
        if clock.name == name and clock.next is not None and deadline_key(incident.id, clock, clock.next) == key:
            return clock
    return None


def _collapse(
    clock: ClockState, due_now: list[Occurrence], schedule: Schedule
) -> tuple[list[Occurrence], list[str], list[int]]:
    """The steps a severity change made overdue at once collapse into the latest of them: one notification at the
    step current at the change, to everyone the steps it stands for would have told. Steps that fell due later
    (the daemon was down) are each told as before. Gives what is told, the roles of the steps collapsed and
    their indexes."""
    cutoff = clock.replanned_at
    made_overdue = [item for item in due_now if cutoff is not None and item.at <= cutoff]
    if len(made_overdue) < 2:
        return due_now, [], []
    points = schedule.points
    roles = [role for item in made_overdue[:-1] for role in points[schedule.orders[item.step]].roles]
    kept = [item for item in due_now if item not in made_overdue[:-1]]
    return kept, roles, [item.step for item in made_overdue[:-1]]


def _heard_elsewhere(
    roles: tuple[str, ...], told: Mapping[str, tuple[datetime, str]], clock: str, since: datetime
) -> set[str]:
    """The roles another clock of the incident told after ``since`` (the repeat before this one was due): a repeat
    merges into what they heard."""
    return {role for role in roles if role in told and told[role][1] != clock and told[role][0] > since}


def fire_deadline(incident: Incident, reached: DeadlineReached, now: datetime, book: Rulebook) -> Stepped:
    """The armed deadline ``reached`` names falls due: its steps notify, a breach is recorded, the next is armed."""
    clock = _armed(incident, reached.key)
    if clock is None:  # already handled, or the clock stopped: a deadline that fires twice changes nothing twice
        return make_stepped(incident, ())
    plan = book.plan(clock.name, incident.severity)
    if plan is None:  # pragma: no cover - a running clock always has a limit at the current level
        return make_stepped(incident, ())
    _, counter, schedule = plan
    counter, moment = clocked(clock, counter, now)  # a clock standing still is read as of its pause
    due, following = due_occurrences(clock, schedule, counter, moment)
    points = schedule.points
    if len(due) > 1:  # repeats missed while down collapse to one, the latest
        latest = {occurrence.step: occurrence for occurrence in due}
        due_now = sorted(latest.values(), key=lambda item: (item.offset, item.step))
    else:
        due_now = due
    due_now, overdue_roles, collapsed = _collapse(clock, due_now, schedule)
    notices: list[Notify] = []
    told_now = dict(incident.told)
    left_out: list[tuple[str, str, datetime]] = []
    breached = any(points[schedule.orders[item.step]].fraction >= 1.0 for item in due)
    for position, occurrence in enumerate(due_now):
        point = points[schedule.orders[occurrence.step]]
        roles = tuple(dict.fromkeys((*overdue_roles, *point.roles))) if position == 0 else point.roles
        if occurrence.repetition and point.merge_repeats and point.repeat is not None:
            merged = _heard_elsewhere(roles, told_now, clock.name, occurrence.at - point.repeat)
            left_out += [(role, told_now[role][1], told_now[role][0]) for role in merged]
            roles = tuple(role for role in roles if role not in merged)
        if not roles:
            continue
        for role in roles:
            told_now[role] = (now, clock.name)
        notices.append(
            make_notify(
                key=deadline_key(incident.id, clock, occurrence),
                incident=incident.id,
                roles=roles,
                kind=_kind(point.fraction),
                clock=clock.name,
                state=incident.state,
                severity=incident.severity,
                step=occurrence.step,
                repetition=occurrence.repetition,
                threshold=point.fraction,
                scheduled_at=occurrence.at,
                due_at=clock.due_at,
                # A step a severity change made due is told as soon as it could be: not late.
                late_by=max(now - max(occurrence.at, clock.replanned_at or occurrence.at), NO_TIME),
            )
        )
    following = None if clock.paused_at is not None else following  # the rest waits for the resume
    # Spelled out field by field: ``_replace`` is Python, and runs on every deadline.
    moved = ClockState(
        clock.name,
        clock.started_at,
        clock.epoch,
        clock.due_at,
        due[-1] if due else clock.fired,
        following,
        clock.judged_from,
        None,
        clock.paused_at,
        clock.pauses,
    )
    clocks = tuple(moved if item is clock else item for item in incident.clocks)
    audits: list[Effect] = []
    newly_breached = breached and clock.name not in incident.breached
    told_as = MappingProxyType(told_now) if notices else incident.told
    if not newly_breached:
        changed = incident.evolve(clocks=clocks, told=told_as)
    else:
        changed = incident.evolve(clocks=clocks, breached=incident.breached | {clock.name}, told=told_as)
        audits.append(
            make_audit(
                now,
                "breach",
                f"{clock.name} breached: its time was up at {minute(clock.due_at)}",
                details={"clock": clock.name, "due_at": iso(clock.due_at)},
            )
        )
    for position, notify in enumerate(notices):
        details: dict[str, Any] = {"key": notify.key, "roles": list(notify.roles)}
        summary = f"{notify.kind.value} on {clock.name}: notify {', '.join(notify.roles)}"
        if collapsed and position == 0:
            details["collapsed_steps"] = collapsed
            summary += f" (for {len(collapsed) + 1} steps overdue at once)"
        audits.append(make_audit(now, "escalation", summary, details=details))
    for role, other, at in left_out:
        audits.append(
            make_audit(
                now,
                "repeat_merged",
                f"repeat on {clock.name} left out for {role}: told at {minute(at)} from {other}",
                details={"role": role, "clock": clock.name, "told_from": other, "told_at": iso(at)},
            )
        )
    events = told(book, changed, EventKind.BREACH, now, clock=moved) if newly_breached else []
    return make_stepped(changed, (*audits, *notices, *events, *arm(incident.id, moved)))
