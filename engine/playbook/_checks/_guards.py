"""Who may do what, and when: transitions' guards on the incident's facts, conditions on the customer, and
do-not-engage reasons that name the roles that may give them.

A guard or a condition that can never hold is an action nobody can take, or a rule that never fires; a reason
that none of the roles taking a do-not-engage action may give is a choice on the form that is always refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from engine.playbook._checks._finding import Context, Finding, undefined
from engine.playbook._model import LIFECYCLE, Condition, Customer, Playbook, Requirement, Transition
from engine.playbook._problem import Path, dotted, rules

__all__ = ["check_conditions_hold", "check_guards_hold", "check_reasons", "levels_by_state"]


def _names(items: tuple[str, ...] | frozenset[str] | set[str]) -> str:
    return ", ".join(sorted(items))


def _reason_entries(data: Mapping[str, Any]) -> list[tuple[int, Any]]:
    return list(enumerate(data.get("house_rules", {}).get("do_not_engage_reasons", [])))


def _giving(playbook: Playbook) -> set[str]:
    """The roles that may take some action asking for a reason: the only ones a reason can ever be given by."""
    return {
        role
        for transition in playbook.transitions
        if Requirement.REASON in transition.requires
        for role in transition.by
    }


def check_reasons(ctx: Context) -> Iterator[Finding]:
    """Each reason listed once (E312); each reason's roles declared (E300); and each one some role taking an
    action that asks for a reason may give (W715)."""
    roles = ctx.playbook.roles
    giving = _giving(ctx.playbook)
    seen: dict[str, int] = {}
    for index, entry in _reason_entries(ctx.data):
        named = isinstance(entry, Mapping)
        reason = entry["reason"] if named else entry
        here: Path = ("house_rules", "do_not_engage_reasons", index)
        if reason in seen:
            yield Finding(
                rules.DUPLICATE_REASON,
                (*here, "reason") if named else here,
                f"the reason {reason!r} is listed twice (also at do_not_engage_reasons[{seen[reason]}]); list it "
                "once, with 'by' when only some roles may give it",
            )
            continue
        seen[reason] = index
        if not named:
            continue
        by = set(entry["by"])
        undeclared = [(position, role) for position, role in enumerate(entry["by"]) if role not in roles]
        for position, role in undeclared:
            yield undefined(rules.UNDEFINED_ROLE, "role", "the roles section", (*here, "by", position), role, roles)
        if not undeclared and giving and not giving & by:
            yield Finding(
                rules.REASON_NOBODY_MAY_GIVE,
                (*here, "by"),
                f"only {_names(by)} may give the reason {reason!r}, but the actions that ask for a reason are for "
                f"{_names(giving)}; add one of those roles to its 'by', or give the role to an action that asks "
                "for a reason",
            )


def levels_by_state(playbook: Playbook) -> dict[str, set[str]]:
    """The severity levels an incident can have in each state: where it opens (the default and the rules'
    levels), raised by a joining mention (the rules' levels), and carried along transitions (every level after
    one that asks for a severity); a guard's levels narrow what passes through its transition."""
    levels = set(playbook.severity.levels)
    raised = {rule.level for rule in playbook.severity.rules} & levels
    found: dict[str, set[str]] = {name: set() for name in playbook.states}
    if LIFECYCLE[0] not in found:
        return found
    found[LIFECYCLE[0]] = ({playbook.severity.default} & levels) | raised
    changed = True
    while changed:
        changed = False
        for transition in playbook.transitions:
            if transition.dest not in found:
                continue
            for source in transition.sources:
                here = found.get(source, set())
                if not here:
                    continue
                passing = set(here)
                if transition.when is not None and transition.when.severities:
                    passing &= set(transition.when.severities)
                if not passing:
                    continue
                arriving = levels if Requirement.SEVERITY in transition.requires else passing
                arriving = arriving | (raised if not playbook.states[transition.dest].final else set())
                if not arriving <= found[transition.dest]:
                    found[transition.dest] |= arriving
                    changed = True
    return found


def _contradiction(customer: Customer | None, segments: tuple[str, ...]) -> bool:
    return customer is Customer.UNKNOWN and bool(segments)


def _channels_allowed(playbook: Playbook) -> set[str]:
    channels = set(playbook.applies_to.channels)
    when = playbook.applies_to.when
    if when is not None and when.channels:
        channels &= set(when.channels)
    return channels


def check_guards_hold(ctx: Context) -> Iterator[Finding]:
    playbook = ctx.playbook
    levels = levels_by_state(playbook)
    channels = _channels_allowed(playbook)
    for index, transition in enumerate(playbook.transitions):
        guard = transition.when
        if guard is None:
            continue
        where: Path = ("transitions", index, "when")
        if _contradiction(guard.customer, guard.customer_segments_any):
            yield _never(where, "incident")
        if guard.channels and channels and not set(guard.channels) & channels:
            yield Finding(
                rules.NEVER_HOLDS,
                (*where, "channels"),
                f"transitions[{index}].when.channels is {_names(set(guard.channels))}, but this playbook's incidents "
                f"all come from {_names(channels)} (applies_to), so {transition.trigger!r} could never be taken; "
                "name a channel the playbook applies to",
            )
        yield from _levels_never(index, transition, levels, set(playbook.severity.levels))


def _levels_never(
    index: int, transition: Transition, levels: Mapping[str, set[str]], declared: set[str]
) -> Iterator[Finding]:
    """A guard's severities that no incident can have in any state the transition starts from."""
    wanted = set(transition.when.severities) if transition.when else set()
    if not wanted or not wanted <= declared:
        return  # no severities, or an undefined one (E302, reported on its own)
    possible = {source: levels.get(source, set()) for source in transition.sources}
    if not any(possible.values()) or any(here & wanted for here in possible.values()):
        return
    there = "; ".join(f"in {source} it can only be {_names(here)}" for source, here in possible.items() if here)
    yield Finding(
        rules.NEVER_HOLDS,
        ("transitions", index, "when", "severities"),
        f"transitions[{index}].when.severities is {_names(wanted)}, but no incident is at that level where "
        f"{transition.trigger!r} starts ({there}), so it could never be taken; add the levels it can have there, "
        "or let an earlier action set the severity",
    )


def _never(where: Path, what: str) -> Finding:
    return Finding(
        rules.NEVER_HOLDS,
        (*where, "customer_segments_any"),
        f"{dotted(where)} asks for customer_segments_any together with customer: unknown, which no {what} can "
        "meet (only a known customer has a segment); keep one of them",
    )


def check_conditions_hold(ctx: Context) -> Iterator[Finding]:
    """A condition on a mention's customer that contradicts itself never matches: the playbook never applies,
    or the severity rule never fires."""
    conditions: list[tuple[Path, Condition]] = []
    if ctx.playbook.applies_to.when is not None:
        conditions.append((("applies_to", "when"), ctx.playbook.applies_to.when))
    conditions += [
        (("severity", "rules", index, "when"), rule.when) for index, rule in enumerate(ctx.playbook.severity.rules)
    ]
    for where, condition in conditions:
        if _contradiction(condition.customer, condition.customer_segments_any):
            yield _never(where, "mention")
