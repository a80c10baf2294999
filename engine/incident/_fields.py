"""What a person must provide to take an action, checked against the playbook's rules.

A public reply goes out on the incident's own channel and keeps the house rules; an offer names what is offered
and a private route; a review answers every question; a do-not-engage reason is one the house rules allow.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from engine.incident._record import Incident, RefusalReason, Refused
from engine.incident._rulebook import ALWAYS_ALLOWED, Rulebook
from engine.playbook import AnswerKind, Requirement, Transition, canonical_channel

__all__ = ["CONTACT_ROUTES", "check_fields", "check_public_reply"]

#: Where a conversation moves when it leaves the public channel.
CONTACT_ROUTES = ("dm", "phone", "email", "direct")

_Check = Callable[[Any, Incident, Rulebook], "Any | Refused"]


def _invalid(field: str, message: str, reason: RefusalReason = RefusalReason.INVALID_FIELD) -> Refused:
    return Refused(reason, message, field)


def _text(field: str, what: str) -> _Check:
    def check(value: Any, incident: Incident, book: Rulebook) -> Any:
        if not isinstance(value, str) or not value.strip():
            return _invalid(field, f"{field} must say {what}")
        return value.strip()

    return check


def _severity(value: Any, incident: Incident, book: Rulebook) -> Any:
    levels = book.playbook.severity.levels
    if value not in levels:
        return _invalid("severity", f"severity must be one of {', '.join(levels)}, not {value!r}")
    return value


def check_public_reply(value: Any, incident: Incident, book: Rulebook) -> Any:
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
        )
    return {"channel": channel, "text": value["text"].strip()}


def _contact_route(value: Any, incident: Incident, book: Rulebook) -> Any:
    if value not in CONTACT_ROUTES:
        return _invalid("contact_route", f"contact_route must be one of {', '.join(CONTACT_ROUTES)}, not {value!r}")
    return value


def _reason(value: Any, incident: Incident, book: Rulebook) -> Any:
    reasons = book.playbook.house_rules.do_not_engage_reasons
    if value not in reasons:
        return _invalid("reason", f"reason must be one of the house rules' {', '.join(reasons)}, not {value!r}")
    return value


def _answer(kind: AnswerKind, choices: tuple[str, ...], value: Any) -> bool:
    if kind is AnswerKind.YES_NO:
        return isinstance(value, bool) or value in ("yes", "no")
    if kind is AnswerKind.NUMBER:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is AnswerKind.CHOICE:
        return value in choices
    return isinstance(value, str) and bool(value.strip())


def _review(value: Any, incident: Incident, book: Rulebook) -> Any:
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


def _merged_into(value: Any, incident: Incident, book: Rulebook) -> Any:
    if not isinstance(value, str) or not value.strip():
        return _invalid("merged_into", "merged_into must name the incident this one joins")
    if value == incident.id:
        return _invalid("merged_into", "an incident cannot be merged into itself")
    return value


_CHECKS: dict[Requirement, _Check] = {
    Requirement.SEVERITY: _severity,
    Requirement.PUBLIC_REPLY: check_public_reply,
    Requirement.OFFER: _text("offer", "what is offered (a refund, a replacement, a call back ...)"),
    Requirement.CONTACT_ROUTE: _contact_route,
    Requirement.OUTCOME: _text("outcome", "what was done to resolve the case"),
    Requirement.REVIEW: _review,
    Requirement.REASON: _reason,
    Requirement.NOTE: _text("note", "something"),
    Requirement.MERGED_INTO: _merged_into,
}


def check_fields(
    transition: Transition, fields: Mapping[str, Any], incident: Incident, book: Rulebook
) -> dict[str, Any] | Refused:
    """The accepted fields, cleaned, or the first rule they break."""
    allowed, checked = book.fields_of(transition.trigger, transition.sources[0])
    if not allowed.issuperset(fields):
        unexpected = sorted(set(fields) - allowed)
        wanted = ", ".join(sorted(allowed - ALWAYS_ALLOWED)) or "nothing"
        return _invalid(
            unexpected[0],
            f"{transition.trigger!r} does not take {', '.join(unexpected)} (it asks for {wanted})",
            RefusalReason.UNEXPECTED_FIELD,
        )
    accepted: dict[str, Any] = {}
    for requirement, required in checked:
        name = requirement.value
        if name not in fields:
            if required:
                return _invalid(name, f"{transition.trigger!r} requires {name}", RefusalReason.MISSING_FIELD)
            continue
        result = _CHECKS[requirement](fields[name], incident, book)
        if isinstance(result, Refused):
            return result
        accepted[name] = result
    return accepted
