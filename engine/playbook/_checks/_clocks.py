"""Clocks: limits for every severity level, escalation thresholds in order, opening hours that make sense, a warning
before every breach, and no limit on a final state."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from datetime import timedelta
from typing import Any

from engine.playbook._build import day_span, parse_hours_range
from engine.playbook._checks._finding import Context, Finding, limits
from engine.playbook._problem import Path, dotted, rules

__all__ = [
    "check_escalation_order",
    "check_limits",
    "check_opening_hours",
    "check_state_limits",
    "check_warning_before_breach",
]

_MIN_REPEAT = timedelta(minutes=1)


def check_limits(ctx: Context) -> Iterator[Finding]:
    levels = ctx.playbook.severity.levels
    for path, limit in limits(ctx):
        if limit.default is None:
            missing = [level for level in levels if level not in limit.per_level]
            if missing:
                yield Finding(
                    rules.LIMIT_MISSING_LEVEL,
                    path,
                    f"{dotted(path)} has no time for {', '.join(missing)} and no 'default'; add "
                    f"{missing[0]}: <duration> or default: <duration>",
                    at_key=True,
                )
        for level, value in [*limit.per_level.items(), ("default", limit.default)]:
            if value is not None and not value:
                yield Finding(
                    rules.ZERO_DURATION,
                    (*path, level),
                    f"{dotted((*path, level))} is zero; a limit must give people some time",
                )
    if not ctx.playbook.applies_to.join_window:
        yield Finding(
            rules.ZERO_DURATION,
            ("applies_to", "join_window"),
            "applies_to.join_window is zero, so no later mention could join an incident; leave it out for 24h",
        )
    for index, step in enumerate(ctx.playbook.escalation):
        if step.repeat_every is not None and step.repeat_every < _MIN_REPEAT:
            problem = rules.ZERO_DURATION if not step.repeat_every else rules.REPEAT_TOO_OFTEN
            yield Finding(
                problem,
                ("escalation", index, "repeat_every"),
                f"escalation[{index}].repeat_every repeats more than once a minute; people stop reading "
                "alerts that come that often; use 1m or more",
            )
        if not step.after:
            yield Finding(
                rules.ZERO_DURATION,
                ("escalation", index, "after"),
                f"escalation[{index}].after is 0%, the moment the clock starts; use a share such as 75%",
            )


def _overlaps(one: tuple[str, ...] | None, other: tuple[str, ...] | None) -> bool:
    return one is None or other is None or bool(set(one) & set(other))


def check_escalation_order(ctx: Context) -> Iterator[Finding]:
    """Steps that can fire for the same clock and level must go forward in time.

    Steps with disjoint filters (other clocks or other levels) are separate ladders and may interleave.
    """
    steps = ctx.playbook.escalation
    for index, step in enumerate(steps):
        earlier = [
            (position, other)
            for position, other in enumerate(steps[:index])
            if _overlaps(step.clocks, other.clocks) and _overlaps(step.severities, other.severities)
        ]
        later = [(position, other) for position, other in earlier if other.after > step.after]
        same = [(position, other) for position, other in earlier if other.after == step.after]
        path = ("escalation", index, "after")
        if later:
            position, other = later[0]
            yield Finding(
                rules.ESCALATION_ORDER,
                path,
                f"escalation[{index}] fires at {step.after:.0%}, before escalation[{position}] above it "
                f"({other.after:.0%}) for the same clocks; list the steps from the earliest to the latest",
            )
        elif same:
            position, _ = same[0]
            yield Finding(
                rules.ESCALATION_ORDER,
                path,
                f"escalation[{index}] fires at {step.after:.0%} like escalation[{position}] for the same clocks; "
                "merge the two into one step that notifies all the roles",
            )


def check_opening_hours(ctx: Context) -> Iterator[Finding]:
    for name in ctx.playbook.calendars:
        hours: Mapping[str, Any] = ctx.data["calendars"][name]["hours"]
        taken: dict[int, str] = {}
        for spec, ranges in hours.items():
            path: Path = ("calendars", name, "hours", spec)
            for day in day_span(spec):
                if day in taken:
                    yield Finding(
                        rules.BAD_OPENING_HOURS,
                        path,
                        f"{dotted(path)} repeats a day that {taken[day]!r} already covers; give each "
                        "day once (several ranges in a day go in a list)",
                        at_key=True,
                    )
                    break
                taken[day] = spec
            texts = [ranges] if isinstance(ranges, str) else list(ranges)
            spans = sorted(parse_hours_range(text) for text in texts if isinstance(text, str))
            for opens, closes in spans:
                if closes is not None and closes <= opens:
                    yield Finding(
                        rules.BAD_OPENING_HOURS,
                        path,
                        f"{dotted(path)}: {opens:%H:%M}-{closes:%H:%M} ends before it starts; split hours "
                        "past midnight across two days, ending the first at 24:00",
                    )
            for (_, first_close), (second_open, _) in itertools.pairwise(spans):
                if first_close is None or second_open < first_close:
                    yield Finding(
                        rules.BAD_OPENING_HOURS,
                        path,
                        f"{dotted(path)} has ranges that overlap; make them follow one another",
                    )


def check_state_limits(ctx: Context) -> Iterator[Finding]:
    for name, state in ctx.playbook.states.items():
        if not state.final and state.limit is None:
            yield Finding(
                rules.NO_TIME_LIMIT,
                ("states", name),
                f"{name!r} has no time limit, so an incident could wait there with nobody told; add "
                "limit: {default: <duration>}",
                at_key=True,
            )


def check_warning_before_breach(ctx: Context) -> Iterator[Finding]:
    """A clock whose escalation steps all come at or after its breach (100%) tells nobody while there is still
    time: the practice is to warn before it is late. Looked at clock by clock and level by level, as the steps'
    ``clocks`` and ``severities`` filter them; a clock with no step at all is left alone."""
    playbook = ctx.playbook
    clocks = ["limit", *playbook.targets, *(["promise"] if playbook.offers else [])]
    for clock in clocks:
        late_only: list[str] = []
        first: int | None = None
        for level in playbook.severity.levels:
            applying = [
                (index, step)
                for index, step in enumerate(playbook.escalation)
                if (step.clocks is None or clock in step.clocks)
                and (step.severities is None or level in step.severities)
            ]
            if applying and all(step.after >= 1 for _, step in applying):
                late_only.append(level)
                first = applying[0][0] if first is None else first
        if first is not None:
            what = {"limit": "state limits", "promise": "promises"}.get(clock, f"the target {clock!r}")
            yield Finding(
                rules.NO_WARNING_BEFORE_BREACH,
                ("escalation", first, "after"),
                f"for {what} at {', '.join(late_only)}, every escalation step comes at or after the breach "
                f"(100%), so nobody hears of it while there is still time; add a step before it, such as after: 75%",
            )
