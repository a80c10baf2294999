"""Applying one step of the runtime to the store: the incident's row, the command in its log, its deadlines armed
or cancelled and its notifications in the outbox, all in the caller's unit of work."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.incident import (
    ArmDeadline,
    Audit,
    CancelDeadline,
    Incident,
    Notify,
    Rulebook,
    Stepped,
    contact_routes,
    guard_view,
)
from engine.playbook import DELIVER, Requirement
from engine.service._library import Library
from engine.service._outcomes import Change
from engine.store import LoggedCommand, UnitOfWork, command_kind, encode_command, encode_history, encode_notification

__all__ = ["apply_step", "available_actions", "waiting_on"]


def waiting_on(book: Rulebook, incident: Incident) -> tuple[str, ...]:
    """The roles that may take one of the actions open to ``incident`` now (its state, and the guards its facts
    meet): whom it waits on."""
    return book.waiting_on(incident.state, incident)


def available_actions(book: Rulebook, incident: Incident) -> tuple[Mapping[str, Any], ...]:
    """The actions open to ``incident`` now, with who may take them and what they require: those from its state
    whose guards its facts meet, so that nothing is offered that the runtime would refuse for a guard, and the
    built-in ``deliver`` while a promise is open (anyone of the playbook's team may record it). An action that asks
    for a reason lists each reason with the roles that may give it there; one that asks for a contact route lists
    the routes open to this incident (``direct`` only to a known customer)."""
    house = book.playbook.house_rules
    actions = []
    for transition in book.playbook.transitions:
        if incident.state not in transition.sources or not book.allows(transition, incident):
            continue
        action: dict[str, Any] = {
            "trigger": transition.trigger,
            "to": transition.dest,
            "by": list(transition.by),
            "requires": sorted(requirement.value for requirement in transition.requires),
            **({"approval": {"by": list(transition.approval.by)}} if transition.approval else {}),
            **({"responses_required": True} if book.playbook.templates_required(transition) else {}),
        }
        if transition.when is not None:
            action["when"] = guard_view(transition.when)
        if Requirement.REASON in transition.requires:
            action["reasons"] = [
                {"reason": reason, "by": [role for role in transition.by if house.may_give(reason, frozenset({role}))]}
                for reason in house.do_not_engage_reasons
            ]
        if Requirement.CONTACT_ROUTE in transition.requires:
            action["contact_routes"] = list(contact_routes(incident))
        actions.append(action)
    if book.offer_kinds and incident.open_promises:
        actions.append(
            {
                "trigger": DELIVER,
                "to": incident.state,
                "by": sorted(book.playbook.roles),
                "requires": ["note", "promise"],
                "promises": [promise.id for promise in incident.open_promises],
            }
        )
    return tuple(actions)


def apply_step(
    tx: UnitOfWork,
    library: Library,
    stepped: Stepped,
    *,
    previous: Incident | None,
    command: LoggedCommand,
    actor: str | None,
    now: datetime,
    changes: list[Change],
) -> tuple[dict[str, Any], ...]:
    """Write the step; returns its history entries and notes the change in ``changes``."""
    incident = stepped.incident
    book = library.by_digest(incident.playbook_digest)
    tx.incidents.save(
        incident,
        final=book.is_final(incident.state),
        waiting_on=waiting_on(book, incident),
        previous_revision=None if previous is None else previous.revision,
        at=now,
    )
    history = tuple(encode_history(effect) for effect in stepped.effects if isinstance(effect, Audit))
    tx.events.append(
        incident.id,
        at=now,
        kind=command_kind(command).value,
        actor=actor,
        playbook_digest=incident.playbook_digest,
        command=encode_command(command),
        history=history,
    )
    for effect in stepped.effects:
        if isinstance(effect, ArmDeadline):
            tx.deadlines.arm(effect.key, incident.id, effect.clock, effect.at)
        elif isinstance(effect, CancelDeadline):
            tx.deadlines.cancel(effect.key)
        elif isinstance(effect, Notify):
            tx.outbox.enqueue(effect.key, incident.id, now, encode_notification(effect, incident))
    changes.append(Change(previous, stepped, now))
    return history
