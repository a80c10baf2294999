"""The promise ledger: an offer from the catalogue becomes a promise with its own clock, the unkept one escalates,
``deliver`` records it kept and stops its clock, and an open promise keeps the incident from being resolved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from incident_support import T0, accepted, act, arms, audits, book, cancels, mention, notices, opened, public_reply

from engine.incident import (
    Act,
    Actor,
    DeadlineReached,
    Incident,
    JoinMention,
    NotifyKind,
    RefusalReason,
    Refused,
    deadline_key,
    step,
)

CM, LEAD, CARE = "community_manager", "social_lead", "customer_care"
LATER = T0 + timedelta(minutes=10)  # Monday 09:10 in London
PHONE = "+44 20 7946 0000"
H = timedelta(hours=1)


def _acknowledged(name: str = "customer-complaint", severity: str = "medium") -> Incident:
    incident = opened(name).incident
    roles = [CM] if name == "customer-complaint" else ["agent"]
    incident = accepted(act(incident, "assess", roles, LATER, name, severity=severity)).incident
    fields: dict[str, Any] = {"public_reply": public_reply(incident)} if name == "customer-complaint" else {}
    return accepted(act(incident, "acknowledge", roles, LATER, name, **fields)).incident


def _offer(incident: Incident, offer: Any, roles: tuple[str, ...] = (CARE,), **fields: Any) -> Any:
    fields.setdefault("contact_route", "dm")
    fields.setdefault("contact", PHONE)
    return act(incident, "offer_resolution", roles, LATER, offer=offer, **fields)


def _refunded(amount: int = 30) -> Incident:
    return accepted(_offer(_acknowledged(), {"kind": "refund", "amount": amount, "note": "for the kettle"})).incident


def _deliver(incident: Incident, at: datetime = LATER, **fields: Any) -> Any:
    return act(incident, "deliver", [CARE], at, **fields)


# --- offers become promises -----------------------------------------------------------------------------------


def test_an_offer_from_the_catalogue_becomes_a_promise_due_in_the_kinds_own_time() -> None:
    outcome = accepted(_offer(_acknowledged(), {"kind": "refund", "amount": 30, "note": "for the kettle"}))

    (promise,) = outcome.incident.promises
    assert (promise.id, promise.kind, promise.amount, promise.note) == ("refund-1", "refund", 30, "for the kettle")
    assert (promise.promised_by, promise.promised_at, promise.contact) == ("pat", LATER, PHONE)
    # 16h of the office's open hours from Monday 09:10: Monday's 8h50m, then Tuesday until 16:10.
    assert promise.due_at == datetime(2026, 1, 6, 16, 10, tzinfo=UTC)
    assert not promise.kept
    assert arms(outcome.effects)["promise:refund-1"].key == "inc-1/promise:refund-1/3/0/0"
    (made,) = audits(outcome.effects, "promise")
    assert made.summary == "promised refund-1: refund of 30 GBP, due 2026-01-06 16:10Z"


def test_one_action_may_make_several_promises_and_a_later_offer_adds_its_own() -> None:
    offered = accepted(_offer(_acknowledged(), [{"kind": "refund", "amount": 20}, "call_back"])).incident

    more = accepted(act(offered, "offer_more", [CARE], LATER + H, offer={"kind": "voucher", "amount": 10})).incident

    assert [promise.id for promise in more.promises] == ["refund-1", "call_back-2", "voucher-3"]
    assert {clock.name for clock in more.clocks} >= {"promise:refund-1", "promise:call_back-2", "promise:voucher-3"}


def test_an_offer_in_words_takes_the_one_kind_it_names_and_keeps_the_words_as_its_note() -> None:
    outcome = accepted(_offer(_acknowledged(), "a replacement kettle, sent today by courier"))

    (promise,) = outcome.incident.promises
    assert (promise.kind, promise.note) == ("replacement", "a replacement kettle, sent today by courier")


def test_an_offer_the_catalogue_lacks_is_refused_saying_what_the_actor_may_offer() -> None:
    refused = _offer(_acknowledged(), {"kind": "gift"}, roles=(CM,))

    assert isinstance(refused, Refused)
    assert (refused.reason, refused.field) == (RefusalReason.INVALID_FIELD, "offer")
    assert "'gift' is not in the offers catalogue (refund, voucher, replacement, call_back)" in refused.message
    assert "you may offer voucher, replacement, call_back" in refused.message


def test_an_offer_a_role_may_not_make_is_refused_naming_who_may() -> None:
    refused = _offer(_acknowledged(), {"kind": "refund", "amount": 5}, roles=(CM,))

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.ROLE_NOT_ALLOWED
    assert "a refund is offered by customer_care, social_lead; pat has community_manager" in refused.message


def test_an_amount_over_the_roles_cap_is_refused_saying_who_may_offer_more() -> None:
    refused = _offer(_acknowledged(), {"kind": "refund", "amount": 120})

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.OVER_CAP
    assert "a refund of 120 GBP is more than pat may offer (up to 50 GBP); ask social_lead (up to 200 GBP)" in (
        refused.message
    )


def test_the_highest_cap_among_the_actors_roles_applies() -> None:
    outcome = _offer(_acknowledged(), {"kind": "refund", "amount": 120}, roles=(CARE, LEAD))

    assert accepted(outcome).incident.promises[0].amount == 120


@pytest.mark.parametrize(
    ("offer", "says"),
    [
        ({"kind": "refund"}, "a refund names its amount in GBP, up to 50 GBP for you"),
        ({"kind": "refund", "amount": -5}, "amount must be a number above zero"),
        ({"kind": "refund", "amount": True}, "amount must be a number above zero"),
        ({"kind": "refund", "amount": 5, "colour": "red"}, "holds kind, amount and note, not 'colour'"),
        ([], "at least one kind"),
        (42, "names a kind from the offers catalogue"),
    ],
)
def test_a_malformed_offer_is_refused_saying_what_it_lacks(offer: Any, says: str) -> None:
    refused = _offer(_acknowledged(), offer)

    assert isinstance(refused, Refused)
    assert refused.field == "offer"
    assert says in refused.message


def test_a_playbook_without_a_catalogue_keeps_its_offers_as_free_text() -> None:
    incident = opened("abuse-and-trolls").incident

    assert book("abuse-and-trolls").offer_kinds == {}
    assert incident.promises == ()


# --- the unkept promise escalates -----------------------------------------------------------------------------


def test_an_unkept_promise_warns_then_breaches_by_the_playbooks_escalation_steps() -> None:
    incident = _refunded()
    warning_key = deadline_key(incident.id, incident.clock("promise:refund-1"), incident.clock("promise:refund-1").next)

    warned = accepted(
        step(
            incident, DeadlineReached(warning_key), datetime(2026, 1, 6, 12, 10, tzinfo=UTC), book("customer-complaint")
        )
    )
    breach = arms(warned.effects)["promise:refund-1"]
    breached = accepted(step(warned.incident, DeadlineReached(breach.key), breach.at, book("customer-complaint")))

    assert [(notice.kind, notice.roles, notice.clock) for notice in notices(warned.effects)] == [
        (NotifyKind.WARNING, (CM,), "promise:refund-1")
    ]
    assert [(notice.kind, notice.roles) for notice in notices(breached.effects)] == [(NotifyKind.BREACH, (LEAD,))]
    assert breach.at == datetime(2026, 1, 6, 16, 10, tzinfo=UTC)
    assert "promise:refund-1" in breached.incident.breached


def test_a_promise_clock_runs_on_across_moves_with_the_same_deadline_key() -> None:
    incident = _refunded()
    key = deadline_key(incident.id, incident.clock("promise:refund-1"), incident.clock("promise:refund-1").next)

    moved = accepted(act(incident, "offer_more", [CARE], LATER + H, offer="call_back"))

    assert "promise:refund-1" not in cancels(moved.effects)
    still = moved.incident.clock("promise:refund-1")
    assert still is not None
    assert deadline_key(incident.id, still, still.next) == key


def test_a_raised_severity_counts_the_promise_against_the_new_levels_time() -> None:
    incident = accepted(_offer(_acknowledged(), "replacement")).incident  # medium: 3d around the clock
    worse = mention("The replacement gave my son an injury", external_id="m-2", posted_at=LATER + H)

    raised = accepted(step(incident, JoinMention(worse), LATER + H, book("customer-complaint"))).incident

    assert incident.promises[0].due_at == LATER + timedelta(days=3)
    assert raised.severity == "critical"
    assert raised.promises[0].due_at == LATER + timedelta(days=1)
    assert raised.clock("promise:replacement-1").due_at == LATER + timedelta(days=1)


# --- deliver --------------------------------------------------------------------------------------------------


def test_delivering_keeps_the_promise_with_its_note_and_stops_its_clock() -> None:
    incident = _refunded()
    armed = deadline_key(incident.id, incident.clock("promise:refund-1"), incident.clock("promise:refund-1").next)

    kept = accepted(_deliver(incident, LATER + 2 * H, promise="refund-1", note="refunded to the card"))

    (promise,) = kept.incident.promises
    assert (promise.kept_at, promise.kept_by, promise.kept_note) == (LATER + 2 * H, "pat", "refunded to the card")
    assert kept.incident.clock("promise:refund-1") is None
    assert cancels(kept.effects)["promise:refund-1"].key == armed
    (entry,) = audits(kept.effects, "delivered")
    assert entry.summary == "kept refund-1 (refund of 30 GBP, on time): refunded to the card"
    assert kept.incident.revision == incident.revision + 1
    assert kept.incident.state == incident.state


def test_a_promise_kept_late_says_how_late() -> None:
    kept = accepted(_deliver(_refunded(), datetime(2026, 1, 6, 18, 10, tzinfo=UTC), note="refunded"))

    (entry,) = audits(kept.effects, "delivered")
    assert "2h late" in entry.summary
    assert entry.details["late"] is True


def test_a_deadline_of_a_kept_promise_changes_nothing() -> None:
    incident = _refunded()
    key = deadline_key(incident.id, incident.clock("promise:refund-1"), incident.clock("promise:refund-1").next)
    kept = accepted(_deliver(incident, note="refunded")).incident

    again = accepted(step(kept, DeadlineReached(key), LATER + 40 * H, book("customer-complaint")))

    assert again.incident == kept
    assert again.effects == ()


def test_a_promise_is_named_by_its_kind_when_one_of_that_kind_is_open() -> None:
    offered = accepted(_offer(_acknowledged(), [{"kind": "refund", "amount": 20}, "call_back"])).incident

    kept = accepted(_deliver(offered, promise="call_back", note="called her at 10:00")).incident

    assert [promise.kept for promise in kept.promises] == [False, True]


@pytest.mark.parametrize(
    ("fields", "reason", "says"),
    [
        (
            {"note": "done"},
            RefusalReason.MISSING_FIELD,
            "say which promise was kept: promise is one of refund-1, call_back-2",
        ),
        ({"promise": "voucher-9", "note": "done"}, RefusalReason.INVALID_FIELD, "'voucher-9' is not an open promise"),
        ({"promise": "refund-1"}, RefusalReason.MISSING_FIELD, "say how refund-1 was delivered"),
        ({"promise": "refund-1", "note": "  "}, RefusalReason.MISSING_FIELD, "requires a note"),
        ({"promise": "refund-1", "note": "x", "amount": 3}, RefusalReason.UNEXPECTED_FIELD, "does not take amount"),
    ],
)
def test_a_deliver_that_does_not_say_which_promise_or_how_is_refused(
    fields: dict[str, Any], reason: RefusalReason, says: str
) -> None:
    offered = accepted(_offer(_acknowledged(), [{"kind": "refund", "amount": 20}, "call_back"])).incident

    refused = _deliver(offered, **fields)

    assert isinstance(refused, Refused)
    assert refused.reason is reason
    assert says in refused.message


def test_a_promise_kept_once_cannot_be_kept_again() -> None:
    kept = accepted(_deliver(_refunded(), note="refunded")).incident

    refused = _deliver(kept, promise="refund-1", note="again")

    assert isinstance(refused, Refused)
    assert "refund-1 was delivered already, by pat" in refused.message


def test_only_the_playbooks_team_may_record_a_promise_kept() -> None:
    refused = step(
        _refunded(),
        Act("deliver", Actor("eve", frozenset({"intern"})), {"note": "x"}),
        LATER,
        book("customer-complaint"),
    )

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.ROLE_NOT_ALLOWED


# --- deliver on the promise before resolving ------------------------------------------------------------------


def test_an_open_promise_keeps_the_incident_from_being_resolved() -> None:
    refused = act(_refunded(), "resolve", [CARE], LATER, outcome="refunded")

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.OPEN_PROMISE
    assert "refund-1 (refund of 30 GBP, promised by pat, due 2026-01-06 16:10Z)" in refused.message
    assert "'deliver'" in refused.message


def test_once_every_promise_is_kept_the_incident_resolves() -> None:
    kept = accepted(_deliver(_refunded(), note="refunded")).incident

    resolved = accepted(act(kept, "resolve", [CARE], LATER, outcome="refunded"))

    assert resolved.incident.state == "resolved"
    assert resolved.incident.promises[0].kept


# --- a real person behind the offer ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("contact", "says"),
    [
        ("noreply@example.com", "nobody reads noreply@example.com"),
        ("care@elsewhere.org", "is not at example.com"),
        ("+44 20 7946 0000", "looks like a phone number, but this playbook asks for an email address"),
        ("Sam", "does not name you: sign with your own name as the roster gives it (Carol Lindqvist)"),
        ("  ", "contact must put a real person behind this"),
    ],
)
def test_a_contact_the_playbook_does_not_accept_is_refused_saying_what_it_asks_for(contact: str, says: str) -> None:
    carol = Actor("carol", frozenset({"agent"}), "Carol Lindqvist")
    command = Act("offer_resolution", carol, {"offer": "call_back", "contact": contact})

    refused = step(_acknowledged("offers", "normal"), command, LATER, book("offers"))

    assert isinstance(refused, Refused)
    assert refused.field == "contact"
    assert says in refused.message


@pytest.mark.parametrize("contact", ["care@example.com", "Carol", "Carol Lindqvist, customer care", "carol"])
def test_a_contact_with_a_real_person_behind_it_is_kept_on_the_promise(contact: str) -> None:
    carol = Actor("carol", frozenset({"agent"}), "Carol Lindqvist")
    command = Act("offer_resolution", carol, {"offer": "call_back", "contact": contact})

    outcome = accepted(step(_acknowledged("offers", "normal"), command, LATER, book("offers")))

    assert outcome.incident.promises[0].contact == contact
    assert outcome.incident.facts["contact"] == contact


def test_a_promise_due_at_a_higher_level_takes_that_levels_time() -> None:
    command = Act(
        "offer_resolution",
        Actor("lee", frozenset({"lead"})),
        {"offer": {"kind": "refund", "amount": 300}, "contact": "Lee"},
    )

    outcome = accepted(step(_acknowledged("offers", "high"), command, LATER, book("offers")))

    assert outcome.incident.promises[0].due_at == LATER + 4 * H
    assert [step.at for step in arms(outcome.effects).values() if step.clock == "promise:refund-1"] == [LATER + 2 * H]
