"""The report's figures from hand-built records: response times (median, nearest-rank p90, business hours across
a weekend), each target met on time, met late or missed and by how much, escalations per step, time in each state,
do-not-engage reasons, refusals by house rule, promises kept, kept late and broken, and the review's answers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.incident import Incident, Promise, Rulebook
from engine.playbook import load
from engine.report import Grouping, Period, PeriodError, Rulebooks, case_of, make_report, median, nearest_rank
from engine.report._rulebooks import Pinned
from engine.store import Event, RecordedIncident

PLAYBOOK = """\
playbook: report-figures
version: 1
description: A small playbook whose targets count on office hours.
owner: lead
applies_to: {channels: [twitter]}
roles:
  agent: {description: Answers.}
  lead: {description: Leads.}
calendars:
  office: {timezone: UTC, hours: {mon-fri: "09:00-18:00"}}
severity: {levels: [low, high], default: low}
house_rules:
  never_say: ["calm down", "not our fault"]
  do_not_engage_reasons: [spam, troll]
states:
  detected: {limit: {default: 4h}}
  assessed: {limit: {default: 4h}}
  acknowledged: {limit: {default: 4h}}
  resolution_offered: {limit: {default: 1d}}
  resolved: {limit: {default: 7d}}
  reviewed: {final: true}
  not_engaged: {final: true}
targets:
  first_response: {from: detected, until: acknowledged, within: {default: 2h}, calendar: office}
  resolution: {from: detected, until: resolved, within: {default: 1d}}
transitions:
  - {trigger: assess, from: detected, to: assessed, by: [agent], requires: [severity]}
  - {trigger: acknowledge, from: assessed, to: acknowledged, by: [agent], requires: [public_reply]}
  - {trigger: offer_resolution, from: acknowledged, to: resolution_offered, by: [agent], requires: [offer]}
  - {trigger: resolve, from: resolution_offered, to: resolved, by: [agent]}
  - {trigger: review, from: resolved, to: reviewed, by: [lead], requires: [review]}
  - {trigger: do_not_engage, from: [detected, assessed], to: not_engaged, by: [lead], requires: [reason]}
escalation:
  - {after: 75%, notify: [agent]}
  - {after: 100%, notify: [lead]}
review:
  questions:
    - {id: avoidable, ask: Was it avoidable?, answer: yes_no}
    - {id: missed_opportunity, ask: Is there a missed opportunity?, answer: text}
"""

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
AS_OF = datetime(2026, 12, 31, tzinfo=UTC)


@pytest.fixture(scope="module")
def pinned() -> Pinned:
    loaded = load(PLAYBOOK, "report-figures.yaml")
    assert loaded.playbook is not None, loaded.problems
    return Pinned(Rulebook(loaded.playbook))


def _entry(at: datetime, kind: str, **details: Any) -> dict[str, Any]:
    return {"at": at.isoformat(), "kind": kind, "summary": kind, "actor": None, "details": details}


def _moved(at: datetime, source: str, to: str, **fields: Any) -> dict[str, Any]:
    return _entry(at, "transition", trigger=to, to=to, fields=fields, **{"from": source})


def recorded(
    entries: Sequence[Mapping[str, Any]],
    *,
    opened: datetime = MONDAY,
    state: str = "reviewed",
    final: bool = True,
    facts: Mapping[str, Any] | None = None,
    promises: tuple[Promise, ...] = (),
    roles: Sequence[str] = ("agent",),
    number: int = 1,
    severity: str = "low",
    digest: str = "digest",
) -> RecordedIncident:
    incident = Incident(
        id=f"inc-{number}",
        playbook="report-figures",
        playbook_version=1,
        playbook_digest=digest,
        state=state,
        severity=severity,
        channel="twitter",
        author="@ann",
        opened_at=opened,
        entered_at=opened,
        last_mention_at=opened,
        facts=dict(facts or {}),
        promises=promises,
    )
    command = {"type": "act", "person": "alice", "roles": list(roles)}
    events = tuple(
        Event(index, incident.id, datetime.fromisoformat(entry["at"]), "act", "alice", digest, command, [entry])
        for index, entry in enumerate(entries, start=1)
    )
    return RecordedIncident(incident, final, events)


def answered_in(minutes: int, *, opened: datetime = MONDAY, number: int = 1) -> RecordedIncident:
    at = opened + timedelta(minutes=minutes)
    reply = {"channel": "twitter", "text": "Hi, we are on it."}
    return recorded(
        [_moved(opened, "detected", "assessed"), _moved(at, "assessed", "acknowledged", public_reply=reply)],
        opened=opened,
        state="acknowledged",
        number=number,
    )


def test_median_is_the_middle_value_and_p90_the_nearest_rank() -> None:
    assert median([4, 1, 3, 2]) == 2.5
    assert median([5, 1, 3]) == 3
    assert nearest_rank(list(range(1, 11)), 90) == 9
    assert nearest_rank([10, 20, 30, 40, 50], 90) == 50
    assert nearest_rank([7], 90) == 7
    assert median([]) is None


def test_first_response_median_and_p90_over_ten_incidents(pinned: Pinned) -> None:
    cases = [answered_in(minutes, number=minutes) for minutes in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100)]
    made = make_report(cases, Rulebooks(lambda _: None), Period(), None, AS_OF, closed_only=True)
    figures = made.overall["first_response"]["calendar"]
    assert figures == {"count": 10, "median_seconds": 55 * 60.0, "p90_seconds": 90 * 60.0}


def test_business_hours_leave_out_the_weekend(pinned: Pinned) -> None:
    friday_five = datetime(2026, 11, 27, 17, 0, tzinfo=UTC)
    case = case_of(answered_in(65 * 60, opened=friday_five), pinned, AS_OF)  # answered Monday 10:00 (after 65h)
    assert case.first_response is not None
    assert case.first_response.calendar == timedelta(hours=65)
    assert case.first_response.business == timedelta(hours=2)  # Friday 17-18 and Monday 09-10


def test_targets_are_met_on_time_met_late_or_missed_by_how_much(pinned: Pinned) -> None:
    due = MONDAY + timedelta(hours=2)
    on_time = recorded(
        [_entry(MONDAY + timedelta(hours=1), "target_met", clock="first_response", due_at=due.isoformat(), late=False)]
    )
    late = recorded(
        [
            _entry(due, "breach", clock="first_response", due_at=due.isoformat()),
            _entry(
                due + timedelta(minutes=20), "target_met", clock="first_response", due_at=due.isoformat(), late=True
            ),
        ]
    )
    missed = recorded(
        [
            _entry(due, "breach", clock="first_response", due_at=due.isoformat()),
            _entry(
                due + timedelta(hours=3), "target_stopped", clock="first_response", due_at=due.isoformat(), late=True
            ),
        ]
    )
    stopped = recorded(
        [
            _entry(
                MONDAY + timedelta(minutes=5),
                "target_stopped",
                clock="first_response",
                due_at=due.isoformat(),
                late=False,
            )
        ]
    )
    made = make_report([on_time, late, missed, stopped], Rulebooks(lambda _: None), Period(), None, AS_OF)
    target = made.overall["targets"]["first_response"]
    assert (target["on_time"], target["late"], target["missed"], target["stopped"]) == (1, 1, 1, 1)
    assert target["breached"] == 2
    assert target["compliance"] == round(1 / 3, 4)  # a stop on a side path is no verdict
    assert target["late_by"] == {"count": 2, "median_seconds": 6000.0, "p90_seconds": 3 * 3600.0}


def test_a_breached_target_still_running_is_missed_by_the_time_since_it_was_due(pinned: Pinned) -> None:
    due = MONDAY + timedelta(hours=2)
    still_open = recorded(
        [_entry(due, "breach", clock="first_response", due_at=due.isoformat())], final=False, state="detected"
    )
    case = case_of(still_open, pinned, due + timedelta(hours=5))
    [outcome] = case.targets
    assert (outcome.verdict, outcome.late_by) == ("missed", timedelta(hours=5))


def test_escalations_are_counted_per_clock_and_step_threshold(pinned: Pinned) -> None:
    entries = [
        _entry(MONDAY, "escalation", key="inc-1/first_response/0/0/0", roles=["agent"]),
        _entry(MONDAY, "escalation", key="inc-1/first_response/0/1/0", roles=["lead"]),
        _entry(MONDAY, "escalation", key="inc-1/limit:detected/0/1/0", roles=["lead"]),
    ]
    case = case_of(recorded(entries), pinned, AS_OF)
    assert sorted(case.escalations) == [("first_response", "100%"), ("first_response", "75%"), ("limit", "100%")]


def test_time_in_each_state_runs_from_entering_it_to_leaving_it(pinned: Pinned) -> None:
    entries = [
        _moved(MONDAY + timedelta(minutes=30), "detected", "assessed"),
        _moved(MONDAY + timedelta(hours=2), "assessed", "acknowledged", public_reply={"text": "Hi"}),
    ]
    case = case_of(recorded(entries, final=False, state="acknowledged"), pinned, MONDAY + timedelta(hours=3))
    assert dict(case.state_time) == {
        "detected": timedelta(minutes=30),
        "assessed": timedelta(minutes=90),
        "acknowledged": timedelta(hours=1),  # still there when the report is made
    }


def test_do_not_engage_reasons_are_counted(pinned: Pinned) -> None:
    cases = [
        recorded([_moved(MONDAY, "detected", "not_engaged", reason=reason)], state="not_engaged", number=number)
        for number, reason in enumerate(["spam", "troll", "spam"], start=1)
    ]
    made = make_report(cases, Rulebooks(lambda _: None), Period(), None, AS_OF)
    assert made.overall["do_not_engage"] == {"spam": 2, "troll": 1}


def test_refusals_are_counted_by_the_house_rule_that_stopped_them(pinned: Pinned) -> None:
    kept = _entry(MONDAY, "refused", trigger="acknowledge", reason="house_rule", phrase="calm down")
    older = _entry(
        MONDAY,
        "refused",
        trigger="acknowledge",
        reason="house_rule",
        fields={"public_reply": {"text": "That is not our fault, sorry"}},
    )
    role = _entry(MONDAY, "refused", trigger="do_not_engage", reason="role_not_allowed")
    case = case_of(recorded([kept, older, kept, role]), pinned, AS_OF)
    phrases = [(refusal.reason, refusal.phrase) for refusal in case.refusals]
    assert phrases == [
        ("house_rule", "calm down"),
        ("house_rule", "not our fault"),  # an entry written before the phrase was kept: found in the reply
        ("house_rule", "calm down"),
        ("role_not_allowed", None),
    ]
    tally = make_report([recorded([kept, older, kept, role])], Rulebooks(lambda _: None), Period(), None, AS_OF)
    assert tally.overall["refusals"][0] == {"reason": "house_rule", "phrase": "calm down", "refused": 2}


def _promise(number: int, due: datetime, kept_at: datetime | None) -> Promise:
    return Promise(
        f"refund-{number}", "refund", "alice", MONDAY, due, kept_at=kept_at, kept_by="alice" if kept_at else None
    )


def test_promises_are_kept_kept_late_broken_or_open(pinned: Pinned) -> None:
    due = MONDAY + timedelta(days=1)
    promises = (
        _promise(1, due, due - timedelta(hours=1)),
        _promise(2, due, due + timedelta(hours=3)),
        _promise(3, due, None),
        _promise(4, AS_OF + timedelta(days=1), None),
    )
    made = make_report(
        [recorded([], promises=promises, final=False, state="resolution_offered")],
        Rulebooks(lambda _: None),
        Period(),
        None,
        AS_OF,
        closed_only=False,
    )
    figures = made.overall["promises"]
    assert (figures["made"], figures["kept"], figures["kept_late"], figures["broken"], figures["open"]) == (
        4,
        1,
        1,
        1,
        1,
    )
    assert figures["by_kind"]["refund"]["kept_late"] == 1


def test_review_answers_give_the_share_judged_avoidable_the_missed_opportunities_and_those_never_reviewed(
    pinned: Pinned,
) -> None:
    digest = pinned.book.playbook.digest  # pinned to this playbook, so its questions are known

    def resolved(number: int, review: Mapping[str, Any] | None) -> RecordedIncident:
        entries = [_moved(MONDAY + timedelta(hours=1), "resolution_offered", "resolved")]
        facts = {} if review is None else {"review": review}
        return recorded(entries, facts=facts, number=number, state="reviewed" if review else "resolved", digest=digest)

    cases = [
        resolved(1, {"avoidable": "yes", "missed_opportunity": "Packaging for fragile items"}),
        resolved(2, {"avoidable": "no", "missed_opportunity": "Answer on the weekend"}),
        resolved(3, {"avoidable": True, "missed_opportunity": " "}),
        resolved(4, None),
    ]
    books = Rulebooks(lambda _: (PLAYBOOK, "report-figures.yaml"))
    made = make_report(cases, books, Period(), None, AS_OF, closed_only=False)
    review = made.overall["review"]
    assert (review["resolved"], review["reviewed"], review["never_reviewed"]) == (4, 3, 1)
    assert review["never_reviewed_incidents"] == ["inc-4"]
    assert review["questions"]["avoidable"] == {"answer": "yes_no", "yes": 2, "no": 1, "share_yes": round(2 / 3, 4)}
    assert review["questions"]["missed_opportunity"]["answers"] == [
        {"incident": "inc-1", "answer": "Packaging for fragile items"},
        {"incident": "inc-2", "answer": "Answer on the weekend"},
    ]


def test_grouping_by_role_counts_an_incident_under_every_role_that_acted() -> None:
    cases = [
        answered_in(10, number=1),
        recorded([_moved(MONDAY, "detected", "assessed")], roles=("lead", "agent"), number=2),
    ]
    made = make_report(cases, Rulebooks(lambda _: None), Period(), Grouping.ROLE, AS_OF)
    assert {group["key"]: group["incidents"] for group in made.groups} == {"agent": 2, "lead": 1}


def test_grouping_by_week_uses_iso_weeks() -> None:
    sunday = datetime(2026, 11, 29, 23, 0, tzinfo=UTC)
    cases = [
        answered_in(10, opened=MONDAY, number=1),
        answered_in(10, opened=sunday, number=2),
        answered_in(10, opened=sunday + timedelta(hours=2), number=3),
    ]
    made = make_report(cases, Rulebooks(lambda _: None), Period(), Grouping.WEEK, AS_OF, closed_only=False)
    assert {group["key"]: group["incidents"] for group in made.groups} == {"2026-W48": 2, "2026-W49": 1}


def test_a_period_counts_incidents_opened_within_it_and_a_date_until_takes_its_whole_day() -> None:
    period = Period.of("2026-11-23", "2026-11-23")
    assert period.holds(MONDAY + timedelta(hours=14, minutes=59))
    assert not period.holds(datetime(2026, 11, 24, tzinfo=UTC))
    assert Period.of("2026-11-23T10:00:00+01:00", None).since == datetime(2026, 11, 23, 9, tzinfo=UTC)


@pytest.mark.parametrize(("since", "until"), [("2026-12-01", "2026-11-01"), ("yesterday", None), ("2026-02-30", None)])
def test_a_period_that_cannot_be_read_says_how_to_write_it(since: str, until: str | None) -> None:
    with pytest.raises(PeriodError, match=r"--since|2026-11-01"):
        Period.of(since, until)


def test_severities_come_in_the_order_of_the_playbooks_levels(pinned: Pinned) -> None:
    digest = pinned.book.playbook.digest
    cases = [recorded([], severity=level, number=n, digest=digest) for n, level in enumerate(["high", "low"], start=1)]
    books = Rulebooks(lambda _: (PLAYBOOK, "report-figures.yaml"))
    made = make_report(cases, books, Period(), Grouping.SEVERITY, AS_OF)
    assert [group["key"] for group in made.groups] == ["low", "high"]
    assert [row["key"] for row in made.severities] == ["low", "high"]


def test_next_responses_run_from_a_follow_up_to_the_next_reply_or_the_resolution(pinned: Pinned) -> None:
    reply = {"channel": "twitter", "text": "Hi"}
    entries = [
        _moved(MONDAY + timedelta(minutes=10), "assessed", "acknowledged", public_reply=reply),
        _entry(MONDAY + timedelta(hours=1), "mention", external_id="2"),
        _entry(MONDAY + timedelta(hours=1, minutes=5), "mention", external_id="3"),  # still waiting: from the first
        _moved(MONDAY + timedelta(hours=1, minutes=30), "acknowledged", "resolution_offered", contact_route="dm"),
        _entry(MONDAY + timedelta(hours=2), "mention", external_id="4"),
        _moved(MONDAY + timedelta(hours=4), "resolution_offered", "resolved"),
    ]
    case = case_of(recorded(entries, state="resolved", final=False), pinned, AS_OF)
    assert [duration.calendar for duration in case.next_responses] == [timedelta(minutes=30), timedelta(hours=2)]
    assert case.first_response is not None
    assert case.first_response.calendar == timedelta(minutes=10)
