"""Clocks: state limits, end-to-end targets, warnings and escalations, and deadlines that come late or twice.

Most tests use ``clock-rules`` (tests/fixtures/incident): every clock around the clock, round numbers, a warning
at 50%, no step at 100% (a bare breach) and a step at 200% that repeats every 30 minutes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from incident_support import (
    T0,
    accepted,
    act,
    armed_key,
    armed_keys,
    arms,
    audits,
    book,
    cancels,
    mention,
    notices,
    opened,
    public_reply,
)

from engine.incident import (
    ClockId,
    ClockKind,
    ClockState,
    DeadlineKey,
    DeadlineReached,
    Incident,
    JoinMention,
    NotifyKind,
    Occurrence,
    Stepped,
    deadline_key,
    step,
)

RULES = "clock-rules"
COMPLAINT = "customer-complaint"
H = timedelta(hours=1)
M = timedelta(minutes=1)


def _open(name: str = RULES, text: str = "Late again.") -> Incident:
    return opened(name, text=text).incident


def _fire(incident: Incident, clock: str, at: datetime, name: str = RULES) -> Stepped:
    """The scheduler delivers the deadline the clock has armed, at ``at``."""
    return accepted(step(incident, DeadlineReached(armed_key(incident, clock)), at, book(name)))


def _due(incident: Incident, clock: str) -> datetime:
    running = incident.clock(clock)
    assert running is not None
    return running.due_at


# --- state limits ---------------------------------------------------------------------------------------------


def test_a_state_limit_counts_from_when_the_state_was_entered_not_from_opening() -> None:
    entered = T0 + 25 * M

    assessed = accepted(act(_open(), "assess", ["lead"], entered, RULES, severity="low")).incident

    clock = assessed.clock("limit:assessed")
    assert clock is not None
    assert clock.started_at == entered
    assert clock.due_at == entered + 2 * H
    assert clock.next is not None
    assert clock.next.at == entered + H  # the 50% warning


def test_the_detected_limit_is_chosen_by_severity() -> None:
    assert _due(_open(text="Late again."), "limit:detected") == T0 + H
    assert _due(_open(text="URGENT: late again."), "limit:detected") == T0 + 10 * M


def test_a_state_limit_runs_in_the_calendar_the_state_names() -> None:
    # customer-complaint's assessed counts in office hours (London, Mon-Fri 09:00-18:00): 4h from Monday 17:00
    # is 1h on Monday and 3h on Tuesday.
    evening = T0 + 8 * H
    incident = opened(COMPLAINT, at=evening).incident

    assessed = accepted(act(incident, "assess", ["community_manager"], evening, severity="low")).incident

    assert _due(assessed, "limit:assessed") == T0 + 24 * H + 3 * H


def test_re_entering_the_same_state_restarts_its_limit_under_a_new_key() -> None:
    name = "service-outage"
    incident = opened(name, text="The app is not working").incident
    incident = accepted(act(incident, "assess", ["incident_commander"], T0 + M, name, severity="high")).incident
    incident = accepted(
        act(incident, "acknowledge", ["community_manager"], T0 + 2 * M, name, public_reply=public_reply(incident))
    ).incident
    first_key = armed_key(incident, "limit:acknowledged")

    updated = accepted(
        act(incident, "post_update", ["status_page_owner"], T0 + 40 * M, name, public_reply=public_reply(incident))
    )

    assert cancels(updated.effects)["limit:acknowledged"].key == first_key
    assert arms(updated.effects)["limit:acknowledged"].key != first_key
    assert _due(updated.incident, "limit:acknowledged") == T0 + 40 * M + H


# --- end-to-end targets ---------------------------------------------------------------------------------------


def test_a_target_keeps_running_with_the_same_deadline_across_states() -> None:
    incident = opened(COMPLAINT).incident
    key = armed_key(incident, "resolution")

    assessed = accepted(act(incident, "assess", ["community_manager"], T0 + M, severity="low"))
    acknowledged = accepted(
        act(
            assessed.incident,
            "acknowledge",
            ["community_manager"],
            T0 + 2 * M,
            public_reply=public_reply(incident),
        )
    )

    for moved in (assessed, acknowledged):
        assert "resolution" not in cancels(moved.effects)
        assert "resolution" not in arms(moved.effects)
        assert _due(moved.incident, "resolution") == T0 + 24 * H
        assert armed_key(moved.incident, "resolution") == key


def test_a_target_is_met_on_reaching_its_until_state_and_its_deadline_is_cancelled() -> None:
    incident = accepted(act(_open(), "assess", ["lead"], T0 + M, RULES, severity="low")).incident
    key = armed_key(incident, "first_response")

    acknowledged = accepted(act(incident, "acknowledge", ["lead"], T0 + 3 * H, RULES))

    assert cancels(acknowledged.effects)["first_response"].key == key
    assert acknowledged.incident.clock("first_response") is None
    assert "first_response" in acknowledged.incident.finished_clocks
    (met,) = audits(acknowledged.effects, "target_met")
    assert met.summary == "first_response met (on time)"


def test_a_target_met_late_says_how_late() -> None:
    incident = accepted(act(_open(), "assess", ["lead"], T0 + M, RULES, severity="low")).incident

    acknowledged = accepted(act(incident, "acknowledge", ["lead"], T0 + 5 * H + 30 * M, RULES))

    (met,) = audits(acknowledged.effects, "target_met")
    assert met.summary == "first_response met (1h30m late)"


# --- warnings, breaches, escalations --------------------------------------------------------------------------


def test_a_warning_goes_to_the_steps_roles_at_its_share_of_the_limit() -> None:
    incident = _open()
    assert arms(opened(RULES).effects)["limit:detected"].at == T0 + 30 * M

    fired = _fire(incident, "limit:detected", T0 + 30 * M)

    (notice,) = notices(fired.effects)
    assert (notice.kind, notice.roles, notice.clock) == (NotifyKind.WARNING, ("lead",), "limit:detected")
    assert (notice.threshold, notice.step, notice.repetition) == (0.5, 0, 0)
    assert (notice.scheduled_at, notice.due_at, notice.late_by) == (T0 + 30 * M, T0 + H, timedelta(0))
    assert (notice.state, notice.severity, notice.incident) == ("detected", "low", "inc-1")
    assert fired.incident.breached == frozenset()
    assert arms(fired.effects)["limit:detected"].at == T0 + H


def test_a_breach_with_no_step_at_100_percent_is_recorded_but_nobody_is_told() -> None:
    incident = _fire(_open(), "limit:detected", T0 + 30 * M).incident
    assert armed_key(incident, "limit:detected") == "inc-1/limit:detected/0/breach/0"

    fired = _fire(incident, "limit:detected", T0 + H)

    assert notices(fired.effects) == []
    (breach,) = audits(fired.effects, "breach")
    assert breach.details["clock"] == "limit:detected"
    assert fired.incident.breached == {"limit:detected"}
    assert arms(fired.effects)["limit:detected"].at == T0 + 2 * H


def test_a_breach_step_notifies_its_roles_as_a_breach() -> None:
    incident = opened(COMPLAINT).incident
    incident = _fire(incident, "limit:detected", T0 + 18 * H, COMPLAINT).incident

    fired = _fire(incident, "limit:detected", T0 + 24 * H, COMPLAINT)

    (notice,) = notices(fired.effects)
    assert (notice.kind, notice.roles, notice.threshold) == (NotifyKind.BREACH, ("social_lead",), 1.0)
    assert fired.incident.breached == {"limit:detected"}


def test_an_escalation_step_repeats_every_interval_until_the_clock_stops() -> None:
    incident = _open()
    incident = _fire(incident, "limit:detected", T0 + 30 * M).incident
    incident = _fire(incident, "limit:detected", T0 + H).incident

    seen = []
    for repetition in range(3):
        at = T0 + 2 * H + repetition * 30 * M
        fired = _fire(incident, "limit:detected", at)
        (notice,) = notices(fired.effects)
        seen.append((notice.kind, notice.roles, notice.repetition, notice.scheduled_at, notice.key))
        incident = fired.incident

    assert seen == [
        (NotifyKind.ESCALATION, ("boss",), 0, T0 + 2 * H, "inc-1/limit:detected/0/1/0"),
        (NotifyKind.ESCALATION, ("boss",), 1, T0 + 2 * H + 30 * M, "inc-1/limit:detected/0/1/1"),
        (NotifyKind.ESCALATION, ("boss",), 2, T0 + 3 * H, "inc-1/limit:detected/0/1/2"),
    ]
    assert armed_key(incident, "limit:detected") == "inc-1/limit:detected/0/1/3"
    assert len(audits([*fired.effects], "breach")) == 0  # the breach is recorded once, not on every repeat


def test_the_steps_of_a_shipped_playbook_fire_in_order_on_the_detected_limit() -> None:
    incident = opened(COMPLAINT).incident
    kinds = []
    for at in (T0 + 18 * H, T0 + 24 * H, T0 + 48 * H, T0 + 49 * H):
        fired = _fire(incident, "limit:detected", at, COMPLAINT)
        kinds += [(notice.kind, notice.roles, notice.repetition) for notice in notices(fired.effects)]
        incident = fired.incident

    assert kinds == [
        (NotifyKind.WARNING, ("community_manager",), 0),
        (NotifyKind.BREACH, ("social_lead",), 0),
        (NotifyKind.ESCALATION, ("comms_director",), 0),
        (NotifyKind.ESCALATION, ("comms_director",), 1),
    ]


def test_escalation_steps_limited_to_some_severities_or_clocks_apply_only_to_them() -> None:
    name = "safety-and-legal"
    critical = opened(name, text="My son is in hospital")  # first_response 30m; its first step is 75%
    high = opened(name, text="This toaster is unsafe")  # first_response 1h30m; its first step is 75%

    assert (critical.incident.severity, high.incident.severity) == ("critical", "high")
    assert arms(critical.effects)["first_response"].at == T0 + 22 * M + timedelta(seconds=30)
    assert arms(high.effects)["first_response"].at == T0 + 67 * M + timedelta(seconds=30)
    # the 50% step is for the state limits only: detected (high: 15m) warns at 7m30s
    assert arms(high.effects)["limit:detected"].at == T0 + 7 * M + timedelta(seconds=30)


# --- clocks stop ----------------------------------------------------------------------------------------------


def test_leaving_a_state_cancels_its_limit_and_stops_the_clock() -> None:
    incident = _open()
    key = armed_key(incident, "limit:detected")

    assessed = accepted(act(incident, "assess", ["lead"], T0 + 5 * M, RULES, severity="low"))

    assert cancels(assessed.effects)["limit:detected"].key == key
    assert assessed.incident.clock("limit:detected") is None
    assert step(assessed.incident, DeadlineReached(key), T0 + 30 * M, book(RULES)) == Stepped(assessed.incident, ())


def test_reaching_a_final_state_cancels_every_clock_and_arms_nothing() -> None:
    incident = opened(COMPLAINT).incident
    running = armed_keys(incident)

    closed = accepted(act(incident, "do_not_engage", ["social_lead"], T0 + 5 * M, reason="spam"))

    assert {cancel.key for cancel in cancels(closed.effects).values()} == running
    assert arms(closed.effects) == {}
    assert closed.incident.clocks == ()
    stopped = audits(closed.effects, "target_stopped")
    assert sorted(entry.details["clock"] for entry in stopped) == ["first_response", "resolution"]
    for key in running:
        assert step(closed.incident, DeadlineReached(key), T0 + 30 * H, book(COMPLAINT)) == Stepped(closed.incident, ())


def test_a_clock_that_has_stopped_never_fires_again_however_late_its_deadline_arrives() -> None:
    incident = accepted(act(_open(), "assess", ["lead"], T0 + M, RULES, severity="low")).incident
    key = armed_key(incident, "first_response")
    done = accepted(act(incident, "acknowledge", ["lead"], T0 + 2 * M, RULES)).incident

    assert step(done, DeadlineReached(key), T0 + 100 * H, book(RULES)) == Stepped(done, ())


# --- severity changes -----------------------------------------------------------------------------------------


def test_raising_the_severity_recomputes_a_running_target_from_its_start() -> None:
    incident = _open()
    old_key = armed_key(incident, "first_response")

    raised = accepted(act(incident, "assess", ["lead"], T0 + 20 * M, RULES, severity="high"))

    assert _due(raised.incident, "first_response") == T0 + H
    assert cancels(raised.effects)["first_response"].key == old_key
    assert arms(raised.effects)["first_response"].at == T0 + 30 * M
    assert _due(raised.incident, "limit:assessed") == T0 + 20 * M + 2 * H


def test_lowering_the_severity_gives_a_running_target_more_time() -> None:
    incident = opened(COMPLAINT, text="an injury").incident
    assert _due(incident, "first_response") == T0 + 30 * M

    lowered = accepted(act(incident, "assess", ["social_lead"], T0 + 10 * M, severity="low"))

    assert _due(lowered.incident, "first_response") == T0 + 4 * H
    assert _due(lowered.incident, "resolution") == T0 + 24 * H
    assert arms(lowered.effects)["first_response"].at == T0 + 3 * H


def test_a_new_state_limit_starts_at_the_new_severity() -> None:
    incident = opened(COMPLAINT).incident

    raised = accepted(act(incident, "assess", ["social_lead"], T0 + 10 * M, severity="critical"))

    # assessed counts in office hours: Monday 09:10 + 30m.
    assert _due(raised.incident, "limit:assessed") == T0 + 40 * M


def test_a_joining_mention_with_a_higher_severity_recomputes_the_running_clocks() -> None:
    incident = _open()
    urgent = mention("URGENT please", external_id="m-2", posted_at=T0 + 2 * M)

    joined = accepted(step(incident, JoinMention(urgent), T0 + 2 * M, book(RULES)))

    assert joined.incident.severity == "high"
    assert _due(joined.incident, "limit:detected") == T0 + 10 * M
    assert _due(joined.incident, "first_response") == T0 + H
    assert arms(joined.effects)["limit:detected"].at == T0 + 5 * M


def test_after_a_raise_past_a_warning_point_the_warning_is_due_at_once() -> None:
    incident = _open()

    raised = accepted(act(incident, "assess", ["lead"], T0 + 50 * M, RULES, severity="high"))
    fired = _fire(raised.incident, "first_response", T0 + 50 * M)

    assert arms(raised.effects)["first_response"].at <= T0 + 50 * M
    assert [notice.roles for notice in notices(fired.effects)] == [("lead",)]
    assert fired.incident.breached == frozenset()  # high: 1h, so the breach is still 10 minutes away
    assert arms(fired.effects)["first_response"].at == T0 + H


def test_a_raise_after_a_warning_has_fired_still_tells_the_breach_roles() -> None:
    incident = opened(COMPLAINT).incident
    warned = _fire(incident, "first_response", T0 + 3 * H, COMPLAINT).incident  # 75% of 4h, to community_manager

    raised = accepted(act(warned, "assess", ["social_lead"], T0 + 3 * H + 30 * M, severity="critical"))
    fired = _fire(raised.incident, "first_response", T0 + 3 * H + 30 * M, COMPLAINT)

    told = {role for notice in notices(fired.effects) for role in notice.roles}
    assert "social_lead" in told  # first_response (critical: 30m) was breached 3h ago


def test_a_deadline_re_armed_after_a_severity_change_never_reuses_a_key_that_already_fired() -> None:
    incident = opened(COMPLAINT, text="an injury").incident  # critical: first_response 30m, warned at 22m30s
    warned = _fire(incident, "first_response", T0 + 22 * M + timedelta(seconds=30), COMPLAINT)
    (first,) = notices(warned.effects)

    lowered = accepted(act(warned.incident, "assess", ["social_lead"], T0 + 25 * M, severity="low"))  # now 4h
    (second,) = notices(_fire(lowered.incident, "first_response", T0 + 3 * H, COMPLAINT).effects)

    assert (first.due_at, second.due_at) == (T0 + 30 * M, T0 + 4 * H)  # two different warnings ...
    assert second.key != first.key  # ... need two different idempotency keys
    assert arms(lowered.effects)["first_response"].key != first.key


# --- catching up ----------------------------------------------------------------------------------------------


def test_a_late_deadline_catches_up_collapsing_repeats_and_reporting_lateness() -> None:
    incident = opened(COMPLAINT).incident  # low: detected limit 24h; 75%, 100%, then 200% every hour

    fired = _fire(incident, "limit:detected", T0 + 60 * H + 30 * M, COMPLAINT)

    seen = [(notice.kind, notice.repetition, notice.scheduled_at, notice.late_by) for notice in notices(fired.effects)]
    assert seen == [
        (NotifyKind.WARNING, 0, T0 + 18 * H, 42 * H + 30 * M),
        (NotifyKind.BREACH, 0, T0 + 24 * H, 36 * H + 30 * M),
        (NotifyKind.ESCALATION, 12, T0 + 60 * H, 30 * M),
    ]
    assert len(audits(fired.effects, "breach")) == 1
    assert arms(fired.effects)["limit:detected"].at == T0 + 61 * H
    assert armed_key(fired.incident, "limit:detected") == "inc-1/limit:detected/0/2/13"


def test_a_deadline_on_time_reports_no_lateness() -> None:
    fired = _fire(_open(), "limit:detected", T0 + 30 * M)

    assert [notice.late_by for notice in notices(fired.effects)] == [timedelta(0)]


def test_a_deadline_delivered_early_notifies_nobody_and_stays_armed() -> None:
    incident = _open()
    key = armed_key(incident, "limit:detected")

    early = accepted(step(incident, DeadlineReached(key), T0 + 10 * M, book(RULES)))

    assert notices(early.effects) == []
    assert arms(early.effects)["limit:detected"].key == key
    assert armed_key(early.incident, "limit:detected") == key


# --- idempotency and keys -------------------------------------------------------------------------------------


def test_stepping_the_same_deadline_twice_does_nothing_the_second_time() -> None:
    incident = _open()
    reached = DeadlineReached(armed_key(incident, "limit:detected"))

    first = accepted(step(incident, reached, T0 + 30 * M, book(RULES)))
    second = step(first.incident, reached, T0 + 31 * M, book(RULES))

    assert notices(first.effects)
    assert second == Stepped(first.incident, ())


def test_a_deadline_redelivered_after_a_long_catch_up_changes_nothing() -> None:
    incident = opened(COMPLAINT).incident
    reached = DeadlineReached(armed_key(incident, "limit:detected"))
    first = accepted(step(incident, reached, T0 + 60 * H, book(COMPLAINT)))

    assert step(first.incident, reached, T0 + 61 * H, book(COMPLAINT)) == Stepped(first.incident, ())


def test_an_unknown_deadline_key_changes_nothing() -> None:
    incident = _open()

    assert step(incident, DeadlineReached("inc-1/no-such-clock/0/0/0"), T0 + H, book(RULES)) == Stepped(incident, ())


def test_deadline_keys_name_the_incident_clock_run_step_and_repetition() -> None:
    clock = ClockState("limit:detected", T0, 3, T0 + H)

    assert deadline_key("inc-7", clock, Occurrence(H, 2, 5, T0 + H)) == "inc-7/limit:detected/3/2/5"
    assert deadline_key("inc-7", clock, Occurrence(H, -1, 0, T0 + H)) == "inc-7/limit:detected/3/breach/0"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("inc-7/limit:detected/3/2/5", DeadlineKey("inc-7", ClockId.limit("detected"), 3, 2, 5)),
        ("inc-7/first_response/0/breach/0", DeadlineKey("inc-7", ClockId.target("first_response"), 0, -1, 0)),
        ("team/eu/inc-1/limit:assessed/1/0/0", DeadlineKey("team/eu/inc-1", ClockId.limit("assessed"), 1, 0, 0)),
    ],
)
def test_a_deadline_key_reads_back_from_its_text_whatever_the_incident_id_holds(text: str, key: DeadlineKey) -> None:
    assert DeadlineKey.parse(text) == key
    assert str(key) == text


@pytest.mark.parametrize(
    "text", ["", "inc-1", "inc-1/limit:detected/0/0", "inc-1/limit:detected/x/0/0", "inc-1/first_response/0/²/0"]
)
def test_text_that_is_not_a_deadline_key_reads_as_none(text: str) -> None:
    assert DeadlineKey.parse(text) is None


@pytest.mark.parametrize("text", ["limit:detected", "first_response"])
def test_a_clock_id_reads_back_from_the_text_incidents_hold(text: str) -> None:
    assert str(ClockId.parse(text)) == text
    assert ClockId.parse("limit:detected") == ClockId(ClockKind.LIMIT, "detected")


def test_deadline_keys_are_the_same_for_the_same_incident_however_often_it_is_computed() -> None:
    first = opened(RULES)
    again = opened(RULES)

    assert [arm.key for arm in arms(first.effects).values()] == [arm.key for arm in arms(again.effects).values()]
    assert armed_keys(first.incident) == {"inc-1/limit:detected/0/0/0", "inc-1/first_response/0/0/0"}


def test_a_notification_key_is_the_key_of_the_deadline_that_fired_it() -> None:
    incident = _open()
    key = armed_key(incident, "limit:detected")

    (notice,) = notices(_fire(incident, "limit:detected", T0 + 30 * M).effects)

    assert notice.key == key


def test_a_clock_moved_by_a_severity_change_arms_keys_of_a_new_run() -> None:
    incident = _open()
    before = armed_key(incident, "first_response")

    raised = accepted(act(incident, "assess", ["lead"], T0 + 5 * M, RULES, severity="high"))

    assert before.startswith("inc-1/first_response/0/")
    assert cancels(raised.effects)["first_response"].key == before
    assert armed_key(raised.incident, "first_response").startswith(f"inc-1/first_response/{raised.incident.revision}/")
