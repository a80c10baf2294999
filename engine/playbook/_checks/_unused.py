"""What is declared and never used: a role nobody acts as, is told or owns; a calendar no clock counts in."""

from __future__ import annotations

from collections.abc import Iterator

from engine.playbook._checks._finding import Context, Finding
from engine.playbook._problem import rules

__all__ = ["check_unused"]


def check_unused(ctx: Context) -> Iterator[Finding]:
    playbook = ctx.playbook
    used = {playbook.owner}
    used.update(role for transition in playbook.transitions for role in transition.by)
    used.update(role for transition in playbook.transitions if transition.approval for role in transition.approval.by)
    used.update(role for step in playbook.escalation for role in step.notify)
    used.update(role for rule in playbook.notify_on for role in rule.notify)
    used.update(role for rule in playbook.surges for role in rule.notify)
    if playbook.offers is not None:
        used.update(role for kind in playbook.offers.kinds.values() for role in kind.by)
    for name in playbook.roles:
        if name not in used:
            yield Finding(
                rules.UNUSED_ROLE,
                ("roles", name),
                f"the role {name!r} takes no action, gets no escalation and owns nothing; use it in a "
                "transition's 'by' or an escalation's 'notify', or remove it",
                at_key=True,
            )
    calendars = {name for state in playbook.states.values() for name in state.calendars_named}
    calendars.update(name for target in playbook.targets.values() for name in target.calendars_named)
    if playbook.offers is not None:
        calendars.update(kind.calendar for kind in playbook.offers.kinds.values() if kind.calendar is not None)
    for name in playbook.calendars:
        if name not in calendars:
            yield Finding(
                rules.UNUSED_CALENDAR,
                ("calendars", name),
                f"no state or target counts in the calendar {name!r}; give a limit 'calendar: {name}' or remove it",
                at_key=True,
            )
