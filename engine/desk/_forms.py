"""Action forms built from the playbook: one per action the person's roles allow now, its controls from what the
action requires; and a posted form read back into the fields the service checks.

No rule is decided here: which actions are open (their guards met), which reasons each role may give and which
contact routes the incident allows come from the service's incident details, and whether the fields are right is
the service's answer. The form only offers those choices (severity levels, contact routes, do-not-engage reasons,
review answers) so a person picks rather than types them, and never one the service would refuse them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.incident import CONTACT_ROUTES, DraftStage, Incident, fill_reply
from engine.playbook import AnswerKind, Playbook
from engine.service import Person

__all__ = ["ActionForm", "Control", "action_forms", "assignees", "fields_from_form", "fill_reply"]

_LABELS = {
    "severity": "Severity",
    "public_reply": "Public reply",
    "offer": "What is offered (a refund, a replacement, a call back…)",
    "contact_route": "Private route to continue",
    "outcome": "What was done to resolve it",
    "reason": "Why not engage",
    "note": "Internal note (never public)",
    "merged_into": "Incident it duplicates (its id)",
    "contact": "Who the customer can reach (a phone number, an email a person reads, or your name)",
    "promise": "Which promise was kept",
    "offer.kind": "What is offered",
    "offer.amount": "Amount",
    "offer.note": "Details of the offer",
}


@dataclass(frozen=True, slots=True)
class Control:
    """One labelled control of a form: a ``select`` of ``choices``, a ``textarea`` or a ``text`` input."""

    name: str
    label: str
    kind: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ActionForm:
    """The form of one action: its trigger, the state it leads to, its controls, and for a public reply the
    channel it goes out on and the playbook's approved replies, placeholders filled in.

    For an action that needs approval and has no approved draft yet, the form submits a draft (``drafting``): it
    posts nothing, so it asks for no confirmation; ``approvers`` are the roles it goes to."""

    trigger: str
    to: str
    controls: tuple[Control, ...]
    reply_channel: str | None = None
    approved: tuple[str, ...] = ()
    drafting: bool = False
    approvers: tuple[str, ...] = ()

    @property
    def path(self) -> str:
        """Where the form posts, after ``/incidents/{id}/actions/``."""
        return f"{self.trigger}/draft" if self.drafting else self.trigger


def _choices(action: Mapping[str, Any], roles: frozenset[str], requirement: str) -> tuple[str, ...]:
    """The service's choices for the action: the reasons one of ``roles`` may give, the contact routes open to the
    incident (without ``direct`` when its customer is not known)."""
    if requirement == "reason":
        return tuple(entry["reason"] for entry in action.get("reasons", ()) if roles & set(entry["by"]))
    return tuple(action.get("contact_routes", CONTACT_ROUTES))


def _offer_controls(playbook: Playbook) -> list[Control]:
    """An offer under the catalogue: its kind picked from it, an amount in the catalogue's currency, and details."""
    offers = playbook.offers
    if offers is None:
        return [Control("offer", _LABELS["offer"], "text")]
    amount = _LABELS["offer.amount"] + (f" ({offers.currency})" if offers.currency else "")
    return [
        Control("offer.kind", _LABELS["offer.kind"], "select", tuple(offers.kinds)),
        Control("offer.amount", amount, "text"),
        Control("offer.note", _LABELS["offer.note"], "text"),
    ]


def _controls(requirement: str, playbook: Playbook, action: Mapping[str, Any], roles: frozenset[str]) -> list[Control]:
    if requirement == "offer":
        return _offer_controls(playbook)
    if requirement == "promise":
        return [Control("promise", _LABELS["promise"], "select", tuple(action.get("promises", ())))]
    if requirement == "severity":
        return [Control("severity", _LABELS["severity"], "select", playbook.severity.levels)]
    if requirement == "public_reply":
        return [Control("public_reply", _LABELS["public_reply"], "textarea")]
    if requirement in ("contact_route", "reason"):
        return [Control(requirement, _LABELS[requirement], "select", _choices(action, roles, requirement))]
    if requirement == "review":
        controls = []
        for question in playbook.review_questions:
            name = f"review.{question.id}"
            if question.answer is AnswerKind.YES_NO:
                controls.append(Control(name, question.ask, "select", ("yes", "no")))
            elif question.answer is AnswerKind.CHOICE:
                controls.append(Control(name, question.ask, "select", question.choices))
            else:
                controls.append(Control(name, question.ask, "text"))
        return controls
    kind = "textarea" if requirement in ("note", "outcome") else "text"
    return [Control(requirement, _LABELS.get(requirement, requirement.replace("_", " ").capitalize()), kind)]


def action_forms(
    actions: Sequence[Mapping[str, Any]], roles: frozenset[str], incident: Incident, playbook: Playbook
) -> list[ActionForm]:
    """A form for each of ``actions`` (the service's, open in the incident's state) one of ``roles`` may take."""
    forms = []
    for action in actions:
        if not roles & set(action["by"]):
            continue
        requires = list(action["requires"])
        # The built-in deliver asks which promise first, then how it was kept.
        requires.sort(key=lambda requirement: requirement != "promise")
        controls = tuple(
            control for requirement in requires for control in _controls(requirement, playbook, action, roles)
        )
        replying = "public_reply" in requires
        approved = tuple(fill_reply(text, incident) for text in playbook.responses.get(action["trigger"], ()))
        approvers = tuple(action.get("approval", {}).get("by", ()))
        draft = incident.draft
        ready = draft is not None and draft.trigger == action["trigger"] and draft.stage is DraftStage.APPROVED
        if approvers and not ready:
            controls = tuple(control for control in controls if control.name == "public_reply")
        forms.append(
            ActionForm(
                action["trigger"],
                action["to"],
                controls,
                incident.channel if replying else None,
                approved if replying else (),
                drafting=bool(approvers) and not ready,
                approvers=approvers,
            )
        )
    return forms


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text  # the service says what it needs, in the rule's words


def fields_from_form(form: ActionForm, posted: Mapping[str, str], playbook: Playbook) -> dict[str, Any]:
    """The fields of ``form`` as the service takes them, from what was posted. A blank control is left out, so
    the service's refusal names what is missing."""
    fields: dict[str, Any] = {}
    review: dict[str, Any] = {}
    offer: dict[str, Any] = {}
    kinds = {question.id: question.answer for question in playbook.review_questions}
    for control in form.controls:
        value = posted.get(control.name, "").strip()
        if not value:
            continue
        if control.name.startswith("review."):
            key = control.name.removeprefix("review.")
            review[key] = _number(value) if kinds.get(key) is AnswerKind.NUMBER else value
        elif control.name.startswith("offer."):
            key = control.name.removeprefix("offer.")
            offer[key] = _number(value) if key == "amount" else value
        elif control.name == "public_reply":
            fields["public_reply"] = {"text": value, "channel": form.reply_channel}
        else:
            fields[control.name] = value
    if any(control.name.startswith("review.") for control in form.controls):
        fields["review"] = review
    if offer:
        fields["offer"] = offer
    return fields


def assignees(people: Iterable[Person], playbook: Playbook) -> list[tuple[str, str]]:
    """(id, name) of each person with one of the playbook's roles, by name: whom its incidents can be assigned to
    (someone without one could not act on them)."""
    team = frozenset(playbook.roles)
    return sorted(((person.id, person.name or person.id) for person in people if person.roles & team), key=_by_name)


def _by_name(entry: tuple[str, str]) -> tuple[str, str]:
    return entry[1].casefold(), entry[0]
