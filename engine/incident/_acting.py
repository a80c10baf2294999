"""A person's action on an incident: who may take it from here, by which of its ways, with which fields,
and what it changes (the state, the facts, the clocks, the promises), or the rule that refuses it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from engine.incident._draft import approved_reply, template_reply
from engine.incident._fields import check_fields
from engine.incident._guards import guard_view, unmet
from engine.incident._ledger import blocked_by_promises, make_promises
from engine.incident._made import make_audit, make_stepped
from engine.incident._moments import minute
from engine.incident._moves import Entered, enter, met_by_reply, reschedule, told_on_move
from engine.incident._mutes import MUTED_UNTIL, mute_fact
from engine.incident._record import Act, Effect, Incident, RefusalReason, Refused, Stepped
from engine.incident._rulebook import Rulebook
from engine.incident._standing import standing
from engine.playbook import Transition

__all__ = ["take_action"]


def take_action(incident: Incident, act: Act, now: datetime, book: Rulebook) -> Stepped | Refused:
    """``act`` taken at ``now``: the incident moved on with its effects, or the first rule that refuses it."""
    # Who may ask comes before what the incident is now: an unknown action or a person whose roles may never take
    # it is told so (404, 403) without learning anything of the incident, and without a "look again" (409) that
    # looking again would not cure.
    if act.trigger not in book.triggers:
        actions = ", ".join(sorted(book.triggers))
        return Refused(RefusalReason.UNKNOWN_ACTION, f"{book.playbook.id} has no action {act.trigger!r} ({actions})")
    if act.actor.roles.isdisjoint(book.roles_for(act.trigger)):
        return Refused(
            RefusalReason.ROLE_NOT_ALLOWED,
            f"{act.trigger!r} is for {', '.join(sorted(book.roles_for(act.trigger)))}; {act.actor.person} has "
            f"{act.actor.roles_in_words}",
        )
    refused = standing(incident, act.expected_revision, book)
    if refused is not None:
        return refused
    chosen = _transition(act, incident, book)
    if isinstance(chosen, Refused):
        return chosen
    transition = chosen
    destination = transition.dest
    blocked = blocked_by_promises(incident, destination, book)
    if blocked is not None:
        return blocked
    checked = check_fields(transition, act.fields, incident, book, act.actor)
    if isinstance(checked, Refused):
        return checked
    approval = _reply_rules(incident, transition, checked, book)
    if isinstance(approval, Refused):
        return approval
    previous = incident.state
    facts = _recorded(incident, checked, transition, now)
    severity = checked.get("severity", incident.severity)
    revision = incident.revision + 1
    clocks, finished, entered = enter(book, incident, Entered(destination, severity, revision), now)
    if book.until_reply and ("public_reply" in checked or "contact_route" in checked):
        clocks, finished, replied = met_by_reply(book, incident.id, clocks, finished, now)
        entered += replied
    promises = incident.promises
    if book.offer_kinds and "offer" in checked:
        made, promised, promising = make_promises(
            incident, checked["offer"], act, now, book, severity=severity, revision=revision
        )
        promises, clocks = promises + made, clocks + promised
        entered += promising
    changed = incident.evolve(
        state=destination,
        severity=severity,
        entered_at=now,
        revision=revision,
        facts=facts,
        clocks=clocks,
        finished_clocks=finished,
        promises=promises,
        draft=None,  # a draft is written for the incident where it stands; once it moves on, none is left
    )
    summary = f"{act.trigger}: {previous} -> {destination}"
    details: dict[str, Any] = {"trigger": act.trigger, "from": previous, "to": destination, "fields": dict(act.fields)}
    if transition.when is not None:  # which of the action's guarded ways it took: what a coverage report reads
        details["when"] = guard_view(transition.when)
    if approval is not None:
        summary += f" (the reply {approval['approved_by']} approved, word for word)"
        details["approval"] = approval
    effects: list[Effect] = [make_audit(now, "transition", summary, act.actor.person, details), *entered]
    if transition.mutes_author is not None:
        until = facts[MUTED_UNTIL]
        effects.append(
            make_audit(
                now,
                "muted",
                f"{incident.author} muted on {incident.channel} until {minute(datetime.fromisoformat(until))}: their "
                "posts are recorded here and page nobody, unless one is more severe",
                act.actor.person,
                {"author": incident.author, "channel": incident.channel, "until": until},
            )
        )
    if severity != incident.severity:
        effects.append(make_audit(now, "severity", f"severity {incident.severity} -> {severity}", act.actor.person))
        fresh = frozenset(clock.name for clock in changed.clocks if clock.epoch == changed.revision)
        changed, moved = reschedule(book, changed, incident.severity, fresh, now)
        effects += moved
    effects += told_on_move(book, incident, changed, now)
    return make_stepped(changed, tuple(effects))


def _recorded(
    incident: Incident, checked: Mapping[str, Any], transition: Transition, now: datetime
) -> Mapping[str, Any]:
    """The incident's facts with what the action recorded: the fields it took, and whom it muted until when."""
    if not checked and transition.mutes_author is None:  # an action that records nothing keeps them as they are
        return incident.facts
    written = {**incident.facts, **checked}
    if transition.mutes_author is not None:
        written[MUTED_UNTIL] = mute_fact(now, transition.mutes_author)
    return MappingProxyType(written)


def _reply_rules(
    incident: Incident, transition: Transition, checked: Mapping[str, Any], book: Rulebook
) -> Mapping[str, Any] | Refused | None:
    """A public reply that needs approval must be the approved words (what the approval was, for the history); one
    that must come from the templates must be one of them."""
    if not transition.posts_reply or "public_reply" not in checked:
        return None
    text = checked["public_reply"]["text"]
    approved = approved_reply(incident, transition, text)
    if isinstance(approved, Refused):
        return approved
    refused = template_reply(incident, transition, text, book)
    return approved if refused is None else refused


def _transition(act: Act, incident: Incident, book: Rulebook) -> Transition | Refused:
    """The transition the action takes from the incident's state: one whose ``by`` holds the person, and whose
    guard the incident's facts meet. A person who may not take it from here at all is told so before any guard."""
    found = book.transitions_from(act.trigger, incident.state)
    if not found:
        return Refused(
            RefusalReason.NOT_AVAILABLE,
            f"{act.trigger!r} can be taken from {', '.join(book.sources_of(act.trigger))}; the incident is in "
            f"{incident.state}",
        )
    if len(found) == 1 and found[0].when is None:  # the common case, kept as quick as before guards
        if act.actor.roles.isdisjoint(found[0].by):
            return Refused(
                RefusalReason.ROLE_NOT_ALLOWED,
                f"{act.trigger!r} is for {', '.join(found[0].by)}; {act.actor.person} has {act.actor.roles_in_words}",
            )
        return found[0]
    if all(act.actor.roles.isdisjoint(transition.by) for transition in found):
        roles = sorted({role for transition in found for role in transition.by})
        return Refused(
            RefusalReason.ROLE_NOT_ALLOWED,
            f"{act.trigger!r} is for {', '.join(roles)}; {act.actor.person} has {act.actor.roles_in_words}",
        )
    for transition in found:
        if book.allows(transition, incident):
            if act.actor.roles.isdisjoint(transition.by):
                return Refused(
                    RefusalReason.ROLE_NOT_ALLOWED,
                    f"{act.trigger!r} is for {', '.join(transition.by)} when {_facts(incident)}; "
                    f"{act.actor.person} has {act.actor.roles_in_words}",
                )
            return transition
    needs = [unmet(transition.when, incident) for transition in found if transition.when is not None]
    return Refused(
        RefusalReason.GUARD,
        f"{act.trigger!r} needs {'; or else '.join(need for need in needs if need is not None)}",
        state=incident.state,
    )


def _facts(incident: Incident) -> str:
    """The facts guards read, as people say them: ``severity high on twitter``."""
    known = "a known customer" if incident.customer_id is not None else "no known customer"
    return f"the incident is {incident.severity} on {incident.channel} with {known}"
