"""A mention that joins an open incident: counted, told to the roles that hear of follow-ups, counted for
surges, and where the playbook says so it reopens the incident and starts the clocks of the team's next response.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from engine.incident._events import told
from engine.incident._made import make_audit, make_stepped
from engine.incident._mention import Mention
from engine.incident._moves import RESOLVED, Entered, arm, enter, reschedule, start_named
from engine.incident._pauses import start_paused
from engine.incident._record import Effect, Incident, JoinMention, RefusalReason, Refused, Stepped
from engine.incident._rulebook import Rulebook
from engine.incident._surges import NO_SURGE
from engine.playbook import EventKind

__all__ = ["about_mention", "join_mention", "sent_from"]


def sent_from(mention: Mention) -> str:
    return f" (from {mention.source})" if mention.source else ""


def about_mention(mention: Mention, details: dict[str, Any]) -> dict[str, Any]:
    """An audit entry's details on a mention: its author, and the listening tool that sent it when it says."""
    details["author"] = mention.author.handle
    if mention.customer_id:
        details["customer_id"] = mention.customer_id
    if mention.source:
        details["source"] = mention.source
    if mention.sent_channel:
        details["sent_channel"] = mention.sent_channel
    return details


def join_mention(incident: Incident, join: JoinMention, now: datetime, book: Rulebook) -> Stepped | Refused:
    """Another mention joins ``incident``: counted, told, counted for surges; it may reopen the incident."""
    mention = join.mention
    if book.is_final(incident.state):
        return Refused(RefusalReason.CLOSED, f"the incident is closed ({incident.state}); open a new one")
    # A mention already received never gets here: intake finds it in the store's mentions, under the same lock.
    changed = incident.evolve(
        mention_count=incident.mention_count + 1,
        last_mention_at=max(incident.last_mention_at, mention.posted_at),
        revision=incident.revision + 1,
    )
    summary = f"mention {mention.channel}/{mention.external_id} joined{sent_from(mention)}"
    details = about_mention(mention, {"external_id": mention.external_id})
    if join.via is not None:
        summary += f": it belongs to {join.via}, which was merged into this incident"
        details["via"] = join.via
    effects: list[Effect] = [make_audit(now, "mention", summary, details=details)]
    if incident.customer_id is None and mention.customer_id is not None:
        changed = changed.evolve(customer_id=mention.customer_id, customer_segment=mention.customer_segment)
        segment = f" (segment {mention.customer_segment})" if mention.customer_segment else ""
        effects.append(
            make_audit(
                now,
                "customer",
                f"customer known: {mention.customer_id}{segment}, from mention {mention.channel}/{mention.external_id}",
                details={"customer_id": mention.customer_id, "customer_segment": mention.customer_segment},
            )
        )
    surge = NO_SURGE
    if book.surges is not None and changed.group is not None:
        changed, surge = book.surges.arrive(changed, mention, now)
        effects += surge.audits
    level, surged = surge.raise_to(book.levels, book.severity_of(mention))
    raised = book.levels[level] > book.levels[incident.severity]
    if raised:
        changed = changed.evolve(severity=level)
        because = "a new mention" if surged is None else f"surge {surged.name}"
        effects.append(make_audit(now, "severity", f"severity {incident.severity} -> {level} ({because})"))
        changed, moved = reschedule(book, changed, incident.severity, frozenset(), now)
        effects += moved
    effects += told(book, changed, EventKind.FOLLOW_UP, now)
    if raised:
        effects += told(book, changed, EventKind.SEVERITY_RAISED, now)
    effects += surge.effects(changed, now)
    reopen = book.playbook.states[incident.state].reopen_on_follow_up
    if reopen is not None:
        changed, reopened = _reopen(book, changed, reopen, now)
        effects += reopened
    changed, started = _start_follow_up_clocks(book, changed, now)
    return make_stepped(changed, (*effects, *started))


def _reopen(book: Rulebook, incident: Incident, destination: str, now: datetime) -> tuple[Incident, list[Effect]]:
    """A follow-up in a state that says ``reopen_on_follow_up`` moves the incident there, as an action would."""
    previous = incident.state
    clocks, finished, entered = enter(book, incident, Entered(destination, incident.severity, incident.revision), now)
    moved = incident.evolve(state=destination, entered_at=now, clocks=clocks, finished_clocks=finished)
    effects: list[Effect] = [
        make_audit(
            now,
            "reopened",
            f"the customer wrote again: {previous} -> {destination}",
            details={"from": previous, "to": destination},
        ),
        *entered,
        *told(book, moved, EventKind.ENTERED, now),
    ]
    if previous == RESOLVED:
        effects += told(book, moved, EventKind.REOPENED, now)
    return moved, effects


def _start_follow_up_clocks(book: Rulebook, incident: Incident, now: datetime) -> tuple[Incident, list[Effect]]:
    """The targets ``from: follow_up`` start when the customer writes again, unless already running: each run is
    judged on its own, so a breach of the last run is forgotten as a new one starts."""
    effects: list[Effect] = []
    for name in book.per_follow_up:
        if incident.clock(name) is not None:
            continue
        started = start_named(book, name, Entered(incident.state, incident.severity, incident.revision), now)
        if started is None:
            continue
        if name in book.paused_in(incident.state):  # the customer wrote while we wait on them: it waits too
            started = start_paused(started, now)
        incident = incident.evolve(clocks=(*incident.clocks, started), breached=incident.breached - {name})
        effects += arm(incident.id, started)
    return incident, effects
