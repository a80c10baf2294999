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
    "AROUND_THE_CLOCK",
    "DELIVER",
    "FOLLOW_UP",
    "LIFECYCLE",
    "LIMIT_CLOCK",
    "PROMISE_CLOCK",
    "REPLY",
    "AnswerKind",
    "AppliesTo",
    "Approval",
    "Calendar",
    "Condition",
    "ContactKind",
    "ContactRule",
    "Customer",
    "EscalationStep",
    "EventKind",
    "EventRule",
    "Grouping",
    "Guard",
    "HouseRules",
    "Limit",
    "OfferKind",
    "Offers",
    "OpeningHours",
    "Playbook",
    "Requirement",
    "ReviewQuestion",
    "Role",
    "SeverityRule",
    "SeverityScheme",
    "State",
    "SurgeRule",
    "Target",
    "Transition",
]

#: The fixed lifecycle every playbook has, in order; ``detected`` is where every incident starts.
LIFECYCLE = ("detected", "assessed", "acknowledged", "resolution_offered", "resolved", "reviewed")

#: The name of the per-state time limits among an escalation step's clocks.
LIMIT_CLOCK = "limit"

#: What a clock's ``calendar`` says for a level that counts around the clock although others keep office hours.
AROUND_THE_CLOCK = "around_the_clock"

#: A target's ``from`` that starts its clock each time the customer writes again (a follow-up joins the incident),
#: as the helpdesks' "next reply time"; it is not a state's name.
FOLLOW_UP = "follow_up"

#: A target's ``until`` met by the team's next public reply or private contact (an action with a ``public_reply``
#: or a ``contact_route``), not by entering a state.
REPLY = "reply"
#: The name of the promises' clocks (one per offer made) among an escalation step's clocks.
PROMISE_CLOCK = "promise"

#: The built-in action that records a promise kept: it needs no transition, as notes and owners need none.
DELIVER = "deliver"


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
    CONTACT = "contact"


class ContactKind(enum.StrEnum):
    """What kind of contact puts a real person behind a reply or an offer."""

    PHONE = "phone"
    EMAIL = "email"
    AGENT = "agent"  # the acting person's own name, from the roster


class Customer(enum.StrEnum):
    """Whether the incident's (or the mention's) customer is known: a listening tool or CRM gave a customer id."""

    KNOWN = "known"
    UNKNOWN = "unknown"


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
    customer: Customer | None = None
    customer_segments_any: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Guard:
    """Facts of the incident an action needs (a transition's ``when``); all that are set must hold.

    ``customer_segments_any`` implies a known customer: a segment comes with a customer id.
    """

    severities: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    customer: Customer | None = None
    customer_segments_any: tuple[str, ...] = ()

    def overlaps(self, other: Guard) -> bool:
        """Whether some incident could meet both guards: every fact both constrain has a value both allow."""
        if self.severities and other.severities and not set(self.severities) & set(other.severities):
            return False
        if self.channels and other.channels and not set(self.channels) & set(other.channels):
            return False
        known = {self.customer, other.customer} | {
            Customer.KNOWN for guard in (self, other) if guard.customer_segments_any
        }
        if Customer.KNOWN in known and Customer.UNKNOWN in known:
            return False
        segments = (self.customer_segments_any, other.customer_segments_any)
        return not (all(segments) and not set(segments[0]) & set(segments[1]))


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


class _OnCalendars:
    """A clock that counts on a calendar, or a calendar per severity level: a state's limit, a target."""

    __slots__ = ()
    calendar: str | None
    level_calendars: Mapping[str, str | None]

    def calendar_for(self, level: str) -> str | None:
        return self.level_calendars.get(level, self.calendar)

    @property
    def calendars_named(self) -> frozenset[str]:
        """Every calendar this clock counts on at some level."""
        return frozenset(name for name in (self.calendar, *self.level_calendars.values()) if name is not None)


@dataclass(frozen=True, slots=True)
class State(_OnCalendars):
    name: str
    description: str | None = None
    limit: Limit | None = None
    #: The calendar the limit counts on (None: around the clock), for every level ``level_calendars`` leaves out.
    calendar: str | None = None
    final: bool = False
    #: A calendar per severity level where it differs (None: around the clock): critical cases round the clock.
    level_calendars: Mapping[str, str | None] = field(default_factory=dict)
    #: Where a follow-up (another mention joining) moves an incident in this state: "my refund still hasn't
    #: arrived" on a resolved incident reopens it rather than joining silently.
    reopen_on_follow_up: str | None = None


@dataclass(frozen=True, slots=True)
class Target(_OnCalendars):
    name: str
    start: str
    until: tuple[str, ...]
    within: Limit
    calendar: str | None = None
    description: str | None = None
    #: Side paths: entering one of these stops the clock without a verdict (neither met nor missed).
    stops_on: tuple[str, ...] = ()
    level_calendars: Mapping[str, str | None] = field(default_factory=dict)
    #: States where the clock stands still (waiting on the customer): it counts again, from where it stopped, when
    #: the incident leaves them for a state where it runs.
    paused_in: tuple[str, ...] = ()

    @property
    def per_follow_up(self) -> bool:
        """Whether the clock starts each time the customer writes again, rather than on entering a state."""
        return self.start == FOLLOW_UP

    @property
    def until_reply(self) -> bool:
        """Whether the team's next public reply or private contact meets it."""
        return REPLY in self.until

    @property
    def until_states(self) -> tuple[str, ...]:
        return tuple(state for state in self.until if state != REPLY)


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
    when: Guard | None = None
    approval: Approval | None = None
    #: Whether the public reply must be one of the action's templates: None follows the playbook's setting.
    responses_required: bool | None = None
    #: How long after this action (a do-not-engage verdict) the author's next posts are recorded on the closed
    #: incident instead of opening new ones; None: not at all.
    mutes_author: timedelta | None = None

    @property
    def posts_reply(self) -> bool:
        return Requirement.PUBLIC_REPLY in self.requires


@dataclass(frozen=True, slots=True)
class EscalationStep:
    after: float  # a share of the clock's time: 0.75 is 75%
    notify: tuple[str, ...]
    repeat_every: timedelta | None = None
    clocks: tuple[str, ...] | None = None  # None: every clock; "limit", "limit:<state>" or a target's name
    severities: tuple[str, ...] | None = None  # None: every level
    description: str | None = None
    #: A repeat is left out when its roles heard about the incident from another clock since the last repeat.
    merge_repeats: bool = True


class EventKind(enum.StrEnum):
    """What happens to an incident that a playbook can notify roles of at once (``notify_on``)."""

    OPENED = "opened"  # a mention opened it
    ENTERED = "entered"  # an action moved it into a state
    SEVERITY_RAISED = "severity_raised"  # its level went up: set by a person, or a new mention's rules
    REOPENED = "reopened"  # it left resolved for an open state again
    FOLLOW_UP = "follow_up"  # another mention joined it
    BREACH = "breach"  # a clock's time ran out
    #: A surge rule fired: its own ``notify`` tells of it (never a ``notify_on`` rule), delivered as events are.
    SURGE = "surge"


@dataclass(frozen=True, slots=True)
class EventRule:
    """Notify ``notify`` when ``event`` happens, if the incident then is in one of ``states``, at one of
    ``severities`` and (for a breach) the clock is one of ``clocks``; None means any."""

    event: EventKind
    notify: tuple[str, ...]
    states: tuple[str, ...] | None = None
    severities: tuple[str, ...] | None = None
    clocks: tuple[str, ...] | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class Grouping:
    """How a playbook groups mentions about one event into one incident (``group``).

    A mention's group is the playbook's, narrowed by its channel (``per_channel``) and by the first topic whose
    phrases its text names (none named: the group of no topic). While the group's open incident had a mention
    within ``within``, the next one joins it rather than opening another."""

    within: timedelta
    topics: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    per_channel: bool = False
    description: str | None = None


@dataclass(frozen=True, slots=True)
class SurgeRule:
    """A surge: a group's incident holds ``count`` mentions within ``within`` (and, with ``rate``, that is ``rate``
    times its rate over the ``over`` before). Fires once per incident: raises it to ``raise_to``, opens a crisis
    incident under the playbook ``open``, and notifies ``notify``."""

    name: str
    count: int
    within: timedelta
    rate: float | None = None
    over: timedelta | None = None
    raise_to: str | None = None
    open: str | None = None
    notify: tuple[str, ...] = ()
    description: str | None = None


@dataclass(frozen=True, slots=True)
class OfferKind:
    """One kind of offer: who may make it, each role's cap on its amount, and how long the team has to deliver it."""

    name: str
    description: str
    by: tuple[str, ...]
    deliver_within: Limit
    max_amount: Mapping[str, float] = field(default_factory=dict)
    calendar: str | None = None

    def calendar_for(self, level: str) -> str | None:
        """The calendar its promises count on at ``level``: the offer's own, at every level."""
        return self.calendar

    def cap_for(self, roles: frozenset[str]) -> float | None:
        """The largest amount someone with ``roles`` may offer: None for no cap (a role of ``by`` without one)."""
        offering = [role for role in self.by if role in roles]
        if not self.max_amount or any(role not in self.max_amount for role in offering):
            return None
        return max(self.max_amount[role] for role in offering)


@dataclass(frozen=True, slots=True)
class Offers:
    """The offers catalogue: each kind of offer by name, and the currency every amount is in."""

    kinds: Mapping[str, OfferKind]
    currency: str | None = None


@dataclass(frozen=True, slots=True)
class ContactRule:
    """Which contacts an action that requires one accepts; ``email_domains`` empty means any domain."""

    accept: tuple[ContactKind, ...] = tuple(ContactKind)
    email_domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class HouseRules:
    """``reason_roles`` holds, for each do-not-engage reason that names who may give it, those roles; any reason
    not in it may be given by whoever may take the action."""

    never_say: tuple[str, ...] = ()
    do_not_engage_reasons: tuple[str, ...] = ()
    reason_roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def may_give(self, reason: str, roles: frozenset[str]) -> bool:
        """Whether a person with ``roles`` may give ``reason`` (one of the house rules' reasons)."""
        allowed = self.reason_roles.get(reason)
        return allowed is None or not roles.isdisjoint(allowed)


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
    notify_on: tuple[EventRule, ...] = ()
    group: Grouping | None = None  # None: one incident per mention, but for threads and authors
    surges: tuple[SurgeRule, ...] = ()
    responses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Whether every public reply must be one of its action's templates (a transition may say otherwise).
    responses_required: bool = False
    review_questions: tuple[ReviewQuestion, ...] = ()
    offers: Offers | None = None  # None: offers are free text, and no promise is kept
    contact: ContactRule = ContactRule()

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
