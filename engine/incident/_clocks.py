"""Clocks: when each escalation point of a running clock falls due, and what firing them means.

A clock counts from ``started_at`` in its own time (around the clock or a calendar's open hours). Its escalation
points sit at shares of its limit; a point may repeat. Only the next occurrence is armed at any time, so an incident
holds one pending deadline per running clock, whatever the playbook says.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from engine.incident._calendar import TimeCounter
from engine.incident._record import ClockState, Occurrence
from engine.incident._rulebook import Point

__all__ = ["deadline_key", "due_occurrences", "next_occurrence", "start_clock"]

#: Catching up after a long outage collapses repeats; this bounds the work however long the outage was.
_MAX_CATCH_UP = 10_000


def deadline_key(incident_id: str, clock: ClockState, occurrence: Occurrence) -> str:
    """Stable across retries and restarts: (incident, clock, run, step, repetition)."""
    step = "breach" if occurrence.step < 0 else str(occurrence.step)
    return f"{incident_id}/{clock.name}/{clock.epoch}/{step}/{occurrence.repetition}"


def _order(points: Sequence[Point], step: int) -> int:
    return next((index for index, point in enumerate(points) if point.step == step), -1)


def next_occurrence(
    points: Sequence[Point],
    limit: timedelta,
    counter: TimeCounter,
    started_at: datetime,
    after: Occurrence | None,
) -> Occurrence | None:
    """The first occurrence strictly after ``after`` (by offset, then by the points' order)."""
    cursor = (after.offset, _order(points, after.step), after.repetition) if after else None
    best: tuple[timedelta, int, int] | None = None
    best_step = 0
    for order, point in enumerate(points):
        base = limit * point.fraction
        candidate = (base, order, 0)
        if cursor is not None and candidate <= cursor:
            if point.repeat is None:
                continue
            # Jump straight to the first repetition past the cursor rather than walking there.
            count = max(0, math.ceil((cursor[0] - base) / point.repeat))
            candidate = (base + point.repeat * count, order, count)
            if candidate <= cursor:
                candidate = (candidate[0] + point.repeat, order, count + 1)
        if best is None or candidate < best:
            best, best_step = candidate, point.step
    if best is None:
        return None
    offset, _, repetition = best
    return Occurrence(offset, best_step, repetition, counter.add(started_at, offset))


def start_clock(  # noqa: PLR0917 - each argument is a distinct part of what a clock is
    name: str, epoch: int, points: Sequence[Point], limit: timedelta, counter: TimeCounter, now: datetime
) -> ClockState:
    """A clock starting now, with its first occurrence ready to arm."""
    return ClockState(
        name=name,
        started_at=now,
        epoch=epoch,
        due_at=counter.add(now, limit),
        next=next_occurrence(points, limit, counter, now, None),
    )


def due_occurrences(
    clock: ClockState, points: Sequence[Point], limit: timedelta, counter: TimeCounter, now: datetime
) -> tuple[list[Occurrence], Occurrence | None]:
    """Every occurrence due by ``now`` from the armed one on, and the first one still in the future."""
    due: list[Occurrence] = []
    occurrence = clock.next
    while occurrence is not None and occurrence.at <= now and len(due) < _MAX_CATCH_UP:
        due.append(occurrence)
        occurrence = next_occurrence(points, limit, counter, clock.started_at, occurrence)
    return due, occurrence
