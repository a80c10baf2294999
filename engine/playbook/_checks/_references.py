"""References between sections: every role, state, severity level, reply and escalation clock a
playbook names is one it defines."""

from __future__ import annotations

from collections.abc import Iterator

from engine.playbook._checks._finding import Context, Finding, limits, listed, undefined
from engine.playbook._model import LIMIT_CLOCK, PROMISE_CLOCK
from engine.playbook._problem import rules
from engine.playbook._shape import suggest

__all__ = ["check_clocks", "check_levels", "check_responses", "check_roles", "check_states"]


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
    for index, step in enumerate(ctx.playbook.escalation):
        for position, role in enumerate(step.notify):
            if role not in roles:
                path = ("escalation", index, "notify", position)
                yield undefined(rules.UNDEFINED_ROLE, "role", where, path, role, roles)


def check_states(ctx: Context) -> Iterator[Finding]:
    states = ctx.playbook.states
    where = "the states section"
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
        ]:
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
    for index, step in enumerate(ctx.playbook.escalation):
        for position, level in enumerate(step.severities or ()):
            if level not in levels:
                path = ("escalation", index, "severities", position)
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
    clocks = [LIMIT_CLOCK, *ctx.playbook.targets, *([PROMISE_CLOCK] if ctx.playbook.offers else [])]
    for index, step in enumerate(ctx.playbook.escalation):
        for position, clock in enumerate(step.clocks or ()):
            if clock not in clocks and clock != PROMISE_CLOCK:  # promise with no catalogue: check_offers says why
                yield Finding(
                    rules.UNDEFINED_CLOCK,
                    ("escalation", index, "clocks", position),
                    f"escalation[{index}].clocks names {clock!r}, which is neither 'limit' (the state "
                    f"time limits), 'promise' (the offers' promises) nor a target{suggest(clock, clocks)}",
                )
