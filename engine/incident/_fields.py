"""What a person must provide to take an action, checked against the playbook's rules.

A public reply goes out on the incident's own channel and keeps the house rules; an offer names what is offered
(a kind from the offers catalogue, within the actor's cap, when the playbook has one) and a private route (``direct``
only to a known customer); a contact puts a real person behind it; a review answers every question; a do-not-engage
reason is one the house rules allow, and one the person's roles may give.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.incident._offers import check_contact, check_offer
from engine.incident._record import Actor, Incident, RefusalReason, Refused
from engine.incident._rulebook import ALWAYS_ALLOWED, Rulebook
from engine.playbook import AnswerKind, Requirement, Transition, canonical_channel

__all__ = ["CONTACT_ROUTES", "DIRECT", "check_fields", "check_public_reply", "contact_routes"]

#: Where a conversation moves when it leaves the public channel. ``direct`` ("if you know the customer, contact
#: them directly") is taken only when the incident's customer is known.
CONTACT_ROUTES = ("dm", "phone", "email", "direct")
DIRECT = "direct"

_Check = Callable[[Any, Incident, Rulebook, Actor], "Any | Refused"]


def contact_routes(incident: Incident) -> tuple[str, ...]:
    """The routes an offer on ``incident`` may move to: every one, but ``direct`` only to a known customer."""
    if incident.customer_id is not None:
        return CONTACT_ROUTES
    return tuple(route for route in CONTACT_ROUTES if route != DIRECT)


def _invalid(
    field: str, message: str, reason: RefusalReason = RefusalReason.INVALID_FIELD, phrase: str | None = None
) -> Refused:
    return Refused(reason, message, field, phrase)


def _text(field: str, what: str) -> _Check:
    def check(value: Any, incident: Incident, book: Rulebook, actor: Actor) -> Any:
        if not isinstance(value, str) or not value.strip():
            return _invalid(field, f"{field} must say {what}")
        return value.strip()

    return check


def _severity(value: Any, incident: Incident, book: Rulebook, actor: Actor) -> Any:
    levels = book.playbook.severity.levels
    if value not in levels:
        return _invalid("severity", f"severity must be one of {', '.join(levels)}, not {value!r}")
    return value


def check_public_reply(value: Any, incident: Incident, book: Rulebook, actor: Actor | None = None) -> Any:
    """The reply as it goes out (``{channel, text}``, the text stripped), or the rule it breaks."""
    if not isinstance(value, Mapping) or not isinstance(value.get("text"), str) or not value["text"].strip():
        return _invalid("public_reply", "public_reply needs the 'text' of the reply and the 'channel' it goes out on")
    channel = value.get("channel")
    if channel is None:
        return _invalid(
            "public_reply",
            f"public_reply needs the 'channel' it goes out on: {incident.channel}, where the complaint appeared",
            RefusalReason.WRONG_CHANNEL,
        )
    if isinstance(channel, str):
        channel = canonical_channel(channel)  # a reply on x goes out where a complaint on twitter appeared
    if channel != incident.channel:
        return _invalid(
            "public_reply",
            f"the public reply goes out on {channel!r}, but the complaint appeared on {incident.channel}; "
            "acknowledge where the customer posted",
            RefusalReason.WRONG_CHANNEL,
        )
    phrase = book.never_say.find(value["text"])
    if phrase is not None:
        return _invalid(
            "public_reply",
            f"the reply says {phrase!r}, which the house rules forbid; never defend or lash out: rephrase it",
            RefusalReason.HOUSE_RULE,
            phrase,
        )
    return {"channel": channel, "text": value["text"].strip()}


def _contact_route(value: Any, incident: Incident, book: Rulebook, actor: Actor) -> Any:
    if value not in CONTACT_ROUTES:
        return _invalid("contact_route", f"contact_route must be one of {', '.join(CONTACT_ROUTES)}, not {value!r}")
    if value == DIRECT and incident.customer_id is None:
        return _invalid(
            "contact_route",
            "contact_route direct contacts the customer directly, but this incident's customer is not known; use "
            "dm, phone or email, or record the customer first (a mention that carries their customer_id)",
            RefusalReason.CUSTOMER_UNKNOWN,
        )
    return value


def _reason(value: Any, incident: Incident, book: Rulebook, actor: Actor) -> Any:
    house = book.playbook.house_rules
    reasons = house.do_not_engage_reasons
    if value not in reasons:
        return _invalid("reason", f"reason must be one of the house rules' {', '.join(reasons)}, not {value!r}")
    if not house.may_give(value, actor.roles):
        mine = [reason for reason in reasons if house.may_give(reason, actor.roles)]
        yours = f"; {actor.person} may give {', '.join(mine)}" if mine else ""
        return _invalid(
            "reason",
            f"the reason {value!r} is for {', '.join(house.reason_roles[value])} to give; {actor.person} has "
            f"{actor.roles_in_words}{yours}",
            RefusalReason.ROLE_NOT_ALLOWED,
            value,
        )
    return value


def _answer(kind: AnswerKind, choices: tuple[str, ...], value: Any) -> bool:
    if kind is AnswerKind.YES_NO:
        return isinstance(value, bool) or value in ("yes", "no")
    if kind is AnswerKind.NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is AnswerKind.CHOICE:
        return value in choices
    return isinstance(value, str) and bool(value.strip())


def _review(value: Any, incident: Incident, book: Rulebook, actor: Actor) -> Any:
    questions = book.playbook.review_questions
    if not isinstance(value, Mapping):
        ids = ", ".join(question.id for question in questions)
        return _invalid("review", f"review must answer each question by its id: {ids}")
    unknown = sorted(set(value) - {question.id for question in questions})
    if unknown:
        return _invalid("review", f"review answers questions the playbook does not ask: {', '.join(unknown)}")
    for question in questions:
        if question.id not in value:
            return _invalid("review", f"review leaves {question.id!r} unanswered ({question.ask})")
        if not _answer(question.answer, question.choices, value[question.id]):
            expected = {
                AnswerKind.YES_NO: "yes or no",
                AnswerKind.NUMBER: "a number",
                AnswerKind.TEXT: "some text",
                AnswerKind.CHOICE: "one of " + ", ".join(question.choices),
            }[question.answer]
            return _invalid("review", f"review: {question.id!r} ({question.ask}) needs {expected}")
    return dict(value)


_FREE_OFFER = _text("offer", "what is offered (a refund, a replacement, a call back ...)")


def _offer(value: Any, incident: Incident, book: Rulebook, actor: Actor) -> Any:
    """Free text, or with an offers catalogue a kind from it within the actor's cap (see :mod:`._offers`)."""
    if not book.offer_kinds:
        return _FREE_OFFER(value, incident, book, actor)
    return check_offer(value, book, actor)


def _merged_into(value: Any, incident: Incident, book: Rulebook, actor: Actor) -> Any:
    if not isinstance(value, str) or not value.strip():
        return _invalid("merged_into", "merged_into must name the incident this one joins")
    if value == incident.id:
        return _invalid("merged_into", "an incident cannot be merged into itself")
    return value


_CHECKS: dict[Requirement, _Check] = {
    Requirement.SEVERITY: _severity,
    Requirement.PUBLIC_REPLY: check_public_reply,
    Requirement.OFFER: _offer,
    Requirement.CONTACT_ROUTE: _contact_route,
    Requirement.OUTCOME: _text("outcome", "what was done to resolve the case"),
    Requirement.REVIEW: _review,
    Requirement.REASON: _reason,
    Requirement.NOTE: _text("note", "something"),
    Requirement.MERGED_INTO: _merged_into,
    Requirement.CONTACT: check_contact,
}


def check_fields(
    transition: Transition, fields: Mapping[str, Any], incident: Incident, book: Rulebook, actor: Actor
) -> dict[str, Any] | Refused:
    """The accepted fields, cleaned, or the first rule they break."""
    allowed, checked = book.fields_of(transition)
    if not allowed.issuperset(fields):
        unexpected = sorted(set(fields) - allowed)
        wanted = ", ".join(sorted(allowed - ALWAYS_ALLOWED)) or "nothing"
        return _invalid(
            unexpected[0],
            f"{transition.trigger!r} does not take {', '.join(unexpected)} (it asks for {wanted})",
            RefusalReason.UNEXPECTED_FIELD,
        )
    accepted: dict[str, Any] = {}
    for requirement, name, required in checked:
        if name not in fields:
            if required:
                return _invalid(name, f"{transition.trigger!r} requires {name}", RefusalReason.MISSING_FIELD)
            continue
        result = _CHECKS[requirement](fields[name], incident, book, actor)
        if isinstance(result, Refused):
            return result
        accepted[name] = result
    return accepted
