"""The step function: an incident, a command and the current time in; the new incident and its effects out.

Pure and deterministic: the same incident, command, time and rulebook always give the same result, and a refused
command returns a :class:`Refused` that says which rule and why, leaving the incident as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple

from engine.incident._clocks import deadline_key, due_occurrences, replan, start_clock
from engine.incident._draft import approved_reply, draft_step, template_reply
from engine.incident._fields import check_fields
from engine.incident._keys import DeadlineKey
from engine.incident._mention import Mention
from engine.incident._record import (
    Act,
    AddNote,
    ArmDeadline,
    Audit,
    CancelDeadline,
    ClockState,
    Command,
    DeadlineReached,
    DraftReply,
    Effect,
    Incident,
    JoinMention,
    LinkIncident,
    LinkRelation,
    Notify,
    NotifyKind,
    RefusalReason,
    Refused,
    SetOwner,
    Stepped,
)
from engine.incident._rulebook import Rulebook
from engine.incident._teamwork import add_note, set_owner
from engine.playbook import LIFECYCLE, format_duration

__all__ = ["open_incident", "step"]


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
    targets = book.playbook.targets
    for clock in incident.clocks:
        target = targets.get(clock.name)
        met = target is not None and state in target.until
        if target is None or met or final:  # a state's limit (every clock but a target's) stops as it is left
            if clock.next is not None:
                effects.append(CancelDeadline(deadline_key(incident.id, clock, clock.next), clock.name))
            if target is not None:
                finished = finished | {clock.name}
                late = now - clock.due_at
                verdict = "met" if met else "stopped"
                timing = f"{format_duration(late)} late" if late.total_seconds() > 0 else "on time"
                effects.append(
                    Audit(
                        now,
                        f"target_{verdict}",
                        f"{clock.name} {verdict} ({timing})",
                        details={"clock": clock.name, "due_at": clock.due_at.isoformat()},
                    )
                )
            continue
        kept.append(clock)
    if final:
        return tuple(kept), finished, effects
    running = {clock.name for clock in kept}
    names = [book.limit_clock(state)] + [
        name for name in book.targets_starting_in(state) if name not in running and name not in finished
    ]
    for name in names:
        started = _start(book, name, entered, now)
        if started is not None:
            kept.append(started)
            if started.next is not None:
                effects.append(ArmDeadline(deadline_key(incident.id, started, started.next), started.next.at, name))
    return tuple(kept), finished, effects


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
        moved = replan(clock, schedule, counter, incident.revision, now)
        effects += [*_cancel(incident.id, clock), *_arm(incident.id, moved)]
        clocks.append(moved)
    return incident.evolve(clocks=tuple(clocks)), effects


def _from(mention: Mention) -> str:
    return f" (from {mention.source})" if mention.source else ""


def _about(mention: Mention, details: dict[str, Any]) -> dict[str, Any]:
    """An audit entry's details on a mention: its author, and the listening tool that sent it when it says."""
    details["author"] = mention.author.handle
    if mention.source:
        details["source"] = mention.source
    if mention.sent_channel:
        details["sent_channel"] = mention.sent_channel
    return details


def open_incident(
    incident_id: str, mention: Mention, book: Rulebook, now: datetime, *, follows: tuple[str, str] | None = None
) -> Stepped:
    """A new incident in ``detected`` for a mention this rulebook applies to, with its clocks running.

    ``follows`` is (id, playbook) of the open incident of a lower-priority playbook the mention would otherwise
    have joined: the new incident is linked to it, and its history says so."""
    playbook = book.playbook
    severity = book.severity_of(mention)
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
        links=() if follows is None else ((follows[0], LinkRelation.FOLLOW_UP_OF.value),),
    )
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
    return Stepped(incident.evolve(clocks=clocks, finished_clocks=finished), (opened, *linked, *effects))


def step(incident: Incident, command: Command, now: datetime, book: Rulebook) -> Stepped | Refused:
    """Apply one command at ``now`` under the incident's own rulebook."""
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
    if isinstance(command, DraftReply):
        return draft_step(incident, command, now, book)
    return _act(incident, command, now, book)


def _link(incident: Incident, link: LinkIncident, now: datetime) -> Stepped:
    """Record a link to another incident. Allowed on a closed incident too: the history stays true."""
    pair = (link.incident, link.relation.value)
    if pair in incident.links:
        return Stepped(incident, ())
    changed = incident.evolve(links=(*incident.links, pair), revision=incident.revision + 1)
    if link.relation is LinkRelation.FOLLOWED_UP_BY:
        summary = f"opened {link.incident} under {link.playbook}: this post matches a higher-priority playbook"
    else:
        summary = f"linked to {link.incident} ({link.playbook}): a follow-up from its author"
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
    if book.is_final(incident.state):
        return Refused(RefusalReason.CLOSED, f"the incident is closed ({incident.state}); nothing more can be done")
    if act.expected_revision is not None and act.expected_revision != incident.revision:
        return Refused(
            RefusalReason.STALE,
            f"the incident changed since you looked (you saw revision {act.expected_revision}, it is now "
            f"{incident.revision}); look again before acting",
        )
    transition = book.transition(act.trigger, incident.state)
    if transition is None:
        return Refused(
            RefusalReason.NOT_AVAILABLE,
            f"{act.trigger!r} can be taken from {', '.join(book.sources_of(act.trigger))}; the incident is in "
            f"{incident.state}",
        )
    if act.actor.roles.isdisjoint(transition.by):
        return Refused(
            RefusalReason.ROLE_NOT_ALLOWED,
            f"{act.trigger!r} is for {', '.join(transition.by)}; {act.actor.person} has "
            f"{', '.join(sorted(act.actor.roles)) or 'no role'}",
        )
    checked = check_fields(transition, act.fields, incident, book)
    if isinstance(checked, Refused):
        return checked
    approval: Mapping[str, Any] | None = None
    if transition.posts_reply and "public_reply" in checked:
        text = checked["public_reply"]["text"]
        approved = approved_reply(incident, transition, text)
        if isinstance(approved, Refused):
            return approved
        approval = approved
        refused = template_reply(incident, transition, text, book)
        if refused is not None:
            return refused
    destination = book.destination(act.trigger, incident.state)
    previous = incident.state
    facts = dict(incident.facts)
    facts.update(checked)
    severity = checked.get("severity", incident.severity)
    revision = incident.revision + 1
    clocks, finished, entered = _enter(book, incident, _Entered(destination, severity, revision), now)
    changed = incident.evolve(
        state=destination,
        severity=severity,
        entered_at=now,
        revision=revision,
        facts=MappingProxyType(facts),
        clocks=clocks,
        finished_clocks=finished,
        draft=None,  # a draft is written for the incident where it stands; once it moves on, none is left
    )
    summary = f"{act.trigger}: {previous} -> {destination}"
    details: dict[str, Any] = {"trigger": act.trigger, "from": previous, "to": destination, "fields": dict(act.fields)}
    if approval is not None:
        summary += f" (the reply {approval['approved_by']} approved, word for word)"
        details["approval"] = approval
    effects: list[Effect] = [
        Audit(now, "transition", summary, act.actor.person, details),
        *entered,
    ]
    if severity != incident.severity:
        effects.append(Audit(now, "severity", f"severity {incident.severity} -> {severity}", act.actor.person))
        fresh = frozenset(clock.name for clock in changed.clocks if clock.epoch == changed.revision)
        changed, moved = _reschedule(book, changed, incident.severity, fresh, now)
        effects += moved
    return Stepped(changed, tuple(effects))


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
    effects: list[Effect] = [
        Audit(
            now,
            "mention",
            f"mention {mention.channel}/{mention.external_id} joined{_from(mention)}",
            details=_about(mention, {"external_id": mention.external_id}),
        )
    ]
    level = book.severity_of(mention)
    if book.levels[level] > book.levels[incident.severity]:
        changed = changed.evolve(severity=level)
        effects.append(Audit(now, "severity", f"severity {incident.severity} -> {level} (a new mention)"))
        changed, moved = _reschedule(book, changed, incident.severity, frozenset(), now)
        effects += moved
    return Stepped(changed, tuple(effects))


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


def _deadline(incident: Incident, reached: DeadlineReached, now: datetime, book: Rulebook) -> Stepped:
    clock = _armed(incident, reached.key)
    if clock is None:  # already handled, or the clock stopped: a deadline that fires twice changes nothing twice
        return Stepped(incident, ())
    plan = book.plan(clock.name, incident.severity)
    if plan is None:  # pragma: no cover - a running clock always has a limit at the current level
        return Stepped(incident, ())
    _, counter, schedule = plan
    due, following = due_occurrences(clock, schedule, counter, now)
    points = schedule.points
    if len(due) > 1:  # repeats missed while down collapse to one, the latest
        latest = {occurrence.step: occurrence for occurrence in due}
        due_now = sorted(latest.values(), key=lambda item: (item.offset, item.step))
    else:
        due_now = due
    notices: list[Notify] = []
    breached = False
    for occurrence in due_now:
        point = points[schedule.orders[occurrence.step]]
        breached = breached or point.fraction >= 1.0
        if not point.roles:
            continue
        notices.append(
            Notify(
                key=deadline_key(incident.id, clock, occurrence),
                incident=incident.id,
                roles=point.roles,
                kind=_kind(point.fraction),
                clock=clock.name,
                state=incident.state,
                severity=incident.severity,
                step=occurrence.step,
                repetition=occurrence.repetition,
                threshold=point.fraction,
                scheduled_at=occurrence.at,
                due_at=clock.due_at,
                late_by=max(now - occurrence.at, _NO_TIME),
            )
        )
    moved = clock._replace(fired=due[-1] if due else clock.fired, next=following)
    clocks = tuple(moved if item is clock else item for item in incident.clocks)
    audits: list[Effect] = []
    newly_breached = breached and clock.name not in incident.breached
    if not newly_breached:
        changed = incident.evolve(clocks=clocks)
    else:
        changed = incident.evolve(clocks=clocks, breached=incident.breached | {clock.name})
        audits.append(
            Audit(
                now,
                "breach",
                f"{clock.name} breached: its time was up at {_minute(clock.due_at)}",
                details={"clock": clock.name, "due_at": clock.due_at.isoformat()},
            )
        )
    for notify in notices:
        audits.append(
            Audit(
                now,
                "escalation",
                f"{notify.kind.value} on {clock.name}: notify {', '.join(notify.roles)}",
                details={"key": notify.key, "roles": list(notify.roles)},
            )
        )
    return Stepped(changed, (*audits, *notices, *_arm(incident.id, moved)))
