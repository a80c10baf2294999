"""The incident runtime: incidents, the commands that change them, their clocks and escalations.

Pure, like :mod:`engine.playbook`: no I/O, no clock (``now`` is always passed in). The heart is
:func:`step`, ``step(incident, command, now, rulebook) -> Stepped | Refused``: a new incident and the effects to
carry out (deadlines to arm or cancel, people to notify, history entries), or a refusal that says which rule and why.
"""

from engine.incident._calendar import AroundTheClock, BusinessCalendar, TimeCounter
from engine.incident._clocks import deadline_key
from engine.incident._fields import CONTACT_ROUTES, DIRECT, contact_routes
from engine.incident._groups import Grouper, crisis_key
from engine.incident._guards import guard_holds, guard_said, guard_view, unmet
from engine.incident._keys import ClockId, ClockKind, DeadlineKey
from engine.incident._matching import (
    JoinInto,
    Merged,
    NoMatch,
    OpenUnder,
    Route,
    belongs,
    joins,
    match_playbook,
    route,
)
from engine.incident._mention import (
    MAX_AHEAD,
    Author,
    Engagement,
    Mention,
    MentionError,
    MentionProblem,
    mend_mention,
    mention_schema,
    parse_mention,
)
from engine.incident._merges import merge_target, merged_into
from engine.incident._moments import iso as iso_moment
from engine.incident._mutes import MUTED_UNTIL, muted_until, silences
from engine.incident._offers import money, offer_text
from engine.incident._pauses import standing
from engine.incident._record import (
    Act,
    Actor,
    AddNote,
    ArmDeadline,
    Audit,
    CancelDeadline,
    ClockState,
    Command,
    DeadlineReached,
    Draft,
    DraftReply,
    DraftStage,
    DraftStep,
    Effect,
    Incident,
    JoinMention,
    LinkIncident,
    LinkRelation,
    Notify,
    NotifyKind,
    Occurrence,
    OpenCrisis,
    Promise,
    RefusalReason,
    Refused,
    SetOwner,
    Stepped,
)
from engine.incident._repair import Repair
from engine.incident._replies import Difference, difference, fill_reply, filled_replies, reply_digest
from engine.incident._rulebook import Rulebook
from engine.incident._step import open_incident, step
from engine.incident._teamwork import NOTE_LIMIT

__all__ = [
    "CONTACT_ROUTES",
    "DIRECT",
    "MAX_AHEAD",
    "MUTED_UNTIL",
    "NOTE_LIMIT",
    "Act",
    "Actor",
    "AddNote",
    "ArmDeadline",
    "AroundTheClock",
    "Audit",
    "Author",
    "BusinessCalendar",
    "CancelDeadline",
    "ClockId",
    "ClockKind",
    "ClockState",
    "Command",
    "DeadlineKey",
    "DeadlineReached",
    "Difference",
    "Draft",
    "DraftReply",
    "DraftStage",
    "DraftStep",
    "Effect",
    "Engagement",
    "Grouper",
    "Incident",
    "JoinInto",
    "JoinMention",
    "LinkIncident",
    "LinkRelation",
    "Mention",
    "MentionError",
    "MentionProblem",
    "Merged",
    "NoMatch",
    "Notify",
    "NotifyKind",
    "Occurrence",
    "OpenCrisis",
    "OpenUnder",
    "Promise",
    "RefusalReason",
    "Refused",
    "Repair",
    "Route",
    "Rulebook",
    "SetOwner",
    "Stepped",
    "TimeCounter",
    "belongs",
    "contact_routes",
    "crisis_key",
    "deadline_key",
    "difference",
    "fill_reply",
    "filled_replies",
    "guard_holds",
    "guard_said",
    "guard_view",
    "iso_moment",
    "joins",
    "match_playbook",
    "mend_mention",
    "mention_schema",
    "merge_target",
    "merged_into",
    "money",
    "muted_until",
    "offer_text",
    "open_incident",
    "parse_mention",
    "reply_digest",
    "route",
    "silences",
    "standing",
    "step",
    "unmet",
]
