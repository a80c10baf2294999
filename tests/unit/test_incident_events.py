"""Event notifications, side paths, one state's escalation, a calendar per severity, overdue steps that collapse and
repeats that merge: the incident core under tests/fixtures/incident/events.good.yaml."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from incident_support import (
    FIXTURES,
    T0,
    accepted,
    act,
    arms,
    audits,
    book,
    mention,
    notices,
    opened,
    review_answers,
)

from engine.incident import (
    Audit,
    DeadlineReached,
    Incident,
    JoinMention,
    Notify,
    NotifyKind,
    Rulebook,
    deadline_key,
    step,
)
from engine.playbook import load

EVENTS = "events"
M, H = timedelta(minutes=1), timedelta(hours=1)


class _Run(NamedTuple):
    incident: Incident
    told: list[tuple[datetime, Notify]]
    merged: list[Audit]


def _run(incident: Incident, until: datetime, rulebook: Rulebook, now: datetime = T0) -> _Run:
    """Fire every armed deadline up to ``until``, each at its own time (or at ``now`` when already past), as the
    scheduler does."""
    run = _Run(incident, [], [])
    while True:
        armed = [(clock.next.at, clock) for clock in run.incident.clocks if clock.next is not None]
        if not armed:
            return run
        at, clock = min(armed, key=lambda item: item[0])
        if at > until or clock.next is None:
            return run
        at = max(at, now)
        stepped = accepted(
            step(run.incident, DeadlineReached(deadline_key(incident.id, clock, clock.next)), at, rulebook)
        )
        run.told.extend((at, notice) for notice in notices(stepped.effects))
        run.merged.extend(audits(stepped.effects, "repeat_merged"))
        run = run._replace(incident=stepped.incident)


def _events(effects: object) -> list[Notify]:
    return [notice for notice in notices(effects) if notice.kind is NotifyKind.EVENT]  # type: ignore[arg-type]


# --- events ---------------------------------------------------------------------------------------------------


def test_a_critical_incident_tells_legal_the_moment_it_opens() -> None:
    critical = opened(EVENTS, text="I am filing a lawsuit")
    low = opened(EVENTS, text="My order is late")

    (notice,) = _events(critical.effects)
    assert (notice.roles, notice.event, notice.severity, notice.state) == (("legal",), "opened", "critical", "detected")
    assert notice.key == "inc-1/event/opened/0/r0"
    assert audits(critical.effects, "notice")[0].summary == "opened: notify legal"
    assert _events(low.effects) == []


def test_entering_a_named_state_tells_its_roles_once_per_entry() -> None:
    incident = opened(EVENTS).incident

    referred = accepted(act(incident, "refer", ["agent"], T0 + 5 * M, EVENTS))

    (notice,) = _events(referred.effects)
    assert (notice.event, notice.roles, notice.state) == ("entered", ("legal",), "referred")
    assert notice.key == f"inc-1/event/entered/{referred.incident.revision}/r1"


def test_a_severity_raised_by_a_follow_up_tells_at_once_and_says_what_it_rose_to() -> None:
    incident = opened(EVENTS).incident

    joined = accepted(
        step(incident, JoinMention(mention("see you in court, lawsuit", external_id="m-2")), T0, book(EVENTS))
    )

    (notice,) = _events(joined.effects)
    assert (notice.event, notice.roles, notice.severity) == ("severity_raised", ("legal", "duty_manager"), "critical")


def test_a_severity_raised_by_the_assessment_tells_too_but_a_lowered_one_does_not() -> None:
    incident = opened(EVENTS).incident
    raised = accepted(act(incident, "assess", ["agent"], T0 + M, EVENTS, severity="critical"))
    lowered = accepted(
        act(opened(EVENTS, text="lawsuit").incident, "assess", ["agent"], T0 + M, EVENTS, severity="low")
    )

    assert [notice.event for notice in _events(raised.effects)] == ["severity_raised"]
    assert _events(lowered.effects) == []


_FIELDS: dict[str, dict[str, object]] = {
    "assess": {"severity": "low"},
    "acknowledge": {"public_reply": {"channel": "twitter", "text": "Sorry, we're on it."}},
    "offer_resolution": {"contact_route": "dm"},
}


def _resolved(at: datetime) -> Incident:
    incident = opened(EVENTS).incident
    for trigger in ("assess", "acknowledge", "offer_resolution", "resolve"):
        incident = accepted(act(incident, trigger, ["agent"], at, EVENTS, **_FIELDS.get(trigger, {}))).incident
    return incident


def test_reopening_a_resolved_incident_tells_the_lead() -> None:
    incident = _resolved(T0 + M)

    reopened = accepted(act(incident, "reopen", ["lead"], T0 + H, EVENTS))

    assert [(notice.event, notice.roles, notice.state) for notice in _events(reopened.effects)] == [
        ("reopened", ("lead",), "acknowledged")
    ]


def test_a_follow_up_on_a_resolved_incident_tells_the_agent_but_not_one_on_an_open_incident() -> None:
    resolved = _resolved(T0 + M)
    follow_up = mention("my refund still hasn't arrived", external_id="m-2", posted_at=T0 + H)

    on_resolved = accepted(step(resolved, JoinMention(follow_up), T0 + H, book(EVENTS)))
    on_open = accepted(step(opened(EVENTS).incident, JoinMention(follow_up), T0 + H, book(EVENTS)))

    # The follow-up is told as it arrived (on a resolved incident); then the playbook reopens it, which is told too.
    assert [(notice.event, notice.roles) for notice in _events(on_resolved.effects)] == [
        ("follow_up", ("agent",)),
        ("reopened", ("lead",)),
    ]
    assert _events(on_open.effects) == []


def test_a_breach_tells_the_rule_of_its_clock_only_and_once_however_often_the_deadline_fires() -> None:
    incident = opened(EVENTS).incident  # low: first_response 2h7m30s, detected 1h

    _, told, _ = _run(incident, T0 + 3 * H, book(EVENTS))

    breaches = [(at, notice) for at, notice in told if notice.kind is NotifyKind.EVENT]
    assert [(at - T0, notice.clock, notice.roles) for at, notice in breaches] == [
        (2 * H + 7 * M + timedelta(seconds=30), "first_response", ("duty_manager",))
    ]
    assert breaches[0][1].key == "inc-1/event/breach/first_response@0/r5"


# --- side paths -----------------------------------------------------------------------------------------------


def test_a_target_stops_on_a_side_path_without_a_verdict_and_never_breaches() -> None:
    incident = opened(EVENTS).incident

    referred = accepted(act(incident, "refer", ["agent"], T0 + 10 * M, EVENTS))
    later, told, _ = _run(referred.incident, T0 + 10 * H, book(EVENTS))

    (stopped,) = audits(referred.effects, "target_stopped")
    assert stopped.summary == "first_response stopped (on time): referred is a side path where it no longer applies"
    assert stopped.details["side_path"] == "referred"
    assert "first_response" in later.finished_clocks
    assert "first_response" not in later.breached
    assert all(notice.clock != "first_response" for _, notice in told)


# --- one state's limit, and a calendar per severity -----------------------------------------------------------


def test_a_step_scoped_to_one_states_limit_fires_on_that_limit_only() -> None:
    incident = opened(EVENTS).incident
    assessed = accepted(act(incident, "assess", ["agent"], T0, EVENTS, severity="low")).incident

    _, told, _ = _run(assessed, T0 + 2 * H + M, book(EVENTS))

    assert [(notice.clock, notice.roles) for _, notice in told if notice.roles == ("legal",)] == [
        ("limit:assessed", ("legal",))
    ]
    book_detected = book(EVENTS).points("limit:detected", "low")
    assert all(point.roles != ("legal",) for point in book_detected)


def test_a_critical_assessment_counts_around_the_clock_while_the_others_keep_office_hours() -> None:
    afternoon = T0 + 7 * H  # Monday 16:00 in London; the office closes at 17:00
    low = accepted(act(opened(EVENTS, at=afternoon).incident, "assess", ["agent"], afternoon, EVENTS, severity="low"))
    critical = accepted(
        act(opened(EVENTS, at=afternoon).incident, "assess", ["agent"], afternoon, EVENTS, severity="critical")
    )

    assert low.incident.clock("limit:assessed").due_at == T0 + 27 * H  # type: ignore[union-attr]  # Tue 12:00
    assert critical.incident.clock("limit:assessed").due_at == afternoon + 4 * H  # type: ignore[union-attr]
    assert arms(critical.effects)["limit:assessed"].at == afternoon + 2 * H  # the 50% step, round the clock


# --- late severity raises and repeats -------------------------------------------------------------------------


def test_steps_a_late_raise_makes_overdue_collapse_into_one_notification_at_the_current_step() -> None:
    incident = opened(EVENTS).incident  # low: detected 1h
    # 40 minutes in, a new post is a threat: critical's 15m limit is 25m gone, so 75%, 100% and 200% are all past.
    joined = accepted(
        step(incident, JoinMention(mention("lawsuit", external_id="m-2")), T0 + 40 * M, book(EVENTS))
    ).incident

    _, told, _ = _run(joined, T0 + 40 * M, book(EVENTS), now=T0 + 40 * M)

    limits = [notice for _, notice in told if notice.clock == "limit:detected"]
    assert [(notice.kind, notice.roles) for notice in limits] == [
        (NotifyKind.ESCALATION, ("agent", "lead", "duty_manager"))
    ]


def test_a_target_a_late_raise_made_due_is_judged_late_from_the_raise() -> None:
    incident = opened(EVENTS).incident  # low: first_response 2h7m30s
    joined = accepted(
        step(incident, JoinMention(mention("lawsuit", external_id="m-2")), T0 + 40 * M, book(EVENTS))
    ).incident  # critical: 30m, so due 10 minutes ago
    assessed = accepted(act(joined, "assess", ["agent"], T0 + 42 * M, EVENTS, severity="critical")).incident

    answered = accepted(act(assessed, "acknowledge", ["agent"], T0 + 47 * M, EVENTS, **_FIELDS["acknowledge"]))

    (met,) = [audit for audit in audits(answered.effects, "target_met") if audit.details["clock"] == "first_response"]
    assert met.summary.startswith("first_response met (7m late, counted from the severity change at ")
    assert met.details["judged_from"] == (T0 + 40 * M).isoformat()


def test_two_repeating_clocks_tell_one_role_every_half_hour_not_every_quarter_hour() -> None:
    incident = opened(
        EVENTS
    ).incident  # detected repeats at :00 and :30 from 2h; first_response at :15 and :45 from 4h15

    run = _run(incident, T0 + 6 * H, book(EVENTS))

    # From 4h15 the first response's own series starts (its first step is news: another clock long overdue); from
    # then on each half-hour brings one notification, not two.
    after = [offset for offset in _duty(run) if offset >= 4 * H]
    assert after == [4 * H, 4 * H + 15 * M, 4 * H + 45 * M, 5 * H + 15 * M, 5 * H + 45 * M]
    assert run.merged[0].summary.startswith("repeat on limit:detected left out for duty_manager: told at ")
    assert run.merged[0].details["told_from"] == "first_response"


def _duty(run: _Run) -> list[timedelta]:
    """When the duty manager heard from an escalation, as offsets from the start."""
    return [
        at - T0 for at, notice in run.told if "duty_manager" in notice.roles and notice.kind is not NotifyKind.EVENT
    ]


def test_a_step_that_does_not_merge_repeats_tells_on_every_clock() -> None:
    text = (FIXTURES / "events.good.yaml").read_text("utf-8")
    result = load(text.replace("repeat_every: 30m}", "repeat_every: 30m, merge_repeats: false}"))
    assert result.playbook is not None, result.problems
    separate = Rulebook(result.playbook)

    run = _run(opened(EVENTS).incident, T0 + 5 * H, separate)

    assert [offset for offset in _duty(run) if offset >= 4 * H] == [
        4 * H,
        4 * H + 15 * M,
        4 * H + 30 * M,
        4 * H + 45 * M,
        5 * H,
    ]
    assert run.merged == []


def test_a_reviewed_side_path_closes_with_every_clock_stopped() -> None:
    incident = opened(EVENTS).incident
    referred = accepted(act(incident, "refer", ["agent"], T0 + M, EVENTS)).incident

    reviewed = accepted(act(referred, "review", ["lead"], T0 + H, EVENTS, review=review_answers(EVENTS)))

    assert reviewed.incident.clocks == ()


# --- the customer writes again ------------------------------------------------------------------------------


def test_a_follow_up_on_a_resolved_incident_reopens_it_where_the_playbook_says_with_its_clocks() -> None:
    resolved = _resolved(T0 + M)
    follow_up = mention("my refund still hasn't arrived", external_id="m-2", posted_at=T0 + H)

    joined = accepted(step(resolved, JoinMention(follow_up), T0 + H, book(EVENTS)))

    assert joined.incident.state == "acknowledged"
    (reopened,) = audits(joined.effects, "reopened")
    assert reopened.summary == "the customer wrote again: resolved -> acknowledged"
    assert {clock.name for clock in joined.incident.clocks} == {"limit:acknowledged", "next_response"}
    assert arms(joined.effects)["next_response"].at == T0 + H + 45 * M


def test_the_next_response_runs_from_the_first_follow_up_until_the_teams_reply_and_again_from_the_next() -> None:
    incident = accepted(act(opened(EVENTS).incident, "assess", ["agent"], T0 + M, EVENTS, severity="low")).incident
    first = accepted(step(incident, JoinMention(mention("hello?", external_id="m-2")), T0 + 10 * M, book(EVENTS)))
    second = accepted(
        step(first.incident, JoinMention(mention("anyone?", external_id="m-3")), T0 + 20 * M, book(EVENTS))
    )

    started = first.incident.clock("next_response")
    assert started is not None
    assert started.due_at == T0 + 70 * M
    assert second.incident.clock("next_response") == started  # kept running, not restarted
    replied = accepted(act(second.incident, "acknowledge", ["agent"], T0 + 30 * M, EVENTS, **_FIELDS["acknowledge"]))
    (met,) = [audit for audit in audits(replied.effects, "target_met") if audit.details["clock"] == "next_response"]
    assert met.summary == "next_response met (on time)"
    assert replied.incident.clock("next_response") is None
    assert "next_response" not in replied.incident.finished_clocks  # it runs again on the next follow-up
    again = accepted(
        step(replied.incident, JoinMention(mention("thanks, but", external_id="m-4")), T0 + 2 * H, book(EVENTS))
    )
    restarted = again.incident.clock("next_response")
    assert restarted is not None
    assert restarted.due_at == T0 + 3 * H
    assert restarted.epoch != started.epoch


def test_a_new_run_of_the_next_response_forgets_the_breach_of_the_last() -> None:
    incident = accepted(act(opened(EVENTS).incident, "assess", ["agent"], T0, EVENTS, severity="low")).incident
    asked = accepted(step(incident, JoinMention(mention("hello?", external_id="m-2")), T0, book(EVENTS))).incident
    late = _run(asked, T0 + 61 * M, book(EVENTS)).incident
    assert "next_response" in late.breached
    answered = accepted(act(late, "acknowledge", ["agent"], T0 + 62 * M, EVENTS, **_FIELDS["acknowledge"]))

    again = accepted(
        step(answered.incident, JoinMention(mention("still?", external_id="m-3")), T0 + 3 * H, book(EVENTS))
    )

    assert "next_response" not in again.incident.breached
