"""Running a timeline against a playbook on a simulated clock, and telling what happened as a story.

The simulation runs the daemon's own service over a store in memory (the same SQL, the same intake policy, the
same deadlines): it sends each mention in, takes each action, and moves the clock to each armed deadline in turn,
firing it the moment it is due. It tells the story from the changes the service commits. Nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.authoring.timeline import Timeline, TimelineEvent
from engine.incident import (
    Actor,
    Audit,
    DraftReply,
    Effect,
    Incident,
    Mention,
    Notify,
    NotifyKind,
    Refused,
    Rulebook,
    standing,
)
from engine.playbook import format_duration
from engine.service import Change, IntakeStatus, Library, Service, SimulatedClock, day_time, offset_zone, wall_time
from engine.store import SQLiteStore, Store

__all__ = ["IncidentView", "Notice", "PromiseView", "Simulation", "StoryLine", "Trail", "render_story", "simulate"]

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
    #: Every notification about the incident, in order: to whom, from which clock, of which kind, and how late.
    notices: tuple[Notice, ...] = ()
    #: Every refused action, in order, with the runtime's reason (``house_rule``, ``role_not_allowed`` ...).
    refusals: tuple[tuple[str, str], ...] = ()
    #: The targets met (the incident reached one of their until states, or the team replied), each with whether it
    #: was met late.
    met: tuple[tuple[str, bool], ...] = ()
    #: How many mentions the incident holds, the opening one included.
    mentions: int = 1
    #: The promise ledger: every offer made under the offers catalogue, kept or still open, at that moment.
    promises: tuple[PromiseView, ...] = ()
    #: Every draft reply approved, in order: (the action, the person who approved it).
    approvals: tuple[tuple[str, str], ...] = ()
    #: Where the incident's draft reply stands now (pending, returned, approved), or None.
    draft: str | None = None
    #: The clocks standing still in one of their ``paused_in`` states, each as (clock, time counted, time left),
    #: in its own counted time: the time it stood still is in neither.
    paused: tuple[tuple[str, timedelta, timedelta], ...] = ()
    #: The playbook it runs under (a crisis a surge opened runs under another), and its surge rules that fired.
    playbook: str = ""
    surged: tuple[str, ...] = ()
    #: The incidents it is linked to, as (incident number, relation): a crisis and the groups that surged into it.
    links: tuple[tuple[int, str], ...] = ()

    @property
    def notified(self) -> frozenset[str]:
        """The roles notified about the incident."""
        return frozenset(notice.role for notice in self.notices)

    @property
    def refused(self) -> tuple[str, ...]:
        """The actions refused, in order."""
        return tuple(action for action, _ in self.refusals)


@dataclass(frozen=True, slots=True)
class Notice:
    """One role told about one clock (a warning, a breach or an escalation, and whether it came late), or about an
    event a ``notify_on`` rule tells of at once."""

    role: str
    clock: str
    kind: str
    late: bool
    #: The escalation step behind it, counting from 1 as the playbook lists them (None: an event, or the bare
    #: breach no step sits at).
    step: int | None = None
    #: What happened, for an event notification (``opened``, ``entered`` ...).
    event: str | None = None


@dataclass
class Trail:
    """What runs did, as the runtime said it: every effect the service committed and every refused action (the
    action, and the refusal), in order. What ``calmly test --coverage`` counts.

    It holds the runtime's own objects, not copies, so keeping it costs a list append per change: every run keeps
    one, and a report that does not need it never reads it.
    """

    effects: list[Effect] = field(default_factory=list)
    refusals: list[tuple[str, Refused]] = field(default_factory=list)

    def extend(self, other: Trail) -> None:
        """Add what another run did, after what this trail holds."""
        self.effects.extend(other.effects)
        self.refusals.extend(other.refusals)


@dataclass(frozen=True, slots=True)
class PromiseView:
    """One promise as a playbook test sees it: kept or not, and late (kept after its due time, or still open when
    it comes) or in time; ``breached`` when its clock reached 100%."""

    id: str
    kind: str
    kept: bool
    late: bool
    breached: bool


@dataclass
class Simulation:
    lines: list[StoryLine] = field(default_factory=list)
    #: For each probe time asked for: the incidents as they were then (after everything up to that time).
    snapshots: list[list[IncidentView]] = field(default_factory=list)
    stopped_early: bool = False
    trail: Trail = field(default_factory=Trail)


class _World:
    """The service over a store in memory, and the story told from what it commits."""

    def __init__(self, book: Rulebook, timeline: Timeline, store: Store, others: Sequence[Rulebook] = ()) -> None:
        self.book = book
        self.timeline = timeline
        self.clock = SimulatedClock(timeline.start)
        library = Library(store)
        library.hold([book, *others], timeline.start)
        self.library = library
        self.service = Service(store, library, self.clock.now, on_change=self.changed, measured=False)
        #: Each incident as it is now, in the order they opened, with whom it notified, what it refused and which
        #: targets it met.
        self.incidents: dict[str, Incident] = {}
        self.notices: dict[str, list[Notice]] = {}
        self.refusals: dict[str, list[tuple[str, str]]] = {}
        self.met: dict[str, list[tuple[str, bool]]] = {}
        self.approvals: dict[str, list[tuple[str, str]]] = {}
        self.fired = 0
        self.now = timeline.start  # the latest event played so far: time never runs backwards in the story
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

    def changed(self, change: Change) -> None:
        """One change the service committed: its effects in order, then the clocks it started or moved."""
        incident, now = change.stepped.incident, change.at
        before = {clock.name: (clock.epoch, clock.due_at) for clock in (change.before.clocks if change.before else ())}
        stood = {clock.name for clock in (change.before.clocks if change.before else ()) if clock.paused}
        self.incidents[incident.id] = incident
        self.notices.setdefault(incident.id, [])
        self.refusals.setdefault(incident.id, [])
        self.met.setdefault(incident.id, [])
        if incident.playbook_digest == self.book.playbook.digest:  # what the playbook under test did, not the others
            self.result.trail.effects.extend(change.stepped.effects)
        self.approvals.setdefault(incident.id, [])
        for effect in change.stepped.effects:
            self._effect(incident, effect, now)
        for clock in incident.clocks:
            was = before.get(clock.name)
            if was == (clock.epoch, clock.due_at) or clock.paused:  # a paused clock is due at no time: "paused" said so
                continue
            verb = "now due" if was is not None and was[0] == clock.epoch else "runs: due"
            verb = "resumes: due" if clock.name in stood else verb
            self.say(
                now,
                "clock",
                f"{clock.name} {verb} {self._due(clock.due_at, now)}",
                incident.id,
                clock=clock.name,
                due_at=clock.due_at.isoformat(),
            )

    def _effect(self, incident: Incident, effect: Effect, now: datetime) -> None:
        if isinstance(effect, Notify) and effect.event is not None:
            self.notices[incident.id].extend(
                Notice(role, effect.clock, effect.kind.value, False, event=effect.event) for role in effect.roles
            )
            playbook = self.library.by_digest(incident.playbook_digest).playbook
            rule = (playbook.surges if effect.event == "surge" else playbook.notify_on)[effect.step]
            what = f"{effect.event} ({effect.clock})" if effect.clock else effect.event
            if effect.event == "surge":
                what = f"surge {playbook.surges[effect.step].name}"
            self.say(
                now,
                effect.kind.value,
                f"{what}: notify {', '.join(effect.roles)} at once"
                + (f"; {rule.description}" if rule.description else ""),
                incident.id,
                event=effect.event,
                roles=list(effect.roles),
                key=effect.key,
            )
        elif isinstance(effect, Notify):
            came_late = bool(effect.late_by)
            step = effect.step + 1 if effect.step >= 0 else None
            self.notices[incident.id].extend(
                Notice(role, effect.clock, effect.kind.value, came_late, step) for role in effect.roles
            )
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
        elif isinstance(effect, Audit) and effect.kind == "target_met":
            self.met[incident.id].append((str(effect.details["clock"]), bool(effect.details.get("late"))))
            self.say(now, effect.kind, effect.summary, incident.id, **dict(effect.details))
        elif isinstance(effect, Audit) and effect.kind == "breach" and "due_at" in effect.details:
            # The runtime's own words give the time in UTC; the story gives every time in its own offset.
            due_at = datetime.fromisoformat(str(effect.details["due_at"]))
            text = f"{effect.details['clock']} breached: its time was up at {wall_time(due_at, self.zone)}"
            self.say(now, effect.kind, text, incident.id, **dict(effect.details))
        elif isinstance(effect, Audit) and effect.kind == "promise" and "due_at" in effect.details:
            # Told with its due time in the story's own offset, and how long the team has, as clocks are.
            due_at = datetime.fromisoformat(str(effect.details["due_at"]))
            head = effect.summary.partition(", due ")[0]
            by = f" by {effect.actor}" if effect.actor else ""
            self.say(now, effect.kind, f"{head}, due {self._due(due_at, now)}{by}", incident.id, **dict(effect.details))
        elif isinstance(effect, Audit) and effect.kind not in ("escalation", "notice"):
            if effect.kind == "approved" and effect.actor is not None:
                self.approvals[incident.id].append((str(effect.details.get("trigger")), effect.actor))
            by = f" by {effect.actor}" if effect.actor else ""
            # A link's details name the other incident: kept as "linked", beside the incident the line is about.
            details = {("linked" if key == "incident" else key): value for key, value in effect.details.items()}
            self.say(now, effect.kind, f"{effect.summary}{by}", incident.id, **details)

    # --- time -------------------------------------------------------------------------------------------------

    def run_deadlines(self, until: datetime) -> None:
        """Fire every armed deadline due at or before ``until``, one at a time, each at its own time (or at once,
        when it was armed for a moment already past)."""
        while not self.result.stopped_early and (due := self.service.next_due()) is not None and due <= until:
            at = max(due, self.now, self.clock.now())
            if self.fired >= MAX_DEADLINES:
                self.result.stopped_early = True
                self.say(at, "stopped", f"stopped after {MAX_DEADLINES:,} deadlines; set 'until' earlier")
                return
            self.clock.set(at)
            self.fired += len(self.service.fire_due(limit=1))

    # --- events -----------------------------------------------------------------------------------------------

    def event(self, event: TimelineEvent) -> None:
        self.now = max(self.now, event.at)
        self.clock.set(max(event.at, self.clock.now()))
        if event.mention is not None:
            self.mention(event.mention, event.sent)
        else:
            self.act(event)

    def mention(self, mention: Mention, sent: Mapping[str, Any]) -> None:
        (result,) = self.service.ingest([dict(sent)])
        told = f"a mention on {mention.channel} by {mention.author.handle}"
        if result.status == IntakeStatus.DUPLICATE and result.same_as is not None:
            channel, external_id = result.same_as
            if (channel, external_id) == mention.key:
                self.say(self.clock.now(), "duplicate", f"{told}: already received as {channel}/{external_id}")
            else:
                self.say(self.clock.now(), "duplicate", f"{told}: the same post as {channel}/{external_id}")
        elif result.status == IntakeStatus.IGNORED:
            reason = f"{self.book.playbook.id} does not apply to it (see its applies_to)"
            self.say(self.clock.now(), "ignored", f"{told}: {reason}")
        elif result.status == IntakeStatus.MUTED:
            self.say(self.clock.now(), "muted", f"{told}: {result.message}", result.incident_id)

    def act(self, event: TimelineEvent) -> None:
        if event.act is None or event.by is None:  # pragma: no cover - the timeline reader guarantees both
            return
        ids = list(self.incidents)
        if event.incident > len(ids):
            self.say(event.at, "skipped", f"{event.act} by {event.by}: there is no incident {event.incident} yet")
            return
        incident_id = ids[event.incident - 1]
        roles = self.timeline.people[event.by]
        if event.draft is not None:
            command = DraftReply(event.draft, event.act, Actor(event.by, roles), dict(event.fields))
            outcome = self.service.draft(incident_id, command)
            doing = f"{event.draft.value} a draft of {event.act}"
        else:
            outcome = self.service.act(
                incident_id, event.act, person=event.by, roles=roles, fields=event.fields, version=None
            )
            doing = event.act
        if outcome.refused is not None:
            self.refusals[incident_id].append((event.act, outcome.refused.reason.value))
            self.result.trail.refusals.append((event.act, outcome.refused))
            self.say(
                event.at,
                "refused",
                f"{doing} by {event.by} refused: {outcome.refused.message}",
                incident_id,
                action=event.act,
                reason=outcome.refused.reason.value,
            )

    def _promises(self, incident: Incident) -> tuple[PromiseView, ...]:
        now = self.clock.now()
        return tuple(
            PromiseView(
                promise.id,
                promise.kind,
                promise.kept,
                # Kept after its time, or still open when its time is up (its breach, at 100%).
                promise.kept_at > promise.due_at if promise.kept_at is not None else now >= promise.due_at,
                promise.clock in incident.breached,
            )
            for promise in incident.promises
        )

    def view(self) -> list[IncidentView]:
        numbers = {incident_id: number for number, incident_id in enumerate(self.incidents, start=1)}
        return [
            IncidentView(
                number,
                incident.id,
                incident.state,
                incident.severity,
                incident.breached,
                tuple(self.notices[incident.id]),
                tuple(self.refusals[incident.id]),
                tuple(self.met[incident.id]),
                incident.mention_count,
                self._promises(incident),
                tuple(self.approvals[incident.id]),
                None if incident.draft is None else incident.draft.stage.value,
                self._paused(incident),
                incident.playbook,
                incident.surged,
                tuple((numbers[other], relation) for other, relation in incident.links if other in numbers),
            )
            for number, incident in enumerate(self.incidents.values(), start=1)
        ]

    def _paused(self, incident: Incident) -> tuple[tuple[str, timedelta, timedelta], ...]:
        found = []
        for clock in incident.clocks:
            book = self.library.by_digest(incident.playbook_digest)  # a crisis a surge opened has its own
            where = standing(book, clock, incident.severity, self.clock.now()) if clock.paused else None
            if where is not None:
                found.append((clock.name, *where))
        return tuple(found)


def simulate(
    book: Rulebook,
    timeline: Timeline,
    probes: Sequence[datetime] = (),
    *,
    store: Store | None = None,
    others: Sequence[Rulebook] = (),
) -> Simulation:
    """Play the timeline; for each probe time, keep a view of the incidents as they were then.

    ``others`` are playbooks run beside ``book``, as the daemon runs a set: the crisis playbooks its surges open
    incidents under. It runs in ``store`` when one is given (left open, to look into afterwards), else in a fresh
    store in memory.
    """
    own = store is None
    store = SQLiteStore.in_memory() if store is None else store
    try:
        world = _World(book, timeline, store, others)
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
    finally:
        if own:
            store.close()


_SHOUT = {
    NotifyKind.WARNING.value,
    NotifyKind.BREACH.value,
    NotifyKind.ESCALATION.value,
    NotifyKind.EVENT.value,
    "refused",
}


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
