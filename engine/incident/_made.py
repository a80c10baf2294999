"""The records ``step`` makes on every command, made without a call to their class.

Calling a frozen dataclass runs its ``__init__`` as Python whatever calls it: a frame, the keywords bound, each
field stored past the frozen ``__setattr__``. ``step`` makes about ten such records a command (the result, history
entries, deadlines armed and cancelled, notifications), and a replay of a month of incidents makes millions. These
makers store each field through its slot directly and, compiled with the rest of the runtime, run as C: under half
the cost. Each makes exactly the record its class would (a test checks them field by field, defaults included).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import datetime, timedelta
from typing import Any

from engine.incident._record import (
    _EMPTY,
    ArmDeadline,
    Audit,
    CancelDeadline,
    Effect,
    Incident,
    Notify,
    NotifyKind,
    Stepped,
)

__all__ = ["make_arm", "make_audit", "make_cancel", "make_notify", "make_stepped"]

_new = object.__new__


def _slots(cls: type[Any]) -> tuple[Callable[[Any, Any], None], ...]:
    """What stores each field of ``cls``, in the order of its fields (the makers' parameters follow it): the slot's
    own descriptor, which the frozen check is not on."""
    return tuple(cls.__dict__[item.name].__set__ for item in fields(cls))


_AT, _KIND, _SUMMARY, _ACTOR, _DETAILS = _slots(Audit)
_ARM_KEY, _ARM_AT, _ARM_CLOCK = _slots(ArmDeadline)
_CANCEL_KEY, _CANCEL_CLOCK = _slots(CancelDeadline)
_INCIDENT, _EFFECTS = _slots(Stepped)
_NOTIFY = _slots(Notify)


def make_audit(
    at: datetime, kind: str, summary: str, actor: str | None = None, details: Mapping[str, Any] | None = None
) -> Audit:
    """``Audit(at, kind, summary, actor, details)``; no details are the empty mapping, as with the class."""
    made: Audit = _new(Audit)
    _AT(made, at)
    _KIND(made, kind)
    _SUMMARY(made, summary)
    _ACTOR(made, actor)
    _DETAILS(made, _EMPTY if details is None else details)
    return made


def make_arm(key: str, at: datetime, clock: str) -> ArmDeadline:
    made: ArmDeadline = _new(ArmDeadline)
    _ARM_KEY(made, key)
    _ARM_AT(made, at)
    _ARM_CLOCK(made, clock)
    return made


def make_cancel(key: str, clock: str) -> CancelDeadline:
    made: CancelDeadline = _new(CancelDeadline)
    _CANCEL_KEY(made, key)
    _CANCEL_CLOCK(made, clock)
    return made


def make_stepped(incident: Incident, effects: tuple[Effect, ...]) -> Stepped:
    made: Stepped = _new(Stepped)
    _INCIDENT(made, incident)
    _EFFECTS(made, effects)
    return made


def make_notify(
    *,
    key: str,
    incident: str,
    roles: tuple[str, ...],
    kind: NotifyKind,
    clock: str,
    state: str,
    severity: str,
    step: int,
    repetition: int,
    threshold: float,
    scheduled_at: datetime,
    due_at: datetime,
    late_by: timedelta,
    event: str | None = None,
) -> Notify:
    made: Notify = _new(Notify)
    values = (
        key,
        incident,
        roles,
        kind,
        clock,
        state,
        severity,
        step,
        repetition,
        threshold,
        scheduled_at,
        due_at,
        late_by,
        event,
    )
    for store, value in zip(_NOTIFY, values, strict=True):
        store(made, value)
    return made
