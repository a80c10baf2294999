"""References between sections: every role, state, severity level, reply and escalation clock a
playbook names is one it defines."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from engine.playbook._checks._finding import Context, Finding, limits, listed, undefined, written_at
from engine.playbook._model import FOLLOW_UP, LIMIT_CLOCK, PROMISE_CLOCK, REPLY, EscalationStep, EventRule, Playbook
from engine.playbook._problem import dotted, rules
from engine.playbook._shape import suggest

__all__ = ["check_clocks", "check_levels", "check_responses", "check_roles", "check_states"]


def _notifying(playbook: Playbook) -> tuple[tuple[str, Sequence[EscalationStep | EventRule]], ...]:
    """The two sections that notify roles, each with its rules: escalation steps and event rules."""
    return (("escalation", playbook.escalation), ("notify_on", playbook.notify_on))


def check_roles(ctx: Context) -> Iterator[Finding]:
    roles = ctx.playbook.roles
    where = "the roles section"
    if ctx.playbook.owner not in roles:
        yield undefined(rules.UNDEFINED_ROLE, "role", where, ("owner",), ctx.playbook.owner, roles)
    for index, transition in enumerate(ctx.playbook.transitions):
        for position, role in enumerate(transition.by):
            if role not in roles:
                yield undefined(
                    rules.UNDEFINED_ROLE, "role", where, ("transitions", index, "by", position), role, roles
                )
    for section, steps in _notifying(ctx.playbook):
        for index, step in enumerate(steps):
            for position, role in enumerate(step.notify):
                if role not in roles:
                    path = (section, index, "notify", position)
                    yield undefined(rules.UNDEFINED_ROLE, "role", where, path, role, roles)


def check_states(ctx: Context) -> Iterator[Finding]:
    states = ctx.playbook.states
    where = "the states section"
    for name in states:
        if name in (FOLLOW_UP, REPLY):
            yield Finding(
                rules.RESERVED_STATE_NAME,
                ("states", name),
                f"a state cannot be called {name!r}: a target's from: follow_up starts a clock each time the "
                "customer writes again, and until: reply stops one at the team's next reply; give the state "
                "another name",
                at_key=True,
            )
    for index, _ in enumerate(ctx.playbook.transitions):
        for path, name in [
            *listed(ctx.data, ("transitions", index, "from")),
            (("transitions", index, "to"), ctx.data["transitions"][index]["to"]),
        ]:
            if name not in states:
                yield undefined(rules.UNDEFINED_STATE, "state", where, path, name, states)
    for target in ctx.playbook.targets:
        for path, name in [
            (("targets", target, "from"), ctx.data["targets"][target]["from"]),
            *listed(ctx.data, ("targets", target, "until")),
            *(listed(ctx.data, ("targets", target, "stops_on")) if ctx.playbook.targets[target].stops_on else []),
        ]:
            if name in (FOLLOW_UP, REPLY) and path[2] == ("from" if name == FOLLOW_UP else "until"):
                continue  # not a state: a follow-up starts the clock, the team's reply stops it
            if name not in states:
                yield undefined(rules.UNDEFINED_STATE, "state", where, path, name, states)
    for name, state in states.items():
        if state.reopen_on_follow_up is not None and state.reopen_on_follow_up not in states:
            path = ("states", name, "reopen_on_follow_up")
            yield undefined(rules.UNDEFINED_STATE, "state", where, path, state.reopen_on_follow_up, states)
    for index, rule in enumerate(ctx.playbook.notify_on):
        if rule.states is not None:
            for path, name in listed(ctx.data, ("notify_on", index, "states")):
                if name not in states:
                    yield undefined(rules.UNDEFINED_STATE, "state", where, path, name, states)


def check_levels(ctx: Context) -> Iterator[Finding]:
    levels = ctx.playbook.severity.levels
    where = "severity.levels"
    if ctx.playbook.severity.default not in levels:
        yield undefined(
            rules.UNDEFINED_LEVEL,
            "level",
            where,
            ("severity", "default"),
            ctx.playbook.severity.default,
            levels,
        )
    for index, rule in enumerate(ctx.playbook.severity.rules):
        if rule.level not in levels:
            yield undefined(
                rules.UNDEFINED_LEVEL,
                "level",
                where,
                ("severity", "rules", index, "level"),
                rule.level,
                levels,
            )
    for path, limit in limits(ctx):
        for level in limit.per_level:
            if level not in levels:
                finding = undefined(rules.UNDEFINED_LEVEL, "level", where, (*path, level), level, levels)
                yield Finding(
                    finding.rule,
                    finding.path,
                    finding.message + " (use 'default' for every level not listed)",
                    at_key=True,
                )
    for section, steps in _notifying(ctx.playbook):
        for index, step in enumerate(steps):
            for position, level in enumerate(step.severities or ()):
                if level not in levels:
                    path = (section, index, "severities", position)
                    yield undefined(rules.UNDEFINED_LEVEL, "level", where, path, level, levels)
    clocks = [
        *(("states", name) for name in ctx.playbook.states),
        *(("targets", name) for name in ctx.playbook.targets),
    ]
    for section, name in clocks:
        written = written_at(ctx.data, (section, name, "calendar"))
        if isinstance(written, Mapping):
            for level in written:
                if level != "default" and level not in levels:
                    path = (section, name, "calendar", level)
                    finding = undefined(rules.UNDEFINED_LEVEL, "level", where, path, str(level), levels)
                    yield Finding(
                        finding.rule, path, finding.message + " (use 'default' for every level not listed)", at_key=True
                    )
    for index, transition in enumerate(ctx.playbook.transitions):
        for position, level in enumerate(transition.when.severities if transition.when else ()):
            if level not in levels:
                path = ("transitions", index, "when", "severities", position)
                yield undefined(rules.UNDEFINED_LEVEL, "level", where, path, level, levels)


def check_responses(ctx: Context) -> Iterator[Finding]:
    triggers = sorted(ctx.playbook.triggers)
    for trigger in ctx.playbook.responses:
        if trigger not in ctx.playbook.triggers:
            yield Finding(
                rules.UNDEFINED_TRIGGER,
                ("responses", trigger),
                f"responses.{trigger} is a reply for the action {trigger!r}, which no transition has"
                f"{suggest(trigger, triggers)}",
                at_key=True,
            )


def check_clocks(ctx: Context) -> Iterator[Finding]:
    playbook = ctx.playbook
    clocks = [LIMIT_CLOCK, *playbook.targets, *([PROMISE_CLOCK] if playbook.offers else [])]
    named = [*clocks, *(f"{LIMIT_CLOCK}:{state}" for state in playbook.states if not playbook.states[state].final)]
    for section, steps in _notifying(playbook):
        for index, step in enumerate(steps):
            for position, clock in enumerate(step.clocks or ()):
                if clock in named or clock == PROMISE_CLOCK:  # promise with no catalogue: check_offers says why
                    continue
                path = (section, index, "clocks", position)
                head, _, state = clock.partition(":")
                if head == LIMIT_CLOCK and state:
                    yield Finding(
                        rules.UNDEFINED_CLOCK,
                        path,
                        f"{dotted(path)} names {clock!r}, the time limit of {state!r}, which is not a state with a "
                        f"time limit{suggest(clock, named)}",
                    )
                    continue
                yield Finding(
                    rules.UNDEFINED_CLOCK,
                    path,
                    f"{dotted(path)} names {clock!r}, which is neither 'limit' (the state time limits), "
                    f"'limit:<state>' (one state's), 'promise' (the offers' promises) nor a target"
                    f"{suggest(clock, named)}",
                )
