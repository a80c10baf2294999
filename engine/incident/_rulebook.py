"""A playbook made ready to run: its machine, compiled conditions, calendars and escalation schedules.

Built once per playbook version and shared by every incident under it; nothing here changes after construction.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from engine.incident._calendar import AroundTheClock, BusinessCalendar, TimeCounter
from engine.incident._mention import Mention
from engine.playbook import LIMIT_CLOCK, Condition, PhraseSet, Playbook, Transition, compile_machine

if TYPE_CHECKING:
    from transitions import Machine

__all__ = ["Matcher", "Point", "Rulebook", "Schedule"]


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
        if not checks:
            return False
        if self._any is not None and self._any.find(mention.text) is None:
            return False
        return all(phrase.find(mention.text) is not None for phrase in self._all)


def _at_least(value: int, threshold: int | None) -> bool:
    return threshold is None or value >= threshold


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


@dataclass(frozen=True, slots=True, eq=False)
class Schedule:
    """A clock's escalation points laid out against one limit: worked out once per (clock kind, severity, limit).

    ``bases`` holds each point's first offset (its share of ``limit``), ``orders`` each step's place among them.
    """

    points: tuple[Point, ...]
    limit: timedelta
    bases: tuple[timedelta, ...]
    orders: Mapping[int, int]
    #: What comes after each (step, repetition), as (offset, step, repetition), filled as clocks ask: the schedule
    #: is the same for every incident, so each answer is worked out once.
    following: dict[tuple[int, int], tuple[timedelta, int, int] | None] = field(default_factory=dict)

    @classmethod
    def of(cls, points: tuple[Point, ...], limit: timedelta) -> Schedule:
        bases = tuple(limit * point.fraction for point in points)
        return cls(points, limit, bases, {point.step: order for order, point in enumerate(points)})

    def offset_of(self, step: int, repetition: int) -> timedelta | None:
        """Where the ``repetition``-th occurrence of ``step`` sits on this schedule (None: not on it)."""
        order = self.orders.get(step)
        if order is None:
            return None
        repeat = self.points[order].repeat
        if repeat is None:
            return self.bases[order] if repetition == 0 else None
        return self.bases[order] + repeat * repetition

    def same_as(self, other: Schedule) -> bool:
        return self.limit == other.limit and self.points == other.points


class Rulebook:
    """One playbook version, compiled. ``machine`` is the one ``transitions.Machine`` all its incidents share."""

    def __init__(self, playbook: Playbook) -> None:
        self.playbook = playbook
        self.machine: Machine = compile_machine(playbook)
        self._destinations: dict[tuple[str, str], str] = {}
        for trigger, event in self.machine.events.items():
            for source, compiled in event.transitions.items():
                dest = compiled[0].dest
                if dest is None:  # pragma: no cover - every playbook transition names where it leads (the schema)
                    raise ValueError(f"{trigger!r} from {source} leads nowhere")
                self._destinations[(trigger, source)] = dest
        self.never_say = PhraseSet(playbook.house_rules.never_say)
        self.triggers = playbook.triggers
        self.levels = {level: rank for rank, level in enumerate(playbook.severity.levels)}
        self._applies = Matcher(playbook.applies_to.when) if playbook.applies_to.when else None
        self._severity_rules = tuple((rule.level, Matcher(rule.when)) for rule in playbook.severity.rules)
        self._transitions: dict[tuple[str, str], Transition] = {
            (transition.trigger, source): transition
            for transition in playbook.transitions
            for source in transition.sources
        }
        around = AroundTheClock()
        self._counters: dict[str | None, TimeCounter] = {None: around}
        for name, calendar in playbook.calendars.items():
            self._counters[name] = BusinessCalendar(calendar)
        self._points: dict[tuple[str, str], tuple[Point, ...]] = {}
        self._memo: dict[Hashable, Any] = {}
        self._starting: dict[str, tuple[str, ...]] = {
            state: tuple(name for name, target in playbook.targets.items() if target.start == state)
            for state in playbook.states
        }

    def memo(self, key: Hashable, factory: Callable[[], Any]) -> Any:
        """``factory()``, worked out once per rulebook: what the runtime derives from the playbook for its hot path."""
        try:
            return self._memo[key]
        except KeyError:
            value = self._memo[key] = factory()
            return value

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

    def transition(self, trigger: str, state: str) -> Transition | None:
        return self._transitions.get((trigger, state))

    def destination(self, trigger: str, state: str) -> str:
        """Where ``trigger`` leads from ``state``, as the playbook's machine has it.

        Read from the machine's compiled transitions rather than by firing its event on a stand-in object: the
        playbook's transitions have no conditions or callbacks, so both give the same state (a test checks every
        pair of every shipped playbook), and the lookup costs a twentieth of the event's dispatch.
        """
        return self._destinations[(trigger, state)]

    def sources_of(self, trigger: str) -> tuple[str, ...]:
        return tuple(source for (name, source) in self._transitions if name == trigger)

    def roles_for(self, trigger: str) -> frozenset[str]:
        """Every role that may take ``trigger`` from some state: who may take it at all."""
        found: frozenset[str] = self.memo(
            ("roles", trigger),
            lambda: frozenset(
                role
                for transition in self.playbook.transitions
                if transition.trigger == trigger
                for role in transition.by
            ),
        )
        return found

    def is_final(self, state: str) -> bool:
        return self.playbook.states[state].final

    # --- clocks ---------------------------------------------------------------------------------------------

    def state_limit(self, state: str, severity: str) -> tuple[timedelta, TimeCounter] | None:
        """The time an incident of this severity may stay in ``state``, and how it is counted."""
        spec = self.playbook.states[state]
        if spec.final or spec.limit is None:
            return None
        limit = spec.limit.for_level(severity)
        return None if limit is None else (limit, self._counters[spec.calendar])

    def target_limit(self, name: str, severity: str) -> tuple[timedelta, TimeCounter] | None:
        target = self.playbook.targets[name]
        limit = target.within.for_level(severity)
        return None if limit is None else (limit, self._counters[target.calendar])

    def targets_starting_in(self, state: str) -> tuple[str, ...]:
        """The end-to-end targets whose clocks start when an incident enters ``state``, in playbook order."""
        return self._starting[state]

    def points(self, kind: str, severity: str) -> tuple[Point, ...]:
        """The escalation points of a clock kind (``limit`` or a target) at a severity, earliest first."""
        key = (kind, severity)
        if key not in self._points:
            points = [
                Point(step.after, index, step.repeat_every, step.notify)
                for index, step in enumerate(self.playbook.escalation)
                if (step.clocks is None or kind in step.clocks)
                and (step.severities is None or severity in step.severities)
            ]
            if not any(point.fraction == 1.0 for point in points):
                points.append(Point(1.0, -1, None, ()))
            self._points[key] = tuple(sorted(points, key=lambda point: (point.fraction, point.step)))
        return self._points[key]

    def schedule(self, kind: str, severity: str, limit: timedelta) -> Schedule:
        """The escalation points of a clock kind at a severity, laid out against ``limit``."""
        key = ("schedule", kind, severity, limit)
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = Schedule.of(self.points(kind, severity), limit)
        return found

    @staticmethod
    def clock_kind(name: str) -> str:
        return LIMIT_CLOCK if name.startswith(LIMIT_CLOCK + ":") else name
