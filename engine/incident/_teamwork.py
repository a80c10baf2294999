"""What the team records on an incident without moving it: who owns it (take, assign, release) and internal notes.

Both are written to the incident's history and its log, so a rebuild gives the same owner, but neither is a change
of state: the revision stays, the clocks run on, and an action someone is drafting does not go stale because a
colleague took the case or wrote a note. Only the playbook's team (a person with one of its roles) may do either.
"""

from __future__ import annotations

from datetime import datetime

from engine.incident._made import make_audit, make_stepped
from engine.incident._record import Actor, AddNote, Incident, RefusalReason, Refused, SetOwner, Stepped
from engine.incident._rulebook import Rulebook

__all__ = ["NOTE_LIMIT", "add_note", "set_owner"]

#: The longest note taken, in characters: a note is a few lines for the next person, not a report.
NOTE_LIMIT = 4000


def _outsider(actor: Actor, book: Rulebook, doing: str) -> Refused | None:
    if actor.roles.isdisjoint(book.playbook.roles):
        return Refused(
            RefusalReason.ROLE_NOT_ALLOWED,
            f"only {book.playbook.id}'s team ({', '.join(sorted(book.playbook.roles))}) may {doing} its incidents; "
            f"{actor.person} has {actor.roles_in_words}",
        )
    return None


def set_owner(incident: Incident, command: SetOwner, now: datetime, book: Rulebook) -> Stepped | Refused:
    """Take (``owner`` is the actor), assign (another person) or release (``owner`` None) the incident."""
    actor, owner = command.actor, command.owner
    refused = _outsider(actor, book, "take, assign or release")
    if refused is not None:
        return refused
    if book.is_final(incident.state):
        return Refused(RefusalReason.CLOSED, f"the incident is closed ({incident.state}); it needs no owner now")
    if owner is not None and owner.roles.isdisjoint(book.playbook.roles):
        return Refused(
            RefusalReason.INVALID_FIELD,
            f"{owner.person} has no role in {book.playbook.id}, so could not act on it; assign it to someone with "
            f"one of {', '.join(sorted(book.playbook.roles))}",
            field="owner",
        )
    wanted = None if owner is None else owner.person
    if wanted == incident.owner:
        return make_stepped(incident, ())  # already so: nothing to record
    before = incident.owner
    if not command.take_over and before is not None:
        return Refused(
            RefusalReason.TAKEN,
            f"{before} has this incident already; ask them, or assign it to yourself to take it over",
        )
    if wanted is None:
        summary = f"{actor.person} released it" + ("" if before == actor.person else f" (it was {before}'s)")
    elif wanted == actor.person:
        summary = f"{actor.person} took it" + ("" if before is None else f" over from {before}")
    else:
        summary = f"{actor.person} assigned it to {wanted}" + ("" if before is None else f" (it was {before}'s)")
    audit = make_audit(now, "owner", summary, actor.person, {"owner": wanted, "previous": before})
    return make_stepped(incident.evolve(owner=wanted), (audit,))


def add_note(incident: Incident, command: AddNote, now: datetime, book: Rulebook) -> Stepped | Refused:
    """An internal note, kept in the history for the team. Allowed on a closed incident too: learning goes on."""
    refused = _outsider(command.actor, book, "write notes on")
    if refused is not None:
        return refused
    text = command.text.strip()
    if not text:
        return Refused(RefusalReason.MISSING_FIELD, "the note is empty; write what the team should know", "note")
    if len(text) > NOTE_LIMIT:
        return Refused(
            RefusalReason.INVALID_FIELD,
            f"the note is {len(text):,} characters; keep it under {NOTE_LIMIT:,} (attach longer reports elsewhere)",
            "note",
        )
    return make_stepped(incident, (make_audit(now, "note", text, command.actor.person, {"text": text}),))
