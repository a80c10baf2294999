"""The incident record, the commands that change it and the effects a change asks for.

All frozen: ``step`` returns a new incident rather than changing one, so a refused command cannot leave anything
half-changed and the same inputs always give the same outputs.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any, NamedTuple

from engine.incident._keys import ClockId
from engine.incident._mention import Mention

__all__ = [
    "Act",
    "Actor",
    "AddNote",
    "ArmDeadline",
    "Audit",
    "CancelDeadline",
    "ClockState",
    "Command",
    "DeadlineReached",
    "Draft",
    "DraftReply",
    "DraftStage",
    "DraftStep",
    "Effect",
    "Incident",
    "JoinMention",
    "LinkIncident",
    "LinkRelation",
    "Notify",
    "NotifyKind",
    "Occurrence",
    "OpenCrisis",
    "Promise",
    "RefusalReason",
    "Refused",
    "SetOwner",
    "Stepped",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Occurrence(NamedTuple):
    """One firing of an escalation step: ``offset`` of counted time after the clock started.

    ``step`` is the escalation step's index in the playbook, or -1 for the bare breach at 100%. A named tuple, not a
    dataclass: clocks make several of these on every command, and a tuple is built at a third of the cost.
    """

    offset: timedelta
    step: int
    repetition: int
    at: datetime


class ClockState(NamedTuple):
    """A running clock: a state's limit (``limit:<state>``) or an end-to-end target (its name).

    ``epoch`` is the incident's revision when the clock started, so a clock that runs again (a re-opened incident)
    gets new deadline keys and its notifications are not mistaken for repeats of the first run's. A named tuple for
    the same reason as :class:`Occurrence`; change one with ``clock._replace(...)``.
    """

    name: str
    started_at: datetime
    epoch: int
    due_at: datetime
    fired: Occurrence | None = None
    next: Occurrence | None = None
    #: When lateness counts from, when not ``due_at``: a severity raised after a clock's new time had passed made it
    #: late at once, and it is judged late only from the raise, not from a time nobody could have kept.
    judged_from: datetime | None = None
    #: When a change of severity last laid the clock out again, until the steps it made overdue have fired: those
    #: collapse into one notification at the step current then.
    replanned_at: datetime | None = None
    #: When the clock stopped to stand still in one of its target's ``paused_in`` states; None while it runs. A
    #: paused clock has no deadline armed, and is read as of this moment (see ``engine.incident._pauses``).
    paused_at: datetime | None = None
    #: The spans it stood still in before, as (paused, resumed), oldest first: closed time for this clock only.
    pauses: tuple[tuple[datetime, datetime], ...] = ()

    @property
    def late_from(self) -> datetime:
        return self.judged_from or self.due_at

    @property
    def paused(self) -> bool:
        return self.paused_at is not None

    @property
    def id(self) -> ClockId:
        """Which clock this is; ``name`` is its text form, as stored and shown."""
        return ClockId.parse(self.name)

    @property
    def kind(self) -> str:
        """``limit`` for state limits, otherwise the target's name: what escalation ``clocks`` filters match."""
        return self.id.escalation_kind


class DraftStage(enum.StrEnum):
    """Where a draft reply stands: waiting for an approver, returned with a note, or approved to be posted."""

    PENDING = "pending"
    RETURNED = "returned"
    APPROVED = "approved"


@dataclass(frozen=True, slots=True)
class Draft:
    """A public reply drafted for an action that needs approval (``trigger``), and the approver's decision on it.

    ``digest`` names its words (see :func:`engine.incident.reply_digest`); once approved, the action is taken only
    with a reply of the same words. ``decided_by`` and ``decided_at`` are the approver's, for the last two stages.
    """

    trigger: str
    text: str
    channel: str
    digest: str
    stage: DraftStage
    drafted_by: str
    drafted_at: datetime
    decided_by: str | None = None
    decided_at: datetime | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Promise:
    """An offer made: what was promised, by whom and when, by when it is due, and, once delivered, by whom, when and
    how (``kept_note``). Its clock, ``promise:<id>``, runs among the incident's clocks until it is kept.

    ``id`` is ``<kind>-<number>``, numbered from 1 in the order the incident's promises were made, so it stays the
    same in every replay of the log and a person can name it ("deliver refund-1").
    """

    id: str
    kind: str
    promised_by: str
    promised_at: datetime
    due_at: datetime
    amount: float | None = None
    currency: str | None = None  # the catalogue's, as the offer was made under it
    note: str | None = None
    contact: str | None = None
    kept_at: datetime | None = None
    kept_by: str | None = None
    kept_note: str | None = None

    @property
    def kept(self) -> bool:
        return self.kept_at is not None

    @property
    def clock(self) -> str:
        """The text form of its clock's id, as the incident's clocks, deadlines and notifications name it."""
        return str(ClockId.promise(self.id))


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident, pinned to the playbook version and content digest it opened under."""

    id: str
    playbook: str
    playbook_version: int
    playbook_digest: str
    state: str
    severity: str
    channel: str
    author: str
    opened_at: datetime
    entered_at: datetime
    last_mention_at: datetime
    thread_id: str | None = None
    revision: int = 0
    clocks: tuple[ClockState, ...] = ()
    finished_clocks: frozenset[str] = frozenset()
    breached: frozenset[str] = frozenset()
    #: How many mentions it holds (the opening one included). Which ones is the store's to keep (its mentions
    #: table): an incident that grew with every post would cost more to save at each, and 10,000 replies in one
    #: thread cost quadratically more than the first.
    mention_count: int = 1
    facts: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    #: Incidents this one is linked to, as (incident id, :class:`LinkRelation`), in the order the links were made.
    links: tuple[tuple[str, str], ...] = ()
    #: The person who answers for the incident now (taken or assigned), or nobody.
    owner: str | None = None
    #: For each role, when an escalation last told it about the incident and from which clock: a repeat from one
    #: clock is left out for a role another clock told since the repeat before (``merge_repeats``).
    told: Mapping[str, tuple[datetime, str]] = field(default_factory=lambda: _EMPTY)
    #: The customer's id in the brand's systems, from the first of its mentions that carried one: the customer is
    #: then known. ``customer_segment`` is the segment that mention gave (``vip``), if any.
    customer_id: str | None = None
    customer_segment: str | None = None
    #: The promise ledger: every offer made under the playbook's offers catalogue, kept or not, in order.
    promises: tuple[Promise, ...] = ()

    def promise(self, promise_id: str) -> Promise | None:
        return next((promise for promise in self.promises if promise.id == promise_id), None)

    @property
    def open_promises(self) -> tuple[Promise, ...]:
        if not self.promises:  # asked at every move to a resolving or final state, where most incidents have none
            return ()
        return tuple(promise for promise in self.promises if not promise.kept)

    #: The reply drafted for an action that needs approval, in this state; any change of state clears it.
    draft: Draft | None = None
    #: The group the incident gathers the mentions of (see :mod:`engine.incident._groups`), or None.
    group: str | None = None
    #: Mentions counted for the playbook's surge rules: (step, how many) for the recent steps of time, oldest
    #: first, each step a tenth of the shortest surge window (see :mod:`engine.incident._surges`).
    arrivals: tuple[tuple[int, int], ...] = ()
    #: The surge rules that fired for this incident, by name, in the order they fired: each fires once.
    surged: tuple[str, ...] = ()

    def clock(self, name: str) -> ClockState | None:
        return next((clock for clock in self.clocks if clock.name == name), None)

    def evolve(self, **changes: Any) -> Incident:
        """A copy with ``changes``, as ``dataclasses.replace`` makes it, at a tenth of its cost: ``step`` makes one
        on every command. Unknown field names are an error, as with ``replace``. (Replaced below by the copier
        :func:`_evolver` writes out; this body is what it does.)"""
        return replace(self, **changes)  # pragma: no cover - replaced by the written-out copier


class _Keep:
    """The default of every keyword of a written-out ``evolve``: the field keeps its value."""

    __slots__ = ()


def _evolver(cls: type[Any]) -> Any:
    """``cls.evolve`` written out field by field, as ``dataclasses`` writes ``__init__``, but on a twin class: the
    same slots without the frozen ``__setattr__``, so each field is a plain slot store instead of a call to
    ``object.__setattr__`` (a third of the cost of a copy); the copy becomes a ``cls`` once filled in. A keyword
    per field makes an unknown name the usual ``TypeError``."""
    names = [item.name for item in fields(cls)]
    twin = type(f"_{cls.__name__}Copy", (), {"__slots__": tuple(names)})
    keywords = ", ".join(f"{name}=_KEEP" for name in names)
    body = "".join(f"    new.{name} = self.{name} if {name} is _KEEP else {name}\n" for name in names)
    namespace: dict[str, Any] = {"_new": object.__new__, "_twin": twin, "_cls": cls, "_KEEP": _Keep()}
    namespace["_set"] = object.__setattr__
    exec(  # the text is made here from the dataclass's own field names
        f"def evolve(self, *, {keywords}):\n    new = _new(_twin)\n{body}    _set(new, '__class__', _cls)\n"
        "    return new\n",
        namespace,
    )
    evolve = namespace["evolve"]
    evolve.__doc__ = cls.evolve.__doc__
    evolve.__qualname__ = f"{cls.__name__}.evolve"
    return evolve


Incident.evolve = _evolver(Incident)  # type: ignore[method-assign]


# --- commands -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Actor:
    """A person acting, with the roles the roster gives them, and their name there when it gives one (what a
    contact of the kind ``agent`` must name)."""

    person: str
    roles: frozenset[str]
    name: str | None = None

    @property
    def roles_in_words(self) -> str:
        """``community_manager, social_lead``, or ``no role``: what a refusal says the person has."""
        return ", ".join(sorted(self.roles)) or "no role"


@dataclass(frozen=True, slots=True)
class Act:
    """A person takes one of the playbook's actions, providing what it requires in ``fields``."""

    trigger: str
    actor: Actor
    fields: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    expected_revision: int | None = None


@dataclass(frozen=True, slots=True)
class DeadlineReached:
    """The scheduler says an armed deadline is due. Unknown or stale keys change nothing."""

    key: str


@dataclass(frozen=True, slots=True)
class JoinMention:
    """Another mention about the same incident: the same thread, or the same author soon after. ``via`` is the id of
    the closed incident it was about, when that one was merged into this."""

    mention: Mention
    via: str | None = None


class LinkRelation(enum.StrEnum):
    """How a linked incident relates to this one."""

    FOLLOW_UP_OF = "follow_up_of"  # this incident was opened for a follow-up from the linked incident's author
    FOLLOWED_UP_BY = "followed_up_by"  # a follow-up from this incident's author opened the linked incident
    CRISIS = "crisis"  # a surge of this incident opened (or joined) the linked crisis incident
    SURGE_OF = "surge_of"  # this crisis incident is for a surge of the linked incident


@dataclass(frozen=True, slots=True)
class LinkIncident:
    """Another incident was opened for a follow-up that matched a higher-priority playbook (``playbook``)."""

    incident: str
    playbook: str
    relation: LinkRelation = LinkRelation.FOLLOWED_UP_BY


@dataclass(frozen=True, slots=True)
class SetOwner:
    """Take, assign or release the incident: ``owner`` (with the roster's roles) answers for it now, or nobody.

    Recorded in the history, but not a change of state: the revision stays, so nobody's drafted action goes stale
    because a colleague took the case. ``take_over`` False is a *take*: refused when someone else has it already,
    so two people pressing "take" at once do not both think it theirs.
    """

    actor: Actor
    owner: Actor | None
    take_over: bool = True


@dataclass(frozen=True, slots=True)
class AddNote:
    """An internal note on the incident, for the team only: never posted anywhere. Not a change of state."""

    actor: Actor
    text: str


class DraftStep(enum.StrEnum):
    """What a person does with the draft reply of an action that needs approval."""

    SUBMIT = "submit"  # a new draft (or a redraft), with ``public_reply`` in the fields
    APPROVE = "approve"  # an approver approves the draft as it stands
    RETURN = "return"  # an approver sends it back (or withdraws an approval), with a ``note``


@dataclass(frozen=True, slots=True)
class DraftReply:
    """A draft reply for the action ``trigger`` submitted, approved or returned. Not a change of state: the
    incident stays where it is and its clocks run on; the revision moves, so a decision is made on what was seen."""

    step: DraftStep
    trigger: str
    actor: Actor
    fields: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    expected_revision: int | None = None


Command = Act | DeadlineReached | JoinMention | LinkIncident | SetOwner | AddNote | DraftReply


# --- effects ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArmDeadline:
    key: str
    at: datetime
    clock: str


@dataclass(frozen=True, slots=True)
class CancelDeadline:
    key: str
    clock: str


class NotifyKind(enum.StrEnum):
    WARNING = "warning"  # before the clock's time is up
    BREACH = "breach"  # the time is up
    ESCALATION = "escalation"  # long past the time
    EVENT = "event"  # something happened that a notify_on rule tells of at once


@dataclass(frozen=True, slots=True)
class Notify:
    """Tell the people in ``roles`` about a clock, or about an event. ``key`` is stable across retries: (incident,
    clock, step, rep) for a clock's step; (incident, event, occasion, rule) for an event, whose ``step`` is then the
    ``notify_on`` rule's index and whose ``clock`` is the breached clock's name, or empty."""

    key: str
    incident: str
    roles: tuple[str, ...]
    kind: NotifyKind
    clock: str
    state: str
    severity: str
    step: int  # the escalation step's index in the playbook
    repetition: int
    threshold: float  # the step's share of the clock: 0.75 is 75%
    scheduled_at: datetime  # when the step was due
    due_at: datetime  # when the clock's time is up (100%)
    late_by: timedelta  # how late this notification is against scheduled_at (0 when on time)
    event: str | None = None  # for kind EVENT: what happened (an EventKind value)


@dataclass(frozen=True, slots=True)
class Audit:
    """An entry for the incident's history: what happened, who did it, and the details."""

    at: datetime
    kind: str
    summary: str
    actor: str | None = None
    details: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


@dataclass(frozen=True, slots=True)
class OpenCrisis:
    """A surge rule asks for a crisis incident under ``playbook``, linked to this incident: the service opens it
    (or links the one already open from the same rule) in the same unit of work."""

    playbook: str
    surge: str


Effect = ArmDeadline | CancelDeadline | Notify | Audit | OpenCrisis


def _filled_in(cls: type[Any]) -> type[Any]:
    """``cls.__init__`` for a frozen slotted dataclass, writing each field as a plain slot store: the instance is a
    twin with the same slots and no frozen ``__setattr__`` while it is filled in, then ``cls`` again. The same
    signature, defaults and default factories as the ``__init__`` that ``dataclasses`` writes, at half its cost
    (``step`` makes a few of these records on every command; each field written through ``object.__setattr__``
    costs as much as the rest of a small record)."""
    names = [item.name for item in fields(cls)]
    twin = type(f"_{cls.__name__}Filling", (), {"__slots__": tuple(names)})
    namespace: dict[str, Any] = {"_set": object.__setattr__, "_twin": twin, "_cls": cls, "_FACTORY": _Keep()}
    parameters, prologue = [], []
    for item in fields(cls):
        if item.default is not MISSING:
            namespace[f"_default_{item.name}"] = item.default
            parameters.append(f"{item.name}=_default_{item.name}")
        elif item.default_factory is not MISSING:
            namespace[f"_factory_{item.name}"] = item.default_factory
            parameters.append(f"{item.name}=_FACTORY")
            prologue.append(f"    if {item.name} is _FACTORY:\n        {item.name} = _factory_{item.name}()\n")
        else:
            parameters.append(item.name)
    body = "".join(f"    self.{name} = {name}\n" for name in names)
    exec(  # the text is made here from the dataclass's own field names
        f"def __init__(self, {', '.join(parameters)}):\n{''.join(prologue)}    _set(self, '__class__', _twin)\n"
        f"{body}    self.__class__ = _cls\n",
        namespace,
    )
    initialise = namespace["__init__"]
    initialise.__qualname__ = f"{cls.__name__}.__init__"
    cls.__init__ = initialise
    return cls


for _record in (ArmDeadline, CancelDeadline, Notify, Audit):
    _filled_in(_record)


# --- results ------------------------------------------------------------------------------------------------


class RefusalReason(enum.StrEnum):
    CLOSED = "closed"  # the incident is in a final state
    STALE = "stale"  # the actor saw an older revision
    UNKNOWN_ACTION = "unknown_action"  # the playbook has no such trigger
    NOT_AVAILABLE = "not_available"  # the action cannot be taken from the current state
    ROLE_NOT_ALLOWED = "role_not_allowed"
    MISSING_FIELD = "missing_field"
    INVALID_FIELD = "invalid_field"
    UNEXPECTED_FIELD = "unexpected_field"
    HOUSE_RULE = "house_rule"  # a public reply says what the house rules forbid
    WRONG_CHANNEL = "wrong_channel"  # a public reply not on the incident's own channel
    TAKEN = "taken"  # someone else has the incident already
    GUARD = "guard"  # the action's ``when`` does not hold for the incident's facts (severity, channel, customer)
    CUSTOMER_UNKNOWN = "customer_unknown"  # contact_route direct, but the incident's customer is not known
    OVER_CAP = "over_cap"  # an offer's amount is more than the actor's roles may offer
    OPEN_PROMISE = "open_promise"  # a promise is not yet delivered, so the incident cannot be resolved or closed
    NEEDS_APPROVAL = "needs_approval"  # the reply must be drafted and approved before the action
    NOT_AS_APPROVED = "not_as_approved"  # the reply's words are not the approved ones
    NOT_A_TEMPLATE = "not_a_template"  # the reply must be one of the action's templates, and is not
    OWN_DRAFT = "own_draft"  # an approver may not approve the draft they wrote


@dataclass(frozen=True, slots=True)
class Refused:
    """A command the rules do not allow. The incident is unchanged; ``message`` says which rule and why."""

    reason: RefusalReason
    message: str
    field: str | None = None
    #: For a ``house_rule`` refusal, the never_say phrase the reply used, as the playbook writes it: what a report
    #: of which house rules were exercised counts, without reading it back out of the message. For a do-not-engage
    #: reason refused to a role it is not for, that reason.
    phrase: str | None = None
    #: For a ``guard`` refusal, the state the incident was in: with the action, it names the guarded transitions
    #: that refused it, which a report of which guards were exercised counts.
    state: str | None = None


@dataclass(frozen=True, slots=True)
class Stepped:
    """A command applied: the new incident and what must happen next, in order."""

    incident: Incident
    effects: tuple[Effect, ...]
