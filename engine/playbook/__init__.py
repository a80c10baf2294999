"""The playbook language: strict loading with positions, the schema, semantic checks, the typed model and its
compilation into a state machine.

This package is pure: it reads no files, touches no clock and does no I/O (a test enforces its imports). Callers
read bytes and pass them to :func:`load`; see :mod:`engine.files._catalog` for folders of playbooks on disk.

Problems are data, never exceptions: :func:`load` returns every problem it finds, each with a stable code
(:func:`all_rules` lists them), a severity and a position.
"""

from engine.playbook._build import content_digest
from engine.playbook._channel import CHANNEL_ALIASES, canonical_channel, handle_key
from engine.playbook._checks import PLACEHOLDERS
from engine.playbook._duration import (
    MAX_DURATION,
    MAX_PERCENTAGE,
    BusinessDays,
    business_days,
    format_duration,
    parse_duration,
    parse_percentage,
)
from engine.playbook._failed import Failed
from engine.playbook._load import LoadResult, load
from engine.playbook._machine import compile_machine, machine_spec
from engine.playbook._model import (
    AROUND_THE_CLOCK,
    DELIVER,
    FOLLOW_UP,
    LIFECYCLE,
    LIMIT_CLOCK,
    PROMISE_CLOCK,
    REPLY,
    AnswerKind,
    AppliesTo,
    Approval,
    Calendar,
    Condition,
    ContactKind,
    ContactRule,
    Customer,
    EscalationStep,
    EventKind,
    EventRule,
    Guard,
    HouseRules,
    Limit,
    OfferKind,
    Offers,
    OpeningHours,
    Playbook,
    Requirement,
    ReviewQuestion,
    Role,
    SeverityRule,
    SeverityScheme,
    State,
    Target,
    Transition,
)
from engine.playbook._phrase import PhraseSet, normalise
from engine.playbook._problem import Path, Problem, Rule, Severity, all_rules, dotted, rules
from engine.playbook._shape import check_shape, playbook_schema, shipped_schema, suggest
from engine.playbook._yaml import MAX_BYTES, Document, Marks, Position, position_of_index, read_yaml

__all__ = [
    "AROUND_THE_CLOCK",
    "CHANNEL_ALIASES",
    "DELIVER",
    "FOLLOW_UP",
    "LIFECYCLE",
    "LIMIT_CLOCK",
    "MAX_BYTES",
    "MAX_DURATION",
    "MAX_PERCENTAGE",
    "PLACEHOLDERS",
    "PROMISE_CLOCK",
    "REPLY",
    "AnswerKind",
    "AppliesTo",
    "Approval",
    "BusinessDays",
    "Calendar",
    "Condition",
    "ContactKind",
    "ContactRule",
    "Customer",
    "Document",
    "EscalationStep",
    "EventKind",
    "EventRule",
    "Failed",
    "Guard",
    "HouseRules",
    "Limit",
    "LoadResult",
    "Marks",
    "OfferKind",
    "Offers",
    "OpeningHours",
    "Path",
    "PhraseSet",
    "Playbook",
    "Position",
    "Problem",
    "Requirement",
    "ReviewQuestion",
    "Role",
    "Rule",
    "Severity",
    "SeverityRule",
    "SeverityScheme",
    "State",
    "Target",
    "Transition",
    "all_rules",
    "business_days",
    "canonical_channel",
    "check_shape",
    "compile_machine",
    "content_digest",
    "dotted",
    "format_duration",
    "handle_key",
    "load",
    "machine_spec",
    "normalise",
    "parse_duration",
    "parse_percentage",
    "playbook_schema",
    "position_of_index",
    "read_yaml",
    "rules",
    "shipped_schema",
    "suggest",
]
