"""The state machine's shape: the lifecycle's states are there, every state is reached and leads to a final
one, and each transition is one the runtime can take."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from engine.playbook._checks._finding import Context, Finding, listed
from engine.playbook._model import LIFECYCLE, Playbook, Requirement
from engine.playbook._problem import Path, rules

__all__ = [
    "check_follow_ups",
    "check_lifecycle",
    "check_mutes",
    "check_reachability",
    "check_reply_possible",
    "check_side_paths",
    "check_targets_end",
    "check_targets_stranded",
    "check_transitions",
    "edges_of",
]


def check_lifecycle(ctx: Context) -> Iterator[Finding]:
    missing = [state for state in LIFECYCLE if state not in ctx.playbook.states]
    if missing:
        yield Finding(
            rules.MISSING_LIFECYCLE_STATE,
            ("states",),
            f"states lacks the lifecycle state{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"every playbook has {' -> '.join(LIFECYCLE)}",
            at_key=True,
        )
    if not ctx.playbook.final_states:
        yield Finding(
            rules.NO_FINAL_STATE,
            ("states",),
            "no state is marked 'final: true', so no incident could ever close; mark reviewed final",
            at_key=True,
        )


def edges_of(playbook: Playbook) -> dict[str, set[str]]:
    """Where each state's transitions lead: the states one action away."""
    edges: dict[str, set[str]] = {name: set() for name in playbook.states}
    for transition in playbook.transitions:
        for source in transition.sources:
            if source in edges and transition.dest in playbook.states:
                edges[source].add(transition.dest)
    return edges


def _reach(start: Iterable[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for following in edges.get(todo.pop(), ()):
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen


def check_reachability(ctx: Context) -> Iterator[Finding]:
    playbook = ctx.playbook
    edges = edges_of(playbook)
    if LIFECYCLE[0] in playbook.states:
        reached = _reach([LIFECYCLE[0]], edges)
        for name in playbook.states:
            if name not in reached:
                yield Finding(
                    rules.UNREACHABLE_STATE,
                    ("states", name),
                    f"no transition leads from detected to the state {name!r}; add one that ends in "
                    f"{name!r}, or remove the state",
                    at_key=True,
                )
    finals = playbook.final_states
    if not finals:
        return
    backwards: dict[str, set[str]] = {name: set() for name in playbook.states}
    for source, targets in edges.items():
        for target in targets:
            backwards[target].add(source)
    closing = _reach(finals, backwards)
    for name, state in playbook.states.items():
        if not state.final and name not in closing:
            yield Finding(
                rules.DEAD_END_STATE,
                ("states", name),
                f"an incident in {name!r} can never reach a final state ({', '.join(sorted(finals))}); "
                "add a transition out of it, or mark it 'final: true'",
                at_key=True,
            )


def check_transitions(ctx: Context) -> Iterator[Finding]:
    playbook = ctx.playbook
    seen: dict[tuple[str, str], list[int]] = {}
    for index, transition in enumerate(playbook.transitions):
        for path, source in listed(ctx.data, ("transitions", index, "from")):
            key = (transition.trigger, source)
            earlier = next((other for other in seen.get(key, ()) if _overlap(playbook, other, index)), None)
            if earlier is not None:
                yield _duplicate(playbook, transition.trigger, source, earlier, index, path)
            seen.setdefault(key, []).append(index)
            state = playbook.states.get(source)
            if state is not None and state.final:
                yield Finding(
                    rules.FINAL_STATE_LEFT,
                    path,
                    f"{source!r} is final, so no action may leave it; remove it from 'from', or drop "
                    "'final: true' from the state",
                )
        if Requirement.REVIEW in transition.requires and not playbook.review_questions:
            yield Finding(
                rules.REVIEW_WITHOUT_QUESTIONS,
                ("transitions", index, "requires"),
                f"the action {transition.trigger!r} requires a review, but review.questions is empty; "
                "add the questions the review must answer",
            )
        if Requirement.REASON in transition.requires and not playbook.house_rules.do_not_engage_reasons:
            yield Finding(
                rules.REASON_WITHOUT_HOUSE_RULES,
                ("transitions", index, "requires"),
                f"the action {transition.trigger!r} requires a reason, but "
                "house_rules.do_not_engage_reasons lists none; add the reasons people may give",
            )
        if transition.dest == "reviewed" and Requirement.REVIEW not in transition.requires:
            yield Finding(
                rules.REVIEW_NOT_REQUIRED,
                ("transitions", index),
                f"the action {transition.trigger!r} closes the incident as reviewed without asking the "
                "review questions; add 'review' to its 'requires'",
            )
    for name, state in playbook.states.items():
        if state.final and state.limit is not None:
            yield Finding(
                rules.FINAL_STATE_LIMIT,
                ("states", name, "limit"),
                f"{name!r} is final, so its clock never runs; remove its limit",
                at_key=True,
            )


def _overlap(playbook: Playbook, first: int, second: int) -> bool:
    """Whether one incident could meet the guards of both transitions (one without a guard meets any)."""
    one, other = playbook.transitions[first].when, playbook.transitions[second].when
    return one is None or other is None or one.overlaps(other)


def _duplicate(  # noqa: PLR0917 - the two transitions and where the second is written, each by name
    playbook: Playbook, trigger: str, source: str, earlier: int, index: int, path: Path
) -> Finding:
    guarded = playbook.transitions[earlier].when is not None or playbook.transitions[index].when is not None
    why = (
        "; both can hold for one incident, so guard them on facts that exclude each other (different severities or "
        "channels, a known or an unknown customer)"
        if guarded
        else "; an action must lead to one state only (or give each a 'when' on facts that exclude each other)"
    )
    return Finding(
        rules.DUPLICATE_TRANSITION,
        path,
        f"the action {trigger!r} from {source!r} is already defined by transitions[{earlier}]{why}",
    )


def check_targets_end(ctx: Context) -> Iterator[Finding]:
    """A target's clock starts when an incident enters its ``from`` state and stops in one of its ``until``
    states: if no path of transitions leads there, it breaches (and pages) on every incident, whatever the team
    does."""
    playbook = ctx.playbook
    edges = edges_of(playbook)
    for name, target in playbook.targets.items():
        until = target.until_states
        if target.per_follow_up or not until or target.until_reply:
            continue  # it starts on a follow-up, or a reply ends it: check_reply_possible looks at that
        if target.start not in playbook.states or not all(state in playbook.states for state in until):
            continue  # an undefined state, reported on its own
        reached = _reach(edges.get(target.start, ()), edges)
        if not reached & set(until):
            ends = ", ".join(repr(state) for state in target.until)
            yield Finding(
                rules.TARGET_NEVER_ENDS,
                ("targets", name, "until"),
                f"targets.{name} runs from {target.start!r} until {ends}, but no path of transitions leads from "
                f"{target.start!r} to {'it' if len(target.until) == 1 else 'any of them'}, so it would breach on "
                "every incident; add the states it should stop in, or a transition that reaches one",
            )


def check_side_paths(ctx: Context) -> Iterator[Finding]:
    """A side path (``stops_on``) is where a target no longer applies: it cannot also be where the target starts
    or where it is met."""
    for name, target in ctx.playbook.targets.items():
        if not target.stops_on:
            continue
        for path, state in listed(ctx.data, ("targets", name, "stops_on")):
            if state == target.start:
                clash = "its from, where the clock starts"
            elif state in target.until:
                clash = "one of its until states, where the target is met"
            else:
                continue
            yield Finding(
                rules.SIDE_PATH_CONFLICT,
                path,
                f"targets.{name}.stops_on lists {state!r}, which is also {clash}; a state is either where the target "
                "is met or a side path where it no longer applies: remove it from one of them",
            )


def check_targets_stranded(ctx: Context) -> Iterator[Finding]:
    """A target keeps running in every state on its way until it is met, stopped on a side path or the incident
    closes. A state on the way from which no path leads to its until states strands it: every incident that goes
    there breaches the target and pages people for a promise nobody can keep any more (a threat referred to the
    police is not a missed first response)."""
    playbook = ctx.playbook
    edges = edges_of(playbook)
    for name, target in playbook.targets.items():
        if target.per_follow_up or target.until_reply:
            continue  # a reply can meet it wherever the team can reply
        ends = set(target.until) | set(target.stops_on)
        if target.start not in playbook.states or not ends <= set(playbook.states):
            continue  # an undefined state, reported on its own
        open_edges = {state: set() if state in ends else following for state, following in edges.items()}
        on_the_way = _reach([target.start], open_edges) - ends - playbook.final_states
        if not _reach(edges.get(target.start, ()), edges) & set(target.until):
            continue  # never met at all: target-never-ends says so
        for state in sorted(on_the_way, key=list(playbook.states).index):
            if not _reach(open_edges.get(state, ()), open_edges) & set(target.until):
                yield Finding(
                    rules.TARGET_STRANDED,
                    ("targets", name, "until"),
                    f"targets.{name} keeps running in {state!r}, but no path leads from there to "
                    f"{' or '.join(repr(end) for end in target.until)}, so every incident that goes there breaches "
                    f"it; if the target no longer applies there, add stops_on: [{state}]",
                )


def check_reply_possible(ctx: Context) -> Iterator[Finding]:
    """A target ``until: reply`` is met by an action with a public reply or a private contact route: some
    transition must ask for one, or the target could only ever breach."""
    playbook = ctx.playbook
    replying = {Requirement.PUBLIC_REPLY, Requirement.CONTACT_ROUTE}
    if any(transition.requires & replying for transition in playbook.transitions):
        return
    for name, target in playbook.targets.items():
        if target.until_reply:
            yield Finding(
                rules.REPLY_NEVER_GIVEN,
                ("targets", name, "until"),
                f"targets.{name} runs until the team's reply, but no transition requires a public_reply or a "
                "contact_route, so nothing could ever meet it; add one to the action that answers the customer",
            )


def check_follow_ups(ctx: Context) -> Iterator[Finding]:
    """``reopen_on_follow_up`` moves an open incident when the customer writes again: a closed incident takes no
    follow-ups (its author's next post opens a new one), and an open one cannot be moved into a closed state."""
    states = ctx.playbook.states
    for name, state in states.items():
        target = state.reopen_on_follow_up
        if target is None or target not in states:
            continue
        if state.final:
            why = f"{name!r} is final, so a follow-up never joins an incident there (it opens a new one)"
        elif states[target].final:
            why = f"{target!r} is final, and a follow-up cannot close an incident"
        else:
            continue
        yield Finding(
            rules.FOLLOW_UP_REOPEN_INVALID,
            ("states", name, "reopen_on_follow_up"),
            f"states.{name}.reopen_on_follow_up: {why}; name an open state, or remove it",
        )


def check_mutes(ctx: Context) -> Iterator[Finding]:
    """Muting an author records their next posts on the closed incident: an action that leaves the incident open
    would have them join it anyway, and a mute there would mean nothing."""
    states = ctx.playbook.states
    for index, transition in enumerate(ctx.playbook.transitions):
        if transition.mutes_author is None or transition.dest not in states or states[transition.dest].final:
            continue
        yield Finding(
            rules.MUTE_ON_OPEN_STATE,
            ("transitions", index, "mutes_author"),
            f"transitions[{index}] ({transition.trigger!r}) mutes the author, but leads to {transition.dest!r}, "
            "which is open: the author's next posts join the open incident anyway; mute on the action that closes "
            "it (do_not_engage into not_engaged), or remove mutes_author",
            at_key=True,
        )
