"""The desk's action forms, built from a shipped playbook: which controls an action gets, the approved replies
with their placeholders filled, and a posted form read back into the fields the service checks."""

from __future__ import annotations

from incident_support import book, opened

from engine.desk._forms import action_forms, fields_from_form, fill_reply
from engine.incident import Draft, DraftStage

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
