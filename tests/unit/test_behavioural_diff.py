"""The behavioural diff of recorded incidents: a timeline played through the service under the old playbook on a
simulated clock (in a store in memory) is the recording; each change to the playbook shows up as what it would have
done to it, and a recording the old playbook does not reproduce is a determinism failure."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.authoring import comparison
from engine.authoring.behaviour import Summary, diff_incidents
from engine.authoring.comparison import IncidentDiff, Opening, Pair, compare
from engine.authoring.diffview import diff_json, diff_markdown, diff_text
from engine.authoring.replay import Replay, replay
from engine.authoring.simulation import simulate
from engine.authoring.timeline import Timeline, read_timeline
from engine.incident import Rulebook
from engine.playbook import load
from engine.store import RecordedIncident, SQLiteStore

PLAYBOOK = """\
playbook: diff-demo
version: 1
description: A small playbook whose changes the diff measures.
owner: lead
applies_to: {channels: [twitter]}
roles:
  agent: {description: Answers.}
  lead: {description: Leads.}
calendars:
  office: {timezone: UTC, hours: {mon-fri: "09:00-18:00"}}
severity: {levels: [low, high], default: low}
house_rules:
  never_say: ["calm down"]
  do_not_engage_reasons: [spam]
states:
  detected: {limit: {default: 2h}, calendar: office}
  assessed: {limit: {default: 4h}}
  acknowledged: {limit: {default: 1d}}
  resolution_offered: {limit: {default: 1d}}
  resolved: {limit: {default: 7d}}
  reviewed: {final: true}
  not_engaged: {final: true}
transitions:
  - {trigger: assess, from: detected, to: assessed, by: [agent], requires: [severity]}
  - {trigger: acknowledge, from: assessed, to: acknowledged, by: [agent], requires: [public_reply]}
  - {trigger: offer_resolution, from: acknowledged, to: resolution_offered, by: [agent], requires: [offer]}
  - {trigger: resolve, from: resolution_offered, to: resolved, by: [agent]}
  - {trigger: review, from: resolved, to: reviewed, by: [lead], requires: [review]}
  - {trigger: do_not_engage, from: [detected, assessed], to: not_engaged, by: [lead], requires: [reason]}
escalation:
  - {after: 75%, notify: [agent, lead]}
  - {after: 100%, notify: [lead]}
review:
  questions:
    - {id: avoidable, ask: Was it avoidable?, answer: yes_no}
"""

#: On a Monday morning: assessed 1h45m after the post (the 75% warning came at 1h30m), then worked to its review.
MONDAY = """\
start: 2026-11-23T09:00:00Z
people: {alice: [agent], bob: [lead]}
events:
  - at: 0m
    mention: {channel: twitter, external_id: "1", text: My kettle arrived broken, author: {handle: "@ann"}}
  - {at: 1h45m, act: assess, by: alice, with: {severity: low}}
  - at: 2h
    act: acknowledge
    by: alice
    with: {public_reply: {channel: twitter, text: "Hi @ann, sorry to hear that. We're on it."}}
  - {at: 3h, act: offer_resolution, by: alice, with: {offer: A new kettle by courier}}
  - {at: 4h, act: resolve, by: alice}
  - {at: 1d, act: review, by: bob, with: {review: {avoidable: yes}}}
until: 2d
"""

#: Late on a Friday: nobody assesses it until Saturday noon, which the office calendar does not count.
FRIDAY = """\
start: 2026-11-27T17:00:00Z
people: {alice: [agent], bob: [lead]}
events:
  - at: 0m
    mention: {channel: twitter, external_id: "2", text: Still waiting for my order, author: {handle: "@ben"}}
  - {at: 19h, act: assess, by: alice, with: {severity: low}}
until: 19h
"""


def _book(text: str) -> Rulebook:
    loaded = load(text, "diff-demo.yaml")
    assert loaded.playbook is not None, [problem.located for problem in loaded.problems]
    return Rulebook(loaded.playbook)


def _recorded(timeline_text: str, tmp_path: Path, playbook: str = PLAYBOOK) -> RecordedIncident:
    path = tmp_path / "timeline.yaml"
    path.write_text(timeline_text, encoding="utf-8")
    timeline = read_timeline(path)
    assert isinstance(timeline, Timeline), timeline
    store = SQLiteStore.in_memory()
    try:
        simulate(_book(playbook), timeline, store=store)
        (recorded,) = store.recorded(None, None, closed_only=False)
    finally:
        store.close()
    return recorded


def _diff(recorded: RecordedIncident, new: str, reachable: frozenset[str] | None = None) -> IncidentDiff:
    old_book, new_book = _book(PLAYBOOK), _book(new)
    return compare(recorded, Pair(old_book, new_book, (new_book,), reachable))


@pytest.fixture
def monday(tmp_path: Path) -> RecordedIncident:
    return _recorded(MONDAY, tmp_path)


def test_replaying_the_old_playbook_reproduces_the_recording(monday: RecordedIncident) -> None:
    found = _diff(monday, PLAYBOOK)

    assert found.determinism == ()
    assert not found.changed
    assert (found.old_state, found.old_severity) == ("reviewed", "low")


def test_a_shorter_limit_adds_a_breach_and_moves_the_warning_earlier(monday: RecordedIncident) -> None:
    shorter = PLAYBOOK.replace("detected: {limit: {default: 2h}", "detected: {limit: {default: 1h}")

    found = _diff(monday, shorter)

    assert found.breaches_added == ("limit:detected",)
    assert [(m.new.role, m.new.clock, m.by.total_seconds()) for m in found.notices_moved] == [
        ("agent", "limit:detected", -45 * 60),
        ("lead", "limit:detected", -45 * 60),
    ]
    assert [(n.role, n.kind, n.at.strftime("%H:%M")) for n in found.notices_added] == [("lead", "breach", "10:00")]
    assert found.new_state == "reviewed"


def test_a_role_removed_from_an_escalation_step_removes_its_notification(monday: RecordedIncident) -> None:
    fewer = PLAYBOOK.replace("{after: 75%, notify: [agent, lead]}", "{after: 75%, notify: [agent]}")

    found = _diff(monday, fewer)

    assert [(n.role, n.clock, n.kind) for n in found.notices_removed] == [("lead", "limit:detected", "warning")]
    assert not found.notices_added
    assert not found.notices_moved


def test_a_guard_added_refuses_a_recorded_action_and_later_actions_are_still_tried(monday: RecordedIncident) -> None:
    guarded = PLAYBOOK.replace(
        "{trigger: resolve, from: resolution_offered, to: resolved, by: [agent]}",
        "{trigger: resolve, from: resolution_offered, to: resolved, by: [agent], when: {severities: [high]}}",
    )

    found = _diff(monday, guarded)

    assert [(refusal.trigger, refusal.person) for refusal in found.now_refused] == [
        ("resolve", "alice"),
        ("review", "bob"),
    ]
    assert (found.old_state, found.new_state) == ("reviewed", "resolution_offered")


def test_a_calendar_that_counts_the_weekend_adds_the_breach_of_a_saturday(tmp_path: Path) -> None:
    friday = _recorded(FRIDAY, tmp_path)
    weekends = PLAYBOOK.replace('hours: {mon-fri: "09:00-18:00"}', 'hours: {mon-sun: "09:00-18:00"}')

    found = _diff(friday, weekends)

    assert found.determinism == ()
    assert found.breaches_added == ("limit:detected",)
    assert ("lead", "breach", "Sat 10:00") in [(n.role, n.kind, n.at.strftime("%a %H:%M")) for n in found.notices_added]


def test_a_role_the_roster_gives_nobody_is_a_notification_that_reaches_nobody(monday: RecordedIncident) -> None:
    director = PLAYBOOK.replace(
        "  lead: {description: Leads.}\n", "  lead: {description: Leads.}\n  director: {description: Hears.}\n"
    ).replace("{after: 75%, notify: [agent, lead]}", "{after: 75%, notify: [agent, lead, director]}")

    found = _diff(monday, director, reachable=frozenset({"agent", "lead"}))

    assert [(n.role, n.kind) for n in found.unreached] == [("director", "warning")]
    assert [(n.role, n.kind) for n in found.notices_added] == [("director", "warning")]


def test_a_mention_the_new_playbook_no_longer_applies_to_would_not_open(monday: RecordedIncident) -> None:
    elsewhere = PLAYBOOK.replace("applies_to: {channels: [twitter]}", "applies_to: {channels: [facebook]}")

    found = _diff(monday, elsewhere)

    assert found.opening == Opening.NOT
    assert found.new_state is None
    assert found.notices_removed


def test_a_tampered_recording_is_a_determinism_failure(monday: RecordedIncident) -> None:
    wrong_state = dataclasses.replace(monday, incident=dataclasses.replace(monday.incident, state="resolved"))
    events = list(monday.events)
    events[1] = dataclasses.replace(events[1], history=[])  # an entry the service wrote, gone
    lost_history = dataclasses.replace(monday, events=tuple(events))

    assert any(why.startswith("state: recorded resolved") for why in _diff(wrong_state, PLAYBOOK).determinism or ())
    assert any(why.startswith("history:") for why in _diff(lost_history, PLAYBOOK).determinism or ())


def test_a_recording_without_its_opening_cannot_be_replayed(monday: RecordedIncident) -> None:
    headless = dataclasses.replace(monday, events=monday.events[1:])

    found = diff_incidents([headless], {"diff-demo": Pair(_book(PLAYBOOK), _book(PLAYBOOK))})

    assert found.incidents == 0
    assert found.unreadable == [
        (monday.incident.id, f"the log of {monday.incident.id} does not start with its opening")
    ]


def test_the_old_replay_fires_deadlines_at_the_moments_the_recording_says(monday: RecordedIncident) -> None:
    fired = {e.command["key"]: e.at for e in monday.events if e.command.get("type") == "deadline"}
    late = tuple(
        dataclasses.replace(e, at=e.at.replace(second=5)) if e.command.get("type") == "deadline" else e
        for e in monday.events
    )  # the scheduler claimed each a few seconds after it was due

    again = replay(dataclasses.replace(monday, events=late), _book(PLAYBOOK))

    assert fired
    assert {notice.at.second for notice in again.notices} == {5}


def test_the_totals_and_every_format_tell_the_change(monday: RecordedIncident) -> None:
    shorter = PLAYBOOK.replace("detected: {limit: {default: 2h}", "detected: {limit: {default: 1h}")
    summary = Summary()
    summary.add(_diff(monday, shorter))
    summary.add(_diff(monday, PLAYBOOK))

    totals = diff_json(summary, [{"old": "old.yaml", "new": "new.yaml"}])["totals"]
    text = diff_text(summary, "calmly diff")
    markdown = diff_markdown(summary, "calmly diff")

    assert (totals["incidents"], totals["changed"], totals["determinism_failures"]) == (2, 1, 0)
    assert totals["breaches_added"] == {"limit:detected": 1}
    assert totals["notifications_earlier"] == {"agent": 1, "lead": 1}
    assert totals["earlier_seconds"] == {"agent": 45 * 60, "lead": 45 * 60}
    assert "breach added: limit:detected" in text
    assert "notification moved: agent (warning on limit:detected, Mon 23 Nov 09:45 UTC), 45m earlier" in text
    assert "| breaches added | limit:detected 1 |" in markdown
    assert "<details><summary>Changed incidents</summary>" in markdown


def _replays_counted(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = comparison.replay

    def counted(*args: Any, **kwargs: Any) -> Replay:
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(comparison, "replay", counted)
    return calls


def _deadline_cancelled_after_a_late_firing_is_recorded(monday: RecordedIncident) -> RecordedIncident:
    """The recording says the detected limit's breach fired at 3h30m, but the assessment at 1h45m stopped the clock:
    the old replay arms it for 3h30m and never fires it, so its own firings do not say when it would fire."""
    breach = next(e for e in monday.events if e.command.get("type") == "deadline").command["key"]
    breach = breach.rsplit("/", 3)[0] + "/0/1/0"
    opening = monday.events[0]
    fake = dataclasses.replace(
        monday.events[-1],
        seq=monday.events[-1].seq + 1,
        at=opening.at + timedelta(hours=3, minutes=30),
        kind="deadline",
        command={"type": "deadline", "key": breach},
        history=[],
    )
    events = sorted((*monday.events, fake), key=lambda event: event.at)
    return dataclasses.replace(monday, events=tuple(dataclasses.replace(e, seq=i + 1) for i, e in enumerate(events)))


def test_a_replay_in_the_recordings_timing_knows_when_its_own_firings_would_repeat_it(
    monday: RecordedIncident, tmp_path: Path
) -> None:
    cancelled = _deadline_cancelled_after_a_late_firing_is_recorded(monday)

    assert replay(monday, _book(PLAYBOOK)).repeatable
    assert replay(_recorded(FRIDAY, tmp_path), _book(PLAYBOOK)).repeatable
    assert not replay(cancelled, _book(PLAYBOOK)).repeatable
    assert not replay(monday, _book(PLAYBOOK), replay(monday, _book(PLAYBOOK)).firings).repeatable


def test_an_unchanged_playbook_is_replayed_once_and_diffs_as_if_replayed_twice(
    monday: RecordedIncident, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recordings = [
        monday,
        _recorded(FRIDAY, tmp_path),
        dataclasses.replace(monday, incident=dataclasses.replace(monday.incident, state="resolved")),
    ]
    calls = _replays_counted(monkeypatch)
    once = [_diff(recorded, PLAYBOOK) for recorded in recordings]
    replayed_once = len(calls)
    monkeypatch.setattr(comparison, "_same_rules", lambda pair: False)
    twice = [_diff(recorded, PLAYBOOK) for recorded in recordings]

    assert replayed_once == len(recordings)
    assert len(calls) == replayed_once + 2 * len(recordings)
    assert once == twice
    assert [diff.changed for diff in once] == [False, False, False]
    assert once[2].determinism


def test_an_unchanged_playbook_is_replayed_again_when_its_timing_might_not_repeat(
    monday: RecordedIncident, monkeypatch: pytest.MonkeyPatch
) -> None:
    cancelled = _deadline_cancelled_after_a_late_firing_is_recorded(monday)
    calls = _replays_counted(monkeypatch)

    found = _diff(cancelled, PLAYBOOK)

    assert len(calls) == 2
    assert not found.changed


def test_a_changed_playbook_is_always_replayed_twice(monday: RecordedIncident, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _replays_counted(monkeypatch)
    reworded = PLAYBOOK.replace("description: A small playbook", "description: The small playbook")

    found = _diff(monday, reworded)

    assert len(calls) == 2
    assert not found.changed


def test_a_chunk_keeps_in_full_only_what_the_merged_diff_still_lacks_of_changes_and_of_failures_apart(
    monday: RecordedIncident,
) -> None:
    shorter = PLAYBOOK.replace("detected: {limit: {default: 2h}", "detected: {limit: {default: 1h}")
    tampered = dataclasses.replace(monday, incident=dataclasses.replace(monday.incident, state="resolved"))
    changed_and_failed = _diff(tampered, shorter)
    assert changed_and_failed.changed
    assert changed_and_failed.determinism

    details_full = Summary(room=0, failure_room=1)  # the merged diff has every change it shows, no failure yet
    details_full.add(changed_and_failed)
    failures_full = Summary(room=1, failure_room=0)
    failures_full.add(changed_and_failed)

    assert (details_full.changed, details_full.nondeterministic) == (1, 1)
    assert (details_full.details, details_full.failures) == ([], [changed_and_failed])
    assert (failures_full.details, failures_full.failures) == ([changed_and_failed], [])
