"""The step function: an incident, a command and the current time in; the new incident and its effects out.

Pure and deterministic: the same incident, command, time and rulebook always give the same result, and a refused
command returns a :class:`Refused` that says which rule and why, leaving the incident as it was. Each kind of command
has its module: an action (:mod:`._acting`), a mention joining (:mod:`._following`), a deadline falling due
(:mod:`._firing`); what moving to a state does to the clocks is shared (:mod:`._moves`).
"""

from __future__ import annotations

from datetime import datetime

from engine.incident._acting import take_action
from engine.incident._draft import draft_step
from engine.incident._events import told
from engine.incident._firing import fire_deadline
from engine.incident._following import about_mention, join_mention, sent_from
from engine.incident._ledger import deliver, takes_deliver
from engine.incident._made import make_audit, make_stepped
from engine.incident._mention import Mention
from engine.incident._moves import Entered, enter
from engine.incident._record import (
    Act,
    AddNote,
    Command,
    DeadlineReached,
    Effect,
    Incident,
    JoinMention,
    LinkIncident,
    LinkRelation,
    Refused,
    SetOwner,
    Stepped,
)
from engine.incident._rulebook import Rulebook
from engine.incident._teamwork import add_note, set_owner
from engine.playbook import LIFECYCLE, EventKind

__all__ = ["open_incident", "step"]


def open_incident(
    incident_id: str,
    mention: Mention,
    book: Rulebook,
    now: datetime,
    *,
    follows: tuple[str, str] | None = None,
    group: str | None = None,
) -> Stepped:
    """A new incident in ``detected`` for a mention this rulebook applies to, with its clocks running.

    ``follows`` is (id, playbook) of the open incident of a lower-priority playbook the mention would otherwise
    have joined: the new incident is linked to it, and its history says so. ``group`` is the group it gathers,
    when not the mention's own under the playbook's ``group`` (a crisis a surge opened)."""
    playbook = book.playbook
    severity = book.severity_of(mention)
    if group is None and book.grouper is not None:
        group = book.grouper.key(mention)
    incident = Incident(
        id=incident_id,
        playbook=playbook.id,
        playbook_version=playbook.version,
        playbook_digest=playbook.digest,
        state=LIFECYCLE[0],
        severity=severity,
        channel=mention.channel,
        author=mention.author.handle,
        thread_id=mention.thread_id,
        opened_at=now,
        entered_at=now,
        last_mention_at=mention.posted_at,
        mention_count=1,
        customer_id=mention.customer_id,
        customer_segment=mention.customer_segment if mention.customer_id is not None else None,
        links=() if follows is None else ((follows[0], LinkRelation.FOLLOW_UP_OF.value),),
        group=group,
    )
    if book.surges is not None and group is not None:
        incident = book.surges.counted(incident, mention)
    opened = make_audit(
        now,
        "opened",
        f"opened under {playbook.id} v{playbook.version} with severity {severity}: a mention on {mention.channel} "
        f"by {mention.author.handle}{sent_from(mention)}",
        details=about_mention(mention, {"channel": mention.channel, "external_id": mention.external_id}),
    )
    linked: tuple[Effect, ...] = ()
    if follows is not None:
        earlier, earlier_playbook = follows
        linked = (
            make_audit(
                now,
                "link",
                f"follow-up from {earlier}'s author: this post matches {playbook.id}, a higher-priority playbook "
                f"than {earlier_playbook}",
                details={
                    "incident": earlier,
                    "relation": LinkRelation.FOLLOW_UP_OF.value,
                    "playbook": earlier_playbook,
                },
            ),
        )
    clocks, finished, effects = enter(book, incident, Entered(incident.state, severity, 0), now)
    opening = incident.evolve(clocks=clocks, finished_clocks=finished)
    return make_stepped(opening, (opened, *linked, *effects, *told(book, opening, EventKind.OPENED, now)))


def step(incident: Incident, command: Command, now: datetime, book: Rulebook) -> Stepped | Refused:
    """Apply one command at ``now`` under the incident's own rulebook."""
    if isinstance(command, Act):  # the most common command, and the one whose time is measured, asked first
        return (
            deliver(incident, command, now, book)
            if takes_deliver(command, book)
            else take_action(incident, command, now, book)
        )
    if isinstance(command, DeadlineReached):
        return fire_deadline(incident, command, now, book)
    if isinstance(command, JoinMention):
        return join_mention(incident, command, now, book)
    if isinstance(command, LinkIncident):
        return _link(incident, command, now)
    if isinstance(command, SetOwner):
        return set_owner(incident, command, now, book)
    if isinstance(command, AddNote):
        return add_note(incident, command, now, book)
    return draft_step(incident, command, now, book)


_LINK_WORDS = {
    LinkRelation.FOLLOWED_UP_BY: "opened {incident} under {playbook}: this post matches a higher-priority playbook",
    LinkRelation.FOLLOW_UP_OF: "linked to {incident} ({playbook}): a follow-up from its author",
    LinkRelation.CRISIS: "a surge here is part of the crisis incident {incident} ({playbook})",
    LinkRelation.SURGE_OF: "opened for a surge of {incident} ({playbook})",
}


def _link(incident: Incident, link: LinkIncident, now: datetime) -> Stepped:
    """Record a link to another incident. Allowed on a closed incident too: the history stays true."""
    pair = (link.incident, link.relation.value)
    if pair in incident.links:
        return make_stepped(incident, ())
    changed = incident.evolve(links=(*incident.links, pair), revision=incident.revision + 1)
    summary = _LINK_WORDS[link.relation].format(incident=link.incident, playbook=link.playbook)
    details = {"incident": link.incident, "relation": link.relation.value, "playbook": link.playbook}
    return make_stepped(changed, (make_audit(now, "link", summary, details=details),))
