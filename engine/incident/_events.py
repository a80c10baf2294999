"""Event notifications: whom a playbook's ``notify_on`` rules tell, at once, when something happens to an incident.

An event is told from the incident as it is just after the event (its state and level then), once per happening:
each notification's key names the incident, the event, the happening (the revision it made, or the clock run that
breached) and the rule, so a retried command or a deadline that fires twice tells nobody twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from engine.incident._keys import event_key
from engine.incident._made import make_audit, make_notify
from engine.incident._record import ClockState, Effect, Incident, NotifyKind
from engine.incident._rulebook import Rulebook
from engine.playbook import EventKind

__all__ = ["told"]

_WORDS = {
    EventKind.OPENED: "opened",
    EventKind.ENTERED: "entered {state}",
    EventKind.SEVERITY_RAISED: "severity raised to {severity}",
    EventKind.REOPENED: "reopened into {state}",
    EventKind.FOLLOW_UP: "a follow-up while {state}",
    EventKind.BREACH: "{clock} breached",
}
_NO_TIME = timedelta(0)


def told(
    book: Rulebook, incident: Incident, event: EventKind, now: datetime, *, clock: ClockState | None = None
) -> list[Effect]:
    """The audit entries and notifications of every rule for ``event`` that holds for ``incident`` now."""
    found = book.events(event)
    if not found:
        return []
    effects: list[Effect] = []
    occasion = f"{clock.name}@{clock.epoch}" if clock is not None else str(incident.revision)
    for index, rule in found:
        if rule.states is not None and incident.state not in rule.states:
            continue
        if rule.severities is not None and incident.severity not in rule.severities:
            continue
        if rule.clocks is not None and (clock is None or not (clock.name in rule.clocks or clock.kind in rule.clocks)):
            continue
        key = event_key(incident.id, event.value, occasion, index)
        what = _WORDS[event].format(state=incident.state, severity=incident.severity, clock=clock.name if clock else "")
        effects.append(
            make_audit(
                now,
                "notice",
                f"{what}: notify {', '.join(rule.notify)}",
                details={"key": key, "event": event.value, "roles": list(rule.notify), "rule": index},
            )
        )
        effects.append(
            make_notify(
                key=key,
                incident=incident.id,
                roles=rule.notify,
                kind=NotifyKind.EVENT,
                clock=clock.name if clock is not None else "",
                state=incident.state,
                severity=incident.severity,
                step=index,
                repetition=0,
                threshold=1.0 if clock is not None else 0.0,
                scheduled_at=now,
                due_at=clock.due_at if clock is not None else now,
                late_by=_NO_TIME,
                event=event.value,
            )
        )
    return effects
