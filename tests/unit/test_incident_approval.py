"""Approval in the pure runtime: a reply drafted, approved or returned, then the action taken with those words alone;
and an action whose replies must be one of its templates."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from incident_support import T0, accepted, act, actor, audits, book, opened, public_reply

from engine.incident import (
    Act,
    Actor,
    DraftReply,
    DraftStage,
    DraftStep,
    Incident,
    RefusalReason,
    Refused,
    Stepped,
    difference,
    reply_digest,
    step,
)

SAFETY = "safety-and-legal"
PRIYA = actor("community_manager", person="priya")
GRACE = actor("legal_counsel", person="grace")
DANA = actor("comms_director", person="dana")
REPLY = (
    "Hi ann, thank you for telling us about this. We're looking into it urgently. Please email safety@example.com, "
    "or send us a direct message, so a member of our team can speak to you personally."
)


def _at(minutes: int) -> Any:
    return T0 + timedelta(minutes=minutes)


def _assessed() -> Incident:
    incident = opened(SAFETY, text="I had an allergic reaction to your cereal bar").incident
    return accepted(act(incident, "assess", ["social_lead"], _at(1), SAFETY, severity="critical")).incident


def _draft(
    incident: Incident, who: Actor, step_: DraftStep, minutes: int, trigger: str = "acknowledge", **fields: Any
) -> Stepped | Refused:
    return step(incident, DraftReply(step_, trigger, who, fields), _at(minutes), book(SAFETY))


def _post(incident: Incident, text: str, minutes: int, who: Actor = PRIYA) -> Stepped | Refused:
    command = Act("acknowledge", who, {"public_reply": public_reply(incident, text)})
    return step(incident, command, _at(minutes), book(SAFETY))


def _submitted(text: str = REPLY) -> Incident:
    incident = _assessed()
    return accepted(_draft(incident, PRIYA, DraftStep.SUBMIT, 3, public_reply=public_reply(incident, text))).incident


def _approved(text: str = REPLY) -> Incident:
    return accepted(_draft(_submitted(text), GRACE, DraftStep.APPROVE, 5)).incident


def test_refuses_a_reply_that_needs_approval_until_a_draft_is_submitted() -> None:
    refused = _post(_assessed(), REPLY, 2)

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.NEEDS_APPROVAL
    assert refused.message == (
        "this reply needs approval by legal_counsel or comms_director; submit it as a draft first"
    )


def test_a_submitted_draft_waits_in_the_same_state_with_its_clocks_running_and_moves_the_revision() -> None:
    incident = _assessed()

    done = accepted(_draft(incident, PRIYA, DraftStep.SUBMIT, 3, public_reply=public_reply(incident, REPLY)))

    assert done.incident.state == "assessed"
    assert done.incident.clocks == incident.clocks
    assert done.incident.revision == incident.revision + 1
    draft = done.incident.draft
    assert draft is not None
    assert (draft.trigger, draft.stage, draft.drafted_by, draft.text) == (
        "acknowledge",
        DraftStage.PENDING,
        "priya",
        REPLY,
    )
    assert draft.digest == reply_digest(REPLY)
    (entry,) = audits(done.effects, "draft")
    assert entry.actor == "priya"
    assert entry.details["digest"] == draft.digest


def test_a_pending_draft_cannot_be_posted_yet() -> None:
    refused = _post(_submitted(), REPLY, 4)

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.NEEDS_APPROVAL
    assert "still waits for approval by legal_counsel or comms_director" in refused.message


def test_a_draft_is_refused_when_it_breaks_the_house_rules() -> None:
    incident = _assessed()

    refused = _draft(
        incident, PRIYA, DraftStep.SUBMIT, 3, public_reply=public_reply(incident, "This is an isolated incident.")
    )

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.HOUSE_RULE


def test_only_the_approvals_roles_approve_and_never_the_person_who_drafted_it() -> None:
    incident = _assessed()
    by_dana = accepted(_draft(incident, DANA, DraftStep.SUBMIT, 3, public_reply=public_reply(incident, REPLY)))

    not_approver = _draft(by_dana.incident, PRIYA, DraftStep.APPROVE, 4)
    own = _draft(by_dana.incident, DANA, DraftStep.APPROVE, 4)

    assert isinstance(not_approver, Refused)
    assert not_approver.reason is RefusalReason.ROLE_NOT_ALLOWED
    assert "approved or returned by legal_counsel or comms_director; priya has community_manager" in (
        not_approver.message
    )
    assert isinstance(own, Refused)
    assert own.reason is RefusalReason.OWN_DRAFT
    assert accepted(_draft(by_dana.incident, GRACE, DraftStep.APPROVE, 4)).incident.draft is not None


def test_the_approved_words_are_posted_and_the_approver_time_and_digest_are_recorded() -> None:
    incident = _approved()

    done = accepted(_post(incident, REPLY, 6))

    assert done.incident.state == "acknowledged"
    assert done.incident.draft is None
    (moved,) = audits(done.effects, "transition")
    assert moved.details["approval"] == {
        "approved_by": "grace",
        "approved_at": _at(5).isoformat(),
        "digest": reply_digest(REPLY),
        "drafted_by": "priya",
    }
    assert "the reply grace approved, word for word" in moved.summary


def test_refuses_a_reply_that_differs_from_the_approved_text_and_says_at_which_word() -> None:
    changed = REPLY.replace("Please email", "Please phone")

    refused = _post(_approved(), changed, 6)

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.NOT_AS_APPROVED
    assert refused.message.startswith(
        "the reply differs from the approved text at word 16: word 16 is 'phone' where the approved text has 'email'"
    )


def test_the_approved_words_may_be_laid_out_on_other_lines_but_not_cut_short() -> None:
    rewrapped = "  " + REPLY.replace(" We're", "\n\nWe're").replace(", or", ",\tor") + "\n"

    assert accepted(_post(_approved(), rewrapped, 6)).incident.state == "acknowledged"
    cut = _post(_approved(), REPLY.rsplit(" ", 1)[0], 6)
    assert isinstance(cut, Refused)
    assert "stops before word" in cut.message


def test_case_and_punctuation_count_as_part_of_a_word() -> None:
    assert difference("Hi ann, thank you", "Hi ann, thank you") is None
    assert difference("hi ann, thank you", "Hi ann, thank you") == (1, "hi", "Hi")
    assert difference("Hi ann thank you", "Hi ann, thank you") == (2, "ann", "ann,")
    assert difference("Hi ann, thank you all", "Hi ann, thank you") == (5, "all", None)


def test_a_returned_draft_says_why_and_can_be_redrafted_and_approved() -> None:
    submitted = _submitted()
    returned = accepted(_draft(submitted, GRACE, DraftStep.RETURN, 4, note="No promise of a call yet."))

    assert returned.incident.draft is not None
    assert returned.incident.draft.stage is DraftStage.RETURNED
    refused = _post(returned.incident, REPLY, 5)
    assert isinstance(refused, Refused)
    assert refused.message == (
        "grace returned the draft of this reply (No promise of a call yet.); redraft it and submit it again"
    )
    shorter = "Hi ann, thank you for telling us. Please email safety@example.com."
    again = accepted(
        _draft(returned.incident, PRIYA, DraftStep.SUBMIT, 6, public_reply=public_reply(returned.incident, shorter))
    )
    approved = accepted(_draft(again.incident, DANA, DraftStep.APPROVE, 7))
    assert accepted(_post(approved.incident, shorter, 8)).incident.state == "acknowledged"


def test_returning_needs_a_note_and_can_withdraw_an_approval_before_the_reply_goes_out() -> None:
    approved = _approved()

    without = _draft(approved, GRACE, DraftStep.RETURN, 6)
    withdrawn = accepted(_draft(approved, GRACE, DraftStep.RETURN, 6, note="A recall notice is coming."))

    assert isinstance(without, Refused)
    assert (without.reason, without.field) == (RefusalReason.MISSING_FIELD, "note")
    assert withdrawn.incident.draft is not None
    assert withdrawn.incident.draft.stage is DraftStage.RETURNED
    assert "approval withdrawn" in audits(withdrawn.effects, "returned")[0].summary


def test_nothing_to_approve_without_a_pending_draft() -> None:
    refused = _draft(_assessed(), GRACE, DraftStep.APPROVE, 3)
    twice = _draft(_approved(), DANA, DraftStep.APPROVE, 6)

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.NOT_AVAILABLE
    assert "no draft of it has been submitted" in refused.message
    assert isinstance(twice, Refused)
    assert "approved by grace already" in twice.message


def test_a_draft_is_only_for_an_action_that_needs_approval_from_where_the_incident_is() -> None:
    incident = _assessed()

    no_approval = _draft(incident, actor("social_lead"), DraftStep.SUBMIT, 3, trigger="do_not_engage")
    wrong_state = _draft(opened(SAFETY).incident, PRIYA, DraftStep.SUBMIT, 3, public_reply={})

    assert isinstance(no_approval, Refused)
    assert no_approval.reason is RefusalReason.NOT_AVAILABLE
    assert "needs no approval" in no_approval.message
    assert isinstance(wrong_state, Refused)
    assert wrong_state.reason is RefusalReason.NOT_AVAILABLE


def test_a_change_of_state_clears_the_draft() -> None:
    submitted = _submitted()

    closed = accepted(act(submitted, "do_not_engage", ["legal_counsel"], _at(4), SAFETY, reason="spam", note="A bot."))

    assert closed.incident.draft is None


def test_a_decision_on_a_draft_is_made_on_the_revision_seen() -> None:
    submitted = _submitted()
    command = DraftReply(DraftStep.APPROVE, "acknowledge", GRACE, {}, expected_revision=submitted.revision - 1)

    refused = step(submitted, command, _at(5), book(SAFETY))

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.STALE


# --- replies that must be one of the templates ---------------------------------------------------------------------

REQUIRED = "required-replies"


def _acknowledging(text: str, trigger: str = "acknowledge") -> Stepped | Refused:
    incident = opened(REQUIRED, handle="@kim").incident
    incident = accepted(act(incident, "assess", ["lead"], _at(1), REQUIRED)).incident
    if trigger == "follow_up":
        first = "Hi @kim, thank you for telling us. We're looking into it now."
        incident = accepted(
            act(incident, "acknowledge", ["agent"], _at(2), REQUIRED, public_reply=public_reply(incident, first))
        ).incident
    return act(incident, trigger, ["agent"], _at(3), REQUIRED, public_reply=public_reply(incident, text))


def test_a_reply_that_must_be_a_template_is_taken_when_it_is_one_filled_in() -> None:
    done = accepted(_acknowledging("Hi @kim, we're sorry.\nPlease send us a direct message."))

    assert done.incident.state == "acknowledged"


def test_refuses_a_reply_that_is_none_of_the_templates_and_says_where_to_find_them() -> None:
    refused = _acknowledging("Hi @kim, we're on it!")

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.NOT_A_TEMPLATE
    assert refused.message == (
        "a reply for 'acknowledge' must be one of the playbook's 2 approved replies, word for word; this one is not "
        "(GET /v1/incidents/inc-1/replies/acknowledge lists them, filled in)"
    )


def test_a_transition_can_let_people_write_their_own_reply_against_the_playbooks_rule() -> None:
    done = accepted(_acknowledging("We have sent you a message, Kim.", trigger="follow_up"))

    assert done.incident.state == "acknowledged"


# --- whatever people do, only approved words go out ------------------------------------------------------------------

_PEOPLE = (PRIYA, GRACE, DANA)
_TEXTS = (REPLY, REPLY.replace("email", "phone"), "Hi ann, please send us a direct message.")
_MOVES = st.lists(
    st.tuples(
        st.sampled_from(("submit", "approve", "approve", "return", "post", "post")),  # more of what moves it on
        st.sampled_from(_PEOPLE),
        st.sampled_from(_TEXTS),
    ),
    min_size=2,
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(_MOVES)
def test_whatever_is_drafted_approved_returned_or_posted_only_words_someone_else_approved_go_out(
    moves: list[tuple[str, Actor, str]],
) -> None:
    incident = _assessed()
    for minute, (move, who, text) in enumerate(moves, start=3):
        if move == "post":
            outcome = _post(incident, text, minute, who)
        else:
            fields = {"public_reply": public_reply(incident, text)} if move == "submit" else {"note": "Change it."}
            outcome = _draft(incident, who, DraftStep(move), minute, **fields)
        if isinstance(outcome, Refused):
            continue
        before, incident = incident, outcome.incident
        if incident.state == "acknowledged":
            draft = before.draft
            assert draft is not None
            assert draft.stage is DraftStage.APPROVED
            assert draft.decided_by != draft.drafted_by
            assert draft.digest == reply_digest(text)
            return
