"""`calmly test --coverage` and `--min-coverage` as an author and a CI job run them: what no test exercised, where
the playbook says it, and an exit code that holds a team to a level."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CALMLY = Path(sys.executable).with_name("calmly")
PLAYBOOK = ROOT / "playbooks" / "customer-complaint.yaml"


def calmly(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CALMLY), *args], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


def _assessed_and_acknowledged(folder: Path, state: str = "acknowledged") -> Path:
    """A test of the shipped customer complaint that takes two of its eight transitions in ten minutes, before any
    clock can warn anyone."""
    path = folder / "two-steps.test.yaml"
    path.write_text(
        f"playbook: {PLAYBOOK.as_posix()}\n"
        "tests:\n"
        "  - name: assessed and acknowledged at once\n"
        "    timeline:\n"
        "      start: 2026-11-23T09:00:00Z\n"
        "      people: {alice: [community_manager]}\n"
        "      events:\n"
        "        - {at: 0m, mention: {channel: twitter, text: my order is late, author: {handle: ann}}}\n"
        "        - {at: 5m, act: assess, by: alice, with: {severity: low}}\n"
        "        - {at: 10m, act: acknowledge, by: alice,\n"
        "           with: {public_reply: {channel: twitter, text: Sorry - we are looking into it now.}}}\n"
        "      until: 10m\n"
        f"    expect: [{{at: 10m, state: {state}}}]\n",
        encoding="utf-8",
    )
    return path


def _place_of(text: str, written: str, value: str) -> tuple[int, int]:
    """Line and column of ``value`` on the playbook's first line that holds ``written``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if written in line:
            return number, line.index(value, line.index(written)) + 1
    raise AssertionError(f"{written!r} is not in the playbook")


def test_coverage_names_what_no_test_exercised_with_file_line_and_column(tmp_path: Path) -> None:
    result = calmly("test", str(_assessed_and_acknowledged(tmp_path)), "--coverage")

    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    text = PLAYBOOK.read_text(encoding="utf-8")
    playbook = PLAYBOOK.as_posix()
    line, column = _place_of(text, "trigger: reopen", "resolved")
    assert f"  {playbook}:{line}:{column}: transition reopen from resolved (to acknowledged): no test took it" in lines
    line, column = _place_of(text, "never_say", '"you are wrong"')  # a quoted scalar starts at its quote
    assert (
        f"  {playbook}:{line}:{column}: never_say 'you are wrong': no test saw a reply refused for saying it" in lines
    )
    assert not any("transition assess from detected" in line for line in lines)  # taken
    assert f"{playbook} (customer-complaint v2): covered 2 of 24 (8%)" in lines
    assert lines[-1] == "coverage in total: covered 2 of 24 (8%)"
    assert "1 test, 1 expectation: all passed" in lines


def test_without_coverage_asked_for_the_report_says_nothing_of_it(tmp_path: Path) -> None:
    path = _assessed_and_acknowledged(tmp_path)

    text = calmly("test", str(path))
    machine = calmly("test", str(path), "--format", "json")

    assert text.returncode == machine.returncode == 0
    assert "covered" not in text.stdout
    assert "coverage:" not in text.stdout
    assert "coverage" not in json.loads(machine.stdout)


def test_min_coverage_passes_at_the_level_reached_and_fails_above_it_saying_by_how_much(tmp_path: Path) -> None:
    path = _assessed_and_acknowledged(tmp_path)

    met = calmly("test", str(path), "--min-coverage", "8")
    short = calmly("test", str(path), "--min-coverage", "50%")

    assert met.returncode == 0, met.stdout
    assert met.stdout.splitlines()[-1] == "coverage 8% meets the minimum of 8%"
    assert "covered 2 of 24 (8%)" in met.stdout  # --min-coverage reports the coverage too
    assert short.returncode == 1
    assert short.stdout.splitlines()[-1] == (
        "coverage 8.3% is below the minimum of 50% by 41.7 points: exercise 10 more of the items listed above "
        "(add tests whose timelines take them), or lower --min-coverage"
    )


def test_a_failing_test_fails_the_run_whatever_the_coverage(tmp_path: Path) -> None:
    result = calmly("test", str(_assessed_and_acknowledged(tmp_path, state="resolved")), "--min-coverage", "0")

    assert result.returncode == 1
    assert "expected state resolved, got acknowledged" in result.stdout
    assert "coverage 8% meets the minimum of 0%" in result.stdout


def test_coverage_in_json_gives_every_item_with_its_place_and_the_verdict(tmp_path: Path) -> None:
    result = calmly("test", str(_assessed_and_acknowledged(tmp_path)), "--format", "json", "--min-coverage", "50")

    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["passed"] is True
    coverage = report["coverage"]
    assert {key: coverage[key] for key in ("covered", "total", "percent", "minimum", "met")} == {
        "covered": 2,
        "total": 24,
        "percent": 8.33,
        "minimum": 50.0,
        "met": False,
    }
    assert coverage["kinds"][0] == {"kind": "transition", "covered": 2, "total": 12}
    (playbook,) = coverage["playbooks"]
    assert (playbook["file"], playbook["playbook"], playbook["version"]) == (
        PLAYBOOK.as_posix(),
        "customer-complaint",
        2,
    )
    reopen = next(item for item in playbook["items"] if item["name"].startswith("reopen from resolved"))
    line, column = _place_of(PLAYBOOK.read_text(encoding="utf-8"), "trigger: reopen", "resolved")
    assert reopen == {
        "kind": "transition",
        "name": "reopen from resolved (to acknowledged)",
        "file": PLAYBOOK.as_posix(),
        "line": line,
        "column": column,
        "covered": False,
        "hits": 0,
        "details": {},
    }
    step = next(item for item in playbook["items"] if item["kind"] == "escalation_step")
    assert step["details"]["clocks"] == ["limit", "first_response", "resolution", "next_response"]
    assert "below the minimum of 50%" in result.stderr  # standard output stays JSON


@pytest.mark.parametrize("value", ["abc", "101", "-5", "nan", ""])
def test_a_min_coverage_that_is_not_a_percentage_is_a_usage_error(tmp_path: Path, value: str) -> None:
    result = calmly("test", str(_assessed_and_acknowledged(tmp_path)), "--min-coverage", value)

    assert result.returncode == 2
    assert f"Invalid value for '--min-coverage': {value!r} is not a percentage from 0 to 100" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
