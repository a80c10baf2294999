"""Approval as a step of its own: a reply for an action that needs approval is drafted, approved or returned, and
the action is then taken only with the approved words.

A draft does not move the incident: it waits in the state the action is taken from, so the lifecycle stays as the
playbook draws it, and that state's time limit (and every running target) keeps counting while the draft waits.
Each step is recorded in the history with who, when and the draft's digest, and moves the revision, so an approver
approves the words they saw. A change of state clears the draft: it was written for the incident as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from engine.incident._fields import check_public_reply
from engine.incident._made import make_audit, make_stepped
from engine.incident._record import (
    Draft,
    DraftReply,
    DraftStage,
    DraftStep,
    Incident,
    RefusalReason,
    Refused,
    Stepped,
)
from engine.incident._replies import difference, filled_replies, reply_digest
from engine.incident._rulebook import Rulebook
from engine.incident._standing import standing
from engine.incident._teamwork import NOTE_LIMIT
from engine.playbook import Transition

__all__ = ["approved_reply", "draft_step", "template_reply"]

#: What each step takes, besides nothing: a draft its reply, a return its note; an approval may carry a note.
_TAKES: Mapping[DraftStep, frozenset[str]] = {
    DraftStep.SUBMIT: frozenset({"public_reply", "note"}),
    DraftStep.APPROVE: frozenset({"note"}),
    DraftStep.RETURN: frozenset({"note"}),
}


def _roles(roles: tuple[str, ...]) -> str:
    return " or ".join(roles) if len(roles) < 3 else ", ".join(roles[:-1]) + f" or {roles[-1]}"


def _where(incident: Incident, command: DraftReply, book: Rulebook) -> Transition | Refused:
    """The transition the draft is for, as the incident stands, or why no draft can be made for it now."""
    trigger = command.trigger
    if trigger not in book.triggers:
        actions = ", ".join(sorted(book.triggers))
        return Refused(RefusalReason.UNKNOWN_ACTION, f"{book.playbook.id} has no action {trigger!r} ({actions})")
    refused = standing(incident, command.expected_revision, book)
    if refused is not None:
        return refused
    transition = book.transition(trigger, incident.state)
    if transition is None:
        return Refused(
            RefusalReason.NOT_AVAILABLE,
            f"{trigger!r} can be taken from {', '.join(book.sources_of(trigger))}; the incident is in "
            f"{incident.state}, so no reply for it can be drafted or decided now",
        )
    if transition.approval is None:
        return Refused(
            RefusalReason.NOT_AVAILABLE,
            f"{trigger!r} needs no approval from {incident.state}; take the action with its reply directly",
        )
    unexpected = sorted(set(command.fields) - _TAKES[command.step])
    if unexpected:
        wanted = ", ".join(sorted(_TAKES[command.step]))
        return Refused(
            RefusalReason.UNEXPECTED_FIELD,
            f"to {command.step.value} a draft of {trigger!r} send only {wanted}, not {', '.join(unexpected)}",
            unexpected[0],
        )
    return transition


def _note(command: DraftReply) -> str | None:
    note = command.fields.get("note")
    return note.strip() if isinstance(note, str) and note.strip() else None


def draft_step(incident: Incident, command: DraftReply, now: datetime, book: Rulebook) -> Stepped | Refused:
    """Submit, approve or return the draft reply of the action ``command.trigger``."""
    transition = _where(incident, command, book)
    if isinstance(transition, Refused):
        return transition
    if command.step is DraftStep.SUBMIT:
        return _submit(incident, command, transition, now, book)
    return _decide(incident, command, transition, now)


def _submit(
    incident: Incident, command: DraftReply, transition: Transition, now: datetime, book: Rulebook
) -> Stepped | Refused:
    actor = command.actor
    if actor.roles.isdisjoint(transition.by):
        return Refused(
            RefusalReason.ROLE_NOT_ALLOWED,
            f"a draft of {command.trigger!r} is written by whoever may take it: {', '.join(transition.by)}; "
            f"{actor.person} has {actor.roles_in_words}",
        )
    if "public_reply" not in command.fields:
        return Refused(
            RefusalReason.MISSING_FIELD,
            f"a draft of {command.trigger!r} needs the public_reply to approve ({{text, channel}})",
            "public_reply",
        )
    reply = check_public_reply(command.fields["public_reply"], incident, book)
    if isinstance(reply, Refused):
        return reply
    refused = template_reply(incident, transition, reply["text"], book)
    if refused is not None:
        return refused
    digest = reply_digest(reply["text"])
    draft = Draft(command.trigger, reply["text"], reply["channel"], digest, DraftStage.PENDING, actor.person, now)
    again = " again" if incident.draft is not None and incident.draft.trigger == command.trigger else ""
    audit = make_audit(
        now,
        "draft",
        f"draft reply for {command.trigger} submitted{again} for approval",
        actor.person,
        {
            "trigger": command.trigger,
            "reply": reply["text"],
            "channel": reply["channel"],
            "digest": digest,
            "approvers": list(transition.approval.by if transition.approval else ()),
            **({"note": note} if (note := _note(command)) else {}),
        },
    )
    return make_stepped(incident.evolve(draft=draft, revision=incident.revision + 1), (audit,))


def _decide(incident: Incident, command: DraftReply, transition: Transition, now: datetime) -> Stepped | Refused:
    actor, trigger = command.actor, command.trigger
    approvers = transition.approval.by if transition.approval else ()
    draft = incident.draft if incident.draft is not None and incident.draft.trigger == trigger else None
    if actor.roles.isdisjoint(approvers):
        return Refused(
            RefusalReason.ROLE_NOT_ALLOWED,
            f"a reply for {trigger!r} is approved or returned by {_roles(approvers)}; {actor.person} has "
            f"{actor.roles_in_words}",
        )
    approving = command.step is DraftStep.APPROVE
    if draft is None or draft.stage is DraftStage.RETURNED or (approving and draft.stage is DraftStage.APPROVED):
        why = (
            "no draft of it has been submitted"
            if draft is None
            else f"its draft was {draft.stage.value} by {draft.decided_by} already"
        )
        return Refused(RefusalReason.NOT_AVAILABLE, f"there is no draft of {trigger!r} waiting for approval: {why}")
    note = _note(command)
    if approving and actor.person == draft.drafted_by:
        return Refused(
            RefusalReason.OWN_DRAFT,
            f"{actor.person} drafted this reply, so someone else must approve it: another {_roles(approvers)}",
        )
    if not approving and note is None:
        return Refused(
            RefusalReason.MISSING_FIELD, "say in a note what to change, so the draft can be written again", "note"
        )
    if note is not None and len(note) > NOTE_LIMIT:
        return Refused(
            RefusalReason.INVALID_FIELD, f"the note is {len(note):,} characters; keep it under {NOTE_LIMIT:,}", "note"
        )
    stage = DraftStage.APPROVED if approving else DraftStage.RETURNED
    decided = replace(draft, stage=stage, decided_by=actor.person, decided_at=now, note=note)
    if approving:
        summary = f"draft reply for {trigger} approved ({draft.digest[:19]}), to be posted word for word"
        kind = "approved"
    else:
        withdrawn = "approval withdrawn" if draft.stage is DraftStage.APPROVED else "returned"
        summary = f"draft reply for {trigger} {withdrawn} ({note})"
        kind = "returned"
    details: dict[str, Any] = {"trigger": trigger, "digest": draft.digest, "drafted_by": draft.drafted_by}
    if note is not None:
        details["note"] = note
    return make_stepped(
        incident.evolve(draft=decided, revision=incident.revision + 1),
        (make_audit(now, kind, summary, actor.person, details),),
    )


def template_reply(incident: Incident, transition: Transition, text: str, book: Rulebook) -> Refused | None:
    """Refused when the action's replies must come from its templates and ``text`` is none of them, filled in."""
    if not book.playbook.templates_required(transition):
        return None
    filled = filled_replies(incident, transition.trigger, book)
    if any(difference(text, template) is None for template in filled):
        return None
    return Refused(
        RefusalReason.NOT_A_TEMPLATE,
        f"a reply for {transition.trigger!r} must be one of the playbook's {len(filled)} approved replies, word for "
        f"word; this one is not (GET /v1/incidents/{incident.id}/replies/{transition.trigger} lists them, filled in)",
        "public_reply",
    )


def approved_reply(incident: Incident, transition: Transition, text: str) -> Refused | Mapping[str, Any] | None:
    """For an action that needs approval: the approval (approver, time, digest) when ``text`` is the approved reply
    word for word, else why not. None for an action that needs none."""
    if transition.approval is None:
        return None
    trigger = transition.trigger
    approvers = _roles(transition.approval.by)
    draft = incident.draft if incident.draft is not None and incident.draft.trigger == trigger else None
    if draft is None:
        return Refused(
            RefusalReason.NEEDS_APPROVAL,
            f"this reply needs approval by {approvers}; submit it as a draft first",
            "public_reply",
        )
    if draft.stage is DraftStage.PENDING:
        return Refused(
            RefusalReason.NEEDS_APPROVAL,
            f"the draft of this reply still waits for approval by {approvers}; it can go out once approved",
            "public_reply",
        )
    if draft.stage is DraftStage.RETURNED:
        return Refused(
            RefusalReason.NEEDS_APPROVAL,
            f"{draft.decided_by} returned the draft of this reply ({draft.note}); redraft it and submit it again",
            "public_reply",
        )
    differs = difference(text, draft.text)
    if differs is not None:
        return Refused(
            RefusalReason.NOT_AS_APPROVED,
            f"the reply differs from the approved text at word {differs.position}: {differs.describe()}; post the "
            f"text {draft.decided_by} approved, word for word",
            "public_reply",
        )
    return {
        "approved_by": draft.decided_by,
        "approved_at": draft.decided_at.isoformat() if draft.decided_at else None,
        "digest": draft.digest,
        "drafted_by": draft.drafted_by,
    }
