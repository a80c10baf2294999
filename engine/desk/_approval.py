"""A drafted reply and the approver's decision on it, read from the incident's own history: the page shows the
exact words beside the post they answer, to the approver before anything is posted, to the drafter when it comes
back with a note, and to the person who posts it once approved.

Nothing here decides who approves: the playbook's actions do (in the shipped safety playbook, ``draft_reply`` into
``reply_pending_approval``, then ``approve_reply`` or ``reject_reply`` with a note). A draft is a public reply that
an action carried into a state where no target is met yet, so it has not gone out; the actions after it are the
decision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.incident import Incident
from engine.playbook import Playbook
from engine.store import Event, EventKind

__all__ = ["Approval", "approval"]


@dataclass(frozen=True, slots=True)
class Approval:
    """Where a draft stands: ``pending`` (waits for the approver), ``returned`` (sent back with ``note``) or
    ``approved`` (to be posted word for word). ``decided_by`` is the approver, for the last two."""

    stage: str
    draft: str
    channel: str | None
    drafted_by: str | None
    drafted_at: datetime
    decided_by: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class _Move:
    trigger: str
    source: str
    to: str
    fields: Mapping[str, Any]
    actor: str | None
    at: datetime


def _moves(events: Sequence[Event]) -> list[_Move]:
    moves = []
    for event in events:
        if event.kind != EventKind.ACT:
            continue
        for entry in event.history:
            if entry.get("kind") == "transition":
                details = entry.get("details") or {}
                moves.append(
                    _Move(
                        str(details.get("trigger")),
                        str(details.get("from")),
                        str(details.get("to")),
                        details.get("fields") or {},
                        entry.get("actor"),
                        event.at,
                    )
                )
    return moves


def _reply(move: _Move) -> Mapping[str, Any] | None:
    reply = move.fields.get("public_reply")
    return reply if isinstance(reply, Mapping) and isinstance(reply.get("text"), str) else None


def approval(incident: Incident, events: Sequence[Event], playbook: Playbook) -> Approval | None:
    """The draft the incident's page shows with its decision, or None when no draft waits on anyone."""
    if incident.state in playbook.final_states:
        return None
    met = {state for target in playbook.targets.values() for state in target.until}
    moves = _moves(events)
    if not moves or moves[-1].to != incident.state:
        return None
    last = moves[-1]

    def drafted(move: _Move) -> Mapping[str, Any] | None:
        return _reply(move) if move.to not in met else None

    reply = drafted(last)
    if reply is not None:
        return Approval("pending", str(reply["text"]), reply.get("channel"), last.actor, last.at)
    if len(moves) < 2 or moves[-2].to != last.source or last.to in met:
        return None
    before = moves[-2]
    reply = drafted(before)
    if reply is None:
        return None
    note = last.fields.get("note")
    stage = "returned" if isinstance(note, str) and note else "approved"
    return Approval(
        stage,
        str(reply["text"]),
        reply.get("channel"),
        before.actor,
        before.at,
        last.actor,
        note if isinstance(note, str) else None,
    )
