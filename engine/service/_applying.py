"""Applying one step of the runtime to the store: the incident's row, the command in its log, its deadlines armed
or cancelled and its notifications in the outbox, all in the caller's unit of work."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from engine.incident import ArmDeadline, Audit, CancelDeadline, Incident, Notify, Rulebook, Stepped
from engine.service._library import Library
from engine.service._outcomes import Change
from engine.store import LoggedCommand, UnitOfWork, command_kind, encode_command, encode_history, encode_notification

__all__ = ["apply_step", "available_actions", "waiting_on"]


def waiting_on(book: Rulebook, state: str) -> tuple[str, ...]:
    """The roles that may take one of the actions open from ``state``: whom an incident there waits on."""
    return book.waiting_on(state)


def available_actions(book: Rulebook, state: str) -> tuple[Mapping[str, Any], ...]:
    """The actions open from ``state``, with who may take them and what they require."""
    return tuple(
        {
            "trigger": transition.trigger,
            "to": transition.dest,
            "by": list(transition.by),
            "requires": sorted(requirement.value for requirement in transition.requires),
            **({"approval": {"by": list(transition.approval.by)}} if transition.approval else {}),
            **({"responses_required": True} if book.playbook.templates_required(transition) else {}),
        }
        for transition in book.playbook.transitions
        if state in transition.sources
    )


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
        waiting_on=waiting_on(book, incident.state),
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
