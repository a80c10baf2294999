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
    "Approval",
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


@dataclass(frozen=True, slots=True)
class Calendar:
    name: str
    timezone: str
    hours: OpeningHours
    holidays: str | None = None  # "GB" or "GB-SCT"


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
    """A time per severity level, with an optional default for the levels not listed."""

    per_level: Mapping[str, timedelta]
    default: timedelta | None = None

    def for_level(self, level: str) -> timedelta | None:
        return self.per_level.get(level, self.default)


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
class Approval:
    """Who must approve the public reply of a transition, word for word, before it may be taken."""

    by: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Transition:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    by: tuple[str, ...]
    requires: frozenset[Requirement] = frozenset()
    description: str | None = None
    approval: Approval | None = None
    #: Whether the public reply must be one of the action's templates: None follows the playbook's setting.
    responses_required: bool | None = None

    @property
    def posts_reply(self) -> bool:
        return Requirement.PUBLIC_REPLY in self.requires


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
    #: Whether every public reply must be one of its action's templates (a transition may say otherwise).
    responses_required: bool = False
    review_questions: tuple[ReviewQuestion, ...] = ()

    def templates_required(self, transition: Transition) -> bool:
        """Whether ``transition``'s public reply must be one of its templates, placeholders filled."""
        if not transition.posts_reply:
            return False
        if transition.responses_required is not None:
            return transition.responses_required
        return self.responses_required

    @property
    def final_states(self) -> frozenset[str]:
        return frozenset(name for name, state in self.states.items() if state.final)

    @property
    def triggers(self) -> frozenset[str]:
        return frozenset(transition.trigger for transition in self.transitions)
