"""Bad input when reading a playbook and checking its shape: each fixture reports one problem, at one place.

Every fixture in tests/fixtures/playbooks/bad/ is the minimal playbook (tests/fixtures/playbooks/good/) with one
thing wrong, or a small file that is wrong as a whole; a comment at its top says what, where the file can hold
one. The table below keeps each fixture beside the one problem it must report: code, line, column, and a
distinctive part of the message. The semantic checks (E3xx to W7xx) have their own table in
test_playbook_semantic_checks.py.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from engine.files import load_file
from engine.playbook import MAX_BYTES, Severity, load

BAD = Path(__file__).parents[1] / "fixtures" / "playbooks" / "bad"

# Every case reads the same with libyaml and with PyYAML's own parser (used where libyaml is not installed).
pytestmark = pytest.mark.usefixtures("yaml_parser")

#: Engine bugs found while writing these tests; each case holds the correct expectation and fails until fixed.
BUGS: dict[str, str] = {}

# fmt: off
CASES = [
    # fixture                        code    line col  the message says
    # --- reading the file (E1xx) ---
    ("invalid-utf8",                 "E101",  4, 49, "byte 0xe9 here is not UTF-8"),
    ("invalid-utf8-after-bom",       "E101",  1,  6, "byte 0xe9 here is not UTF-8"),
    ("utf16",                        "E101",  1,  1, "saved as UTF-16"),
    ("binary",                       "E102",  1,  6, "the file is binary"),
    ("empty",                        "E104",  1,  1, "'playbook: <name>'"),
    ("comments-only",                "E104",  1,  1, "'playbook: <name>'"),
    ("yaml-syntax-error",            "E105",  4, 24, "mapping values are not allowed"),
    ("two-documents",                "E105", 25,  1, "more than one YAML document"),
    ("control-character",            "E105", 26, 29, "control character"),
    ("non-breaking-space",           "E105",  4,  7, "non-breaking space"),
    ("duplicate-key",                "E106", 15,  3, "key 'assessed' appears twice here (first at line 11, column 3)"),
    ("alias-bomb",                   "E107",  2,  7, "YAML anchor &a0 is not allowed"),
    ("python-tag",                   "E108",  9, 14, "the YAML tag !!python/object/apply:os.system is not allowed"),
    ("top-level-list",               "E109",  2,  1, "the file holds a list"),
    ("nesting-too-deep",             "E112",  5, 63, "nested more than 50 levels deep"),
    ("number-too-large",             "E113",  3, 10, "this number of 5,000 digits is too large"),
    # --- the shape (E2xx) ---
    ("unknown-key",                  "E200", 10, 14, "unknown key 'limt' in states.detected; did you mean 'limit'?"),
    ("pause-on-state-limit",         "E200", 10, 36, "nothing to pause: put paused_in on the target that should"),
    ("missing-key",                  "E201", 20,  5, "transitions[3] needs 'by'"),
    ("wrong-type",                   "E202",  5, 24, "applies_to.channels must be a list, not the text 'twitter'"),
    ("yes-for-true",                 "E202", 15, 21, "must be true or false, not the text 'yes'"),
    ("channel-not-allowed",          "E203",  5, 25, "'twiter', which is not allowed; did you mean 'twitter'?"),
    ("clock-time-duration",          "E204", 10, 31, "'1:30', a clock time, not a duration; write 1h30m instead"),
    ("unicode-before-bad-duration",  "E204", 10, 67, "write 1h30m instead"),
    ("bad-percentage",               "E205", 26, 13, "is the number 75; write a percentage such as 75%"),
    ("bad-name",                     "E206",  8,  3, "such as 'community_manager'"),
    ("bad-hours",                    "E207", 12, 22, "the text '9-17'; write opening hours as HH:MM-HH:MM"),
    ("duration-too-long",            "E208", 14, 31, "500000w, longer than 52w (a year)"),
    ("duration-overflows",           "E208", 10, 31, "99999999999w, longer than 52w (a year)"),
    ("percentage-too-large",         "E208", 23, 13, "at most 1000% of the running limit"),
]
# fmt: on


def _params(cases: list[tuple[str, str, int, int, str]]) -> list[pytest.ParameterSet]:
    return [
        pytest.param(
            *case,
            id=case[0],
            marks=[pytest.mark.xfail(strict=True, reason=BUGS[case[0]])] if case[0] in BUGS else [],
        )
        for case in cases
    ]


@pytest.mark.parametrize(("fixture", "code", "line", "column", "says"), _params(CASES))
def test_reports_exactly_one_problem_with_its_code_line_and_column(
    fixture: str, code: str, line: int, column: int, says: str
) -> None:
    path = BAD / f"{fixture}.yaml"

    result = load_file(path)

    assert [(problem.code, problem.line, problem.column) for problem in result.problems] == [(code, line, column)]
    (problem,) = result.problems
    assert says in problem.message
    assert "\n" not in problem.message, "a message is one line: the text report has one line per problem"
    assert problem.file == path.as_posix()
    assert problem.severity is Severity.ERROR
    assert result.playbook is None


# --- the cases that need more than a line of the table -------------------------------------------------------


def test_reports_duplicate_key_at_second_occurrence_naming_the_first() -> None:
    text = (BAD / "duplicate-key.yaml").read_text(encoding="utf-8").splitlines()
    first = next(number for number, line in enumerate(text, start=1) if line.startswith("  assessed:"))
    second = next(number for number, line in enumerate(text[first:], start=first + 1) if line.startswith("  assessed:"))

    (problem,) = load_file(BAD / "duplicate-key.yaml").problems

    assert (problem.code, problem.line, problem.column) == ("E106", second, 3)
    assert f"first at line {first}, column 3" in problem.message
    assert problem.path == ("states", "assessed")


def test_suggests_1h30m_for_a_clock_time_where_a_duration_belongs() -> None:
    (problem,) = load_file(BAD / "clock-time-duration.yaml").problems

    assert problem.code == "E204"
    assert "write 1h30m instead" in problem.message
    assert problem.path == ("states", "detected", "limit", "default")


def test_rejects_an_alias_bomb_at_its_first_anchor_without_expanding_it() -> None:
    content = (BAD / "alias-bomb.yaml").read_bytes()
    assert content.count(b"&") == 9, "the fixture is a 9-level billion laughs"

    start = time.perf_counter()
    result = load(content, "alias-bomb.yaml")
    elapsed = time.perf_counter() - start

    assert [(problem.code, problem.line, problem.column) for problem in result.problems] == [("E107", 2, 7)]
    assert elapsed < 0.1, f"an alias bomb took {elapsed:.3f}s to reject; it must never be expanded"


def test_never_runs_the_command_in_a_python_tag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the fixture's payload would touch a file in the working folder
    marker = tmp_path / "pwned-calmly-python-tag"

    result = load_file(BAD / "python-tag.yaml")

    assert [problem.code for problem in result.problems] == ["E108"]
    assert not marker.exists(), "the tag's command ran"


def test_never_runs_a_python_tag_that_is_the_whole_document(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = f'!!python/object/apply:os.system ["touch {marker}"]\n'

    result = load(payload, "payload.yaml")

    assert ("E108", 1, 1) in [(problem.code, problem.line, problem.column) for problem in result.problems]
    assert result.playbook is None
    assert not marker.exists(), "the tag's command ran"


def test_the_python_tag_payload_is_live_under_an_unsafe_loader(tmp_path: Path) -> None:
    # The control for the two tests above: the payload does run a command when a loader acts on tags.
    marker = tmp_path / "pwned"

    yaml.unsafe_load(f'!!python/object/apply:os.system ["touch {marker}"]\n')

    assert marker.exists()


def test_refuses_a_file_over_the_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    line = b"# a playbook this long is a mistake or an attack\n"
    path.write_bytes(line * (MAX_BYTES // len(line) + 1))
    assert path.stat().st_size > MAX_BYTES

    result = load_file(path)

    assert [(problem.code, problem.line, problem.column) for problem in result.problems] == [("E103", 1, 1)]
    assert f"at most {MAX_BYTES:,} bytes" in result.problems[0].message
    assert f"the file is {path.stat().st_size:,} bytes" in result.problems[0].message


@pytest.mark.parametrize(
    "content",
    [pytest.param(b"#" * (MAX_BYTES + 1), id="bytes"), pytest.param("é" * (MAX_BYTES // 2 + 1), id="text")],
)
def test_refuses_content_over_the_size_cap_given_directly(content: bytes | str) -> None:
    result = load(content, "huge.yaml")

    assert [(problem.code, problem.line, problem.column) for problem in result.problems] == [("E103", 1, 1)]


def test_reads_a_file_of_exactly_the_size_cap(tmp_path: Path) -> None:
    path = tmp_path / "at-the-cap.yaml"
    path.write_bytes(b"#" * MAX_BYTES)

    result = load_file(path)

    assert [problem.code for problem in result.problems] == ["E104"]  # read, and found to hold only a comment


# Windows editors write CRLF line ends, and some add a UTF-8 byte order mark: neither may move a position.
POSITIONED = [
    "invalid-utf8",
    "yaml-syntax-error",
    "two-documents",
    "duplicate-key",
    "unknown-key",
    "clock-time-duration",
    "unicode-before-bad-duration",
    "bad-hours",
]
EXPECTED = {fixture: [(code, line, column)] for fixture, code, line, column, _ in CASES}


@pytest.mark.parametrize("fixture", POSITIONED)
def test_reports_the_same_positions_with_windows_line_ends(fixture: str) -> None:
    content = (BAD / f"{fixture}.yaml").read_bytes().replace(b"\n", b"\r\n")

    result = load(content, f"{fixture}.yaml")

    assert [(problem.code, problem.line, problem.column) for problem in result.problems] == EXPECTED[fixture]


@pytest.mark.parametrize("fixture", POSITIONED)
def test_reports_the_same_positions_after_a_utf8_byte_order_mark(fixture: str) -> None:
    content = b"\xef\xbb\xbf" + (BAD / f"{fixture}.yaml").read_bytes()

    result = load(content, f"{fixture}.yaml")

    assert [(problem.code, problem.line, problem.column) for problem in result.problems] == EXPECTED[fixture]


def test_reports_text_with_a_lone_surrogate_instead_of_raising() -> None:
    result = load("playbook: caf\ud800\n", "surrogate.yaml")

    assert [(problem.code, problem.line, problem.column) for problem in result.problems] == [("E101", 1, 14)]
