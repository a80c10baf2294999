"""Properties of ``step`` over random command sequences, against every shipped playbook (and the clock fixture).

Each example opens an incident and drives it the way the daemon would: people act (with the right or wrong roles,
good, bad or missing fields, from any state), the scheduler delivers armed deadlines (on time, late, or twice) and
other mentions join. After every command the invariants below must hold; at the end the whole sequence is replayed
to check that the same inputs give the same outputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from incident_support import SHIPPED_NAMES, T0, actor, armed_keys, book, mention, review_answers

from engine.incident import (
    Act,
    ArmDeadline,
    CancelDeadline,
    Command,
    DeadlineReached,
    Incident,
    JoinMention,
    Refused,
    Rulebook,
    Stepped,
    contact_routes,
    deadline_key,
    open_incident,
    step,
)
from engine.playbook import Requirement, Transition

PLAYBOOKS = (*SHIPPED_NAMES, "clock-rules")
SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _words(rulebook: Rulebook) -> list[str]:
    """Texts that match the playbook's own rules, so joins and openings hit every severity level."""
    playbook = rulebook.playbook
    found = ["Still waiting for an answer.", "ok"]
    when = playbook.applies_to.when
    if when is not None:
        found += list(when.keywords_any[:3])
    for rule in playbook.severity.rules:
        found += list(rule.when.keywords_any[:2])
    return found


def _good(requirement: Requirement, incident: Incident, name: str, draw: Any) -> Any:
    playbook = book(name).playbook
    makers: dict[Requirement, Callable[[], Any]] = {
        Requirement.SEVERITY: lambda: draw(st.sampled_from(playbook.severity.levels)),
        Requirement.PUBLIC_REPLY: lambda: {"channel": incident.channel, "text": "Hi, we're sorry. We're on it."},
        # Under a catalogue, a voucher within every role's cap; otherwise words.
        Requirement.OFFER: lambda: {"kind": "voucher", "amount": 10} if book(name).offer_kinds else "a refund",
        Requirement.CONTACT_ROUTE: lambda: draw(st.sampled_from(contact_routes(incident))),
        Requirement.OUTCOME: lambda: "refunded in full",
        Requirement.REVIEW: lambda: review_answers(name),
        Requirement.REASON: lambda: draw(st.sampled_from(playbook.house_rules.do_not_engage_reasons)),
        Requirement.NOTE: lambda: "screenshots in the case file",
        Requirement.MERGED_INTO: lambda: "inc-lead",
        Requirement.CONTACT: lambda: "+44 20 7946 0000",
    }
    return makers[requirement]()


def _bad(requirement: Requirement, incident: Incident, name: str) -> Any:
    playbook = book(name).playbook
    never = playbook.house_rules.never_say[0] if playbook.house_rules.never_say else "x"
    return {
        Requirement.SEVERITY: "apocalyptic",
        Requirement.PUBLIC_REPLY: {"channel": incident.channel, "text": f"Please, {never}."}
        if playbook.house_rules.never_say
        else {"channel": "elsewhere", "text": "Sorry"},
        Requirement.OFFER: "  ",
        Requirement.CONTACT_ROUTE: "public",
        Requirement.OUTCOME: "",
        Requirement.REVIEW: {},
        Requirement.REASON: "we did not feel like it",
        Requirement.NOTE: "",
        Requirement.MERGED_INTO: incident.id,
        Requirement.CONTACT: "noreply@example.com",
    }[requirement]


@dataclass
class Run:
    """One driven incident: what was asked, and what came back."""

    name: str
    opened_at: datetime
    text: str
    followers: int
    commands: list[tuple[Command, datetime]] = field(default_factory=list)
    outcomes: list[Stepped | Refused] = field(default_factory=list)


def _open(run: Run) -> Stepped:
    first = mention(run.text, followers=run.followers, posted_at=run.opened_at, handle="ann", thread_id="t-1")
    return open_incident("inc-1", first, book(run.name), run.opened_at)


def _draw_act(data: Any, incident: Incident, name: str) -> Act:
    rulebook = book(name)
    playbook = rulebook.playbook
    available = [t for t in playbook.transitions if incident.state in t.sources]
    onward = [t for t in available if not rulebook.is_final(t.dest)]  # so that sequences get deep into the lifecycle
    pick = data.draw(st.integers(0, 9), label="kind of act")
    transition: Transition | None
    if onward and pick < 6:
        transition = data.draw(st.sampled_from(onward), label="onward transition")
        trigger = transition.trigger
    elif available and pick < 7:
        transition = data.draw(st.sampled_from(available), label="available transition")
        trigger = transition.trigger
    elif pick < 9:
        transition = data.draw(st.sampled_from(playbook.transitions), label="any transition")
        trigger = transition.trigger
    else:
        transition, trigger = None, "escalate_to_the_moon"
    if transition is not None and data.draw(st.integers(0, 4), label="right role") > 0:
        roles = {data.draw(st.sampled_from(transition.by), label="role")}
    else:
        roles = set(data.draw(st.lists(st.sampled_from([*playbook.roles, "intern"]), max_size=3), label="roles"))
    fields: dict[str, Any] = {}
    for requirement in sorted(transition.requires if transition else (), key=lambda item: item.value):
        quality = data.draw(st.integers(0, 9), label=f"{requirement} quality")
        if quality < 7:
            fields[requirement.value] = _good(requirement, incident, name, lambda s: data.draw(s, label="value"))
        elif quality < 9:
            fields[requirement.value] = _bad(requirement, incident, name)
    if data.draw(st.integers(0, 9), label="note") == 0:
        fields["note"] = "by the way"
    if data.draw(st.integers(0, 19), label="unexpected") == 0:
        fields["colour"] = "red"
    expected = None
    if data.draw(st.integers(0, 9), label="revision") == 0:
        expected = data.draw(st.integers(0, incident.revision + 1), label="expected revision")
    return Act(trigger, actor(*roles), fields, expected)


def _draw_command(data: Any, incident: Incident, now: datetime, run: Run, stale: list[str]) -> tuple[Command, datetime]:
    kind = data.draw(st.sampled_from(["act", "act", "act", "deadline", "deadline", "join", "stale"]), label="command")
    armed = sorted(
        (clock.next.at, deadline_key(incident.id, clock, clock.next))
        for clock in incident.clocks
        if clock.next is not None
    )
    if kind == "deadline" and armed:
        at, key = data.draw(st.sampled_from(armed), label="armed deadline")
        late = data.draw(st.sampled_from([0, 0, 1, 45, 600, 3 * 24 * 60]), label="minutes late")
        return DeadlineReached(key), max(now, at + timedelta(minutes=late))
    later = now + timedelta(minutes=data.draw(st.sampled_from([0, 1, 10, 90, 600, 2000]), label="minutes"))
    if kind == "stale" and stale:
        return DeadlineReached(data.draw(st.sampled_from(stale), label="stale key")), later
    if kind == "join":
        text = data.draw(st.sampled_from(_words(book(run.name))), label="join text")
        number = data.draw(st.integers(1, 6), label="external id")
        joining = mention(
            text,
            external_id=f"m-{number}",
            posted_at=later,
            handle=data.draw(st.sampled_from(["ann", "bob"]), label="author"),
            thread_id=data.draw(st.sampled_from([None, "t-1", "t-2"]), label="thread"),
            followers=data.draw(st.sampled_from([0, 60_000]), label="join followers"),
        )
        return JoinMention(joining), later
    if incident.open_promises and data.draw(st.integers(0, 3), label="deliver") == 0:
        promise = data.draw(st.sampled_from([*incident.promises, None]), label="promise")
        fields = {"note": "done"} if promise is None else {"promise": promise.id, "note": "done"}
        roles = data.draw(st.sampled_from([*book(run.name).playbook.roles, "intern"]), label="deliverer")
        return Act("deliver", actor(roles), fields), later
    return _draw_act(data, incident, run.name), later


def _check(rulebook: Rulebook, before: Incident, snapshot: str, outcome: Stepped | Refused, command: Command) -> None:
    """The invariants of one step."""
    playbook = rulebook.playbook
    assert repr(before) == snapshot, "step changed the incident it was given"
    if isinstance(outcome, Refused):
        assert outcome.message
        return
    after = outcome.incident
    event(f"reached {after.state}")  # see: pytest --hypothesis-show-statistics
    assert after.state in playbook.states
    assert after.severity in playbook.severity.levels
    assert after.revision >= before.revision
    assert after.id == before.id
    assert (after.playbook, after.playbook_version, after.playbook_digest) == (
        before.playbook,
        before.playbook_version,
        before.playbook_digest,
    )
    if rulebook.is_final(before.state):
        assert after == before, "a closed incident changed"
        assert outcome.effects == ()
    if rulebook.is_final(after.state):
        assert after.clocks == ()
        assert not [effect for effect in outcome.effects if isinstance(effect, ArmDeadline)], outcome.effects
    if isinstance(command, Act):
        assert after.revision == before.revision + 1


def _check_redelivery(
    rulebook: Rulebook, incident: Incident, command: DeadlineReached, now: datetime, pending: set[str]
) -> None:
    """A deadline delivered twice changes nothing twice.

    A key still armed but not yet due (delivered early, or cancelled and re-armed at another time with the same
    key after a severity change) is only armed again as it is; anything else is a pure no-op.
    """
    again = step(incident, command, now, rulebook)
    assert isinstance(again, Stepped)
    assert again.incident == incident, "a deadline delivered twice changed the incident twice"
    if command.key not in pending:
        assert again.effects == (), "a deadline delivered twice had effects twice"
        return
    clock = next(clock for clock in incident.clocks if clock.next and clock.name == command.key.split("/")[1])
    assert clock.next is not None
    assert clock.next.at > now
    assert again.effects == (ArmDeadline(command.key, clock.next.at, clock.name),)


def _drive(data: Any, run: Run) -> Incident:
    rulebook = book(run.name)
    start = _open(run)
    incident = start.incident
    assert incident.state == "detected"
    pending = armed_keys(incident)
    assert pending == {effect.key for effect in start.effects if isinstance(effect, ArmDeadline)}
    stale: list[str] = []
    now = run.opened_at
    for _ in range(data.draw(st.integers(1, 40), label="length")):
        command, now = _draw_command(data, incident, now, run, stale)
        snapshot = repr(incident)
        outcome = step(incident, command, now, rulebook)
        run.commands.append((command, now))
        run.outcomes.append(outcome)
        _check(rulebook, incident, snapshot, outcome, command)
        if isinstance(outcome, Refused):
            continue
        # The scheduler's view: a delivered deadline is no longer pending; then the effects, in order.
        if isinstance(command, DeadlineReached):
            pending.discard(command.key)
        for effect in outcome.effects:
            if isinstance(effect, ArmDeadline):
                pending.add(effect.key)
            elif isinstance(effect, CancelDeadline):
                assert effect.key in pending, f"cancelled {effect.key}, which was never armed"
                pending.discard(effect.key)
                stale.append(effect.key)
        incident = outcome.incident
        assert pending == armed_keys(incident), "the armed deadlines and the running clocks disagree"
        if isinstance(command, DeadlineReached):
            stale.append(command.key)
            _check_redelivery(rulebook, incident, command, now, pending)
    return incident


@pytest.mark.parametrize("name", PLAYBOOKS)
@SETTINGS
@given(data=st.data())
def test_random_command_sequences_keep_every_invariant_and_replay_identically(name: str, data: Any) -> None:
    rulebook = book(name)
    run = Run(
        name=name,
        opened_at=T0 + timedelta(minutes=data.draw(st.integers(0, 14 * 24 * 60), label="opened after")),
        text=data.draw(st.sampled_from(_words(rulebook)), label="opening text"),
        followers=data.draw(st.sampled_from([0, 9_999, 10_000, 60_000]), label="followers"),
    )

    _drive(data, run)

    # Determinism: the same commands at the same times give the same results, from a fresh opening.
    replay = _open(run).incident
    for (command, at), expected in zip(run.commands, run.outcomes, strict=True):
        again = step(replay, command, at, rulebook)
        assert again == expected
        if isinstance(again, Stepped):
            replay = again.incident


@pytest.mark.parametrize("name", PLAYBOOKS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_final_state_is_never_left_whatever_comes_next(name: str, data: Any) -> None:
    rulebook = book(name)
    playbook = rulebook.playbook
    run = Run(name, T0, _words(rulebook)[0], 0)
    incident = _open(run).incident
    # Walk straight to a final state along accepted actions, then throw random commands at it.
    now = T0
    for _ in range(12):
        if rulebook.is_final(incident.state):
            break
        ways = sorted(
            (t for t in playbook.transitions if incident.state in t.sources and rulebook.allows(t, incident)),
            key=lambda t: (not rulebook.is_final(t.dest), t.trigger),
        )
        transition = ways[0]
        fields = {r.value: _good(r, incident, name, lambda s: data.draw(s, label="value")) for r in transition.requires}
        now += timedelta(minutes=5)
        # Everyone the transition names: a reason one of its roles may not give is still one another may.
        outcome = step(incident, Act(transition.trigger, actor(*transition.by), fields), now, rulebook)
        assert isinstance(outcome, Stepped), outcome
        incident = outcome.incident
    assert rulebook.is_final(incident.state)
    closed = incident
    for _ in range(data.draw(st.integers(1, 10), label="how many")):
        command, now = _draw_command(data, closed, now, run, ["inc-1/limit:detected/0/0/0"])
        outcome = step(closed, command, now, rulebook)
        if isinstance(outcome, Stepped):
            assert outcome == Stepped(closed, ())
        assert closed.state == incident.state
