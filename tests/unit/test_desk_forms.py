"""The desk's action forms, built from a shipped playbook: which controls an action gets, the approved replies
with their placeholders filled, and a posted form read back into the fields the service checks."""

from __future__ import annotations

from typing import Any

from incident_support import book, opened

from engine.desk._forms import ActionForm, action_forms, fields_from_form, fill_reply
from engine.incident import Draft, DraftStage
from engine.service._applying import available_actions

ACTIONS = [
    {"trigger": "assess", "to": "assessed", "by": ["community_manager", "social_lead"], "requires": ["severity"]},
    {"trigger": "acknowledge", "to": "acknowledged", "by": ["community_manager"], "requires": ["public_reply"]},
    {"trigger": "review", "to": "reviewed", "by": ["social_lead"], "requires": ["review"]},
]


def test_fills_the_placeholders_calmly_knows_and_keeps_the_ones_it_cannot_fill_yet() -> None:
    incident = opened().incident

    filled = fill_reply("Hi {author} on {channel}, about {incident_id}: {offer}", incident)

    assert filled == f"Hi {incident.author} on {incident.channel}, about {incident.id}: {{offer}}"


def test_offers_only_the_actions_the_roles_allow_with_the_playbooks_choices() -> None:
    rulebook = book("customer-complaint")
    incident = opened().incident

    forms = {
        form.trigger: form
        for form in action_forms(ACTIONS, frozenset({"community_manager"}), incident, rulebook.playbook)
    }

    assert set(forms) == {"assess", "acknowledge"}
    assert forms["assess"].controls[0].choices == ("low", "medium", "high", "critical")
    assert forms["acknowledge"].reply_channel == incident.channel
    assert forms["acknowledge"].approved[0].startswith(f"Hi {incident.author}, thank you for telling us.")
    assert forms["assess"].approved == ()


def test_reads_a_review_back_as_answers_by_question_and_a_reply_with_its_channel() -> None:
    rulebook = book("customer-complaint")
    incident = opened().incident
    forms = {
        form.trigger: form
        for form in action_forms(ACTIONS, frozenset({"social_lead", "community_manager"}), incident, rulebook.playbook)
    }

    review = fields_from_form(forms["review"], {"review.avoidable": "no", "review.root_cause": " "}, rulebook.playbook)
    reply = fields_from_form(forms["acknowledge"], {"public_reply": " Sorry. "}, rulebook.playbook)

    assert review == {"review": {"avoidable": "no"}}  # a blank answer is left out, for the service to name it
    assert reply == {"public_reply": {"text": "Sorry.", "channel": incident.channel}}


def _forms(name: str, roles: set[str], **mention: Any) -> dict[str, ActionForm]:
    """The forms a person with ``roles`` sees on a fresh incident, from the service's own list of open actions."""
    rulebook = book(name)
    incident = opened(name, **mention).incident
    actions = available_actions(rulebook, incident)
    return {form.trigger: form for form in action_forms(actions, frozenset(roles), incident, rulebook.playbook)}


def test_offers_a_community_manager_only_the_reasons_her_role_may_give() -> None:
    forms = _forms("abuse-and-trolls", {"community_manager"}, text="free followers, check my bio")

    (reason,) = [control for control in forms["do_not_engage"].controls if control.name == "reason"]
    assert reason.choices == ("spam", "bot")


def test_offers_the_social_lead_every_reason_on_a_low_incident() -> None:
    forms = _forms("abuse-and-trolls", {"social_lead"}, text="free followers, check my bio")

    (reason,) = [control for control in forms["do_not_engage"].controls if control.name == "reason"]
    assert "troll" in reason.choices
    assert "abuse_after_reply" in reason.choices


def test_does_not_offer_not_engaging_to_a_community_manager_once_the_post_may_hold_a_real_complaint() -> None:
    cm = _forms("abuse-and-trolls", {"community_manager"}, text="Scumbags, where is my refund")
    lead = _forms("abuse-and-trolls", {"social_lead"}, text="Scumbags, where is my refund")

    assert "do_not_engage" not in cm
    assert [control.name for control in lead["do_not_engage"].controls] == ["note", "reason"]


def test_offers_the_direct_route_only_when_the_customer_is_known() -> None:
    rulebook = book("customer-complaint")
    care = frozenset({"customer_care", "community_manager"})
    for customer, expected in ((None, ("dm", "phone", "email")), ("c-42", ("dm", "phone", "email", "direct"))):
        incident = opened(customer_id=customer).incident.evolve(state="acknowledged")
        (form,) = [
            form
            for form in action_forms(available_actions(rulebook, incident), care, incident, rulebook.playbook)
            if form.trigger == "offer_resolution"
        ]
        (route,) = [control for control in form.controls if control.name == "contact_route"]
        assert route.choices == expected


def test_an_offer_under_the_catalogue_is_picked_from_its_kinds_and_read_back_with_its_amount() -> None:
    rulebook = book("customer-complaint")
    incident = opened().incident
    offering = {
        "trigger": "offer_resolution",
        "to": "resolution_offered",
        "by": ["customer_care"],
        "requires": ["contact", "contact_route", "offer"],
    }
    delivering = {
        "trigger": "deliver",
        "to": "resolution_offered",
        "by": ["customer_care"],
        "requires": ["note", "promise"],
        "promises": ["refund-1", "voucher-2"],
    }
    forms = {
        form.trigger: form
        for form in action_forms([offering, delivering], frozenset({"customer_care"}), incident, rulebook.playbook)
    }

    posted = {
        "offer.kind": "refund",
        "offer.amount": "30",
        "offer.note": " kettle ",
        "contact": "Carol",
        "contact_route": "dm",
    }
    fields = fields_from_form(forms["offer_resolution"], posted, rulebook.playbook)

    kinds = next(control for control in forms["offer_resolution"].controls if control.name == "offer.kind")
    assert kinds.choices == ("refund", "voucher", "replacement", "call_back")
    assert fields == {
        "contact": "Carol",
        "contact_route": "dm",
        "offer": {"kind": "refund", "amount": 30, "note": "kettle"},
    }
    assert [control.name for control in forms["deliver"].controls] == ["promise", "note"]
    assert forms["deliver"].controls[0].choices == ("refund-1", "voucher-2")


def test_an_action_that_needs_approval_submits_a_draft_until_one_is_approved() -> None:
    rulebook = book("safety-and-legal")
    incident = opened("safety-and-legal").incident
    needing = [
        {
            "trigger": "acknowledge",
            "to": "acknowledged",
            "by": ["community_manager"],
            "requires": ["public_reply"],
            "approval": {"by": ["legal_counsel", "comms_director"]},
        }
    ]
    approved = Draft(
        "acknowledge", "Hi", incident.channel, "sha256:1", DraftStage.APPROVED, "priya", incident.opened_at
    )

    (drafting,) = action_forms(needing, frozenset({"community_manager"}), incident, rulebook.playbook)
    (posting,) = action_forms(
        needing, frozenset({"community_manager"}), incident.evolve(draft=approved), rulebook.playbook
    )

    assert (drafting.drafting, drafting.path, drafting.approvers) == (
        True,
        "acknowledge/draft",
        ("legal_counsel", "comms_director"),
    )
    assert [control.name for control in drafting.controls] == ["public_reply"]
    assert (posting.drafting, posting.path) == (False, "acknowledge")
