"""The step function: an incident, a command and the current time in; the new incident and its effects out.

Pure and deterministic: the same incident, command, time and rulebook always give the same result, and a refused
command returns a :class:`Refused` that says which rule and why, leaving the incident as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple

from engine.incident._clocks import deadline_key, due_occurrences, start_clock
from engine.incident._draft import approved_reply, draft_step, template_reply
from engine.incident._events import told
from engine.incident._fields import check_fields
from engine.incident._guards import guard_view, unmet
from engine.incident._keys import ClockId, DeadlineKey
from engine.incident._ledger import blocked_by_promises, deliver, due_as_clocked, make_promises, takes_deliver
from engine.incident._mention import Mention
from engine.incident._mutes import MUTED_UNTIL, mute_fact
from engine.incident._pauses import clocked, lateness, paused_for, replan_clock, settle, start_paused
from engine.incident._record import (
    Act,
    Actor,
    AddNote,
    ArmDeadline,
    Audit,
    CancelDeadline,
    ClockState,
    Command,
    DeadlineReached,
    Effect,
    Incident,
    JoinMention,
    LinkIncident,
    LinkRelation,
    Notify,
    NotifyKind,
    Occurrence,
    RefusalReason,
    Refused,
    SetOwner,
    Stepped,
)
from engine.incident._rulebook import Fate, Rulebook, Schedule
from engine.incident._standing import standing
from engine.incident._surges import NO_SURGE
from engine.incident._teamwork import add_note, set_owner
from engine.playbook import LIFECYCLE, EventKind, Transition, format_duration

__all__ = ["open_incident", "step"]

#: Leaving this lifecycle state for an open one reopens an incident.
_RESOLVED = LIFECYCLE[4]
#: The enum members every move asks for, read once: reading a member off its enum class costs ten local reads.
_RUNS, _MET, _STOPPED = Fate.RUNS, Fate.MET, Fate.STOPPED
_ENTERED, _RAISED, _REOPENED = EventKind.ENTERED, EventKind.SEVERITY_RAISED, EventKind.REOPENED


def _arm(incident_id: str, clock: ClockState) -> list[Effect]:
    if clock.next is None:
        return []
    return [ArmDeadline(deadline_key(incident_id, clock, clock.next), clock.next.at, clock.name)]


def _cancel(incident_id: str, clock: ClockState) -> list[Effect]:
    if clock.next is None:
        return []
    return [CancelDeadline(deadline_key(incident_id, clock, clock.next), clock.name)]


class _Entered(NamedTuple):
    """Where an incident is going: the state it enters, at which severity and revision."""

    state: str
    severity: str
    revision: int


def _start(book: Rulebook, name: str, entered: _Entered, now: datetime) -> ClockState | None:
    plan = book.plan(name, entered.severity)
    if plan is None:
        return None
    _, counter, schedule = plan
    return start_clock(name, entered.revision, schedule, counter, now)


def _enter(
    book: Rulebook, incident: Incident, entered: _Entered, now: datetime
) -> tuple[tuple[ClockState, ...], frozenset[str], list[Effect]]:
    """The clocks that stop and start as ``incident`` enters a state: the running clocks, the finished targets and
    the effects, for the caller to build the new incident from in one go (building one costs more than all this)."""
    effects: list[Effect] = []
    state = entered.state
    final = book.is_final(state)
    kept: list[ClockState] = []
    finished = incident.finished_clocks
    fates = book.fates_in(state)
    for clock in incident.clocks:
        name = clock.name
        fate = fates.get(name)  # None: not a target's clock, but a state's limit or a promise's
        if fate is _RUNS and not final:
            kept.append(clock)
            continue
        if fate is None and not final and ClockId.is_promise(name):  # it runs until the promise is kept
            kept.append(clock)
            continue
        # A state's limit stops as the state is left; a target stops where it is met, on a side path, or at the end.
        if clock.next is not None:
            effects.append(CancelDeadline(deadline_key(incident.id, clock, clock.next), name))
        if fate is not None:
            if not book.playbook.targets[name].per_follow_up:  # one that starts on each follow-up runs again
                finished = finished | {name}
            aside = state if fate is _STOPPED else None
            effects.append(_verdict(clock, "met" if fate is _MET else "stopped", aside, now))
    if final:
        return tuple(kept), finished, effects
    if book.pausable:  # targets that stand still in some states stop or go on as the incident moves
        kept, settled = settle(
            book, incident.id, kept, state=state, severity=entered.severity, epoch=entered.revision, now=now
        )
        effects += settled
    running = {clock.name for clock in kept}
    for name, (_, counter, schedule) in book.starts(state, entered.severity):
        if name in running or name in finished:  # a target already running or met goes on as it is
            continue
        started = start_clock(name, entered.revision, schedule, counter, now)
        kept.append(started)
        if started.next is not None:
            effects.append(ArmDeadline(deadline_key(incident.id, started, started.next), started.next.at, name))
    return tuple(kept), finished, effects


def _replied(
    book: Rulebook, incident_id: str, clocks: tuple[ClockState, ...], finished: frozenset[str], now: datetime
) -> tuple[tuple[ClockState, ...], frozenset[str], list[Effect]]:
    """The team replied in public or contacted the customer in private: the targets ``until: reply`` are met."""
    kept: list[ClockState] = []
    effects: list[Effect] = []
    for clock in clocks:
        if clock.name not in book.until_reply:
            kept.append(clock)
            continue
        effects += _cancel(incident_id, clock)
        effects.append(_verdict(clock, "met", None, now))
        if not book.playbook.targets[clock.name].per_follow_up:
            finished = finished | {clock.name}
    return tuple(kept), finished, effects


def _verdict(clock: ClockState, verdict: str, aside: str | None, now: datetime) -> Audit:
    """The history's word on a target that stopped: met or stopped, on time or how late, and why it stopped."""
    late = lateness(clock, now)  # the time it stood still is not counted against it
    timing = f"{format_duration(late)} late" if late.total_seconds() > 0 else "on time"
    stood = paused_for(clock, now) if clock.paused_at is not None or clock.pauses else _NO_TIME
    if stood:
        timing += f", not counting {format_duration(stood)} paused"
    if clock.judged_from is not None and late.total_seconds() > 0:
        timing += f", counted from the severity change at {_minute(clock.judged_from)} that made it due"
    why = f": {aside} is a side path where it no longer applies" if aside is not None else ""
    details: dict[str, Any] = {"clock": clock.name, "due_at": clock.due_at.isoformat(), "late": late > _NO_TIME}
    if clock.judged_from is not None:
        details["judged_from"] = clock.judged_from.isoformat()
    if aside is not None:
        details["side_path"] = aside
    if stood:
        details["paused_for"] = stood.total_seconds()
    return Audit(now, f"target_{verdict}", f"{clock.name} {verdict} ({timing}){why}", details=details)


def _reschedule(
    book: Rulebook, incident: Incident, before: str, skip: frozenset[str], now: datetime
) -> tuple[Incident, list[Effect]]:
    """After a severity change from ``before``, running clocks count against the new level's limits from the same
    start (see :func:`replan`). Clocks in ``skip`` have just started at the new level and need nothing."""
    effects: list[Effect] = []
    clocks = []
    for clock in incident.clocks:
        if clock.name in skip:
            clocks.append(clock)
            continue
        plan = book.plan(clock.name, incident.severity)
        if plan is None:  # the new level has no limit here: the clock stops
            effects += _cancel(incident.id, clock)
            continue
        _, counter, schedule = plan
        old = book.plan(clock.name, before)
        if old is not None and old[1] is counter and old[2].same_as(schedule):
            clocks.append(clock)  # the same limit and steps at both levels: nothing changes
            continue
        moved = replan_clock(clock, schedule, counter, incident.revision, now)
        effects += [*_cancel(incident.id, clock), *_arm(incident.id, moved)]
        clocks.append(moved)
    return incident.evolve(clocks=tuple(clocks), promises=due_as_clocked(incident.promises, clocks)), effects


def _from(mention: Mention) -> str:
    return f" (from {mention.source})" if mention.source else ""


def _about(mention: Mention, details: dict[str, Any]) -> dict[str, Any]:
    """An audit entry's details on a mention: its author, and the listening tool that sent it when it says."""
    details["author"] = mention.author.handle
    if mention.customer_id:
        details["customer_id"] = mention.customer_id
    if mention.source:
        details["source"] = mention.source
    if mention.sent_channel:
        details["sent_channel"] = mention.sent_channel
    return details


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
    opened = Audit(
        now,
        "opened",
        f"opened under {playbook.id} v{playbook.version} with severity {severity}: a mention on {mention.channel} "
        f"by {mention.author.handle}{_from(mention)}",
        details=_about(mention, {"channel": mention.channel, "external_id": mention.external_id}),
    )
    linked: tuple[Effect, ...] = ()
    if follows is not None:
        earlier, earlier_playbook = follows
        linked = (
            Audit(
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
    clocks, finished, effects = _enter(book, incident, _Entered(incident.state, severity, 0), now)
    opening = incident.evolve(clocks=clocks, finished_clocks=finished)
    return Stepped(opening, (opened, *linked, *effects, *told(book, opening, EventKind.OPENED, now)))


def step(incident: Incident, command: Command, now: datetime, book: Rulebook) -> Stepped | Refused:
    """Apply one command at ``now`` under the incident's own rulebook."""
    if isinstance(command, Act):  # the most common command, and the one whose time is measured, asked first
        return (
            deliver(incident, command, now, book)
            if takes_deliver(command, book)
            else _act(incident, command, now, book)
        )
    if isinstance(command, DeadlineReached):
        return _deadline(incident, command, now, book)
    if isinstance(command, JoinMention):
        return _join(incident, command, now, book)
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
        return Stepped(incident, ())
    changed = incident.evolve(links=(*incident.links, pair), revision=incident.revision + 1)
    summary = _LINK_WORDS[link.relation].format(incident=link.incident, playbook=link.playbook)
    details = {"incident": link.incident, "relation": link.relation.value, "playbook": link.playbook}
    return Stepped(changed, (Audit(now, "link", summary, details=details),))


def _act(incident: Incident, act: Act, now: datetime, book: Rulebook) -> Stepped | Refused:
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
            f"{', '.join(sorted(act.actor.roles)) or 'no role'}",
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
    clocks, finished, entered = _enter(book, incident, _Entered(destination, severity, revision), now)
    if book.until_reply and ("public_reply" in checked or "contact_route" in checked):
        clocks, finished, replied = _replied(book, incident.id, clocks, finished, now)
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
    effects: list[Effect] = [
        Audit(now, "transition", summary, act.actor.person, details),
        *entered,
    ]
    if transition.mutes_author is not None:
        until = facts[MUTED_UNTIL]
        effects.append(
            Audit(
                now,
                "muted",
                f"{incident.author} muted on {incident.channel} until {_minute(datetime.fromisoformat(until))}: their "
                "posts are recorded here and page nobody, unless one is more severe",
                act.actor.person,
                {"author": incident.author, "channel": incident.channel, "until": until},
            )
        )
    if severity != incident.severity:
        effects.append(Audit(now, "severity", f"severity {incident.severity} -> {severity}", act.actor.person))
        fresh = frozenset(clock.name for clock in changed.clocks if clock.epoch == changed.revision)
        changed, moved = _reschedule(book, changed, incident.severity, fresh, now)
        effects += moved
    effects += _moved(book, incident, changed, now)
    return Stepped(changed, tuple(effects))


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


def _moved(book: Rulebook, before: Incident, after: Incident, now: datetime) -> list[Effect]:
    """What an action that moved an incident tells at once: the state entered, a raised level, a reopening."""
    effects = told(book, after, _ENTERED, now)
    if book.levels[after.severity] > book.levels[before.severity]:
        effects += told(book, after, _RAISED, now)
    if before.state == _RESOLVED and not book.is_final(after.state):
        effects += told(book, after, _REOPENED, now)
    return effects


def _roles_of(actor: Actor) -> str:
    return ", ".join(sorted(actor.roles)) or "no role"


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
                f"{act.trigger!r} is for {', '.join(found[0].by)}; {act.actor.person} has {_roles_of(act.actor)}",
            )
        return found[0]
    if all(act.actor.roles.isdisjoint(transition.by) for transition in found):
        roles = sorted({role for transition in found for role in transition.by})
        return Refused(
            RefusalReason.ROLE_NOT_ALLOWED,
            f"{act.trigger!r} is for {', '.join(roles)}; {act.actor.person} has {_roles_of(act.actor)}",
        )
    for transition in found:
        if book.allows(transition, incident):
            if act.actor.roles.isdisjoint(transition.by):
                return Refused(
                    RefusalReason.ROLE_NOT_ALLOWED,
                    f"{act.trigger!r} is for {', '.join(transition.by)} when {_facts(incident)}; "
                    f"{act.actor.person} has {_roles_of(act.actor)}",
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


def _join(incident: Incident, join: JoinMention, now: datetime, book: Rulebook) -> Stepped | Refused:
    mention = join.mention
    if book.is_final(incident.state):
        return Refused(RefusalReason.CLOSED, f"the incident is closed ({incident.state}); open a new one")
    # A mention already received never gets here: intake finds it in the store's mentions, under the same lock.
    changed = incident.evolve(
        mention_count=incident.mention_count + 1,
        last_mention_at=max(incident.last_mention_at, mention.posted_at),
        revision=incident.revision + 1,
    )
    summary = f"mention {mention.channel}/{mention.external_id} joined{_from(mention)}"
    details = _about(mention, {"external_id": mention.external_id})
    if join.via is not None:
        summary += f": it belongs to {join.via}, which was merged into this incident"
        details["via"] = join.via
    effects: list[Effect] = [Audit(now, "mention", summary, details=details)]
    if incident.customer_id is None and mention.customer_id is not None:
        changed = changed.evolve(customer_id=mention.customer_id, customer_segment=mention.customer_segment)
        segment = f" (segment {mention.customer_segment})" if mention.customer_segment else ""
        effects.append(
            Audit(
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
        effects.append(Audit(now, "severity", f"severity {incident.severity} -> {level} ({because})"))
        changed, moved = _reschedule(book, changed, incident.severity, frozenset(), now)
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
    return Stepped(changed, (*effects, *started))


def _reopen(book: Rulebook, incident: Incident, destination: str, now: datetime) -> tuple[Incident, list[Effect]]:
    """A follow-up in a state that says ``reopen_on_follow_up`` moves the incident there, as an action would."""
    previous = incident.state
    clocks, finished, entered = _enter(book, incident, _Entered(destination, incident.severity, incident.revision), now)
    moved = incident.evolve(state=destination, entered_at=now, clocks=clocks, finished_clocks=finished)
    effects: list[Effect] = [
        Audit(
            now,
            "reopened",
            f"the customer wrote again: {previous} -> {destination}",
            details={"from": previous, "to": destination},
        ),
        *entered,
        *told(book, moved, EventKind.ENTERED, now),
    ]
    if previous == _RESOLVED:
        effects += told(book, moved, EventKind.REOPENED, now)
    return moved, effects


def _start_follow_up_clocks(book: Rulebook, incident: Incident, now: datetime) -> tuple[Incident, list[Effect]]:
    """The targets ``from: follow_up`` start when the customer writes again, unless already running: each run is
    judged on its own, so a breach of the last run is forgotten as a new one starts."""
    effects: list[Effect] = []
    for name in book.per_follow_up:
        if incident.clock(name) is not None:
            continue
        started = _start(book, name, _Entered(incident.state, incident.severity, incident.revision), now)
        if started is None:
            continue
        if name in book.paused_in(incident.state):  # the customer wrote while we wait on them: it waits too
            started = start_paused(started, now)
        incident = incident.evolve(clocks=(*incident.clocks, started), breached=incident.breached - {name})
        effects += _arm(incident.id, started)
    return incident, effects


_NO_TIME = timedelta(0)


def _minute(moment: datetime) -> str:
    """``2026-11-23 13:00Z``: a UTC moment to the minute, for people (quicker than strftime)."""
    text = moment.astimezone(UTC).isoformat()
    return f"{text[:10]} {text[11:16]}Z"


def _kind(fraction: float) -> NotifyKind:
    if fraction < 1.0:
        return NotifyKind.WARNING
    return NotifyKind.BREACH if fraction == 1.0 else NotifyKind.ESCALATION


def _armed(incident: Incident, key: str) -> ClockState | None:
    """The running clock whose armed deadline has this key, if any."""
    name = DeadlineKey.clock_in(key, incident.id)
    for clock in incident.clocks:
        if clock.name == name and clock.next is not None and deadline_key(incident.id, clock, clock.next) == key:
            return clock
    return None


def _collapse(
    clock: ClockState, due_now: list[Occurrence], schedule: Schedule
) -> tuple[list[Occurrence], list[str], list[int]]:
    """The steps a severity change made overdue at once collapse into the latest of them: one notification at the
    step current at the change, to everyone the steps it stands for would have told. Steps that fell due later
    (the daemon was down) are each told as before. Gives what is told, the roles of the steps collapsed and
    their indexes."""
    cutoff = clock.replanned_at
    made_overdue = [item for item in due_now if cutoff is not None and item.at <= cutoff]
    if len(made_overdue) < 2:
        return due_now, [], []
    points = schedule.points
    roles = [role for item in made_overdue[:-1] for role in points[schedule.orders[item.step]].roles]
    kept = [item for item in due_now if item not in made_overdue[:-1]]
    return kept, roles, [item.step for item in made_overdue[:-1]]


def _heard_elsewhere(
    roles: tuple[str, ...], told: Mapping[str, tuple[datetime, str]], clock: str, since: datetime
) -> set[str]:
    """The roles another clock of the incident told after ``since`` (the repeat before this one was due): a repeat
    merges into what they heard."""
    return {role for role in roles if role in told and told[role][1] != clock and told[role][0] > since}


def _deadline(incident: Incident, reached: DeadlineReached, now: datetime, book: Rulebook) -> Stepped:
    clock = _armed(incident, reached.key)
    if clock is None:  # already handled, or the clock stopped: a deadline that fires twice changes nothing twice
        return Stepped(incident, ())
    plan = book.plan(clock.name, incident.severity)
    if plan is None:  # pragma: no cover - a running clock always has a limit at the current level
        return Stepped(incident, ())
    _, counter, schedule = plan
    counter, moment = clocked(clock, counter, now)  # a clock standing still is read as of its pause
    due, following = due_occurrences(clock, schedule, counter, moment)
    points = schedule.points
    if len(due) > 1:  # repeats missed while down collapse to one, the latest
        latest = {occurrence.step: occurrence for occurrence in due}
        due_now = sorted(latest.values(), key=lambda item: (item.offset, item.step))
    else:
        due_now = due
    due_now, overdue_roles, collapsed = _collapse(clock, due_now, schedule)
    notices: list[Notify] = []
    told_now = dict(incident.told)
    left_out: list[tuple[str, str, datetime]] = []
    breached = any(points[schedule.orders[item.step]].fraction >= 1.0 for item in due)
    for position, occurrence in enumerate(due_now):
        point = points[schedule.orders[occurrence.step]]
        roles = tuple(dict.fromkeys((*overdue_roles, *point.roles))) if position == 0 else point.roles
        if occurrence.repetition and point.merge_repeats and point.repeat is not None:
            merged = _heard_elsewhere(roles, told_now, clock.name, occurrence.at - point.repeat)
            left_out += [(role, told_now[role][1], told_now[role][0]) for role in merged]
            roles = tuple(role for role in roles if role not in merged)
        if not roles:
            continue
        for role in roles:
            told_now[role] = (now, clock.name)
        notices.append(
            Notify(
                key=deadline_key(incident.id, clock, occurrence),
                incident=incident.id,
                roles=roles,
                kind=_kind(point.fraction),
                clock=clock.name,
                state=incident.state,
                severity=incident.severity,
                step=occurrence.step,
                repetition=occurrence.repetition,
                threshold=point.fraction,
                scheduled_at=occurrence.at,
                due_at=clock.due_at,
                # A step a severity change made due is told as soon as it could be: not late.
                late_by=max(now - max(occurrence.at, clock.replanned_at or occurrence.at), _NO_TIME),
            )
        )
    following = None if clock.paused_at is not None else following  # the rest waits for the resume
    moved = clock._replace(fired=due[-1] if due else clock.fired, next=following, replanned_at=None)
    clocks = tuple(moved if item is clock else item for item in incident.clocks)
    audits: list[Effect] = []
    newly_breached = breached and clock.name not in incident.breached
    told_as = MappingProxyType(told_now) if notices else incident.told
    if not newly_breached:
        changed = incident.evolve(clocks=clocks, told=told_as)
    else:
        changed = incident.evolve(clocks=clocks, breached=incident.breached | {clock.name}, told=told_as)
        audits.append(
            Audit(
                now,
                "breach",
                f"{clock.name} breached: its time was up at {_minute(clock.due_at)}",
                details={"clock": clock.name, "due_at": clock.due_at.isoformat()},
            )
        )
    for position, notify in enumerate(notices):
        details: dict[str, Any] = {"key": notify.key, "roles": list(notify.roles)}
        summary = f"{notify.kind.value} on {clock.name}: notify {', '.join(notify.roles)}"
        if collapsed and position == 0:
            details["collapsed_steps"] = collapsed
            summary += f" (for {len(collapsed) + 1} steps overdue at once)"
        audits.append(Audit(now, "escalation", summary, details=details))
    for role, other, at in left_out:
        audits.append(
            Audit(
                now,
                "repeat_merged",
                f"repeat on {clock.name} left out for {role}: told at {_minute(at)} from {other}",
                details={"role": role, "clock": clock.name, "told_from": other, "told_at": at.isoformat()},
            )
        )
    events = told(book, changed, EventKind.BREACH, now, clock=moved) if newly_breached else []
    return Stepped(changed, (*audits, *notices, *events, *_arm(incident.id, moved)))
