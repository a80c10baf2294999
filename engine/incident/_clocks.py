"""Clocks: when each escalation point of a running clock falls due, and what firing them means.

A clock counts from ``started_at`` in its own time (around the clock or a calendar's open hours). Its escalation
points sit at shares of its limit; a point may repeat. Only the next occurrence is armed at any time, so an incident
holds one pending deadline per running clock, whatever the playbook says.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.incident._calendar import TimeCounter
from engine.incident._keys import DeadlineKey
from engine.incident._record import ClockState, Occurrence
from engine.incident._rulebook import Schedule

__all__ = ["deadline_key", "due_occurrences", "next_occurrence", "replan", "start_clock"]

#: Catching up after a long outage collapses repeats; this bounds the work however long the outage was.
_MAX_CATCH_UP = 10_000


def deadline_key(incident_id: str, clock: ClockState, occurrence: Occurrence) -> str:
    """The text of the key of ``clock``'s deadline for ``occurrence``: see :class:`DeadlineKey`."""
    return DeadlineKey.text(incident_id, clock.name, clock.epoch, occurrence.step, occurrence.repetition)


def next_occurrence(
    schedule: Schedule, counter: TimeCounter, started_at: datetime, after: Occurrence | None
) -> Occurrence | None:
    """The first occurrence strictly after ``after`` (by offset, then by the points' order)."""
    points = schedule.points
    if not points:
        return None
    if after is None:  # the points are in order, so the first one comes first
        offset = schedule.bases[0]
        return Occurrence(offset, points[0].step, 0, counter.add(started_at, offset))
    found = schedule.after(after.offset, after.step, after.repetition)
    if found is None:
        return None
    offset, step, repetition = found
    return Occurrence(offset, step, repetition, counter.add(started_at, offset))


def start_clock(name: str, epoch: int, schedule: Schedule, counter: TimeCounter, now: datetime) -> ClockState:
    """A clock starting now, with its first occurrence ready to arm."""
    return ClockState(
        name=name,
        started_at=now,
        epoch=epoch,
        due_at=counter.add(now, schedule.limit),
        next=next_occurrence(schedule, counter, now, None),
    )


def due_occurrences(
    clock: ClockState, schedule: Schedule, counter: TimeCounter, now: datetime
) -> tuple[list[Occurrence], Occurrence | None]:
    """Every occurrence due by ``now`` from the armed one on, and the first one still in the future."""
    due: list[Occurrence] = []
    occurrence = clock.next
    while occurrence is not None and occurrence.at <= now and len(due) < _MAX_CATCH_UP:
        due.append(occurrence)
        occurrence = next_occurrence(schedule, counter, clock.started_at, occurrence)
    return due, occurrence


def _last_by(schedule: Schedule, counter: TimeCounter, started_at: datetime, now: datetime) -> Occurrence | None:
    """The last occurrence due at or before ``now``, counting from the clock's start."""
    last = None
    occurrence = next_occurrence(schedule, counter, started_at, None)
    for _ in range(_MAX_CATCH_UP):
        if occurrence is None or occurrence.at > now:
            break
        last, occurrence = occurrence, next_occurrence(schedule, counter, started_at, occurrence)
    return last


def replan(clock: ClockState, schedule: Schedule, counter: TimeCounter, epoch: int, now: datetime) -> ClockState:
    """The clock counted against a new severity's limit and steps, from the same start, as a new run (``epoch``).

    What fired under the old plan is not told again when its time under the new plan has passed too; the next
    step is armed, and fires at once if its time has already come (a raise can make a clock breached at once).
    When the new plan puts the step that last fired in the future (the limit grew), the steps from there on run
    again: their times changed, so they are new notifications, with new keys from the new epoch.
    """
    cursor = None
    fired = clock.fired
    if fired is not None:
        order = schedule.orders.get(fired.step)
        if order is not None:
            repeat = schedule.points[order].repeat
            offset = schedule.bases[order] + (repeat * fired.repetition if repeat else timedelta(0))
            remapped = Occurrence(offset, fired.step, fired.repetition, counter.add(clock.started_at, offset))
            cursor = remapped if remapped.at <= now else _last_by(schedule, counter, clock.started_at, now)
        else:  # the step that fired does not apply at the new level: carry on from wherever the new plan is now
            cursor = _last_by(schedule, counter, clock.started_at, now)
    due_at = counter.add(clock.started_at, schedule.limit)
    # A new time already past is kept from when it could first be known: the moment of the change, or the old time
    # when that had passed already.
    judged = max(due_at, min(clock.late_from, now))
    return clock._replace(
        epoch=epoch,
        due_at=due_at,
        fired=cursor,
        next=next_occurrence(schedule, counter, clock.started_at, cursor),
        judged_from=judged if judged != due_at else None,
        replanned_at=now,
    )
