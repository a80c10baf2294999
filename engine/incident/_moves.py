"""What entering a state does to an incident's clocks: the targets met or stopped there end with their
verdict in the history, the state's limit and the targets that start there begin, clocks that stand still there
pause, and a change of severity counts every running clock against the new level. Shared by every command that
moves an incident: an action, a follow-up that reopens it, and the incident's opening.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, NamedTuple

from engine.incident._clocks import deadline_key, start_clock
from engine.incident._events import told
from engine.incident._keys import ClockId
from engine.incident._ledger import due_as_clocked
from engine.incident._made import make_arm, make_audit, make_cancel
from engine.incident._moments import iso, minute
from engine.incident._pauses import lateness, paused_for, replan_clock, settle
from engine.incident._record import Audit, ClockState, Effect, Incident
from engine.incident._rulebook import Fate, Rulebook
from engine.playbook import LIFECYCLE, EventKind, format_duration

__all__ = [
    "NO_TIME",
    "RESOLVED",
    "Entered",
    "arm",
    "cancel",
    "enter",
    "met_by_reply",
    "minute",
    "reschedule",
    "start_named",
    "told_on_move",
    "verdict_on",
]


#: Leaving this lifecycle state for an open one reopens an incident.
RESOLVED = LIFECYCLE[4]
NO_TIME = timedelta(0)
#: The enum members every move asks for, read once: reading a member off its enum class costs ten local reads.
_RUNS, _MET, _STOPPED = Fate.RUNS, Fate.MET, Fate.STOPPED
_ENTERED, _RAISED, _REOPENED = EventKind.ENTERED, EventKind.SEVERITY_RAISED, EventKind.REOPENED


def arm(incident_id: str, clock: ClockState) -> list[Effect]:
    if clock.next is None:
        return []
    return [make_arm(deadline_key(incident_id, clock, clock.next), clock.next.at, clock.name)]


def cancel(incident_id: str, clock: ClockState) -> list[Effect]:
    if clock.next is None:
        return []
    return [make_cancel(deadline_key(incident_id, clock, clock.next), clock.name)]


class Entered(NamedTuple):
    """Where an incident is going: the state it enters, at which severity and revision."""

    state: str
    severity: str
    revision: int


def start_named(book: Rulebook, name: str, entered: Entered, now: datetime) -> ClockState | None:
    plan = book.plan(name, entered.severity)
    if plan is None:
        return None
    _, counter, schedule = plan
    return start_clock(name, entered.revision, schedule, counter, now)


def enter(
    book: Rulebook, incident: Incident, entered: Entered, now: datetime
) -> tuple[tuple[ClockState, ...], frozenset[str], list[Effect]]:
    """The clocks that stop and start as ``incident`` enters a state: the running clocks, the finished targets and
    the effects, for the caller to build the new incident from in one go (building one costs more than all this)."""
    effects: list[Effect] = []
    state = entered.state
    final = book.is_final(state)
    kept: list[ClockState] = []
    finished = incident.finished_clocks
    fates = book.fates_in(state)
    for clock in incident.clocks:
        name = clock.name
        fate = fates.get(name)  # None: not a target's clock, but a state's limit or a promise's
        if fate is _RUNS and not final:
            kept.append(clock)
            continue
        if fate is None and not final and ClockId.is_promise(name):  # it runs until the promise is kept
            kept.append(clock)
            continue
        # A state's limit stops as the state is left; a target stops where it is met, on a side path, or at the end.
        if clock.next is not None:
            effects.append(make_cancel(deadline_key(incident.id, clock, clock.next), name))
        if fate is not None:
            if not book.playbook.targets[name].per_follow_up:  # one that starts on each follow-up runs again
                finished = finished | {name}
            aside = state if fate is _STOPPED else None
            effects.append(verdict_on(clock, "met" if fate is _MET else "stopped", aside, now))
    if final:
        return tuple(kept), finished, effects
    if book.pausable:  # targets that stand still in some states stop or go on as the incident moves
        kept, settled = settle(
            book, incident.id, kept, state=state, severity=entered.severity, epoch=entered.revision, now=now
        )
        effects += settled
    running = {clock.name for clock in kept}
    for name, (_, counter, schedule) in book.starts(state, entered.severity):
        if name in running or name in finished:  # a target already running or met goes on as it is
            continue
        started = start_clock(name, entered.revision, schedule, counter, now)
        kept.append(started)
        if started.next is not None:
            effects.append(make_arm(deadline_key(incident.id, started, started.next), started.next.at, name))
    return tuple(kept), finished, effects


def met_by_reply(
    book: Rulebook, incident_id: str, clocks: tuple[ClockState, ...], finished: frozenset[str], now: datetime
) -> tuple[tuple[ClockState, ...], frozenset[str], list[Effect]]:
    """The team replied in public or contacted the customer in private: the targets ``until: reply`` are met."""
    kept: list[ClockState] = []
    effects: list[Effect] = []
    for clock in clocks:
        if clock.name not in book.until_reply:
            kept.append(clock)
            continue
        effects += cancel(incident_id, clock)
        effects.append(verdict_on(clock, "met", None, now))
        if not book.playbook.targets[clock.name].per_follow_up:
            finished = finished | {clock.name}
    return tuple(kept), finished, effects


def verdict_on(clock: ClockState, verdict: str, aside: str | None, now: datetime) -> Audit:
    """The history's word on a target that stopped: met or stopped, on time or how late, and why it stopped."""
    late = lateness(clock, now)  # the time it stood still is not counted against it
    timing = f"{format_duration(late)} late" if late.total_seconds() > 0 else "on time"
    stood = paused_for(clock, now) if clock.paused_at is not None or clock.pauses else NO_TIME
    if stood:
        timing += f", not counting {format_duration(stood)} paused"
    if clock.judged_from is not None and late.total_seconds() > 0:
        timing += f", counted from the severity change at {minute(clock.judged_from)} that made it due"
    why = f": {aside} is a side path where it no longer applies" if aside is not None else ""
    details: dict[str, Any] = {"clock": clock.name, "due_at": iso(clock.due_at), "late": late > NO_TIME}
    if clock.judged_from is not None:
        details["judged_from"] = iso(clock.judged_from)
    if aside is not None:
        details["side_path"] = aside
    if stood:
        details["paused_for"] = stood.total_seconds()
    return make_audit(now, f"target_{verdict}", f"{clock.name} {verdict} ({timing}){why}", details=details)


def reschedule(
    book: Rulebook, incident: Incident, before: str, skip: frozenset[str], now: datetime
) -> tuple[Incident, list[Effect]]:
    """After a severity change from ``before``, running clocks count against the new level's limits from the same
    start (see :func:`replan`). Clocks in ``skip`` have just started at the new level and need nothing."""
    effects: list[Effect] = []
    clocks = []
    for clock in incident.clocks:
        if clock.name in skip:
            clocks.append(clock)
            continue
        plan = book.plan(clock.name, incident.severity)
        if plan is None:  # the new level has no limit here: the clock stops
            effects += cancel(incident.id, clock)
            continue
        _, counter, schedule = plan
        old = book.plan(clock.name, before)
        if old is not None and old[1] is counter and old[2].same_as(schedule):
            clocks.append(clock)  # the same limit and steps at both levels: nothing changes
            continue
        moved = replan_clock(clock, schedule, counter, incident.revision, now)
        effects += [*cancel(incident.id, clock), *arm(incident.id, moved)]
        clocks.append(moved)
    return incident.evolve(clocks=tuple(clocks), promises=due_as_clocked(incident.promises, clocks)), effects


def told_on_move(book: Rulebook, before: Incident, after: Incident, now: datetime) -> list[Effect]:
    """What an action that moved an incident tells at once: the state entered, a raised level, a reopening."""
    effects = told(book, after, _ENTERED, now)
    if book.levels[after.severity] > book.levels[before.severity]:
        effects += told(book, after, _RAISED, now)
    if before.state == RESOLVED and not book.is_final(after.state):
        effects += told(book, after, _REOPENED, now)
    return effects
