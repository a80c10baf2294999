"""One recorded incident replayed through a playbook: the recorded mentions and people's actions at their recorded
times, and the deadlines the replay's own incident arms, fired in time order between them.

The recorded log holds the deadlines that fired under the playbook the incident ran under; under another playbook
they fall elsewhere, so a replay drives the clock itself. A deadline fires when it is due, or at the moment the
recording says it fired when the playbook armed it for the same time (the scheduler claims a due deadline a little
after it is due, and a replay must reproduce that to reproduce the history). A replay ends at the incident's last
recorded moment: what came after was not recorded, and neither replay guesses at it. An action the playbook refuses
is noted and passed over; the later ones are still tried, and so is each action the recording says was refused (a
changed playbook may allow it).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from engine.incident import (
    Act,
    ArmDeadline,
    Audit,
    CancelDeadline,
    Command,
    DeadlineReached,
    DraftReply,
    Effect,
    Incident,
    JoinMention,
    Mention,
    Notify,
    Refused,
    Rulebook,
    iso_moment,
    open_incident,
    parse_mention,
    step,
)
from engine.playbook import Failed
from engine.store import (
    AttemptCommand,
    JoinCommand,
    MutedCommand,
    OpenCommand,
    PassedOnCommand,
    RecordedIncident,
    decode_command,
)

__all__ = ["MAX_DEADLINES", "Firings", "Notice", "Refusal", "Replay", "ReplayError", "Script", "replay", "script"]

#: A runaway repeat (every minute for a year) stops a replay here.
MAX_DEADLINES = 20_000

#: When each deadline fired in a replay, by key (a key fires once): (the time it was due, the moment it fired, its
#: log position). Keyed by the text alone, as hashing an aware moment asks its zone for the offset.
Firings = Mapping[str, tuple[datetime, datetime, int]]


class ReplayError(ValueError):
    """A recorded incident that cannot be replayed: its log does not start with its opening, or a stored mention
    no longer parses."""


class Notice(NamedTuple):
    """One role told once: about a clock (a warning, breach or escalation at one step and repetition) or an
    event. A named tuple: a replay makes one for every role told, and a tuple is made in one call."""

    role: str
    clock: str
    kind: str
    step: int
    repetition: int
    event: str | None
    at: datetime

    @property
    def identity(self) -> tuple[str, str, str, int, int, str]:
        """What makes it the same notification under two playbooks, whenever it comes."""
        return (self.role, self.clock, self.kind, self.step, self.repetition, self.event or "")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A recorded action the playbook refuses: which, when, by whom and why."""

    trigger: str
    at: datetime
    person: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True)
class Replay:
    """What one playbook did with one recorded incident; ``incident`` is None when the playbook would not have
    opened it."""

    incident: Incident | None
    notices: tuple[Notice, ...] = ()
    refusals: tuple[Refusal, ...] = ()
    #: Every history entry the replay wrote, as (moment, kind, summary, actor) in the store's spelling: what the
    #: recording's history must equal (kept by a replay in the recording's own timing only).
    history: tuple[tuple[str, str, str, str | None], ...] = ()
    #: When each deadline fired (see :data:`Firings`): what a replay under another playbook takes its timing from.
    firings: dict[str, tuple[datetime, datetime, int]] = field(default_factory=dict)
    stopped_early: bool = False
    #: A replay in the recording's own timing only: whether a replay timed by its :attr:`firings` would fire every
    #: deadline when it did, and so, under the same rules, do everything it did.
    repeatable: bool = False


#: How a :class:`Notice` is made from its fields, without the Python-level ``__new__`` of a named tuple.
_tuple = tuple.__new__


def _timed(fired: tuple[datetime, datetime, int] | None, due: datetime) -> tuple[datetime, int] | None:
    """When a deadline due at ``due`` fired in another replay: only if it was due then too."""
    if fired is None or fired[0] != due:
        return None
    return fired[1], fired[2]


def _chosen(found: tuple[datetime, int] | None, due: datetime) -> tuple[datetime, int]:
    """When a deadline due at ``due`` fires: as found in a recording, unless that was before it was due."""
    if found is not None and found[0] >= due:
        return found
    return due, 0  # before any recorded command at the same moment, as the scheduler fires what is due first


class _Run:
    """The state of one replay: the incident, its armed deadlines (a heap by firing time) and what it did."""

    def __init__(self, book: Rulebook, recorded: Mapping[str, tuple[datetime, int]], timing: Firings | None) -> None:
        self.book = book
        self.recorded = recorded  # the recording's own firings, by key: a replay of its own playbook uses these
        self.timing = timing
        self.incident: Incident | None = None
        self.armed: dict[str, tuple[datetime, int, datetime]] = {}
        self.heap: list[tuple[datetime, int, str]] = []
        self.notices: list[Notice] = []
        self.refusals: list[Refusal] = []
        self.history: list[tuple[str, str, str, str | None]] = []
        self.firings: dict[str, tuple[datetime, datetime, int]] = {}
        self.fired = 0
        self.now: datetime | None = None
        #: Each deadline armed in the recording's own timing, with when it was set to fire.
        self.arms: list[tuple[str, datetime, tuple[datetime, int]]] = []
        self.said: tuple[datetime | None, str] = (None, "")

    def when(self, key: str, due: datetime) -> tuple[datetime, int]:
        if self.timing is None:
            chosen = _chosen(self.recorded.get(key), due)
            self.arms.append((key, due, chosen))
            return chosen
        return _chosen(_timed(self.timing.get(key), due), due)

    def repeatable(self) -> bool:
        """Whether a replay timed by this one's firings would fire every deadline when this one did: then, under
        the same rules, it would do all that this one did, step for step."""
        firings = self.firings
        return all(_chosen(_timed(firings.get(key), due), due) == chosen for key, due, chosen in self.arms)

    def apply(self, effects: tuple[Effect, ...], at: datetime) -> None:
        for effect in effects:
            # By the exact type, the most common first: an incident's history, then its deadlines.
            if type(effect) is Audit:
                if self.timing is None:
                    # The details are the same facts again, and spelling them out costs more than the step did;
                    # a step's entries share one moment, spelled once.
                    if effect.at is not self.said[0]:
                        self.said = (effect.at, iso_moment(effect.at))
                    self.history.append((self.said[1], effect.kind, effect.summary, effect.actor))
            elif type(effect) is ArmDeadline:
                fire_at, seq = self.when(effect.key, effect.at)
                self.armed[effect.key] = (fire_at, seq, effect.at)
                heapq.heappush(self.heap, (fire_at, seq, effect.key))
            elif type(effect) is CancelDeadline:
                self.armed.pop(effect.key, None)
            elif type(effect) is Notify:
                told = (effect.clock, effect.kind.value, effect.step, effect.repetition, effect.event, at)
                self.notices.extend(_tuple(Notice, (role, *told)) for role in effect.roles)

    def fire_before(self, bound: tuple[datetime, int]) -> bool:
        """Fire the armed deadlines that come before ``bound`` (a moment and a log position), in order; False when
        the replay stopped at :data:`MAX_DEADLINES`."""
        heap = self.heap
        while heap and heap[0] < bound:  # (moment, position, key) sorts before (moment, position) only if earlier
            fire_at, seq, key = heapq.heappop(heap)
            armed = self.armed.get(key)
            if armed is None or armed[0] != fire_at or armed[1] != seq:
                continue  # cancelled, or armed again for another time
            del self.armed[key]
            if self.fired >= MAX_DEADLINES:
                return False
            self.fired += 1
            assert self.incident is not None
            assert self.now is not None
            at = max(fire_at, self.now)
            outcome = step(self.incident, DeadlineReached(key), at, self.book)
            if isinstance(outcome, Refused):  # pragma: no cover - a deadline is never refused
                continue
            if outcome.effects:  # the service records a deadline only when it did something
                self.firings[key] = (armed[2], fire_at, seq)
            self.now = at
            self.incident = outcome.incident
            self.apply(outcome.effects, at)
        return True

    def act(self, command: Command, at: datetime, trigger: str, person: str) -> None:
        assert self.incident is not None
        self.now = max(at, self.now or at)
        outcome = step(self.incident, command, at, self.book)
        if isinstance(outcome, Refused):
            self.refusals.append(Refusal(trigger, at, person, outcome.reason.value, outcome.message))
            return
        self.incident = outcome.incident
        self.apply(outcome.effects, at)


def _command(data: Mapping[str, Any]) -> tuple[Command, str, str] | None:
    """The command to step for a recorded one, with its trigger and person; None for what changed nothing."""
    # The revision a person saw then is not the one the replay reaches: an action is taken as it was meant.
    command = decode_command(data, revisions=False)
    if type(command) is Act or type(command) is DraftReply:  # the most common first
        return command, command.trigger, command.actor.person
    if isinstance(command, OpenCommand | PassedOnCommand | MutedCommand | DeadlineReached):
        return None  # the opening is done apart, and a replay fires its own deadlines
    if isinstance(command, AttemptCommand):  # refused then; tried again, as another playbook may allow it
        return Act(command.trigger, command.actor, command.fields), command.trigger, command.actor.person
    if isinstance(command, JoinCommand):
        mention = parse_mention(command.mention)
        if isinstance(mention, Failed):
            raise ReplayError("a recorded mention no longer parses")
        return JoinMention(mention, command.via), "mention", ""
    actor = getattr(command, "actor", None)
    return command, type(command).__name__, "" if actor is None else str(actor.person)


@dataclass(frozen=True, slots=True)
class Script:
    """A recorded incident read once for any number of replays: its opening, and each command to step with the
    moment and log position it came at, its trigger and its person."""

    opening: OpenCommand
    mention: Mention
    opened_at: datetime
    commands: tuple[tuple[datetime, int, Command, str, str], ...]
    #: When each deadline fired in the recording, by key.
    fired: Mapping[str, tuple[datetime, int]]
    end: tuple[datetime, int]


def script(recorded: RecordedIncident) -> Script:
    """The incident's log read for replaying; raises :class:`ReplayError` for a log that cannot be replayed."""
    events = recorded.events
    if not events or events[0].command.get("type") != "open":
        raise ReplayError(f"the log of {recorded.incident.id} does not start with its opening")
    opening = decode_command(events[0].command)
    assert isinstance(opening, OpenCommand)
    mention = parse_mention(opening.mention)
    if isinstance(mention, Failed):
        raise ReplayError(f"the opening mention of {recorded.incident.id} no longer parses")
    commands = []
    fired: dict[str, tuple[datetime, int]] = {}
    for event in events[1:]:
        if event.command.get("type") == "deadline":  # a replay fires its own: when this one fired is all it needs
            fired[str(event.command["key"])] = (event.at, event.seq)
            continue
        found = _command(event.command)
        if found is not None:
            commands.append((event.at, event.seq, *found))
    return Script(opening, mention, events[0].at, tuple(commands), fired, (events[-1].at, events[-1].seq + 1))


def replay(recorded: RecordedIncident | Script, book: Rulebook, timing: Firings | None = None) -> Replay:
    """The recorded incident (or its :func:`script`) replayed through ``book``: with ``timing`` None, deadlines
    fire when the recording says they did (a replay of the playbook it ran under); else at ``timing``'s moments
    where the same deadline falls at the same time, and when due otherwise. Raises :class:`ReplayError` for a log
    that cannot be replayed."""
    read = recorded if isinstance(recorded, Script) else script(recorded)
    if not book.applies(read.mention):
        return Replay(None)
    run = _Run(book, read.fired, timing)
    opening = read.opening
    opened = open_incident(opening.id, read.mention, book, read.opened_at, follows=opening.follows, group=opening.group)
    run.incident, run.now = opened.incident, read.opened_at
    run.apply(opened.effects, read.opened_at)
    complete = True
    for at, seq, command, trigger, person in read.commands:
        complete = complete and run.fire_before((at, seq))
        run.act(command, at, trigger, person)
    complete = complete and run.fire_before(read.end)
    return Replay(
        run.incident,
        tuple(run.notices),
        tuple(run.refusals),
        tuple(run.history),
        run.firings,
        stopped_early=not complete,
        repeatable=timing is None and run.repeatable(),
    )
