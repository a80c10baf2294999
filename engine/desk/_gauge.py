"""A clock's gauge on the desk: how much of its limit is used, counted as the playbook counts it (office hours
where its calendar says so), and which escalation stage that puts it in, for the bar's colour.

The deadlines are the server's; the gauge only reads the playbook's plan for the clock (its limit, how its time is
counted and where its escalation steps sit), so the bar moves on at the steps the notifications go out at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.incident import ClockState, Incident, Rulebook, standing
from engine.playbook import format_duration

__all__ = ["Gauge", "allowed", "gauge"]


@dataclass(frozen=True, slots=True)
class Gauge:
    """``used``: the share of the limit gone, 0 to 1. ``stage``: ``calm`` before the first escalation step,
    ``escalated`` once one has passed, ``breached`` once the limit ran out. ``steps_passed`` of ``steps``.
    ``paused``: the clock stands still (its target's ``paused_in``), the share as it was when it stopped."""

    used: float
    stage: str
    steps_passed: int
    steps: int
    paused: bool = False

    @property
    def percent(self) -> int:
        return round(self.used * 100)


def gauge(clock: ClockState, incident: Incident, book: Rulebook, now: datetime) -> Gauge:
    """The gauge of one of ``incident``'s running clocks at ``now``."""
    plan = book.plan(clock.name, incident.severity)
    if plan is None or plan.limit.total_seconds() <= 0:  # a clock the plan no longer knows: the wall clock's share
        span = (clock.due_at - clock.started_at).total_seconds()
        share = 1.0 if span <= 0 else (now - clock.started_at).total_seconds() / span
        fractions: list[float] = []
    else:
        found = standing(book, clock, incident.severity, now)  # the time it stood still is not used
        share = (found[0] if found is not None else plan.counter.elapsed(clock.started_at, now)) / plan.limit
        fractions = sorted(point.fraction for point in plan.schedule.points if point.step >= 0)  # not the bare breach
    used = min(1.0, max(0.0, share))
    passed = sum(1 for fraction in fractions if fraction <= share)
    if share >= 1 or clock.name in incident.breached:
        stage = "breached"
    elif any(fraction <= share for fraction in fractions if fraction < 1):
        stage = "escalated"
    else:
        stage = "calm"
    return Gauge(used, stage, passed, len(fractions), clock.paused)


def allowed(clock: ClockState, incident: Incident, book: Rulebook) -> str | None:
    """The time the clock allows at the incident's severity, as the playbook writes it (``2bd, 18h of open time on
    office``, ``4h``); None for a clock the plan no longer knows."""
    plan = book.plan(clock.name, incident.severity)
    if plan is None:
        return None
    return book.limit_words(clock.name, incident.severity) or format_duration(plan.limit)
