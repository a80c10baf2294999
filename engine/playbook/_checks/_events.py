"""Event rules (``notify_on``): what each names fits its event, and the event can happen as its filters say."""

from __future__ import annotations

from collections.abc import Iterator

from engine.playbook._checks._finding import Context, Finding
from engine.playbook._model import LIFECYCLE, EventKind, EventRule, Playbook
from engine.playbook._problem import rules

__all__ = ["check_event_clocks", "check_events_happen"]


def check_event_clocks(ctx: Context) -> Iterator[Finding]:
    for index, rule in enumerate(ctx.playbook.notify_on):
        if rule.clocks is not None and rule.event is not EventKind.BREACH:
            yield Finding(
                rules.CLOCKS_OUTSIDE_BREACH,
                ("notify_on", index, "clocks"),
                f"notify_on[{index}] is for the event {rule.event.value}, which no clock causes; clocks narrows "
                "a breach rule to some clocks: remove it, or make the event breach",
                at_key=True,
            )


def _never(playbook: Playbook, rule: EventRule) -> str | None:
    """Why the rule can never fire, or None when it can."""
    entered = {transition.dest for transition in playbook.transitions}
    states = set(rule.states) if rule.states is not None else set(playbook.states)
    levels = playbook.severity.levels
    if rule.event is EventKind.OPENED and LIFECYCLE[0] not in states:
        return f"an incident opens in {LIFECYCLE[0]}, which its states leave out"
    if rule.event is EventKind.ENTERED and not states & entered:
        return "no transition enters any of its states"
    if rule.event is EventKind.SEVERITY_RAISED and rule.severities is not None and set(rule.severities) <= {levels[0]}:
        return f"{levels[0]} is the lowest level, so nothing is ever raised to it"
    if rule.event is EventKind.REOPENED:
        reopened = {
            transition.dest
            for transition in playbook.transitions
            if LIFECYCLE[4] in transition.sources and not playbook.states[transition.dest].final
        }
        if not reopened & states:
            return f"no transition leads from {LIFECYCLE[4]} back to an open state among its states"
    if rule.event in (EventKind.FOLLOW_UP, EventKind.BREACH) and states <= playbook.final_states:
        return "its states are all final, where an incident takes no more mentions and runs no clock"
    return None


def check_events_happen(ctx: Context) -> Iterator[Finding]:
    playbook = ctx.playbook
    for index, rule in enumerate(playbook.notify_on):
        if rule.states is not None and not set(rule.states) <= set(playbook.states):
            continue  # an undefined state, reported on its own
        why = _never(playbook, rule)
        if why is not None:
            yield Finding(
                rules.EVENT_NEVER_HAPPENS,
                ("notify_on", index, "event"),
                f"notify_on[{index}] ({rule.event.value}) never notifies anyone: {why}; widen its filters or remove it",
            )
