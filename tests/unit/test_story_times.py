"""A story and a test report tell true times in the timeline's own offset, in order, with seconds where there are."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from engine.authoring.simulation import render_story, simulate
from engine.authoring.testsuite import run_test_file
from engine.authoring.timeline import Timeline, read_timeline
from engine.files import load_file
from engine.incident import Rulebook

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
STORY_TIME = re.compile(r"^\s*\+\S+\s+(\w{3} \d\d \w{3} \d\d:\d\d(?::\d\d)?)(\S+)\s")


def _story() -> str:
    loaded = load_file(ROOT / "playbooks" / "customer-complaint.yaml")
    assert loaded.playbook is not None
    timeline = read_timeline(FIXTURES / "timelines" / "plus-one-hour.yaml")
    assert isinstance(timeline, Timeline), timeline
    return render_story(simulate(Rulebook(loaded.playbook), timeline))


def test_a_story_from_a_timeline_an_hour_ahead_of_utc_gives_every_time_in_that_offset_and_in_order() -> None:
    lines = _story().splitlines()

    found = [STORY_TIME.match(line) for line in lines]
    assert all(found), lines
    assert {match.group(2) for match in found if match} == {"+01:00"}  # never a local time followed by Z
    moments = [
        datetime.strptime(
            f"2026 {match.group(1)}", "%Y %a %d %b %H:%M:%S" if match.group(1).count(":") == 2 else "%Y %a %d %b %H:%M"
        )
        for match in found
        if match
    ]
    assert moments == sorted(moments)  # the office calendar's deadlines (London) fall in their true place


def test_a_story_shows_seconds_where_a_time_has_them_and_due_times_in_the_same_offset() -> None:
    story = _story()

    assert "+30m30s  Mon 23 Nov 10:30:30+01:00  transition [inc-1] assess: detected -> assessed by alice" in story
    assert "limit:assessed runs: due 2026-11-23 14:30:30+01:00 (in 4h)" in story  # counted on London's calendar
    assert "first_response breached: its time was up at 2026-11-23 14:00+01:00" in story
    assert "Z " not in story
    assert "Z)" not in story


def _test_file(folder: Path, expect: str) -> Path:
    """A playbook test over the +01:00 timeline (written here, so `calmly test` run over the repository meets only
    the shipped tests)."""
    path = folder / "plus-one-hour.test.yaml"
    path.write_text(
        f"playbook: {ROOT / 'playbooks' / 'customer-complaint.yaml'}\n"
        "tests:\n"
        "  - name: a timeline an hour ahead of UTC\n"
        f"    timeline: {FIXTURES / 'timelines' / 'plus-one-hour.yaml'}\n"
        f"    expect: {expect}\n",
        encoding="utf-8",
    )
    return path


def test_a_timeline_an_hour_ahead_of_utc_runs_its_tests_on_true_times(tmp_path: Path) -> None:
    expect = (
        "[{at: 2026-11-23T14:00:00+01:00, state: assessed, breached: [first_response]},"
        " {at: 4h30m29s, breached: [first_response]},"
        " {at: 4h30m30s, breached: [first_response, 'limit:assessed']}]"
    )

    report = run_test_file(_test_file(tmp_path, expect))

    assert report.passed, [failure.message for test in report.tests for failure in test.failures] or report.problems


def test_a_failing_expectation_names_its_time_in_the_timelines_offset(tmp_path: Path) -> None:
    report = run_test_file(_test_file(tmp_path, "[{at: 3h30m30s, state: acknowledged}]"))

    (test,) = report.tests
    (failure,) = test.failures
    assert failure.message.startswith("at +3h30m30s (2026-11-23 13:30:30+01:00), incident 1:")
