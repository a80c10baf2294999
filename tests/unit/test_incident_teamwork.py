"""Ownership and notes in the pure runtime: recorded in the history, never a change of state or revision."""

from __future__ import annotations

from datetime import timedelta

from incident_support import T0, accepted, act, actor, book, opened, public_reply

from engine.incident import NOTE_LIMIT, AddNote, Audit, RefusalReason, Refused, SetOwner, step

LATER = T0 + timedelta(minutes=5)


def test_taking_an_incident_makes_the_taker_its_owner_without_changing_its_state_or_revision() -> None:
    incident = opened().incident
    alice = actor("community_manager", person="alice")

    done = accepted(step(incident, SetOwner(alice, alice, take_over=False), LATER, book("customer-complaint")))

    assert done.incident.owner == "alice"
    assert (done.incident.state, done.incident.revision, done.incident.clocks) == (
        incident.state,
        incident.revision,
        incident.clocks,
    )
    assert done.effects == (Audit(LATER, "owner", "alice took it", "alice", {"owner": "alice", "previous": None}),)


def test_a_take_is_refused_when_someone_else_has_the_incident_and_names_them() -> None:
    alice, bob = actor("community_manager", person="alice"), actor("social_lead", person="bob")
    taken = accepted(step(opened().incident, SetOwner(alice, alice, False), LATER, book("customer-complaint")))

    refused = step(taken.incident, SetOwner(bob, bob, take_over=False), LATER, book("customer-complaint"))

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.TAKEN
    assert "alice has this incident already" in refused.message


def test_assigning_takes_an_incident_over_and_the_history_says_from_whom() -> None:
    alice, bob = actor("community_manager", person="alice"), actor("social_lead", person="bob")
    carol = actor("customer_care", person="carol")
    taken = accepted(step(opened().incident, SetOwner(alice, alice, False), LATER, book("customer-complaint")))

    moved = accepted(step(taken.incident, SetOwner(bob, carol), LATER, book("customer-complaint")))

    assert moved.incident.owner == "carol"
    assert [effect.summary for effect in moved.effects if isinstance(effect, Audit)] == [
        "bob assigned it to carol (it was alice's)"
    ]


def test_an_incident_is_assigned_only_to_someone_with_a_role_in_its_playbook() -> None:
    bob, erin = actor("social_lead", person="bob"), actor("engineering_oncall", person="erin")

    refused = step(opened().incident, SetOwner(bob, erin), LATER, book("customer-complaint"))

    assert isinstance(refused, Refused)
    assert (refused.reason, refused.field) == (RefusalReason.INVALID_FIELD, "owner")
    assert "erin has no role in customer-complaint" in refused.message


def test_only_the_playbooks_team_may_take_an_incident() -> None:
    erin = actor("engineering_oncall", person="erin")

    refused = step(opened().incident, SetOwner(erin, erin, False), LATER, book("customer-complaint"))

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.ROLE_NOT_ALLOWED


def test_releasing_leaves_the_incident_with_nobody_and_a_second_release_records_nothing() -> None:
    alice = actor("community_manager", person="alice")
    taken = accepted(step(opened().incident, SetOwner(alice, alice, False), LATER, book("customer-complaint")))

    released = accepted(step(taken.incident, SetOwner(alice, None), LATER, book("customer-complaint")))
    again = accepted(step(released.incident, SetOwner(alice, None), LATER, book("customer-complaint")))

    assert released.incident.owner is None
    assert [effect.summary for effect in released.effects if isinstance(effect, Audit)] == ["alice released it"]
    assert again.effects == ()


def test_a_closed_incident_cannot_be_taken() -> None:
    bob = actor("social_lead", person="bob")
    incident = opened().incident
    closed = accepted(act(incident, "do_not_engage", ["social_lead"], LATER, reason="troll")).incident

    refused = step(closed, SetOwner(bob, bob, False), LATER, book("customer-complaint"))

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.CLOSED


def test_a_note_is_kept_in_the_history_and_changes_nothing_else_even_on_a_closed_incident() -> None:
    bob = actor("social_lead", person="bob")
    closed = accepted(act(opened().incident, "do_not_engage", ["social_lead"], LATER, reason="troll")).incident

    noted = accepted(
        step(closed, AddNote(bob, "  Same account as last week's spam.  "), LATER, book("customer-complaint"))
    )

    assert noted.incident is closed
    assert noted.effects == (
        Audit(LATER, "note", "Same account as last week's spam.", "bob", {"text": "Same account as last week's spam."}),
    )


def test_an_empty_or_overlong_note_is_refused_with_what_to_do() -> None:
    bob = actor("social_lead", person="bob")
    incident = opened().incident

    empty = step(incident, AddNote(bob, "   "), LATER, book("customer-complaint"))
    overlong = step(incident, AddNote(bob, "x" * (NOTE_LIMIT + 1)), LATER, book("customer-complaint"))

    assert isinstance(empty, Refused)
    assert (empty.reason, empty.field) == (RefusalReason.MISSING_FIELD, "note")
    assert isinstance(overlong, Refused)
    assert overlong.reason is RefusalReason.INVALID_FIELD
    assert f"under {NOTE_LIMIT:,}" in overlong.message


def test_an_owner_does_not_make_an_action_drafted_on_the_same_revision_stale() -> None:
    alice = actor("community_manager", person="alice")
    assessed = accepted(act(opened().incident, "assess", ["community_manager"], LATER, severity="medium")).incident
    drafted_on = assessed.revision
    taken = accepted(step(assessed, SetOwner(alice, alice, False), LATER, book("customer-complaint"))).incident

    from engine.incident import Act  # noqa: PLC0415 - beside its one use

    sent = step(
        taken,
        Act("acknowledge", alice, {"public_reply": public_reply(taken)}, drafted_on),
        LATER,
        book("customer-complaint"),
    )

    assert accepted(sent).incident.state == "acknowledged"
    assert accepted(sent).incident.owner == "alice"
