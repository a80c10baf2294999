"""Targets and the states they run through: a state whose own limit outlasts a target it runs under, with no
warning on the target before its breach, lets the target breach with nobody warned."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import timedelta

from engine.playbook._checks._finding import Context, Finding, written_at
from engine.playbook._checks._machine import edges_of
from engine.playbook._duration import format_duration
from engine.playbook._model import LIMIT_CLOCK, Limit, Playbook, State, Target
from engine.playbook._problem import rules

__all__ = ["check_limits_within_targets"]


def _on_the_way(playbook: Playbook, target: Target, edges: dict[str, set[str]]) -> list[str]:
    """The states an incident may be in while ``target`` runs: reached from its ``from`` state without passing one
    of its ``until`` states or a final state (which stop it), in the playbook's order."""
    stops = set(target.until) | playbook.final_states
    seen: set[str] = set()
    waiting = [target.start] if target.start in playbook.states and target.start not in stops else []
    while waiting:
        state = waiting.pop()
        if state in seen:
            continue
        seen.add(state)
        waiting.extend(following for following in edges.get(state, ()) if following not in stops)
    return [name for name in playbook.states if name in seen]


def _warned(playbook: Playbook, clock: str, level: str) -> bool:
    """Whether an escalation step before the breach (under 100%) applies to ``clock`` (``limit`` or a target) at
    ``level``."""
    return any(
        step.after < 1
        and (step.clocks is None or clock in step.clocks)
        and (step.severities is None or level in step.severities)
        for step in playbook.escalation
    )


def _comparable(state: State, target: Target) -> bool:
    """Whether the two times count alike, so one being longer means something: on the same calendar, or the state
    on a calendar and the target around the clock (open time is never longer than the wall time it spans)."""
    return state.calendar == target.calendar or target.calendar is None


def _written(limit: Limit, level: str, length: timedelta) -> str:
    return limit.written_for(level) or format_duration(length)


def check_limits_within_targets(ctx: Context) -> Iterator[Finding]:
    """A state's limit longer than a target it runs under, at a level where no escalation step warns of the
    target before its breach but one warns of the state limits: the target breaches with nobody warned, while the
    state's own clock is still far from its warning. One finding for each state and target, at the state's limit,
    naming every such level and both times."""
    playbook = ctx.playbook
    edges = edges_of(playbook)
    for name, target in playbook.targets.items():
        for state_name in _on_the_way(playbook, target, edges):
            state = playbook.states[state_name]
            if state.limit is None or state_name in target.paused_in or not _comparable(state, target):
                # a state the target stands still in may last as long as it likes: the target does not count there
                continue
            outlasting: list[str] = []
            first_level: str | None = None
            for level in playbook.severity.levels:
                mine, theirs = state.limit.for_level(level), target.within.for_level(level)
                if mine is None or theirs is None or mine <= theirs:
                    continue
                if _warned(playbook, name, level) or not _warned(playbook, LIMIT_CLOCK, level):
                    continue  # warned in time; or no clock warns at all, and the state's clock is no better
                first_level = first_level or level
                outlasting.append(
                    f"{level}: {_written(state.limit, level, mine)} against {_written(target.within, level, theirs)}"
                )
            if first_level is None:
                continue
            written = written_at(ctx.data, ("states", state_name, "limit"))
            key = first_level if isinstance(written, Mapping) and first_level in written else "default"
            yield Finding(
                rules.LIMIT_OUTLASTS_TARGET,
                ("states", state_name, "limit", key),
                f"the state {state_name!r} may last longer than the target {name!r} it runs under "
                f"({'; '.join(outlasting)}), and no escalation step warns of {name} before its breach at "
                f"{'that level' if len(outlasting) == 1 else 'those levels'}: {name} breaches with nobody warned "
                f"while {state_name}'s own clock is still far from its warning; add a step such as "
                f"{{after: 75%, notify: [<role>], clocks: [{name}]}}, or shorten {state_name}'s limit",
            )
