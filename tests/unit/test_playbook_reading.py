"""Reading playbooks: YAML 1.2 values, positions, durations, phrases, the model and its machine."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from engine.playbook import (
    MAX_DURATION,
    PhraseSet,
    Requirement,
    _yaml,
    compile_machine,
    format_duration,
    load,
    parse_duration,
    parse_percentage,
)
from engine.playbook._yaml import MAX_DEPTH, MAX_NUMBER, read_yaml

ROOT = Path(__file__).resolve().parents[2]
COMPLAINT = (ROOT / "playbooks" / "customer-complaint.yaml").read_text(encoding="utf-8")

# Every reading test runs with libyaml and with PyYAML's own parser: the two must read every file alike.
pytestmark = pytest.mark.usefixtures("yaml_parser")


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("1:30", "1:30"),
        ("2026-11-23", "2026-11-23"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("null", None),
        ("", None),
        ("12", 12),
        ("-3", -3),
        ("0o17", 15),
        ("0x1F", 31),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("'12'", "12"),
        ('"true"', "true"),
        ("010", 10),
        ("1_000", "1_000"),
    ],
)
def test_scalars_follow_yaml_1_2_core_schema(text: str, value: object) -> None:
    document, problems = read_yaml(f"key: {text}\n", "t.yaml")
    assert not problems
    assert document is not None
    assert document.data["key"] == value
    assert type(document.data["key"]) is type(value)


def test_special_floats_follow_yaml_1_2() -> None:
    document, _ = read_yaml("a: .inf\nb: -.Inf\nc: .nan\n", "t.yaml")
    assert document is not None
    assert document.data["a"] == math.inf
    assert document.data["b"] == -math.inf
    assert math.isnan(document.data["c"])


def test_every_node_keeps_its_line_and_column() -> None:
    document, _ = read_yaml("top:\n  items:\n    - first\n    - {name: second}\n", "t.yaml")
    assert document is not None
    marks = document.marks
    assert (marks.key(("top",)).line, marks.key(("top",)).column) == (1, 1)
    assert (marks.value(("top", "items", 0)).line, marks.value(("top", "items", 0)).column) == (3, 7)
    assert (marks.key(("top", "items", 1, "name")).line, marks.key(("top", "items", 1, "name")).column) == (4, 8)
    # A path that does not exist falls back to the nearest enclosing node.
    assert marks.value(("top", "items", 1, "missing")).line == 4


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30s", timedelta(seconds=30)),
        ("15m", timedelta(minutes=15)),
        ("1h30m", timedelta(minutes=90)),
        ("1w2d", timedelta(days=9)),
        ("0m", timedelta(0)),
    ],
)
def test_durations_parse_in_descending_units(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "1:30", "30", "1m1h", "1.5h", "1mo"])
def test_malformed_durations_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_durations_print_in_the_shortest_playbook_spelling() -> None:
    assert format_duration(timedelta(minutes=90)) == "1h30m"
    assert format_duration(timedelta(days=8)) == "1w1d"
    assert format_duration(timedelta(minutes=-5)) == "-5m"
    assert format_duration(timedelta(0)) == "0s"


def test_percentages_are_shares() -> None:
    assert parse_percentage("75%") == 0.75
    assert parse_percentage("200%") == 2.0


def test_phrases_match_whole_words_ignoring_case_accents_and_spacing() -> None:
    phrases = PhraseSet(["food poisoning", "never again", "cafe"])
    assert phrases.find("I got FOOD  Poisoning there!") == "food poisoning"
    assert phrases.find("Never again.") == "never again"
    assert phrases.find("Their Café is awful") == "cafe"
    assert phrases.find("seafood poisoning") is None
    assert phrases.find("cafeteria") is None
    assert not PhraseSet([])


def test_phrases_match_typographic_apostrophes_as_typed_on_phones() -> None:
    phrases = PhraseSet(["can't log in", "it's not our fault"])
    assert phrases.find("I can\u2019t log in since 9") == "can't log in"
    assert PhraseSet(["it\u2019s not our fault"]).find("It's not our fault") == "it\u2019s not our fault"


def test_a_valid_playbook_builds_a_typed_model() -> None:
    result = load(COMPLAINT, "customer-complaint.yaml")
    assert result.problems == ()
    playbook = result.playbook
    assert playbook is not None
    assert playbook.id == "customer-complaint"
    assert playbook.states["detected"].limit is not None
    assert playbook.states["detected"].limit.for_level("critical") == timedelta(minutes=15)
    assert playbook.states["assessed"].limit is not None
    assert playbook.states["assessed"].limit.for_level("low") == timedelta(hours=4)
    assert playbook.final_states == {"reviewed", "not_engaged"}
    assess = playbook.transitions[0]
    assert (assess.trigger, assess.sources, assess.dest) == ("assess", ("detected",), "assessed")
    assert assess.requires == {Requirement.SEVERITY}
    assert [step.after for step in playbook.escalation] == [0.75, 1.0, 2.0]
    assert playbook.calendars["office"].hours.days[0][0][0].hour == 9
    assert 5 not in playbook.calendars["office"].hours.days


def test_digest_ignores_comments_and_layout_but_not_content() -> None:
    first = load(COMPLAINT, "a.yaml").playbook
    commented = load("# a new comment\n" + COMPLAINT.replace("version: 1", "version:   1"), "b.yaml").playbook
    changed = load(COMPLAINT.replace("critical: 15m", "critical: 10m"), "c.yaml").playbook
    assert first is not None
    assert commented is not None
    assert changed is not None
    assert first.digest == commented.digest
    assert first.digest != changed.digest


def test_compiled_machine_fires_triggers_on_unregistered_objects() -> None:
    playbook = load(COMPLAINT, "a.yaml").playbook
    assert playbook is not None
    machine = compile_machine(playbook)

    class Incident:
        state = "detected"

    incident = Incident()
    assert machine.models == []
    assert machine.events["assess"].trigger(incident)
    assert incident.state == "assessed"
    assert machine.models == []


def test_loading_text_and_bytes_gives_the_same_result() -> None:
    assert load(COMPLAINT, "x").problems == load(COMPLAINT.encode(), "x").problems


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    assert load(b"\xef\xbb\xbf" + COMPLAINT.encode(), "bom.yaml").problems == ()


# --- both parsers, and files built to break a reader ---------------------------------------------------------

SHIPPED_AND_FIXTURES = sorted((ROOT / "playbooks").glob("*.yaml")) + sorted(
    (ROOT / "tests" / "fixtures" / "playbooks").rglob("*.yaml")
)


def _reading(path: Path) -> tuple[object, ...]:
    result = load(path.read_bytes(), path.name)
    # The parsers word a syntax error each their own way ("not allowed here", "... in this context"); the code and
    # the place are the same, and every other message is calmly's own.
    return result.playbook, tuple(
        (p.code, p.line, p.column, "" if p.code == "E105" else p.message) for p in result.problems
    )


@pytest.mark.parametrize("path", SHIPPED_AND_FIXTURES, ids=lambda path: path.name)
def test_reads_every_shipped_playbook_and_fixture_alike_with_either_parser(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readings = []
    for parser in _yaml.PARSERS:
        monkeypatch.setattr(_yaml, "_Parser", parser)
        readings.append(_reading(path))

    assert len(_yaml.PARSERS) == 2, "libyaml is installed here, so both parsers are compared"
    assert readings[0] == readings[1]


def test_reads_a_question_mark_inside_a_flow_mapping_as_text() -> None:
    # The shipped customer-complaint playbook asks "{id: avoidable, ask: Was it avoidable?, ...}".
    document, problems = read_yaml("q: {ask: Was it avoidable?, answer: yes_no}\nr: [why?, how?]\n", "t.yaml")

    assert not problems
    assert document is not None
    assert document.data == {"q": {"ask": "Was it avoidable?", "answer": "yes_no"}, "r": ["why?", "how?"]}


def test_the_shipped_customer_complaint_playbook_is_valid() -> None:
    result = load(COMPLAINT, "customer-complaint.yaml")

    assert result.problems == ()


def _block(depth: int) -> str:
    return "".join(" " * level + f"k{level}:\n" for level in range(depth)) + " " * depth + "leaf\n"


@pytest.mark.parametrize("depth", [500, 1000, 5000])
@pytest.mark.parametrize(
    "text",
    [
        pytest.param(lambda depth: "top: " + "[" * depth + "]" * depth + "\n", id="flow-lists"),
        pytest.param(lambda depth: "top: " + "{a: " * depth + "x" + "}" * depth + "\n", id="flow-mappings"),
        pytest.param(lambda depth: "top:\n" + "- " * depth + "leaf\n", id="block-lists"),
        pytest.param(lambda depth: _block(min(depth, 900)), id="block-mappings"),
    ],
)
def test_refuses_deep_nesting_with_a_located_problem(text: Any, depth: int) -> None:
    result = load(text(depth), "deep.yaml")

    (problem,) = result.problems
    assert problem.code == "E112", problem.located
    assert problem.line >= 1
    assert problem.column >= 1
    assert "nested more than 50 levels deep" in problem.message


def test_reads_nesting_up_to_the_cap() -> None:
    document, problems = read_yaml("top: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n", "t.yaml")

    assert not problems
    assert document is not None


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ("version: " + "9" * 5000, 10),
        ("version: -" + "9" * 5000, 10),
        ("version: 9223372036854775808", 10),
        ("version: 0x" + "f" * 5000, 10),
        ("version: 1e300", 10),
        ("version: [1, " + "7" * 4301 + "]", 14),
    ],
    ids=["5000-digits", "negative", "just-over-64-bits", "hex", "huge-float", "in-a-list"],
)
def test_refuses_a_number_too_large_to_keep_with_a_located_problem(text: str, column: int) -> None:
    result = load(text + "\n", "huge.yaml")

    (problem,) = result.problems
    assert (problem.code, problem.line, problem.column) == ("E113", 1, column)
    assert "too large" in problem.message


def test_reads_the_largest_number_it_keeps() -> None:
    document, problems = read_yaml(f"n: {MAX_NUMBER}\nm: -{MAX_NUMBER}\n", "t.yaml")

    assert not problems
    assert document is not None
    assert document.data == {"n": MAX_NUMBER, "m": -MAX_NUMBER}


@pytest.mark.parametrize("text", ["99999999999w", "500000w", "53w", "52w1s", "365d"])
def test_refuses_a_duration_over_the_cap(text: str) -> None:
    with pytest.raises(ValueError, match="longer than 52w"):
        parse_duration(text)


def test_reads_a_duration_at_the_cap() -> None:
    assert parse_duration("52w") == MAX_DURATION == timedelta(weeks=52)


def test_accepts_a_utf8_byte_order_mark_before_a_playbook() -> None:
    result = load(b"\xef\xbb\xbf" + COMPLAINT.encode(), "bom.yaml")

    assert result.problems == ()
    assert result.playbook is not None
