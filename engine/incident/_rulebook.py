"""A playbook made ready to run: its transition tables, compiled conditions, calendars and escalation schedules.

Built once per playbook version and shared by every incident under it; nothing here changes after construction.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from engine.incident._calendar import AroundTheClock, BusinessCalendar, TimeCounter
from engine.incident._groups import Grouper
from engine.incident._guards import guard_holds
from engine.incident._keys import ClockId, ClockKind
from engine.incident._mention import Mention
from engine.incident._record import Incident
from engine.incident._surges import SurgeCounter
from engine.playbook import (
    PROMISE_CLOCK,
    Condition,
    Customer,
    EventKind,
    EventRule,
    OfferKind,
    PhraseSet,
    Playbook,
    Requirement,
    Transition,
    business_days,
    format_duration,
)

__all__ = ["ALWAYS_ALLOWED", "Fate", "FieldPlan", "Matcher", "Plan", "Point", "Rulebook", "Schedule"]


class Matcher:
    """A compiled condition on a mention: every condition given must hold."""

    __slots__ = ("_all", "_any", "_condition")

    def __init__(self, condition: Condition) -> None:
        self._condition = condition
        self._any = PhraseSet(condition.keywords_any) if condition.keywords_any else None
        self._all = tuple(PhraseSet([phrase]) for phrase in condition.keywords_all)

    def matches(self, mention: Mention) -> bool:
        condition = self._condition
        checks = (
            (not condition.channels or mention.channel in condition.channels)
            and _at_least(mention.author.followers, condition.author_followers_at_least)
            and _at_least(mention.engagement.likes, condition.likes_at_least)
            and _at_least(mention.engagement.shares, condition.shares_at_least)
            and _at_least(mention.engagement.replies, condition.replies_at_least)
        )
        if not checks or not _customer(condition, mention):
            return False
        if self._any is not None and self._any.find(mention.text) is None:
            return False
        return all(phrase.find(mention.text) is not None for phrase in self._all)


def _at_least(value: int, threshold: int | None) -> bool:
    return threshold is None or value >= threshold


def _customer(condition: Condition, mention: Mention) -> bool:
    """The condition's customer facts hold for the mention: known (it carries a customer id), a segment."""
    known = mention.customer_id is not None
    if condition.customer is Customer.KNOWN and not known:
        return False
    if condition.customer is Customer.UNKNOWN and known:
        return False
    return not condition.customer_segments_any or (
        known and mention.customer_segment in condition.customer_segments_any
    )


@dataclass(frozen=True, slots=True)
class Point:
    """One escalation point on a clock: a share of its time, the step it comes from, and whom it tells.

    ``step`` is the escalation step's index in the playbook, or -1 for the bare breach at 100% when no step sits
    there (a breach is recorded even when nobody is to be told).
    """

    fraction: float
    step: int
    repeat: timedelta | None
    roles: tuple[str, ...]
    merge_repeats: bool = True


@dataclass(frozen=True, slots=True, eq=False)
class Schedule:
    """A clock's escalation points laid out against one limit: worked out once per (clock kind, severity, limit).

    ``bases`` holds each point's first offset (its share of ``limit``), ``orders`` each step's place among them, and
    ``following`` what comes after each (step, repetition) laid out here, as (offset, step, repetition), for the
    first repetitions: the schedule is the same for every incident, so each answer is worked out once, when the
    schedule is made. Nothing changes afterwards, so one schedule is safe to share between threads.
    """

    points: tuple[Point, ...]
    limit: timedelta
    bases: tuple[timedelta, ...]
    orders: Mapping[int, int]
    following: Mapping[tuple[int, int], tuple[timedelta, int, int] | None]

    @classmethod
    def of(cls, points: tuple[Point, ...], limit: timedelta) -> Schedule:
        bases = tuple(limit * point.fraction for point in points)
        orders = {point.step: order for order, point in enumerate(points)}
        following: dict[tuple[int, int], tuple[timedelta, int, int] | None] = {}
        for order, (point, base) in enumerate(zip(points, bases, strict=True)):
            repeat = point.repeat
            for repetition in range(1 if repeat is None else _LAID_OUT_REPETITIONS):
                offset = base if repeat is None else base + repeat * repetition
                following[(point.step, repetition)] = _following(points, bases, (offset, order, repetition))
        # Plain dicts behind read-only types: nothing writes to them after this, and a dict is read quickest.
        return cls(points, limit, bases, orders, following)

    def offset_of(self, step: int, repetition: int) -> timedelta | None:
        """Where the ``repetition``-th occurrence of ``step`` sits on this schedule (None: not on it)."""
        order = self.orders.get(step)
        if order is None:
            return None
        repeat = self.points[order].repeat
        if repeat is None:
            return self.bases[order] if repetition == 0 else None
        return self.bases[order] + repeat * repetition

    def after(self, offset: timedelta, step: int, repetition: int) -> tuple[timedelta, int, int] | None:
        """(offset, step, repetition) of the first occurrence strictly after the one given, by offset and then by
        the points' order: looked up when laid out here, else worked out."""
        key = (step, repetition)
        if key in self.following and self.offset_of(step, repetition) == offset:
            return self.following[key]
        return _following(self.points, self.bases, (offset, self.orders.get(step, -1), repetition))

    def same_as(self, other: Schedule) -> bool:
        return self.limit == other.limit and self.points == other.points


#: How many repetitions of a repeating step a schedule lays out ahead; later ones (a clock overdue for many
#: repeats) are worked out when asked, as cheaply as the first time.
_LAID_OUT_REPETITIONS = 16


def _following(
    points: tuple[Point, ...], bases: tuple[timedelta, ...], cursor: tuple[timedelta, int, int]
) -> tuple[timedelta, int, int] | None:
    """(offset, step, repetition) of the first occurrence strictly after ``cursor`` (offset, order, repetition)."""
    best: tuple[timedelta, int, int] | None = None
    best_step = 0
    for order, (point, base) in enumerate(zip(points, bases, strict=True)):
        candidate = (base, order, 0)
        if candidate <= cursor:
            if point.repeat is None:
                continue
            # Jump straight to the first repetition past the cursor rather than walking there.
            count = max(0, math.ceil((cursor[0] - base) / point.repeat))
            candidate = (base + point.repeat * count, order, count)
            if candidate <= cursor:
                candidate = (candidate[0] + point.repeat, order, count + 1)
        if best is None or candidate < best:
            best, best_step = candidate, point.step
    if best is None:
        return None
    return best[0], best_step, best[2]


class Plan(NamedTuple):
    """How one clock runs at one severity: its limit, how its time is counted, and its escalation schedule."""

    limit: timedelta
    counter: TimeCounter
    schedule: Schedule


class FieldPlan(NamedTuple):
    """What an action takes: the field names allowed, and each field checked (the requirement, its field's name,
    and whether it is required), in a stable order."""

    allowed: frozenset[str]
    checked: tuple[tuple[Requirement, str, bool], ...]


#: Fields any action may carry without requiring them.
ALWAYS_ALLOWED = frozenset({Requirement.NOTE.value})


class Fate(enum.Enum):
    """What entering a state does to a target's clock."""

    MET = "met"  # one of its until states: met
    STOPPED = "stopped"  # one of its stops_on side paths: stopped, no verdict on time
    RUNS = "runs"  # neither: it runs on


class Rulebook:
    """One playbook version, compiled into the tables its incidents are run by.

    Everything is worked out here, once, when the rulebook is made: what each action leads to and who may take it,
    the escalation schedule of every clock at every level, the matchers and the calendars. Nothing changes
    afterwards, so one rulebook is shared by every incident under its version, and by every thread.
    """

    def __init__(self, playbook: Playbook) -> None:
        self.playbook = playbook
        self.never_say = PhraseSet(playbook.house_rules.never_say)
        self.triggers = playbook.triggers
        self.levels = {level: rank for rank, level in enumerate(playbook.severity.levels)}
        self._applies = Matcher(playbook.applies_to.when) if playbook.applies_to.when else None
        self._severity_rules = tuple((rule.level, Matcher(rule.when)) for rule in playbook.severity.rules)
        # An action from a state may have several transitions, with guards no incident meets together.
        found: dict[tuple[str, str], list[Transition]] = {}
        for transition in playbook.transitions:
            for source in transition.sources:
                found.setdefault((transition.trigger, source), []).append(transition)
        self._transitions = {key: tuple(items) for key, items in found.items()}
        # By identity: the playbook (and so each transition) lives as long as the rulebook.
        self._fields = {id(transition): _field_plan(transition) for transition in playbook.transitions}
        sources: dict[str, list[str]] = {}
        roles: dict[str, set[str]] = {}
        waiting: dict[str, set[str]] = {state: set() for state in playbook.states}
        for transition in playbook.transitions:
            sources.setdefault(transition.trigger, []).extend(transition.sources)
            roles.setdefault(transition.trigger, set()).update(transition.by)
            for source in transition.sources:
                waiting.setdefault(source, set()).update(transition.by)
        self._sources = {trigger: tuple(names) for trigger, names in sources.items()}
        self._roles = {trigger: frozenset(names) for trigger, names in roles.items()}
        self._waiting = {state: tuple(sorted(names)) for state, names in waiting.items()}
        self._guarded = any(transition.when is not None for transition in playbook.transitions)
        self._counters: dict[str | None, TimeCounter] = {None: AroundTheClock()}
        for name, calendar in playbook.calendars.items():
            self._counters[name] = BusinessCalendar(calendar)
        starting: dict[str, tuple[str, ...]] = {
            state: tuple(name for name, target in playbook.targets.items() if target.start == state)
            for state in playbook.states
        }
        #: The targets that start each time the customer writes again, and those the team's next reply meets.
        self.per_follow_up = tuple(name for name, target in playbook.targets.items() if target.per_follow_up)
        self.until_reply = frozenset(name for name, target in playbook.targets.items() if target.until_reply)
        #: The targets that stand still somewhere, and for each state those that stand still there: what every
        #: change of state looks up, so a playbook without pauses pays one empty check.
        self.pausable = frozenset(name for name, target in playbook.targets.items() if target.paused_in)
        self._paused_in: dict[str, frozenset[str]] = {
            state: frozenset(name for name, target in playbook.targets.items() if state in target.paused_in)
            for state in playbook.states
        }
        limit_clocks = {state: str(ClockId.limit(state)) for state in playbook.states}
        self._final = frozenset(name for name, state in playbook.states.items() if state.final)
        #: For each state, what entering it does to each target's clock. Asked for every clock at every move.
        self._fates: dict[str, dict[str, Fate]] = {
            state: {
                name: Fate.MET if state in target.until else Fate.STOPPED if state in target.stops_on else Fate.RUNS
                for name, target in playbook.targets.items()
            }
            for state in playbook.states
        }
        self._clocks = [ClockId.limit(state) for state in playbook.states] + [
            ClockId.target(name) for name in playbook.targets
        ]
        self._points = {
            (str(clock), level): _points(playbook, clock, level) for clock in self._clocks for level in self.levels
        }
        self.offer_kinds: Mapping[str, OfferKind] = {} if playbook.offers is None else playbook.offers.kinds
        if self.offer_kinds:  # one plan of steps for every promise: their clocks are named by promise, not kind
            promise = ClockId(ClockKind.PROMISE, "")
            self._points.update({(PROMISE_CLOCK, level): _points(playbook, promise, level) for level in self.levels})
        self._plans = self._lay_out()
        #: For each (state, severity), the clocks entering the state starts (its limit first, then the targets that
        #: start there) that run at that level, with how: what every move asks.
        self._starts = {
            (state, level): tuple(
                (name, plan)
                for name in (limit_clocks[state], *starting[state])
                if (plan := self._plans.get((name, level))) is not None
            )
            for state in playbook.states
            for level in self.levels
        }
        events: dict[EventKind, list[tuple[int, EventRule]]] = {kind: [] for kind in EventKind}
        for index, rule in enumerate(playbook.notify_on):
            events[rule.event].append((index, rule))
        self._events = {kind: tuple(found) for kind, found in events.items()}
        self._promise_plans = self._lay_out_promises()
        group = playbook.group
        #: How mentions group into one incident, and how a group's mentions are counted for surges (None: not).
        self.grouper = None if group is None else Grouper(playbook.id, group)
        self.surges = SurgeCounter(playbook.surges) if playbook.surges and group is not None else None

    def _lay_out_promises(self) -> dict[tuple[str, str], Plan | None]:
        """Each kind of offer's promise clock at every level, keyed by (the kind, level)."""
        plans: dict[tuple[str, str], Plan | None] = {}
        for name, kind in self.offer_kinds.items():
            for level in self.levels:
                limit = kind.deliver_within.for_level(level)
                if limit is None:  # pragma: no cover - the checks require a time at every level
                    plans[(name, level)] = None
                    continue
                schedule = Schedule.of(self._points[(PROMISE_CLOCK, level)], limit)
                plans[(name, level)] = Plan(limit, self._counters[kind.calendar], schedule)
        return plans

    def _lay_out(self) -> dict[tuple[str, str], Plan | None]:
        """Every clock's plan at every level, keyed by (the clock's name, level); equal schedules made once."""
        schedules: dict[tuple[tuple[Point, ...], timedelta], Schedule] = {}
        plans: dict[tuple[str, str], Plan | None] = {}
        for clock in self._clocks:
            for level in self.levels:
                found = self._clock_limit(clock, level)
                plan = None
                if found is not None:
                    limit, counter = found
                    points = self._points[(str(clock), level)]
                    key = (points, limit)
                    if key not in schedules:
                        schedules[key] = Schedule.of(points, limit)
                    plan = Plan(limit, counter, schedules[key])
                plans[(str(clock), level)] = plan
        return plans

    def _clock_limit(self, clock: ClockId, severity: str) -> tuple[timedelta, TimeCounter] | None:
        if clock.kind is ClockKind.LIMIT:
            return self.state_limit(clock.name, severity)
        return self.target_limit(clock.name, severity)

    # --- matching -------------------------------------------------------------------------------------------

    def applies(self, mention: Mention) -> bool:
        """Whether a mention is one this playbook handles."""
        if mention.channel not in self.playbook.applies_to.channels:
            return False
        return self._applies is None or self._applies.matches(mention)

    def severity_of(self, mention: Mention) -> str:
        """The level of the first severity rule that matches, or the default."""
        for level, matcher in self._severity_rules:
            if matcher.matches(mention):
                return level
        return self.playbook.severity.default

    # --- the machine ----------------------------------------------------------------------------------------

    def transitions_from(self, trigger: str, state: str) -> tuple[Transition, ...]:
        """Every transition of ``trigger`` from ``state``: one, or several whose guards never hold together."""
        return self._transitions.get((trigger, state), ())

    def transition(self, trigger: str, state: str, incident: Incident | None = None) -> Transition | None:
        """The transition ``trigger`` takes from ``state``; given an incident, the one whose guard it meets."""
        for transition in self._transitions.get((trigger, state), ()):
            if incident is None or guard_holds(transition.when, incident):
                return transition
        return None

    def destination(self, trigger: str, state: str, incident: Incident | None = None) -> str:
        """Where ``trigger`` leads from ``state`` (for ``incident``, by the guard it meets): the state the
        playbook's ``transitions.Machine`` would move to, its guards its conditions (a test checks every pair of
        every shipped playbook against the machine)."""
        found = self.transition(trigger, state, incident)
        if found is None:
            raise KeyError((trigger, state))
        return found.dest

    def allows(self, transition: Transition, incident: Incident) -> bool:
        """Whether the incident's facts meet the transition's guard (a transition without one always does)."""
        return guard_holds(transition.when, incident)

    def sources_of(self, trigger: str) -> tuple[str, ...]:
        return self._sources.get(trigger, ())

    def roles_for(self, trigger: str) -> frozenset[str]:
        """Every role that may take ``trigger`` from some state: who may take it at all."""
        return self._roles.get(trigger, frozenset())

    def waiting_on(self, state: str, incident: Incident | None = None) -> tuple[str, ...]:
        """The roles that may take one of the actions open from ``state``: whom an incident there waits on. Given
        the incident, only the actions whose guards its facts meet count."""
        if incident is None or not self._guarded:
            return self._waiting.get(state, ())
        roles = {
            role
            for transition in self.playbook.transitions
            if state in transition.sources and guard_holds(transition.when, incident)
            for role in transition.by
        }
        return tuple(sorted(roles))

    def fields_of(self, transition: Transition) -> FieldPlan:
        """What ``transition`` (one of the playbook's) takes."""
        return self._fields[id(transition)]

    def is_final(self, state: str) -> bool:
        return state in self._final

    def fates_in(self, state: str) -> Mapping[str, Fate]:
        """What entering ``state`` does to each target's clock, by the target's name. A clock whose name is not
        there is a state's limit or a promise's."""
        return self._fates[state]

    # --- clocks ---------------------------------------------------------------------------------------------

    def state_limit(self, state: str, severity: str) -> tuple[timedelta, TimeCounter] | None:
        """The time an incident of this severity may stay in ``state``, and how it is counted."""
        spec = self.playbook.states[state]
        if spec.final or spec.limit is None:
            return None
        limit = spec.limit.for_level(severity)
        return None if limit is None else (limit, self._counters[spec.calendar_for(severity)])

    def target_limit(self, name: str, severity: str) -> tuple[timedelta, TimeCounter] | None:
        target = self.playbook.targets[name]
        limit = target.within.for_level(severity)
        return None if limit is None else (limit, self._counters[target.calendar_for(severity)])

    def limit_words(self, clock: str, severity: str) -> str | None:
        """The time of the clock named ``clock`` at ``severity`` as its author wrote it, with what it counts where
        that is not plain: ``2bd, 18h of open time on office``, ``24h of open time on office``. None for a time
        counted around the clock (its duration says it all), or a clock that does not run at that level."""
        named = ClockId.parse(clock)
        if named.kind is ClockKind.LIMIT:
            spec = self.playbook.states.get(named.name)
            limit, calendar = (None, None) if spec is None else (spec.limit, spec.calendar_for(severity))
        else:
            target = self.playbook.targets.get(named.name)
            limit, calendar = (None, None) if target is None else (target.within, target.calendar_for(severity))
        counted = None if limit is None else limit.for_level(severity)
        if limit is None or calendar is None or counted is None:
            return None
        written = limit.written_for(severity) or format_duration(counted)
        if business_days(written) is None:
            return f"{written} of open time on {calendar}"
        return f"{written}, {_open_hours(counted)} of open time on {calendar}"

    def starts(self, state: str, severity: str) -> tuple[tuple[str, Plan], ...]:
        """The clocks entering ``state`` at ``severity`` starts, each with its plan: the state's limit first, then
        the targets that start there, in playbook order, leaving out those that do not run at that level."""
        return self._starts[(state, severity)]

    def paused_in(self, state: str) -> frozenset[str]:
        """The targets whose clocks stand still while an incident is in ``state``."""
        return self._paused_in[state]

    def points(self, clock: str, severity: str) -> tuple[Point, ...]:
        """The escalation points of a clock (``limit:<state>`` or a target) at a severity, earliest first."""
        return self._points[(clock, severity)]

    def events(self, kind: EventKind) -> tuple[tuple[int, EventRule], ...]:
        """The playbook's ``notify_on`` rules for one kind of event, each with its place in the list."""
        return self._events[kind]

    def plan(self, clock: str, severity: str) -> Plan | None:
        """How the clock named ``clock`` runs at ``severity`` (None: it does not run at that level)."""
        found = self._plans.get((clock, severity), _UNPLANNED)
        if found is not _UNPLANNED:
            return found
        kind = ClockId.parse(clock).offer_kind
        return None if kind is None else self._promise_plans.get((kind, severity))

    def promise_plan(self, kind: str, severity: str) -> Plan | None:
        """How a promise of the offer ``kind`` runs at ``severity``: its time to deliver, and its escalation."""
        return self._promise_plans.get((kind, severity))

    def offered_by(self, kind: str) -> tuple[str, ...]:
        """The roles that may make an offer of ``kind``."""
        found = self.offer_kinds.get(kind)
        return () if found is None else found.by


#: What :meth:`Rulebook.plan` finds for a clock that is not a state's limit or a target (a promise's).
_UNPLANNED = Plan(timedelta(0), AroundTheClock(), Schedule.of((), timedelta(0)))


def _open_hours(length: timedelta) -> str:
    """Open time in hours and minutes (``27h``, ``8h30m``): nobody counts a working week's open time in days."""
    minutes = int(length.total_seconds()) // 60
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes}m" if minutes else f"{hours}h"


def _points(playbook: Playbook, clock: ClockId, severity: str) -> tuple[Point, ...]:
    kind, name = clock.escalation_kind, str(clock)
    points = [
        Point(step.after, index, step.repeat_every, step.notify, step.merge_repeats)
        for index, step in enumerate(playbook.escalation)
        if (step.clocks is None or kind in step.clocks or name in step.clocks)
        and (step.severities is None or severity in step.severities)
    ]
    if not any(point.fraction == 1.0 for point in points):
        points.append(Point(1.0, -1, None, ()))
    return tuple(sorted(points, key=lambda point: (point.fraction, point.step)))


def _field_plan(transition: Transition) -> FieldPlan:
    allowed = frozenset(requirement.value for requirement in transition.requires) | ALWAYS_ALLOWED
    checked = tuple(
        (requirement, requirement.value, requirement in transition.requires)
        for requirement in sorted(transition.requires | {Requirement.NOTE}, key=lambda item: item.value)
    )
    return FieldPlan(allowed, checked)
