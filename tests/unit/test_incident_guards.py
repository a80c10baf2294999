"""Who may do what, and with which words: guards on the incident's facts, do-not-engage reasons by role, and the
known customer an incident keeps from its mentions (which the direct contact route needs)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from incident_support import T0, accepted, act, audits, book, mention, opened

from engine.incident import Incident, JoinMention, Mention, RefusalReason, Refused, parse_mention, step
from engine.playbook import Failed
from engine.store import decode_incident, encode_incident

LATER = T0 + timedelta(minutes=10)
GUARDS = "guards"


def _acknowledged(severity: str = "low", **kwargs: Any) -> Incident:
    incident = opened(GUARDS, **kwargs).incident
    incident = accepted(act(incident, "assess", ["lead"], LATER, GUARDS, severity=severity)).incident
    return accepted(act(incident, "acknowledge", ["agent"], LATER, GUARDS)).incident


def _refused(incident: Incident, trigger: str, roles: list[str], **fields: Any) -> Refused:
    before = repr(incident)
    outcome = act(incident, trigger, roles, LATER, GUARDS, **fields)
    assert isinstance(outcome, Refused), outcome
    assert repr(incident) == before
    return outcome


# --- guards ---------------------------------------------------------------------------------------------------


def test_an_agent_offers_on_a_low_incident_by_the_transition_guarded_for_low_and_medium() -> None:
    outcome = act(
        _acknowledged("low"), "offer_resolution", ["agent"], LATER, GUARDS, offer="a coupon", contact_route="dm"
    )

    assert accepted(outcome).incident.state == "resolution_offered"


def test_the_lead_offers_on_a_critical_incident_by_the_other_transition_of_the_same_action() -> None:
    outcome = act(
        _acknowledged("critical"), "offer_resolution", ["lead"], LATER, GUARDS, offer="a call", contact_route="phone"
    )

    assert accepted(outcome).incident.state == "resolution_offered"


def test_the_history_of_a_guarded_transition_says_which_way_of_the_action_was_taken() -> None:
    low = accepted(
        act(_acknowledged("low"), "offer_resolution", ["agent"], LATER, GUARDS, offer="a coupon", contact_route="dm")
    )
    critical = accepted(
        act(
            _acknowledged("critical"),
            "offer_resolution",
            ["lead"],
            LATER,
            GUARDS,
            offer="a call",
            contact_route="phone",
        )
    )
    unguarded = accepted(act(opened(GUARDS).incident, "do_not_engage", ["agent"], LATER, GUARDS, reason="spam"))

    (taken,) = audits(low.effects, "transition")
    assert taken.details["when"] == {"severities": ["low", "medium"]}
    (taken,) = audits(critical.effects, "transition")
    assert taken.details["when"] == {"severities": ["high", "critical"]}
    (taken,) = audits(unguarded.effects, "transition")
    assert "when" not in taken.details


def test_refuses_an_agent_on_a_critical_incident_and_says_whose_call_it_is_at_that_level() -> None:
    refused = _refused(_acknowledged("critical"), "offer_resolution", ["agent"], offer="a coupon", contact_route="dm")

    assert refused.reason is RefusalReason.ROLE_NOT_ALLOWED
    assert refused.message.startswith("'offer_resolution' is for lead when the incident is critical")


def test_refuses_an_action_whose_guard_does_not_hold_and_says_what_it_needs() -> None:
    refused = _refused(_acknowledged("low"), "call_back", ["agent"], contact_route="phone")

    assert refused.reason is RefusalReason.GUARD
    assert refused.message == (
        "'call_back' needs a known customer (a mention that carries their customer_id); this incident's customer "
        "is not known"
    )


def test_refuses_a_guarded_action_on_another_channel_than_the_guard_names() -> None:
    refused = _refused(
        _acknowledged("low", channel="facebook", customer_id="c-1"), "call_back", ["agent"], contact_route="phone"
    )

    assert refused.reason is RefusalReason.GUARD
    assert "needs a complaint on twitter; this one is on facebook" in refused.message


def test_takes_a_guarded_action_once_its_facts_hold() -> None:
    outcome = act(_acknowledged("low", customer_id="c-1"), "call_back", ["agent"], LATER, GUARDS, contact_route="phone")

    assert accepted(outcome).incident.state == "resolution_offered"


def test_a_guard_reads_the_level_the_incident_has_now_not_the_one_it_opened_with() -> None:
    raised = _acknowledged("high")

    refused = _refused(raised, "offer_resolution", ["agent"], offer="a coupon", contact_route="dm")

    assert "when the incident is high" in refused.message


def test_a_person_who_may_take_the_action_under_no_guard_is_told_before_any_guard_is_read() -> None:
    refused = _refused(_acknowledged("low"), "call_back", ["intern"], contact_route="phone")

    assert refused.reason is RefusalReason.ROLE_NOT_ALLOWED


# --- reasons by role ------------------------------------------------------------------------------------------


def test_refuses_a_reason_the_persons_roles_may_not_give_and_says_who_may() -> None:
    refused = _refused(opened(GUARDS).incident, "do_not_engage", ["agent"], reason="troll")

    assert refused.reason is RefusalReason.ROLE_NOT_ALLOWED
    assert refused.field == "reason"
    assert refused.phrase == "troll"  # what a coverage report of reasons kept for some roles counts
    assert refused.message == "the reason 'troll' is for lead to give; pat has agent; pat may give spam"


def test_takes_a_reason_anyone_who_may_take_the_action_may_give() -> None:
    outcome = act(opened(GUARDS).incident, "do_not_engage", ["agent"], LATER, GUARDS, reason="spam")

    assert accepted(outcome).incident.state == "not_engaged"


def test_takes_a_reason_from_a_role_it_names() -> None:
    outcome = act(opened(GUARDS).incident, "do_not_engage", ["lead"], LATER, GUARDS, reason="troll")

    assert accepted(outcome).incident.facts["reason"] == "troll"


def test_refuses_spam_reason_from_a_moderator_on_a_real_complaint_in_the_abuse_playbook() -> None:
    incident = opened("abuse-and-trolls", text="Scumbags, where is my refund").incident
    assert incident.severity == "medium"

    outcome = act(incident, "do_not_engage", ["community_manager"], LATER, "abuse-and-trolls", reason="spam")

    assert isinstance(outcome, Refused)
    assert outcome.reason is RefusalReason.ROLE_NOT_ALLOWED
    assert "'do_not_engage' is for social_lead when the incident is medium" in outcome.message


def test_a_moderator_closes_spam_but_may_not_call_anyone_a_troll_in_the_abuse_playbook() -> None:
    incident = opened("abuse-and-trolls", text="free followers, check my bio").incident

    spam = act(incident, "do_not_engage", ["community_manager"], LATER, "abuse-and-trolls", reason="spam")
    troll = act(incident, "do_not_engage", ["community_manager"], LATER, "abuse-and-trolls", reason="troll")

    assert accepted(spam).incident.state == "not_engaged"
    assert isinstance(troll, Refused)
    assert troll.message.startswith("the reason 'troll' is for social_lead to give")


# --- known customers ------------------------------------------------------------------------------------------


def test_an_incident_keeps_the_customer_of_the_mention_that_opened_it() -> None:
    incident = opened(GUARDS, customer_id="c-42", customer_segment="gold").incident

    assert (incident.customer_id, incident.customer_segment) == ("c-42", "gold")


def test_the_first_joining_mention_that_names_the_customer_makes_them_known_and_later_ones_change_nothing() -> None:
    incident = opened(GUARDS).incident
    assert incident.customer_id is None

    first = accepted(step(incident, JoinMention(mention(external_id="m-2", customer_id="c-7")), LATER, book(GUARDS)))
    later = accepted(
        step(first.incident, JoinMention(mention(external_id="m-3", customer_id="c-8")), LATER, book(GUARDS))
    )

    assert first.incident.customer_id == "c-7"
    assert [entry.summary for entry in audits(first.effects, "customer")] == [
        "customer known: c-7, from mention twitter/m-2"
    ]
    assert later.incident.customer_id == "c-7"
    assert audits(later.effects, "customer") == []


def test_refuses_the_direct_route_for_a_customer_nobody_knows_and_says_what_to_do() -> None:
    refused = _refused(_acknowledged("low"), "offer_resolution", ["agent"], offer="a coupon", contact_route="direct")

    assert refused.reason is RefusalReason.CUSTOMER_UNKNOWN
    assert refused.field == "contact_route"
    assert "use dm, phone or email, or record the customer first" in refused.message


def test_takes_the_direct_route_once_the_customer_is_known() -> None:
    incident = _acknowledged("low", customer_id="c-42")

    outcome = act(incident, "offer_resolution", ["agent"], LATER, GUARDS, offer="a coupon", contact_route="direct")

    assert accepted(outcome).incident.facts["contact_route"] == "direct"


def test_a_severity_rule_reads_the_mentions_customer_segment() -> None:
    assert opened(GUARDS, customer_id="c-1", customer_segment="vip").incident.severity == "high"
    assert opened(GUARDS, customer_id="c-1", text="I want a refund").incident.severity == "medium"
    assert opened(GUARDS, text="I want a refund").incident.severity == "low"


def test_the_store_keeps_the_customer_of_an_incident() -> None:
    incident = opened(GUARDS, customer_id="c-42", customer_segment="vip").incident

    assert decode_incident(encode_incident(incident)) == incident
    assert "customer_id" not in encode_incident(opened(GUARDS).incident)  # rows written before it read the same


def test_refuses_a_mention_with_a_customer_segment_but_no_customer_id() -> None:
    data = {
        "channel": "twitter",
        "external_id": "m-1",
        "text": "hello",
        "posted_at": T0.isoformat(),
        "author": {"handle": "ann"},
        "customer_segment": "vip",
    }

    refused = parse_mention(data)

    assert isinstance(refused, Failed)
    assert [problem.message for problem in refused.problems] == [
        "the mention gives a customer_segment without the customer_id it belongs to; send both, or neither"
    ]
    assert isinstance(parse_mention({**data, "customer_id": "c-1"}), Mention)
