"""Business days (``2bd``): written in a limit on a calendar, counted as that many of its working days, shown back
as written.

Times come from fixed moments; nothing reads the real clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from engine.authoring.diagram import DiagramFormat, draw
from engine.files import load_file
from engine.incident import Mention, Rulebook, open_incident, parse_mention
from engine.notify import compose
from engine.playbook import Calendar, OpeningHours, Playbook, business_days, load

ROOT = Path(__file__).resolve().parents[2]
H = timedelta(hours=1)

#: Monday 23 November 2026, 17:00 in London (GMT, so 17:00 UTC too).
MONDAY_FIVE_PM = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)

_PLAYBOOK = """
playbook: business-days
version: 1
owner: lead
applies_to: {channels: [twitter]}
roles:
  lead: {description: Handles every incident.}
severity: {levels: [normal, urgent], default: normal}
calendars:
  office: {timezone: Europe/London, hours: {mon-fri: "09:00-18:00"}}
states:
  detected: {limit: {urgent: 2h, default: 1bd}, calendar: office}
  assessed: {limit: {default: 1bd4h}, calendar: office}
  acknowledged: {limit: {default: 4h}}
  resolution_offered: {limit: {default: 24h}, calendar: office}
  resolved: {limit: {default: 5bd}, calendar: office}
  reviewed: {final: true}
targets:
  resolution: {from: detected, until: resolved, within: {default: 3bd}, calendar: office}
transitions:
  - {trigger: assess, from: detected, to: assessed, by: [lead]}
  - {trigger: acknowledge, from: assessed, to: acknowledged, by: [lead]}
  - {trigger: offer_resolution, from: acknowledged, to: resolution_offered, by: [lead]}
  - {trigger: resolve, from: resolution_offered, to: resolved, by: [lead]}
  - {trigger: review, from: resolved, to: reviewed, by: [lead], requires: [review]}
review:
  questions:
    - {id: avoidable, ask: Was it avoidable?, answer: yes_no}
escalation:
  - {after: 75%, notify: [lead]}
"""


def _playbook(text: str = _PLAYBOOK) -> Playbook:
    loaded = load(text, "business-days.yaml")
    assert loaded.playbook is not None, [problem.located for problem in loaded.problems]
    return loaded.playbook


def _calendar(hours: dict[int, tuple[tuple[time, time | None], ...]]) -> Calendar:
    return Calendar("office", "Europe/London", OpeningHours(hours))


def _mention(at: datetime) -> Mention:
    found = parse_mention(
        {
            "channel": "twitter",
            "external_id": "1",
            "text": "My order never came",
            "posted_at": at.isoformat(),
            "author": {"handle": "@ann", "followers": 10},
        }
    )
    assert isinstance(found, Mention)
    return found


def test_reads_business_days_with_the_hours_after_them() -> None:
    assert business_days("2bd") == (2, timedelta(0))
    assert business_days("1bd4h30m") == (1, 4 * H + timedelta(minutes=30))
    assert business_days("4h") is None
    assert business_days("2d") is None


def test_one_business_day_is_as_long_as_the_calendars_open_day() -> None:
    playbook = _playbook()

    assert playbook.states["detected"].limit is not None
    assert playbook.states["detected"].limit.for_level("normal") == 9 * H
    assert playbook.states["assessed"].limit is not None
    assert playbook.states["assessed"].limit.for_level("normal") == 13 * H
    assert playbook.targets["resolution"].within.for_level("normal") == 27 * H


def test_keeps_what_the_author_wrote_beside_the_counted_time() -> None:
    limit = _playbook().states["detected"].limit

    assert limit is not None
    assert limit.written_for("normal") == "1bd"
    assert limit.written_for("urgent") == "2h"


def test_the_usual_day_is_the_length_most_open_days_have() -> None:
    long_days = dict.fromkeys(range(4), ((time(9), time(18)),))
    calendar = _calendar({**long_days, 4: ((time(9), time(16)),)})

    assert calendar.business_day() == 9 * H


def test_when_as_many_days_have_each_length_the_longer_one_is_the_usual_day() -> None:
    calendar = _calendar({0: ((time(9), time(17)),), 1: ((time(9), time(18)),)})

    assert calendar.business_day() == 9 * H


def test_a_day_split_by_lunch_counts_both_of_its_ranges() -> None:
    calendar = _calendar(dict.fromkeys(range(5), ((time(9), time(12, 30)), (time(13, 30), time(18)))))

    assert calendar.business_day() == 8 * H


def test_a_case_at_five_on_monday_with_one_business_day_is_due_at_five_on_tuesday() -> None:
    book = Rulebook(_playbook())
    mention = _mention(MONDAY_FIVE_PM)

    opened = open_incident("inc-1", mention, book, MONDAY_FIVE_PM)

    clock = opened.incident.clock("limit:detected")
    assert clock is not None
    assert clock.due_at == datetime(2026, 11, 24, 17, 0, tzinfo=UTC)


def test_three_business_days_from_friday_afternoon_skip_the_weekend() -> None:
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)
    book = Rulebook(_playbook())

    opened = open_incident("inc-1", _mention(friday), book, friday)

    clock = opened.incident.clock("resolution")
    assert clock is not None
    assert clock.due_at == datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # Wednesday, three working days on


def test_business_days_pass_over_public_holidays_like_any_closed_hour() -> None:
    with_holidays = _PLAYBOOK.replace('"09:00-18:00"}}', '"09:00-18:00"}, holidays: GB-ENG}')
    christmas_eve = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)

    opened = open_incident("inc-1", _mention(christmas_eve), Rulebook(_playbook(with_holidays)), christmas_eve)

    # 3bd, 27 open hours: 6h on Thursday; Christmas Day, the weekend and Monday 28 (Boxing Day's holiday) are
    # closed; 9h on Tuesday and on Wednesday; 3h on Thursday 31.
    clock = opened.incident.clock("resolution")
    assert clock is not None
    assert clock.due_at == datetime(2026, 12, 31, 12, 0, tzinfo=UTC)


def test_a_notification_says_what_the_business_days_count() -> None:
    book = Rulebook(_playbook())
    body = {
        "key": "inc-1/resolution/0/0/0",
        "incident": "inc-1",
        "roles": ["lead"],
        "kind": "warning",
        "clock": "resolution",
        "state": "detected",
        "severity": "normal",
        "step": 0,
        "repetition": 0,
        "threshold": 0.75,
        "due_at": "2026-11-26T17:00:00+00:00",
    }

    message = compose(body, None, book, MONDAY_FIVE_PM, None)

    assert "(at 75% of 3bd, 27h of open time on office)" in message.text


def test_a_notification_on_a_clock_around_the_clock_says_the_share_of_the_time_as_before() -> None:
    book = Rulebook(_playbook())
    body = {
        "key": "inc-1/limit:acknowledged/0/0/0",
        "incident": "inc-1",
        "roles": ["lead"],
        "kind": "warning",
        "clock": "limit:acknowledged",
        "state": "acknowledged",
        "severity": "normal",
        "step": 0,
        "repetition": 0,
        "threshold": 0.75,
        "due_at": "2026-11-23T21:00:00+00:00",
    }

    assert "(at 75% of the time)" in compose(body, None, book, MONDAY_FIVE_PM, None).text


def test_the_graph_labels_each_state_with_its_limit_as_written() -> None:
    text = draw(_playbook(), DiagramFormat.MERMAID)

    assert 'state "detected (urgent 2h, default 1bd on office)" as detected' in text
    assert 'state "resolved (5bd on office)" as resolved' in text
    assert 'state "reviewed" as reviewed' in text


def test_a_shipped_playbook_counts_three_working_days_as_before() -> None:
    loaded = load_file(ROOT / "playbooks" / "abuse-and-trolls.yaml")

    assert loaded.playbook is not None
    limit = loaded.playbook.states["reported_to_platform"].limit
    assert limit is not None
    assert limit.written_for("low") == "3bd"
    assert limit.for_level("low") == 27 * H


def test_business_days_are_refused_where_no_clock_counts_them() -> None:
    text = _PLAYBOOK.replace("applies_to: {channels: [twitter]}", "applies_to: {channels: [twitter], join_window: 1bd}")

    loaded = load(text, "business-days.yaml")

    assert [(problem.code, problem.line) for problem in loaded.problems] == [("E204", 5)]
    assert "only a state's limit or a target's time on a calendar may use" in loaded.problems[0].message


def test_more_than_a_year_of_business_days_is_refused() -> None:
    loaded = load(_PLAYBOOK.replace("default: 5bd", "default: 261bd"), "business-days.yaml")

    assert [problem.code for problem in loaded.problems] == ["E208"]
    assert "more than 260bd" in loaded.problems[0].message
