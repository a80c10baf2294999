"""Pauses: the states a target's clock stands still in (``paused_in``) must be states it can be paused in.

A pause means something only in a state the target runs through: not where its clock starts (it would start
standing still), not where it ends (entering an ``until`` or ``stops_on`` state, or a final one, ends it before any
pause), and not in a state the incident never reaches while the target runs.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.playbook._checks._finding import Context, Finding, listed, undefined
from engine.playbook._checks._machine import edges_of
from engine.playbook._model import Playbook, Target
from engine.playbook._problem import rules

__all__ = ["check_pauses"]


def _running_in(playbook: Playbook, target: Target, edges: dict[str, set[str]]) -> set[str]:
    """The states an incident may be in while the target's clock runs: from its ``from`` (any open state for one
    that starts on a follow-up) up to, not through, the states that end it."""
    ends = set(target.until) | set(target.stops_on) | playbook.final_states
    if target.per_follow_up:
        return set(playbook.states) - ends
    seen: set[str] = set()
    waiting = [target.start] if target.start in playbook.states else []
    while waiting:
        state = waiting.pop()
        if state in seen or state in ends:
            continue
        seen.add(state)
        waiting.extend(edges.get(state, ()))
    return seen


def _ends_there(playbook: Playbook, target: Target, state: str) -> str | None:
    """Why the target's clock ends as an incident enters ``state``, or None when it does not."""
    if state in target.until:
        return "one of its until states: entering it meets the target, so its clock is never paused there"
    if state in target.stops_on:
        return "one of its stops_on side paths: entering it stops the clock, so it is never paused there"
    if state in playbook.final_states:
        return "a final state: every clock stops when the incident closes, so it is never paused there"
    return None


def check_pauses(ctx: Context) -> Iterator[Finding]:
    """Each state in a target's ``paused_in``: defined, neither where its clock starts nor where it ends, and on
    the target's way (a warning: a pause in a state it never runs through never applies)."""
    playbook = ctx.playbook
    edges = edges_of(playbook)
    for name, target in playbook.targets.items():
        if not target.paused_in:
            continue
        running = _running_in(playbook, target, edges)
        for path, state in listed(ctx.data, ("targets", name, "paused_in")):
            if state not in playbook.states:
                yield undefined(rules.PAUSE_UNKNOWN_STATE, "state", "the states section", path, state, playbook.states)
                continue
            ending = _ends_there(playbook, target, state)
            if ending is not None:
                yield Finding(
                    rules.PAUSE_WHERE_CLOCK_ENDS,
                    path,
                    f"targets.{name}.paused_in lists {state!r}, which is {ending}; remove it from paused_in",
                )
            elif state == target.start:
                yield Finding(
                    rules.PAUSE_AT_START,
                    path,
                    f"targets.{name}.paused_in lists {state!r}, where its clock starts: it would start standing "
                    f"still and count nothing there; start it from the state after {state!r} instead, or remove "
                    f"{state!r} from paused_in",
                )
            elif state not in running:
                yield Finding(
                    rules.PAUSE_NEVER_APPLIES,
                    path,
                    f"targets.{name}.paused_in lists {state!r}, but no path from {target.start!r} reaches it while "
                    f"{name} runs, so the pause never applies; remove it, or pause {name} in a state on its way",
                )
