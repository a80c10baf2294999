"""The records step makes without calling their classes are the records their classes make."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, fields
from datetime import UTC, datetime, timedelta

import pytest
from incident_support import opened

from engine.incident import ArmDeadline, Audit, CancelDeadline, ClockState, Notify, NotifyKind, Stepped
from engine.incident._made import make_arm, make_audit, make_cancel, make_notify, make_stepped

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _same(made: object, called: object) -> None:
    assert type(made) is type(called)
    assert made == called
    assert repr(made) == repr(called)
    for item in fields(called):  # type: ignore[arg-type]
        assert getattr(made, item.name) == getattr(called, item.name)
    if isinstance(called, ArmDeadline | CancelDeadline | Notify):  # the others hold read-only views pickle refuses
        assert pickle.loads(pickle.dumps(made)) == called


def test_each_maker_makes_the_record_its_class_makes_defaults_included() -> None:
    _same(make_audit(AT, "note", "a note"), Audit(AT, "note", "a note"))
    _same(
        make_audit(AT, "note", "said", "carol", {"text": "said"}), Audit(AT, "note", "said", "carol", {"text": "said"})
    )
    _same(
        make_arm("inc-1/first_response/0/0/0", AT, "first_response"),
        ArmDeadline("inc-1/first_response/0/0/0", AT, "first_response"),
    )
    _same(
        make_cancel("inc-1/first_response/0/0/0", "first_response"),
        CancelDeadline("inc-1/first_response/0/0/0", "first_response"),
    )
    told = {
        "key": "inc-1/first_response/0/0/0",
        "incident": "inc-1",
        "roles": ("community_manager",),
        "kind": NotifyKind.WARNING,
        "clock": "first_response",
        "state": "detected",
        "severity": "medium",
        "step": 0,
        "repetition": 0,
        "threshold": 0.75,
        "scheduled_at": AT,
        "due_at": AT + timedelta(hours=1),
        "late_by": timedelta(0),
    }
    _same(make_notify(**told), Notify(**told))  # type: ignore[arg-type]
    _same(make_notify(**told, event="breach"), Notify(**told, event="breach"))  # type: ignore[arg-type]
    incident = opened().incident
    _same(make_stepped(incident, ()), Stepped(incident, ()))


def test_a_made_record_is_as_frozen_as_one_its_class_made() -> None:
    made = make_audit(AT, "note", "a note")

    with pytest.raises(FrozenInstanceError):
        made.kind = "breach"  # type: ignore[misc]


def test_a_clock_has_the_fields_a_firing_deadline_spells_out_when_it_moves_the_clock_on() -> None:
    # engine/incident/_firing.py makes the moved clock field by field, in this order: a new field must be added there.
    assert ClockState._fields == (
        "name",
        "started_at",
        "epoch",
        "due_at",
        "fired",
        "next",
        "judged_from",
        "replanned_at",
        "paused_at",
        "pauses",
    )
