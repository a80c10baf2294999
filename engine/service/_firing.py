"""Firing due deadlines in batches: the deadlines one unit of work claims, each stepped through the runtime on its
incident as the batch's earlier deadlines left it, and every effect written in that same unit of work.

A batch is one transaction, so it commits whole or not at all: a crash in the middle leaves every deadline of the
batch pending, and they fire again after a restart with the same keys, so the same notifications. Several
deadlines a transaction, because a burst of them (a campaign going wrong, a daemon back after a night down) would
otherwise pay for a transaction each; few enough that a mention or an action, which waits for the store while a
batch is written, waits for one short batch at most: at most :data:`DEADLINE_BATCH`, and the caller may end a
batch sooner (the scheduler ends it after a few milliseconds, so a slow or busy machine writes smaller batches).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from engine.incident import DeadlineReached, Incident, Notify, Stepped, step
from engine.service._applying import apply_step
from engine.service._library import Library
from engine.service._outcomes import Change, FiredDeadline
from engine.store import UnitOfWork, encode_notification

__all__ = ["DEADLINE_BATCH", "fire_batch"]

#: How many due deadlines one transaction fires at most.
DEADLINE_BATCH = 100


def fire_batch(
    tx: UnitOfWork,
    library: Library,
    now: datetime,
    limit: int,
    changes: list[Change],
    *,
    enough: Callable[[], bool] | None = None,
) -> list[FiredDeadline]:
    """Claim up to ``limit`` due deadlines in ``tx`` and fire them, the earliest first, until ``enough()`` says
    so (asked after each one: at least one fires); returns what fired (and notes each change in ``changes``), all
    of it to be counted once ``tx`` has committed. Claimed deadlines left unfired stay pending.

    An incident with several deadlines in the batch is read once and meets them in due order, each step on the
    incident the one before left. A deadline no longer pending when its turn comes (a step earlier in the batch
    cancelled it) is passed over; one whose clock no longer waits for it is marked done and changes nothing else.
    """
    fired: list[FiredDeadline] = []
    incidents: dict[str, Incident] = {}
    for deadline in tx.deadlines.claim(now, limit):
        if not tx.deadlines.complete(deadline.key, now):
            continue
        incident = incidents.get(deadline.incident_id) or tx.incidents.get(deadline.incident_id)
        if incident is None:  # pragma: no cover - deadlines are written with their incident
            continue
        command = DeadlineReached(deadline.key)
        outcome = step(incident, command, now, library.by_digest(incident.playbook_digest))
        notified: tuple[Mapping[str, Any], ...] = ()
        if isinstance(outcome, Stepped) and outcome.effects:
            apply_step(tx, library, outcome, previous=incident, command=command, actor=None, now=now, changes=changes)
            incident = outcome.incident
            notified = tuple(encode_notification(e, incident) for e in outcome.effects if isinstance(e, Notify))
        incidents[incident.id] = incident
        fired.append(FiredDeadline(deadline.key, deadline.incident_id, deadline.due_at, now, notified))
        if enough is not None and enough():
            break
    return fired
