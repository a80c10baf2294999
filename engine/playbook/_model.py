"""The typed playbook: frozen dataclasses built from a document whose shape is valid.

Names (roles, states, triggers, levels) stay strings here because each playbook declares its own; the checks make
sure every name used is declared. Closed sets (channels, requirements, answer kinds) are enums.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time, timedelta

__all__ = [
    "LIFECYCLE",
    "AnswerKind",
    "AppliesTo",
    "Calendar",
    "Condition",
    "EscalationStep",
    "HouseRules",
    "Limit",
    "OpeningHours",
    "Playbook",
    "Requirement",
    "ReviewQuestion",
    "Role",
    "SeverityRule",
    "SeverityScheme",
    "State",
    "Target",
    "Transition",
]

#: The fixed lifecycle every playbook has, in order; ``detected`` is where every incident starts.
LIFECYCLE = ("detected", "assessed", "acknowledged", "resolution_offered", "resolved", "reviewed")

#: The name of the per-state time limits among an escalation step's clocks.
LIMIT_CLOCK = "limit"


class Requirement(enum.StrEnum):
    """What a person must provide to take an action."""

    SEVERITY = "severity"
    PUBLIC_REPLY = "public_reply"
    OFFER = "offer"
    CONTACT_ROUTE = "contact_route"
    OUTCOME = "outcome"
    REVIEW = "review"
    REASON = "reason"
    NOTE = "note"
    MERGED_INTO = "merged_into"


class AnswerKind(enum.StrEnum):
    YES_NO = "yes_no"
    TEXT = "text"
    NUMBER = "number"
    CHOICE = "choice"


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class OpeningHours:
    """Open ranges per weekday (0 is Monday); ``None`` as an end means midnight."""

    days: Mapping[int, tuple[tuple[time, time | None], ...]]

    def day_lengths(self) -> dict[int, timedelta]:
        """The open time of each weekday that opens at all (0 is Monday)."""
        lengths = {day: sum((_length(*span) for span in spans), _NO_TIME) for day, spans in sorted(self.days.items())}
        return {day: length for day, length in lengths.items() if length}


_NO_TIME = timedelta(0)


def _length(opens: time, closes: time | None) -> timedelta:
    end = timedelta(days=1) if closes is None else timedelta(hours=closes.hour, minutes=closes.minute)
    return end - timedelta(hours=opens.hour, minutes=opens.minute)


@dataclass(frozen=True, slots=True)
class Calendar:
    name: str
    timezone: str
    hours: OpeningHours
    holidays: str | None = None  # "GB" or "GB-SCT"

    def business_day(self) -> timedelta:
        """The open time of one business day (``1bd``): the length of the calendar's usual open day, the one most
        of its open weekdays have (the longer, when as many have each); zero for a calendar that never opens.

        One length for every day, rather than each day's own, so that ``1bd`` from 17:00 on Monday is 17:00 on
        Tuesday: a working day later, wherever in the day it starts."""
        lengths = list(self.hours.day_lengths().values())
        if not lengths:
            return _NO_TIME
        return max(set(lengths), key=lambda length: (lengths.count(length), length))


@dataclass(frozen=True, slots=True)
class Condition:
    """Conditions on a mention; all that are set must hold."""

    keywords_any: tuple[str, ...] = ()
    keywords_all: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    author_followers_at_least: int | None = None
    likes_at_least: int | None = None
    shares_at_least: int | None = None
    replies_at_least: int | None = None


#: How long after an incident's last mention the same author's next mention still joins it, unless a playbook says.
DEFAULT_JOIN_WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class AppliesTo:
    channels: tuple[str, ...]
    when: Condition | None = None
    priority: int = 0
    join_window: timedelta = DEFAULT_JOIN_WINDOW


@dataclass(frozen=True, slots=True)
class SeverityRule:
    level: str
    when: Condition


@dataclass(frozen=True, slots=True)
class SeverityScheme:
    levels: tuple[str, ...]
    default: str
    rules: tuple[SeverityRule, ...] = ()


@dataclass(frozen=True, slots=True)
class Limit:
    """A time per severity level, with an optional default for the levels not listed.

    The times are counted time (open time, on a calendar): a limit written in business days (``2bd``) holds what
    they come to on its calendar. ``written`` keeps each value as the author wrote it, by level (``default`` too),
    for showing it back to people as they think of it."""

    per_level: Mapping[str, timedelta]
    default: timedelta | None = None
    written: Mapping[str, str] = field(default_factory=dict, compare=False)

    def for_level(self, level: str) -> timedelta | None:
        return self.per_level.get(level, self.default)

    def written_for(self, level: str) -> str | None:
        """The value for ``level`` as the playbook writes it (``2bd``, ``4h``), or None where it sets none."""
        return self.written.get(level, self.written.get("default"))


@dataclass(frozen=True, slots=True)
class State:
    name: str
    description: str | None = None
    limit: Limit | None = None
    calendar: str | None = None
    final: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    start: str
    until: tuple[str, ...]
    within: Limit
    calendar: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Transition:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    by: tuple[str, ...]
    requires: frozenset[Requirement] = frozenset()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class EscalationStep:
    after: float  # a share of the clock's time: 0.75 is 75%
    notify: tuple[str, ...]
    repeat_every: timedelta | None = None
    clocks: tuple[str, ...] | None = None  # None: every clock
    severities: tuple[str, ...] | None = None  # None: every level
    description: str | None = None


@dataclass(frozen=True, slots=True)
class HouseRules:
    never_say: tuple[str, ...] = ()
    do_not_engage_reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReviewQuestion:
    id: str
    ask: str
    answer: AnswerKind
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Playbook:
    """One version of one playbook. ``digest`` identifies its content; incidents are pinned to it."""

    id: str
    version: int
    owner: str
    applies_to: AppliesTo
    roles: Mapping[str, Role]
    severity: SeverityScheme
    states: Mapping[str, State]
    transitions: tuple[Transition, ...]
    digest: str
    description: str | None = None
    calendars: Mapping[str, Calendar] = field(default_factory=dict)
    house_rules: HouseRules = HouseRules()
    targets: Mapping[str, Target] = field(default_factory=dict)
    escalation: tuple[EscalationStep, ...] = ()
    responses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    review_questions: tuple[ReviewQuestion, ...] = ()

    @property
    def final_states(self) -> frozenset[str]:
        return frozenset(name for name, state in self.states.items() if state.final)

    @property
    def triggers(self) -> frozenset[str]:
        return frozenset(transition.trigger for transition in self.transitions)
