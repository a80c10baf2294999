"""Pauses: a target's clock standing still in the states its playbook names (``paused_in``), and going on from
where it stopped when the incident leaves them.

A clock that pauses keeps what it counted and disarms its deadline. The spans it stood still in stay on the clock,
and :class:`PausedCounter` counts them as closed time for that clock alone, on top of its own calendar: every
moment of the clock (each escalation step, its due time) is still worked out from its real start, so a clock that
paused, resumed and paused again, on office hours or around the clock, needs nothing else. While it stands still, a
clock is read as of the moment it paused: what had fallen due by then has, and the rest waits for the resume, which
arms the next step under a new run (``epoch``), so its deadline keys are new ones.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.incident._calendar import TimeCounter
from engine.incident._clocks import deadline_key, next_occurrence, replan
from engine.incident._made import make_arm, make_audit, make_cancel
from engine.incident._record import ClockState, Effect
from engine.incident._rulebook import Rulebook, Schedule
from engine.playbook import format_duration

__all__ = [
    "PausedCounter",
    "clocked",
    "counter_of",
    "lateness",
    "paused_for",
    "replan_clock",
    "settle",
    "standing",
    "start_paused",
]

_ZERO = timedelta(0)


class PausedCounter:
    """A clock's own counter with the spans it stood still in taken out, as closed time. ``spans`` are in order
    and do not overlap."""

    __slots__ = ("_inner", "_spans")

    def __init__(self, inner: TimeCounter, spans: tuple[tuple[datetime, datetime], ...]) -> None:
        self._inner = inner
        self._spans = spans

    def add(self, start: datetime, amount: timedelta) -> datetime:
        remaining, moment = amount, start
        for began, ended in self._spans:
            if ended <= moment:
                continue
            if began > moment:
                available = self._inner.elapsed(moment, began)
                if remaining <= available:
                    return self._inner.add(moment, remaining)
                remaining -= available
            moment = ended
        return self._inner.add(moment, remaining)

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        total, moment = _ZERO, start
        for began, ended in self._spans:
            if began >= end:
                break
            if ended <= moment:
                continue
            if began > moment:
                total += self._inner.elapsed(moment, began)
            if ended >= end:
                return total
            moment = ended
        return total + self._inner.elapsed(moment, end)


def counter_of(clock: ClockState, counter: TimeCounter) -> TimeCounter:
    """The counter a clock's moments are worked out on: its own, less the spans it stood still in. For a clock
    standing still now, moments up to its pause are real ones; later ones are as if it had resumed as it paused,
    until it does (see :func:`clocked`)."""
    if not clock.pauses:
        return counter
    return PausedCounter(counter, clock.pauses)


def clocked(clock: ClockState, counter: TimeCounter, now: datetime) -> tuple[TimeCounter, datetime]:
    """The counter and the moment to read ``clock`` at: now, or the moment it paused when it stands still."""
    return counter_of(clock, counter), clock.paused_at or now


def paused_for(clock: ClockState, now: datetime, since: datetime | None = None) -> timedelta:
    """The wall time the clock has stood still (after ``since``, when given), up to ``now``."""
    total = _ZERO
    spans = clock.pauses if clock.paused_at is None else (*clock.pauses, (clock.paused_at, now))
    for began, ended in spans:
        start = began if since is None else max(began, since)
        if ended > start:
            total += ended - start
    return total


def lateness(clock: ClockState, now: datetime) -> timedelta:
    """How late the clock is at ``now`` in wall time, less the time it stood still since it was due (zero or less:
    not late)."""
    late = now - clock.late_from
    if late <= _ZERO or (clock.paused_at is None and not clock.pauses):
        return late
    return late - paused_for(clock, now, since=clock.late_from)


def _left(clock: ClockState, counter: TimeCounter, limit: timedelta, at: datetime) -> str:
    """``5h counted, 19h left`` (or ``1h over``): where a clock stands at ``at``, in its own counted time."""
    counted = counter.elapsed(clock.started_at, at)
    rest = limit - counted
    tail = f"{format_duration(rest)} left" if rest >= _ZERO else f"{format_duration(-rest)} over"
    return f"{format_duration(counted)} counted, {tail}"


def _pause(book: Rulebook, clock: ClockState, state: str, severity: str, now: datetime) -> Effect:
    plan = book.plan(clock.name, severity)
    where = "" if plan is None else f": {_left(clock, counter_of(clock, plan.counter), plan.limit, now)}"
    return make_audit(
        now,
        "paused",
        f"{clock.name} paused in {state}{where}; it does not count while the incident is there",
        details={"clock": clock.name, "state": state},
    )


def _resume(
    book: Rulebook, incident_id: str, clock: ClockState, *, state: str, severity: str, epoch: int, now: datetime
) -> tuple[ClockState, list[Effect]]:
    """The clock counts again from ``now``, from where it stopped: the span it stood still in is kept as closed
    time, and its next step is armed as a new run."""
    paused_at = clock.paused_at or now
    spans = (*clock.pauses, (paused_at, now)) if now > paused_at else clock.pauses
    plan = book.plan(clock.name, severity)
    going = clock._replace(paused_at=None, pauses=spans)
    if plan is None:  # pragma: no cover - a running clock always has a limit at the current level
        return going, []
    counter = counter_of(going, plan.counter)
    going = going._replace(
        epoch=epoch,
        due_at=counter.add(clock.started_at, plan.limit),
        next=next_occurrence(plan.schedule, counter, clock.started_at, clock.fired),
    )
    stood = format_duration(now - paused_at)
    effects: list[Effect] = [
        make_audit(
            now,
            "resumed",
            f"{clock.name} resumes in {state} after {stood} paused: {_left(going, counter, plan.limit, now)}",
            details={"clock": clock.name, "state": state, "paused_for": (now - paused_at).total_seconds()},
        )
    ]
    if going.next is not None:
        effects.append(make_arm(deadline_key(incident_id, going, going.next), going.next.at, clock.name))
    return going, effects


def start_paused(clock: ClockState, now: datetime) -> ClockState:
    """A clock that starts where it stands still (a next-response clock started by a follow-up in such a state):
    nothing is armed until the incident moves on."""
    return clock._replace(paused_at=now, next=None)


def settle(
    book: Rulebook, incident_id: str, clocks: list[ClockState], *, state: str, severity: str, epoch: int, now: datetime
) -> tuple[list[ClockState], list[Effect]]:
    """The running clocks as an incident enters ``state``: those paused there stop counting, those paused
    elsewhere count again. Called only for a playbook with pauses (:attr:`Rulebook.pausable`)."""
    still = book.paused_in(state)
    settled: list[ClockState] = []
    effects: list[Effect] = []
    for clock in clocks:
        if clock.name not in book.pausable:
            settled.append(clock)
        elif clock.name in still and clock.paused_at is None:
            effects.append(_pause(book, clock, state, severity, now))
            if clock.next is not None:
                effects.append(make_cancel(deadline_key(incident_id, clock, clock.next), clock.name))
            settled.append(clock._replace(paused_at=now, next=None))
        elif clock.name not in still and clock.paused_at is not None:
            if clock.next is not None:  # a step a raise made due while it stood still, not yet fired: armed anew
                effects.append(make_cancel(deadline_key(incident_id, clock, clock.next), clock.name))
            going, resumed = _resume(book, incident_id, clock, state=state, severity=severity, epoch=epoch, now=now)
            settled.append(going)
            effects += resumed
        else:
            settled.append(clock)
    return settled, effects


def replan_clock(clock: ClockState, schedule: Schedule, counter: TimeCounter, epoch: int, now: datetime) -> ClockState:
    """:func:`replan`, for a clock that may have stood still: worked out on its own counter, and, while it stands
    still, as of its pause. A step the new level puts at or before the pause is due at once; the rest wait."""
    if clock.paused_at is None:
        return replan(clock, schedule, counter_of(clock, counter), epoch, now)
    moved = replan(clock, schedule, counter_of(clock, counter), epoch, clock.paused_at)
    armed = moved.next if moved.next is not None and moved.next.at <= clock.paused_at else None
    return moved._replace(next=armed, replanned_at=now if armed is not None else None)


def standing(book: Rulebook, clock: ClockState, severity: str, now: datetime) -> tuple[timedelta, timedelta] | None:
    """(time counted, time left) of a clock at ``severity``, in its own counted time, not counting the time it
    stood still: as of its pause for one standing still now. Left is negative once over. None for a clock that
    does not run at that level."""
    plan = book.plan(clock.name, severity)
    if plan is None:
        return None
    counter, moment = clocked(clock, plan.counter, now)
    counted = counter.elapsed(clock.started_at, moment)
    return counted, plan.limit - counted
