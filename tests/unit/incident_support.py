"""Shared helpers for the incident core's unit tests: rulebooks from shipped and fixture playbooks, mentions, actors.

Not a test module (pytest collects ``test_*.py`` only); the incident test modules import it by name.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engine.files import load_file
from engine.incident import (
    Act,
    Actor,
    ArmDeadline,
    Audit,
    CancelDeadline,
    Effect,
    Incident,
    Mention,
    Notify,
    Refused,
    Rulebook,
    Stepped,
    deadline_key,
    open_incident,
    parse_mention,
    step,
)

ROOT = Path(__file__).parents[2]
SHIPPED = ROOT / "playbooks"
FIXTURES = ROOT / "tests" / "fixtures" / "incident"
SHIPPED_NAMES = tuple(sorted(path.stem for path in SHIPPED.glob("*.yaml")))

#: Monday 5 January 2026, 09:00 in London (GMT, so also 09:00 UTC): an ordinary working morning.
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@functools.cache
def book(name: str) -> Rulebook:
    """The rulebook of a shipped playbook (``customer-complaint``) or a fixture (``clock-rules``)."""
    path = SHIPPED / f"{name}.yaml"
    if not path.exists():
        path = FIXTURES / f"{name}.good.yaml"
    result = load_file(path)
    assert result.playbook is not None, result.problems
    return Rulebook(result.playbook)


def mention(
    text: str = "My order arrived late.",
    *,
    channel: str = "twitter",
    external_id: str = "m-1",
    posted_at: datetime = T0,
    handle: str = "ann",
    followers: int = 0,
    thread_id: str | None = None,
    likes: int = 0,
    shares: int = 0,
    replies: int = 0,
    customer_id: str | None = None,
    customer_segment: str | None = None,
) -> Mention:
    """A mention as a listening tool would send it, parsed the way intake parses it."""
    data: dict[str, Any] = {
        "channel": channel,
        "external_id": external_id,
        "text": text,
        "posted_at": posted_at.isoformat(),
        "author": {"handle": handle, "followers": followers},
        "engagement": {"likes": likes, "shares": shares, "replies": replies},
    }
    if thread_id is not None:
        data["thread_id"] = thread_id
    if customer_id is not None:
        data["customer_id"] = customer_id
    if customer_segment is not None:
        data["customer_segment"] = customer_segment
    parsed = parse_mention(data)
    assert isinstance(parsed, Mention), parsed
    return parsed


def actor(*roles: str, person: str = "pat") -> Actor:
    return Actor(person, frozenset(roles))


def opened(name: str = "customer-complaint", at: datetime = T0, incident_id: str = "inc-1", **kwargs: Any) -> Stepped:
    """An incident opened at ``at`` under a playbook, for a mention made with :func:`mention`'s arguments."""
    kwargs.setdefault("posted_at", at)
    return open_incident(incident_id, mention(**kwargs), book(name), at)


def accepted(outcome: Stepped | Refused) -> Stepped:
    assert isinstance(outcome, Stepped), outcome
    return outcome


def act(
    incident: Incident,
    trigger: str,
    roles: Iterable[str],
    at: datetime,
    name: str = "customer-complaint",
    **fields: Any,
) -> Stepped | Refused:
    return step(incident, Act(trigger, actor(*roles), fields), at, book(name))


def public_reply(incident: Incident, text: str = "Hi, we're sorry. We're looking into it now.") -> Mapping[str, str]:
    return {"channel": incident.channel, "text": text}


def of_type(effects: Iterable[Effect], kind: type[Any]) -> list[Any]:
    return [effect for effect in effects if isinstance(effect, kind)]


def arms(effects: Iterable[Effect]) -> dict[str, ArmDeadline]:
    """Armed deadlines by clock name."""
    return {effect.clock: effect for effect in effects if isinstance(effect, ArmDeadline)}


def cancels(effects: Iterable[Effect]) -> dict[str, CancelDeadline]:
    return {effect.clock: effect for effect in effects if isinstance(effect, CancelDeadline)}


def notices(effects: Iterable[Effect]) -> list[Notify]:
    return of_type(effects, Notify)


def audits(effects: Iterable[Effect], kind: str | None = None) -> list[Audit]:
    return [effect for effect in of_type(effects, Audit) if kind is None or effect.kind == kind]


def armed_key(incident: Incident, clock: str) -> str:
    """The key of the deadline a running clock has armed."""
    running = incident.clock(clock)
    assert running is not None, f"{clock} is not running: {[item.name for item in incident.clocks]}"
    assert running.next is not None
    return deadline_key(incident.id, running, running.next)


def armed_keys(incident: Incident) -> set[str]:
    """What the scheduler should hold for this incident: one key per running clock with something ahead."""
    return {deadline_key(incident.id, clock, clock.next) for clock in incident.clocks if clock.next is not None}


REVIEW_ANSWERS: Mapping[str, Any] = {"yes_no": "no", "text": "We could have answered sooner.", "number": 12}


def review_answers(name: str) -> dict[str, Any]:
    """A complete, valid set of answers to a playbook's review questions."""
    answers: dict[str, Any] = {}
    for question in book(name).playbook.review_questions:
        kind = question.answer.value
        answers[question.id] = question.choices[0] if kind == "choice" else REVIEW_ANSWERS[kind]
    return answers
