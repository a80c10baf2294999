"""What a notification says, as things stand when it is sent."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from engine.files import load_file
from engine.incident import Rulebook
from engine.notify import compose

ROOT = Path(__file__).resolve().parents[2]


def _book() -> Rulebook:
    loaded = load_file(ROOT / "playbooks" / "customer-complaint.yaml")
    assert loaded.playbook is not None
    return Rulebook(loaded.playbook)


def _body(kind: str) -> dict[str, object]:
    return {
        "key": "inc-3/first_response/0/0/0",
        "incident": "inc-3",
        "roles": ["community_manager"],
        "kind": kind,
        "clock": "first_response",
        "state": "detected",
        "severity": "medium",
        "step": 0,
        "repetition": 0,
        "threshold": 0.75,
        "due_at": "2026-11-23T13:00:00+00:00",
    }


def test_a_warning_sent_in_time_says_how_long_is_left() -> None:
    message = compose(_body("warning"), None, _book(), datetime(2026, 11, 23, 12, 0, tzinfo=UTC), None)
    assert message.lines[0] == ("The first response target of inc-3 is running out: 1h left (due 13:00 UTC).")
    assert message.subject == "[calmly] Warning: inc-3 first_response (medium)"


def test_a_warning_sent_after_the_time_ran_out_says_it_has_run_out() -> None:
    message = compose(_body("warning"), None, _book(), datetime(2026, 11, 23, 13, 12, tzinfo=UTC), None)
    assert message.lines[0].startswith("The first response target of inc-3 has run out: 12m overdue")


def test_the_message_names_the_rule_and_what_can_be_done_next() -> None:
    message = compose(_body("breach"), None, _book(), datetime(2026, 11, 23, 13, 0, tzinfo=UTC), "https://d/inc-3")
    assert "Rule: escalation step 1 of customer-complaint v2 (at 75% of the time); notifying community_manager." in (
        message.text
    )
    assert "Next: assess (community_manager, social_lead); do_not_engage (social_lead)." in message.text
    assert message.text.rstrip().endswith("https://d/inc-3")
    assert '<a href="https://d/inc-3">Open inc-3</a>' in message.html


def test_a_clock_on_a_calendar_gives_its_due_time_in_the_calendars_zone_and_the_day_when_it_is_not_today() -> None:
    body = {**_body("warning"), "clock": "limit:assessed", "due_at": "2026-06-16T08:00:00+00:00"}

    message = compose(body, None, _book(), datetime(2026, 6, 15, 16, 0, tzinfo=UTC), None)

    assert message.lines[0] == (
        "The time limit for assessed of inc-3 is running out: 16h left (due Tue 16 Jun 09:00 Europe/London)."
    )


def test_a_warning_sent_late_is_still_titled_a_warning_and_says_the_time_has_run_out() -> None:
    message = compose(_body("warning"), None, _book(), datetime(2026, 11, 23, 13, 12, tzinfo=UTC), None)

    assert message.subject == "[calmly] Warning: inc-3 first_response (medium)"
    assert "has run out: 12m overdue" in message.lines[0]


def test_a_repeated_step_is_titled_a_repeat() -> None:
    body = {**_body("escalation"), "step": 2, "repetition": 2, "threshold": 2.0}

    message = compose(body, None, _book(), datetime(2026, 11, 23, 19, 0, tzinfo=UTC), None)

    assert message.subject == "[calmly] Repeat escalation (2): inc-3 first_response (medium)"


def _safety() -> Rulebook:
    loaded = load_file(ROOT / "playbooks" / "safety-and-legal.yaml")
    assert loaded.playbook is not None
    return Rulebook(loaded.playbook)


def test_an_event_says_what_happened_which_rule_told_it_and_what_comes_next() -> None:
    body = {
        "key": "inc-7/event/opened/0/r0",
        "incident": "inc-7",
        "roles": ["legal_counsel", "comms_director", "product_safety"],
        "kind": "event",
        "event": "opened",
        "clock": "",
        "state": "detected",
        "severity": "critical",
        "step": 0,
        "repetition": 0,
        "threshold": 0.0,
        "due_at": "2026-11-23T12:00:00+00:00",
    }

    message = compose(body, None, _safety(), datetime(2026, 11, 23, 12, 0, tzinfo=UTC), None)

    assert message.subject == "[calmly] Opened: inc-7 (critical)"
    assert message.lines[0] == "inc-7 has opened."
    assert message.lines[2].startswith(
        "Rule: notify_on[0] of safety-and-legal v1 (opened); notifying legal_counsel, comms_director, product_safety."
        " Critical safety cases bring legal"
    )
    assert message.data["event"] == "opened"


def test_a_breach_event_names_the_clock_that_ran_out() -> None:
    body = {
        "key": "inc-3/event/breach/first_response@0/r0",
        "incident": "inc-3",
        "roles": ["social_lead"],
        "kind": "event",
        "event": "breach",
        "clock": "first_response",
        "state": "assessed",
        "severity": "medium",
        "step": 0,
        "repetition": 0,
        "threshold": 1.0,
        "due_at": "2026-11-23T13:00:00+00:00",
    }

    message = compose(body, None, _book(), datetime(2026, 11, 23, 13, 0, tzinfo=UTC), None)

    assert message.subject == "[calmly] Breach of first_response: inc-3 (medium)"
    assert message.lines[0] == "The first response target of inc-3 has run out."


def test_a_surge_says_the_mentions_are_surging_and_names_its_surge_rule() -> None:
    loaded = load_file(ROOT / "playbooks" / "service-outage.yaml")
    assert loaded.playbook is not None
    body = {
        "key": "inc-4/event/surge/outage_spike/r0",
        "incident": "inc-4",
        "roles": ["incident_commander", "comms_director"],
        "kind": "event",
        "event": "surge",
        "clock": "",
        "state": "detected",
        "severity": "critical",
        "step": 0,
        "repetition": 0,
        "threshold": 0.0,
        "due_at": "2026-11-25T12:20:00+00:00",
    }

    message = compose(body, None, Rulebook(loaded.playbook), datetime(2026, 11, 25, 12, 20, tzinfo=UTC), None)

    assert message.subject == "[calmly] Surge of mentions: inc-4 (critical)"
    assert message.lines[0] == "Mentions of inc-4 are surging."
    assert message.lines[2].startswith(
        "Rule: surges[0] of service-outage v2 (surge); notifying incident_commander, comms_director. Fifty complaints"
    )
