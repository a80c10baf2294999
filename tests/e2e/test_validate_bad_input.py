"""`calmly validate` on the bad-input fixtures, from the real command: exit codes, positions, never a traceback.

The unit tests (tests/unit/test_playbook_bad_input.py and test_playbook_semantic_checks.py) pin each fixture's
message; this table pins what a person or CI sees in the text report: ``file:line:col: CODE``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.playbook import MAX_BYTES

ROOT = Path(__file__).resolve().parents[2]
CALMLY = Path(sys.executable).with_name("calmly")
BAD = "tests/fixtures/playbooks/bad"
GOOD = "tests/fixtures/playbooks/good"

# fmt: off
EXPECTED = {
    # reading the file
    "invalid-utf8.yaml":                "4:49: E101",
    "invalid-utf8-after-bom.yaml":      "1:6: E101",
    "utf16.yaml":                       "1:1: E101",
    "binary.yaml":                      "1:6: E102",
    "empty.yaml":                       "1:1: E104",
    "comments-only.yaml":               "1:1: E104",
    "yaml-syntax-error.yaml":           "4:24: E105",
    "two-documents.yaml":               "25:1: E105",
    "control-character.yaml":           "26:29: E105",
    "non-breaking-space.yaml":          "4:7: E105",
    "duplicate-key.yaml":               "15:3: E106",
    "alias-bomb.yaml":                  "2:7: E107",
    "python-tag.yaml":                  "9:14: E108",
    "top-level-list.yaml":              "2:1: E109",
    "nesting-too-deep.yaml":            "5:63: E112",
    "number-too-large.yaml":            "3:10: E113",
    # the shape
    "unknown-key.yaml":                 "10:14: E200",
    "pause-on-state-limit.yaml":        "10:36: E200",
    "missing-key.yaml":                 "20:5: E201",
    "wrong-type.yaml":                  "5:24: E202",
    "yes-for-true.yaml":                "15:21: E202",
    "channel-not-allowed.yaml":         "5:25: E203",
    "clock-time-duration.yaml":         "10:31: E204",
    "unicode-before-bad-duration.yaml": "10:67: E204",
    "bad-percentage.yaml":              "26:13: E205",
    "bad-name.yaml":                    "8:3: E206",
    "bad-hours.yaml":                   "12:22: E207",
    "duration-too-long.yaml":           "14:31: E208",
    "duration-overflows.yaml":          "10:31: E208",
    "percentage-too-large.yaml":        "23:13: E208",
    # references between sections
    "undefined-role.yaml":              "17:58: E300",
    "undefined-state.yaml":             "20:51: E301",
    "undefined-level.yaml":             "8:39: E302",
    "limit-key-not-a-level.yaml":       "10:22: E302",
    "undefined-calendar.yaml":          "10:46: E303",
    "undefined-trigger.yaml":           "26:3: E304",
    "undefined-clock.yaml":             "26:44: E305",
    "unknown-timezone.yaml":            "11:15: E306",
    "unknown-holidays-country.yaml":    "13:15: E307",
    "unknown-holidays-region.yaml":     "13:15: E307",
    "reserved-calendar-name.yaml":      "11:3: E310",
    "reserved-state-name.yaml":         "15:3: E311",
    "guard-undefined-level.yaml":       "20:109: E302",
    "reason-role-undefined.yaml":       "13:39: E300",
    "duplicate-reason.yaml":            "14:16: E312",
    "offer-for-undefined-role.yaml":    "31:52: E300",
    "cap-for-role-not-offering.yaml":   "32:76: E318",
    "amount-without-currency.yaml":     "31:52: E319",
    "undefined-approver.yaml":          "20:31: E322",
    # the state machine
    "missing-lifecycle-state.yaml":     "9:1: E400",
    "unreachable-state.yaml":           "15:3: E401",
    "dead-end-state.yaml":              "15:3: E402",
    "duplicate-transition.yaml":        "18:29: E403",
    "final-state-left.yaml":            "22:29: E404",
    "no-final-state.yaml":              "9:1: E405",
    "review-without-questions.yaml":    "21:75: E406",
    "reason-without-house-rules.yaml":  "23:85: E407",
    "final-state-limit.yaml":           "15:27: E408",
    "target-never-ends.yaml":           "17:47: E409",
    "side-path-conflict.yaml":          "19:80: E410",
    "reply-never-given.yaml":           "17:43: E411",
    "follow-up-reopen-invalid.yaml":    "14:57: E412",
    "mute-on-open-state.yaml":          "17:65: E413",
    "overlapping-guards.yaml":          "20:34: E403",
    "guard-channel-never-holds.yaml":   "19:91: E415",
    "guard-level-never-holds.yaml":     "20:96: E415",
    "customer-condition-never-holds.yaml": "13:70: E415",
    "nothing-to-offer.yaml":            "20:100: E420",
    "deliver-is-built-in.yaml":         "21:15: E421",
    "approval-without-reply.yaml":      "21:76: E425",
    "pause-where-clock-ends.yaml":      "19:80: E430",
    "pause-at-start.yaml":              "19:65: E431",
    # clocks
    "limit-missing-level.yaml":         "10:14: E500",
    "zero-duration.yaml":               "10:31: E501",
    "escalation-order.yaml":            "27:13: E502",
    "repeat-too-often.yaml":            "26:48: E503",
    "hours-end-before-start.yaml":      "12:22: E504",
    "hours-day-listed-twice.yaml":      "12:37: E504",
    "clocks-outside-breach.yaml":       "27:61: E505",
    "business-days-around-the-clock.yaml": "17:41: E510",
    "promise-clock-without-offers.yaml": "28:51: E515",
    "pause-unknown-state.yaml":         "19:61: E520",
    "surge-without-group.yaml":         "29:1: E330",
    "surge-does-nothing.yaml":          "31:5: E331",
    "rate-without-baseline.yaml":       "31:43: E332",
    "surge-opens-own-playbook.yaml":    "31:60: E333",
    "surge-name-repeated.yaml":         "32:12: E334",
    "topic-phrase-repeated.yaml":       "33:26: E335",
    "topic-phrase-empty.yaml":          "32:20: E336",
    "surge-undefined-level.yaml":       "31:53: E302",
    "surge-undefined-role.yaml":        "31:52: E300",
    "surge-window-too-short.yaml":      "31:37: E530",
    "surge-out-of-reach.yaml":          "31:26: E531",
    "surge-never-raises.yaml":          "31:53: W750",
    "rate-not-above-baseline.yaml":     "31:49: W751",
    "baseline-shorter-than-window.yaml": "31:58: W752",
    "group-topic-common-word.yaml":     "32:27: W705",
    # replies
    "house-rule-broken.yaml":           "27:16: E600",
    "unknown-placeholder.yaml":         "26:16: E601",
    "unbalanced-braces.yaml":           "26:16: E602",
    "required-templates-missing.yaml":  "3:1: E603",
    # warnings
    "unused-role.yaml":                 "8:3: W700",
    "unused-calendar.yaml":             "10:3: W701",
    "no-time-limit.yaml":               "11:3: W702",
    "review-not-required.yaml":         "21:5: W703",
    "common-word-phrase.yaml":          "5:71: W705",
    "days-in-open-hours.yaml":          "15:31: W706",
    "no-warning-before-breach.yaml":    "26:13: W707",
    "target-stranded.yaml":             "19:43: W710",
    "event-never-happens.yaml":         "27:13: W711",
    "uneven-business-days.yaml":        "15:31: W720",
    "limit-outlasts-target.yaml":       "12:31: W721",
    "reason-nobody-may-give.yaml":      "13:27: W715",
    "uncapped-offer.yaml":              "32:59: W725",
    "offer-role-cannot-act.yaml":       "31:51: W726",
    "contact-not-required.yaml":        "29:1: W727",
    "templates-required-without-reply.yaml": "21:78: W730",
    "pause-never-applies.yaml":         "19:69: W740",
}
# fmt: on

#: Fixtures the engine reports at the wrong place today; see the BUGS table in tests/unit/test_playbook_bad_input.py.
WRONG_PLACE: dict[str, str] = {}
WARNING_ONLY = sorted(name for name, expected in EXPECTED.items() if expected.split()[-1].startswith("W"))


def calmly(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CALMLY), *args], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def report() -> subprocess.CompletedProcess[str]:
    assert CALMLY.is_file(), f"the calmly command is not installed next to {sys.executable}"
    return calmly("validate", BAD)


def test_every_bad_fixture_has_an_expectation() -> None:
    on_disk = {path.name for path in (ROOT / BAD).iterdir()}

    assert on_disk == set(EXPECTED)


def test_validate_fails_the_bad_folder_with_exit_code_1(report: subprocess.CompletedProcess[str]) -> None:
    assert report.returncode == 1, report.stderr
    assert report.stdout.splitlines()[-1].endswith(f"of {len(EXPECTED)} playbooks failed")


def test_validate_never_shows_a_traceback(report: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in report.stdout
    assert "Traceback" not in report.stderr


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param(
            name,
            expected,
            id=name,
            marks=[pytest.mark.xfail(strict=True, reason=WRONG_PLACE[name])] if name in WRONG_PLACE else [],
        )
        for name, expected in EXPECTED.items()
    ],
)
def test_reports_each_fixture_at_its_line_and_column(
    report: subprocess.CompletedProcess[str], name: str, expected: str
) -> None:
    prefix = f"{BAD}/{name}:"
    reported = [line.removeprefix(prefix) for line in report.stdout.splitlines() if line.startswith(prefix)]

    assert len(reported) == 1, f"{name} should report exactly one problem: {reported}"
    assert reported[0].startswith(f"{expected} "), reported[0]


@pytest.mark.parametrize("name", WARNING_ONLY)
def test_a_warning_alone_passes_without_strict(name: str) -> None:
    result = calmly("validate", f"{BAD}/{name}")

    assert result.returncode == 0, result.stdout
    assert f"{BAD}/{name}:{EXPECTED[name]} " in result.stdout


@pytest.mark.parametrize("name", WARNING_ONLY)
def test_strict_fails_a_warning_alone(name: str) -> None:
    result = calmly("validate", "--strict", f"{BAD}/{name}")

    assert result.returncode == 1, result.stdout
    assert f"{BAD}/{name}:{EXPECTED[name]} " in result.stdout


def test_strict_passes_the_minimal_playbook() -> None:
    result = calmly("validate", "--strict", GOOD)

    assert result.returncode == 0, result.stdout
    assert result.stdout == "1 playbook valid\n"


def test_refuses_a_file_over_the_size_cap(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 1))

    result = calmly("validate", huge.as_posix())

    assert result.returncode == 1
    assert result.stdout.startswith(f"{huge.as_posix()}:1:1: E103 ")
    assert "Traceback" not in result.stdout + result.stderr


def test_json_report_gives_the_same_positions_as_the_text_report() -> None:
    result = calmly("validate", "--format", "json", BAD)

    assert result.returncode == 1
    files = {Path(entry["file"]).name: entry for entry in json.loads(result.stdout)["files"]}
    assert set(files) == set(EXPECTED)
    for name, entry in files.items():
        assert entry["valid"] == (name in WARNING_ONLY), name
        reported = [f"{problem['line']}:{problem['column']}: {problem['code']}" for problem in entry["problems"]]
        assert len(reported) == 1, (name, reported)
        if name not in WRONG_PLACE:
            assert reported == [EXPECTED[name]], name


@pytest.mark.parametrize("fmt", ["github", "sarif"])
def test_other_formats_fail_the_bad_folder_without_a_traceback(fmt: str) -> None:
    result = calmly("validate", "--format", fmt, BAD)

    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout
