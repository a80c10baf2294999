"""A drafted reply and the approver's decision on it, as the incident's page shows it: the exact words beside the
post they answer, to the approver before anything is posted, to the drafter when it comes back with a note, and to
the person who posts it once approved; and the approver's own forms to approve it or return it with a note.

Nothing here decides who approves: the playbook's ``approval`` on the action does, and the service refuses what it
does not allow. The page only offers the forms to the people whose roles the approval names.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from engine.incident import DraftStage, Incident
from engine.playbook import Playbook

__all__ = ["Approval", "approval"]


@dataclass(frozen=True, slots=True)
class Approval:
    """Where the draft of ``trigger`` stands: ``pending`` (waits for the approver), ``returned`` (sent back with
    ``note``) or ``approved`` (to be posted word for word). ``decided_by`` is the approver, for the last two;
    ``approvers`` the roles that may decide, and ``may_decide`` whether the person looking has one of them."""

    trigger: str
    stage: str
    draft: str
    channel: str | None
    drafted_by: str | None
    drafted_at: datetime
    digest: str
    approvers: tuple[str, ...] = ()
    may_decide: bool = False
    decided_by: str | None = None
    note: str | None = None


def approval(incident: Incident, playbook: Playbook, roles: frozenset[str]) -> Approval | None:
    """The draft the incident's page shows with its decision, or None when it has none."""
    draft = incident.draft
    if draft is None or incident.state in playbook.final_states:
        return None
    approvers: tuple[str, ...] = ()
    for transition in playbook.transitions:
        if transition.trigger == draft.trigger and incident.state in transition.sources and transition.approval:
            approvers = transition.approval.by
    return Approval(
        trigger=draft.trigger,
        stage=draft.stage.value,
        draft=draft.text,
        channel=draft.channel,
        drafted_by=draft.drafted_by,
        drafted_at=draft.drafted_at,
        digest=draft.digest,
        approvers=approvers,
        may_decide=bool(roles & set(approvers)) and draft.stage is not DraftStage.RETURNED,
        decided_by=draft.decided_by,
        note=draft.note,
    )
