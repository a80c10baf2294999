"""The rules on each action: who may take it, from where, and what they must provide. A refusal changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from incident_support import T0, accepted, act, actor, audits, book, opened, public_reply, review_answers

from engine.incident import Act, Incident, RefusalReason, Refused, Stepped, step

CM, LEAD, CARE = "community_manager", "social_lead", "customer_care"
LATER = T0 + timedelta(minutes=10)
#: A number the customer can call: the real person behind an offer that the playbook asks for.
PHONE = "+44 20 7946 0000"


def _detected(**kwargs: Any) -> Incident:
    return opened(**kwargs).incident


def _assessed(**kwargs: Any) -> Incident:
    return accepted(act(_detected(**kwargs), "assess", [CM], LATER, severity="medium")).incident


def _acknowledged() -> Incident:
    incident = _assessed()
    return accepted(act(incident, "acknowledge", [CM], LATER, public_reply=public_reply(incident))).incident


def _offered() -> Incident:
    return accepted(
        act(
            _acknowledged(),
            "offer_resolution",
            [CARE],
            LATER,
            offer="a replacement kettle",
            contact_route="dm",
            contact=PHONE,
        )
    ).incident


def _delivered() -> Incident:
    return accepted(act(_offered(), "deliver", [CARE], LATER, note="sent by courier")).incident


def _resolved() -> Incident:
    return accepted(act(_delivered(), "resolve", [CARE], LATER, outcome="replacement delivered")).incident


def _refused(incident: Incident, trigger: str, roles: list[str], **fields: Any) -> Refused:
    """Refused, and the incident exactly as it was (a refusal has nothing to undo)."""
    before = repr(incident)
    outcome = act(incident, trigger, roles, LATER, **fields)
    assert isinstance(outcome, Refused), outcome
    assert repr(incident) == before
    assert outcome.message
    return outcome


# --- roles ----------------------------------------------------------------------------------------------------


def test_an_actor_without_a_listed_role_is_refused_and_nothing_changes() -> None:
    refused = _refused(_detected(), "assess", [CARE], severity="low")

    assert refused.reason is RefusalReason.ROLE_NOT_ALLOWED
    assert "community_manager" in refused.message
    assert "social_lead" in refused.message
    assert "customer_care" in refused.message


def test_an_actor_with_no_roles_at_all_is_refused() -> None:
    refused = _refused(_detected(), "assess", [], severity="low")

    assert refused.reason is RefusalReason.ROLE_NOT_ALLOWED
    assert "no role" in refused.message


def test_one_listed_role_among_several_is_enough() -> None:
    outcome = act(_detected(), "assess", [CARE, "intern", LEAD], LATER, severity="low")

    assert accepted(outcome).incident.state == "assessed"


def test_only_the_social_lead_may_decide_not_to_engage_in_the_complaint_playbook() -> None:
    refused = _refused(_detected(), "do_not_engage", [CM], reason="troll")

    assert refused.reason is RefusalReason.ROLE_NOT_ALLOWED


# --- severity -------------------------------------------------------------------------------------------------


def test_assessing_without_a_severity_is_refused_naming_the_missing_field() -> None:
    refused = _refused(_detected(), "assess", [CM])

    assert refused.reason is RefusalReason.MISSING_FIELD
    assert refused.field == "severity"
    assert "severity" in refused.message


@pytest.mark.parametrize("level", ["urgent", "LOW", "", None, 3, ["low"]])
def test_a_severity_that_is_not_a_declared_level_is_refused(level: object) -> None:
    refused = _refused(_detected(), "assess", [CM], severity=level)

    assert refused.reason is RefusalReason.INVALID_FIELD
    assert refused.field == "severity"
    assert "low, medium, high, critical" in refused.message


def test_assessing_sets_the_severity_the_person_chose_even_below_what_the_rules_said() -> None:
    incident = _detected(text="injury")
    assert incident.severity == "critical"

    outcome = accepted(act(incident, "assess", [LEAD], LATER, severity="low"))

    assert outcome.incident.severity == "low"
    assert [entry.summary for entry in audits(outcome.effects, "severity")] == ["severity critical -> low"]


# --- public replies -------------------------------------------------------------------------------------------


def test_acknowledging_without_a_public_reply_is_refused() -> None:
    refused = _refused(_assessed(), "acknowledge", [CM])

    assert refused.reason is RefusalReason.MISSING_FIELD
    assert refused.field == "public_reply"


def test_a_public_reply_on_another_channel_than_the_complaint_is_refused() -> None:
    incident = _assessed(channel="instagram")

    refused = _refused(incident, "acknowledge", [CM], public_reply={"channel": "twitter", "text": "Sorry!"})

    assert refused.reason is RefusalReason.WRONG_CHANNEL
    assert refused.field == "public_reply"
    assert "instagram" in refused.message


def test_a_public_reply_without_a_channel_is_refused_as_the_wrong_channel() -> None:
    refused = _refused(_assessed(), "acknowledge", [CM], public_reply={"text": "Sorry!"})

    assert refused.reason is RefusalReason.WRONG_CHANNEL
    assert "needs the 'channel' it goes out on: twitter" in refused.message


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Please calm down.", "calm down"),
        ("CALM DOWN, we are on it", "calm down"),
        ("Cálm   down please", "calm down"),
        ("That is not our fault", "not our fault"),
        ("As per our policy, no.", "as per our policy"),
    ],
)
def test_a_public_reply_that_breaks_the_house_rules_is_refused_naming_the_phrase(text: str, phrase: str) -> None:
    incident = _assessed()

    refused = _refused(incident, "acknowledge", [CM], public_reply=public_reply(incident, text))

    assert refused.reason is RefusalReason.HOUSE_RULE
    assert refused.field == "public_reply"
    assert repr(phrase) in refused.message
    assert refused.phrase == phrase  # as the playbook writes it, however the reply dressed it up


def test_a_house_rule_phrase_inside_a_longer_word_does_not_break_the_rules() -> None:
    incident = _assessed()

    outcome = act(incident, "acknowledge", [CM], LATER, public_reply=public_reply(incident, "Our calm downstairs team"))

    assert accepted(outcome).incident.state == "acknowledged"


@pytest.mark.parametrize(
    "reply",
    ["Sorry!", {"channel": "twitter"}, {"channel": "twitter", "text": "   "}, {"channel": "twitter", "text": 5}],
)
def test_a_public_reply_without_text_is_refused(reply: object) -> None:
    refused = _refused(_assessed(), "acknowledge", [CM], public_reply=reply)

    assert refused.reason is RefusalReason.INVALID_FIELD
    assert refused.field == "public_reply"


def test_an_accepted_public_reply_is_kept_on_the_incident() -> None:
    incident = _assessed()

    outcome = accepted(act(incident, "acknowledge", [CM], LATER, public_reply=public_reply(incident, "  Sorry!  ")))

    assert outcome.incident.facts["public_reply"] == {"channel": "twitter", "text": "Sorry!"}


# --- offers ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "missing"),
    [
        ({"contact_route": "dm", "contact": PHONE}, "offer"),
        ({"offer": "a replacement", "contact": PHONE}, "contact_route"),
    ],
)
def test_an_offer_without_what_is_offered_or_a_contact_route_is_refused(fields: dict[str, str], missing: str) -> None:
    refused = _refused(_acknowledged(), "offer_resolution", [CARE], **fields)

    assert refused.reason is RefusalReason.MISSING_FIELD
    assert refused.field == missing


@pytest.mark.parametrize("route", ["public", "twitter", "reply", "", None, "DM"])
def test_an_offer_with_a_route_that_is_not_private_is_refused(route: object) -> None:
    refused = _refused(
        _acknowledged(), "offer_resolution", [CARE], offer="a replacement", contact_route=route, contact=PHONE
    )

    assert refused.reason is RefusalReason.INVALID_FIELD
    assert refused.field == "contact_route"
    assert "dm, phone, email, direct" in refused.message


@pytest.mark.parametrize("offer", ["", "   ", None, 10])
def test_an_offer_that_does_not_say_what_is_offered_is_refused(offer: object) -> None:
    refused = _refused(_acknowledged(), "offer_resolution", [CARE], offer=offer, contact_route="email", contact=PHONE)

    assert refused.reason is RefusalReason.INVALID_FIELD
    assert refused.field == "offer"


@pytest.mark.parametrize("route", ["dm", "phone", "email"])
def test_an_offer_moving_to_any_private_route_is_accepted(route: str) -> None:
    outcome = act(
        _acknowledged(), "offer_resolution", [CARE], LATER, offer="a replacement", contact_route=route, contact=PHONE
    )

    assert accepted(outcome).incident.facts["contact_route"] == route


# --- outcome, review, reasons ---------------------------------------------------------------------------------


def test_resolving_without_an_outcome_is_refused() -> None:
    refused = _refused(_delivered(), "resolve", [CARE])

    assert refused.reason is RefusalReason.MISSING_FIELD
    assert refused.field == "outcome"


def test_a_blank_outcome_is_refused() -> None:
    refused = _refused(_delivered(), "resolve", [CARE], outcome="  ")

    assert refused.reason is RefusalReason.INVALID_FIELD


def test_a_review_that_leaves_a_question_unanswered_is_refused_naming_the_question() -> None:
    answers = review_answers("customer-complaint")
    del answers["missed_opportunity"]

    refused = _refused(_resolved(), "review", [LEAD], review=answers)

    assert refused.reason is RefusalReason.INVALID_FIELD
    assert refused.field == "review"
    assert "missed_opportunity" in refused.message


@pytest.mark.parametrize(
    ("question", "answer"),
    [("avoidable", "maybe"), ("avoidable", 1), ("missed_opportunity", "  "), ("root_cause", "the weather")],
)
def test_a_review_answer_of_the_wrong_kind_is_refused(question: str, answer: object) -> None:
    answers = {**review_answers("customer-complaint"), question: answer}

    refused = _refused(_resolved(), "review", [LEAD], review=answers)

    assert refused.reason is RefusalReason.INVALID_FIELD
    assert question in refused.message


def test_a_review_answering_a_question_the_playbook_does_not_ask_is_refused() -> None:
    answers = {**review_answers("customer-complaint"), "blame": "marketing"}

    refused = _refused(_resolved(), "review", [LEAD], review=answers)

    assert refused.reason is RefusalReason.INVALID_FIELD
    assert "blame" in refused.message


def test_a_review_that_is_not_a_mapping_of_answers_is_refused() -> None:
    refused = _refused(_resolved(), "review", [LEAD], review="all fine")

    assert refused.reason is RefusalReason.INVALID_FIELD
    assert "avoidable" in refused.message


def test_a_complete_review_closes_the_incident() -> None:
    outcome = act(_resolved(), "review", [LEAD], LATER, review=review_answers("customer-complaint"))

    closed = accepted(outcome).incident
    assert closed.state == "reviewed"
    assert closed.facts["review"]["root_cause"] == "product"


@pytest.mark.parametrize("reason", ["boring", "Troll", "", None])
def test_a_do_not_engage_reason_not_in_the_house_rules_is_refused(reason: object) -> None:
    refused = _refused(_detected(), "do_not_engage", [LEAD], reason=reason)

    assert refused.reason is RefusalReason.INVALID_FIELD
    assert refused.field == "reason"
    assert "spam, troll, abuse, duplicate" in refused.message


def test_a_do_not_engage_reason_from_the_house_rules_closes_the_incident() -> None:
    outcome = act(_detected(), "do_not_engage", [LEAD], LATER, reason="troll")

    assert accepted(outcome).incident.state == "not_engaged"


# --- fields nobody asked for, and notes -----------------------------------------------------------------------


def test_a_field_the_action_does_not_take_is_refused() -> None:
    refused = _refused(_detected(), "assess", [CM], severity="low", offer="a refund")

    assert refused.reason is RefusalReason.UNEXPECTED_FIELD
    assert refused.field == "offer"


def test_any_action_may_carry_a_note() -> None:
    outcome = accepted(act(_detected(), "assess", [CM], LATER, severity="low", note=" looked at it "))

    assert outcome.incident.facts["note"] == "looked at it"


# --- where an action can be taken from ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trigger", "fields"),
    [
        ("acknowledge", {"public_reply": {"channel": "twitter", "text": "Sorry"}}),
        ("resolve", {"outcome": "done"}),
        ("review", {"review": {}}),
        ("reopen", {"note": "again"}),
    ],
)
def test_an_action_not_allowed_from_the_current_state_is_refused_saying_where_it_can_be_taken(
    trigger: str, fields: dict[str, Any]
) -> None:
    refused = _refused(_detected(), trigger, [CM, LEAD, CARE], **fields)

    assert refused.reason is RefusalReason.NOT_AVAILABLE
    assert "detected" in refused.message


def test_do_not_engage_is_no_longer_available_once_acknowledged() -> None:
    refused = _refused(_acknowledged(), "do_not_engage", [LEAD], reason="troll")

    assert refused.reason is RefusalReason.NOT_AVAILABLE
    assert "detected, assessed" in refused.message


def test_an_action_the_playbook_does_not_have_is_refused_listing_those_it_has() -> None:
    refused = _refused(_detected(), "escalate", [LEAD])

    assert refused.reason is RefusalReason.UNKNOWN_ACTION
    assert "escalate" in refused.message
    assert "assess" in refused.message


def test_nothing_can_be_done_to_a_closed_incident() -> None:
    closed = accepted(act(_detected(), "do_not_engage", [LEAD], LATER, reason="spam")).incident

    refused = _refused(closed, "assess", [CM], severity="low")

    assert refused.reason is RefusalReason.CLOSED
    assert "not_engaged" in refused.message


def test_an_actor_who_saw_an_older_revision_is_refused_as_stale() -> None:
    incident = _assessed()
    before = repr(incident)

    outcome = step(
        incident,
        Act("acknowledge", actor(CM), {"public_reply": public_reply(incident)}, expected_revision=0),
        LATER,
        book("customer-complaint"),
    )

    assert isinstance(outcome, Refused)
    assert outcome.reason is RefusalReason.STALE
    assert repr(incident) == before


def _stale(incident: Incident, trigger: str, roles: list[str]) -> Refused:
    """An action by someone who saw an older revision, refused, with the incident exactly as it was."""
    before = repr(incident)
    outcome = step(incident, Act(trigger, actor(*roles), {}, expected_revision=0), LATER, book("customer-complaint"))
    assert isinstance(outcome, Refused)
    assert repr(incident) == before
    return outcome


def test_an_unknown_action_is_refused_as_unknown_before_the_revision_is_looked_at() -> None:
    assert _stale(_assessed(), "teleport", [CM]).reason is RefusalReason.UNKNOWN_ACTION


def test_a_role_that_may_never_take_the_action_is_refused_for_its_role_before_the_revision_is_looked_at() -> None:
    refused = _stale(_assessed(), "acknowledge", [CARE])

    assert refused.reason is RefusalReason.ROLE_NOT_ALLOWED
    assert "customer_care" in refused.message


def test_a_role_that_may_take_the_action_with_an_old_revision_is_told_it_is_stale() -> None:
    assert _stale(_assessed(), "acknowledge", [CM]).reason is RefusalReason.STALE


def test_an_actor_who_saw_the_current_revision_may_act() -> None:
    incident = _assessed()

    outcome = step(
        incident,
        Act("acknowledge", actor(CM), {"public_reply": public_reply(incident)}, expected_revision=incident.revision),
        LATER,
        book("customer-complaint"),
    )

    assert isinstance(outcome, Stepped)


def test_the_first_broken_rule_is_reported_role_before_fields() -> None:
    refused = _refused(_assessed(), "acknowledge", [CARE], public_reply={"channel": "facebook", "text": "calm down"})

    assert refused.reason is RefusalReason.ROLE_NOT_ALLOWED


# --- what a successful action records -------------------------------------------------------------------------


def test_a_successful_action_records_who_did_what_from_where_to_where() -> None:
    incident = _detected()

    outcome = accepted(act(incident, "assess", [CM], LATER, severity="high"))

    (entry,) = audits(outcome.effects, "transition")
    assert entry.at == LATER
    assert entry.actor == "pat"
    assert entry.summary == "assess: detected -> assessed"
    assert entry.details == {"trigger": "assess", "from": "detected", "to": "assessed", "fields": {"severity": "high"}}
    assert [item.summary for item in audits(outcome.effects, "severity")] == ["severity low -> high"]


def test_a_successful_action_moves_the_state_and_bumps_the_revision_once() -> None:
    incident = _detected()

    changed = accepted(act(incident, "assess", [CM], LATER, severity="low")).incident

    assert (changed.state, changed.revision, changed.entered_at) == ("assessed", incident.revision + 1, LATER)
    assert changed.opened_at == incident.opened_at
    assert incident.state == "detected"


def test_an_action_that_keeps_the_severity_records_no_severity_change() -> None:
    outcome = accepted(act(_detected(), "assess", [CM], LATER, severity="low"))

    assert audits(outcome.effects, "severity") == []
