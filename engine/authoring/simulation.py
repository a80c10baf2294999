"""Running a timeline against a playbook on a simulated clock, and telling what happened as a story.

The simulation plays the daemon's part in memory: it opens incidents for mentions, lets people act, keeps the
armed deadlines and fires each exactly when due, through the same pure ``step`` the daemon uses. Nothing sleeps.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.authoring.timeline import Timeline, TimelineEvent
from engine.incident import (
    Act,
    Actor,
    ArmDeadline,
    Audit,
    CancelDeadline,
    DeadlineReached,
    Effect,
    Incident,
    JoinInto,
    JoinMention,
    Mention,
    NoMatch,
    Notify,
    NotifyKind,
    Refused,
    Rulebook,
    Stepped,
    open_incident,
    route,
    step,
)
from engine.playbook import format_duration
from engine.service import day_time, offset_zone, wall_time

__all__ = ["IncidentView", "Simulation", "StoryLine", "render_story", "simulate"]

#: A runaway repeat (every minute for a year) stops here rather than filling the screen.
MAX_DEADLINES = 20_000


@dataclass(frozen=True, slots=True)
class StoryLine:
    at: datetime
    offset: timedelta
    kind: str
    text: str
    incident: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IncidentView:
    """What a playbook test can look at: one incident at one moment."""

    number: int
    id: str
    state: str
    severity: str
    breached: frozenset[str]
    notified: frozenset[str]
    refused: tuple[str, ...]


@dataclass
class Simulation:
    lines: list[StoryLine] = field(default_factory=list)
    #: For each probe time asked for: the incidents as they were then (after everything up to that time).
    snapshots: list[list[IncidentView]] = field(default_factory=list)
    stopped_early: bool = False


class _World:
    def __init__(self, book: Rulebook, timeline: Timeline) -> None:
        self.book = book
        self.timeline = timeline
        self.incidents: list[Incident] = []
        self.deadlines: list[tuple[datetime, str, int]] = []  # a heap of (at, key, incident index)
        self.armed: set[str] = set()
        self.notified: list[set[str]] = []
        self.refused: list[list[str]] = []
        self.fired = 0
        #: The posts seen so far, by (channel, external id) and by normalised link, as the daemon's store keeps them.
        self.seen: dict[object, str] = {}
        self.now = timeline.start  # the latest moment played so far: time never runs backwards in the story
        #: The story is told in the timeline's own offset (its start's), whatever offset each moment was made in.
        self.zone = offset_zone(timeline.start)
        self.result = Simulation()

    # --- the story --------------------------------------------------------------------------------------------

    def say(self, at: datetime, kind: str, text: str, incident: str | None = None, **details: Any) -> None:
        offset = at - self.timeline.start
        self.result.lines.append(StoryLine(at.astimezone(self.zone.tz), offset, kind, text, incident, details))

    def _due(self, at: datetime, base: datetime) -> str:
        delta = at - base
        if not delta:
            return f"{wall_time(at, self.zone)} (now)"
        when = f"in {format_duration(delta)}" if delta.total_seconds() > 0 else f"{format_duration(-delta)} ago"
        return f"{wall_time(at, self.zone)} ({when})"

    def apply(self, index: int, stepped: Stepped, now: datetime) -> None:
        incident = stepped.incident
        old = self.incidents[index].clocks if index < len(self.incidents) else ()
        before = {clock.name: (clock.epoch, clock.due_at) for clock in old}
        if index < len(self.incidents):
            self.incidents[index] = incident
        else:
            self.incidents.append(incident)
            self.notified.append(set())
            self.refused.append([])
        for effect in stepped.effects:
            self._effect(index, incident, effect, now)
        for clock in incident.clocks:
            was = before.get(clock.name)
            if was == (clock.epoch, clock.due_at):
                continue
            verb = "now due" if was is not None and was[0] == clock.epoch else "runs: due"
            self.say(
                now,
                "clock",
                f"{clock.name} {verb} {self._due(clock.due_at, now)}",
                incident.id,
                clock=clock.name,
                due_at=clock.due_at.isoformat(),
            )

    def _effect(self, index: int, incident: Incident, effect: Effect, now: datetime) -> None:
        if isinstance(effect, ArmDeadline):
            self.armed.add(effect.key)
            heapq.heappush(self.deadlines, (effect.at, effect.key, index))
        elif isinstance(effect, CancelDeadline):
            self.armed.discard(effect.key)
        elif isinstance(effect, Notify):
            self.notified[index].update(effect.roles)
            late = f", {format_duration(effect.late_by)} late" if effect.late_by else ""
            share = f"{effect.threshold:.0%}"
            repeat = f" (repeat {effect.repetition})" if effect.repetition else ""
            when = "due " + self._due(effect.due_at, now)
            self.say(
                now,
                effect.kind.value,
                f"{effect.clock} at {share}{repeat}: notify {', '.join(effect.roles)}; {when}{late}",
                incident.id,
                clock=effect.clock,
                roles=list(effect.roles),
                key=effect.key,
                threshold=effect.threshold,
                late_by=effect.late_by.total_seconds(),
            )
        elif isinstance(effect, Audit) and effect.kind == "breach" and "due_at" in effect.details:
            # The runtime's own words give the time in UTC; the story gives every time in its own offset.
            due_at = datetime.fromisoformat(str(effect.details["due_at"]))
            text = f"{effect.details['clock']} breached: its time was up at {wall_time(due_at, self.zone)}"
            self.say(now, effect.kind, text, incident.id, **dict(effect.details))
        elif isinstance(effect, Audit) and effect.kind != "escalation":
            by = f" by {effect.actor}" if effect.actor else ""
            self.say(now, effect.kind, f"{effect.summary}{by}", incident.id, **dict(effect.details))

    # --- time -------------------------------------------------------------------------------------------------

    def run_deadlines(self, until: datetime) -> None:
        """Fire every armed deadline due at or before ``until``, each at its own time."""
        while self.deadlines and self.deadlines[0][0] <= until:
            at, key, index = heapq.heappop(self.deadlines)
            at = max(at, self.now)  # armed for a moment already past (a raise breaching a clock): due at once
            if key not in self.armed:
                continue  # cancelled since it was armed
            self.armed.discard(key)
            self.fired += 1
            if self.fired > MAX_DEADLINES:
                self.result.stopped_early = True
                self.say(at, "stopped", f"stopped after {MAX_DEADLINES:,} deadlines; set 'until' earlier")
                self.deadlines.clear()
                return
            outcome = step(self.incidents[index], DeadlineReached(key), at, self.book)
            if isinstance(outcome, Stepped):
                self.apply(index, outcome, at)

    # --- events -----------------------------------------------------------------------------------------------

    def event(self, event: TimelineEvent) -> None:
        self.now = max(self.now, event.at)
        if event.mention is not None:
            self.mention(event.mention, event.at)
        else:
            self.act(event)

    def mention(self, mention: Mention, now: datetime) -> None:
        same = self.seen.get(mention.key) or (mention.url_key and self.seen.get(mention.url_key))
        if same:
            self.say(now, "duplicate", f"a mention on {mention.channel} by {mention.author.handle}: {same}")
            return
        self.seen[mention.key] = f"already received as {mention.channel}/{mention.external_id}"
        if mention.url_key:
            self.seen[mention.url_key] = f"the same post as {mention.channel}/{mention.external_id}"
        # The daemon's own policy (route), over the incidents played so far, the oldest first.
        where = route(mention, [(incident, self.book) for incident in self.incidents], [self.book])
        if isinstance(where, JoinInto):
            index = self.incidents.index(where.incident)
            outcome = step(where.incident, JoinMention(mention), now, self.book)
            if isinstance(outcome, Stepped):
                self.apply(index, outcome, now)
            return
        if isinstance(where, NoMatch):
            reason = f"{self.book.playbook.id} does not apply to it (see its applies_to)"
            self.say(now, "ignored", f"a mention on {mention.channel} by {mention.author.handle}: {reason}")
            return
        number = len(self.incidents) + 1
        self.apply(len(self.incidents), open_incident(f"inc-{number}", mention, self.book, now), now)

    def act(self, event: TimelineEvent) -> None:
        if event.act is None or event.by is None:  # pragma: no cover - the timeline reader guarantees both
            return
        index = event.incident - 1
        if index >= len(self.incidents):
            self.say(event.at, "skipped", f"{event.act} by {event.by}: there is no incident {event.incident} yet")
            return
        incident = self.incidents[index]
        actor = Actor(event.by, self.timeline.people[event.by])
        outcome = step(incident, Act(event.act, actor, event.fields), event.at, self.book)
        if isinstance(outcome, Refused):
            self.refused[index].append(event.act)
            self.say(
                event.at,
                "refused",
                f"{event.act} by {event.by} refused: {outcome.message}",
                incident.id,
                action=event.act,
                reason=outcome.reason.value,
            )
            return
        self.apply(index, outcome, event.at)

    def view(self) -> list[IncidentView]:
        return [
            IncidentView(
                number + 1,
                incident.id,
                incident.state,
                incident.severity,
                incident.breached,
                frozenset(self.notified[number]),
                tuple(self.refused[number]),
            )
            for number, incident in enumerate(self.incidents)
        ]


def simulate(book: Rulebook, timeline: Timeline, probes: Sequence[datetime] = ()) -> Simulation:
    """Play the timeline; for each probe time, keep a view of the incidents as they were then."""
    world = _World(book, timeline)
    pending_probes = sorted(enumerate(probes), key=lambda item: item[1])
    snapshots: dict[int, list[IncidentView]] = {}

    def take_probes(upto: datetime | None) -> None:
        while pending_probes and (upto is None or pending_probes[0][1] < upto):
            position, moment = pending_probes.pop(0)
            world.run_deadlines(moment)
            snapshots[position] = world.view()

    for event in timeline.events:
        take_probes(event.at)
        world.run_deadlines(event.at)
        world.event(event)
    end = max([timeline.until, *probes]) if probes else timeline.until
    take_probes(None)
    world.run_deadlines(end)
    world.result.snapshots = [snapshots[position] for position in range(len(probes))]
    return world.result


_SHOUT = {NotifyKind.WARNING.value, NotifyKind.BREACH.value, NotifyKind.ESCALATION.value, "refused"}


def render_story(result: Simulation) -> str:
    """The story, one line per happening: offset, time, incident, what."""
    rows = []
    times = [day_time(line.at, offset_zone(line.at)) for line in result.lines]
    width = max(map(len, times), default=0)  # seconds show only where there are some: keep the columns straight
    for line, when in zip(result.lines, times, strict=True):
        offset = "+" + format_duration(line.offset) if line.offset.total_seconds() else "+0"
        label = line.kind.upper() if line.kind in _SHOUT else line.kind
        who = f"[{line.incident}] " if line.incident else ""
        rows.append(f"{offset:>9}  {when:<{width}}  {label:<10} {who}{line.text}")
    return "\n".join(rows) + "\n"
