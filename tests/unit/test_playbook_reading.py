"""Reading playbooks: YAML 1.2 values, positions, durations, phrases, the model and its machine."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pytest

from engine.playbook import (
    PhraseSet,
    Requirement,
    compile_machine,
    format_duration,
    load,
    parse_duration,
    parse_percentage,
)
from engine.playbook._yaml import read_yaml

ROOT = Path(__file__).resolve().parents[2]
COMPLAINT = (ROOT / "playbooks" / "customer-complaint.yaml").read_text(encoding="utf-8")


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
