"""Guards in the language: when two guards of one action exclude each other (so E403 lets both stand), and which
severity levels an incident can have in each state (what E415 reads)."""

from __future__ import annotations

import pytest
from incident_support import ROOT, book

from engine.playbook import Customer, Guard, read_yaml
from engine.playbook._build import build
from engine.playbook._checks._guards import levels_by_state

LOW, HIGH = Guard(severities=("low",)), Guard(severities=("high",))


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (LOW, HIGH),
        (Guard(channels=("twitter",)), Guard(channels=("facebook",))),
        (Guard(customer=Customer.KNOWN), Guard(customer=Customer.UNKNOWN)),
        (Guard(customer_segments_any=("vip",)), Guard(customer=Customer.UNKNOWN)),
        (Guard(customer_segments_any=("vip",)), Guard(customer_segments_any=("business",))),
        (Guard(severities=("low", "high"), channels=("twitter",)), Guard(severities=("high",), channels=("facebook",))),
    ],
)
def test_guards_exclude_each_other_when_one_fact_they_both_name_has_no_value_in_common(
    one: Guard, other: Guard
) -> None:
    assert not one.overlaps(other)
    assert not other.overlaps(one)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        (Guard(severities=("low", "high")), HIGH),
        (LOW, Guard(channels=("twitter",))),  # a low incident on twitter meets both
        (Guard(customer=Customer.KNOWN), Guard(customer_segments_any=("vip",))),
        (Guard(customer_segments_any=("vip", "gold")), Guard(customer_segments_any=("gold",))),
    ],
)
def test_guards_overlap_when_one_incident_could_meet_both(one: Guard, other: Guard) -> None:
    assert one.overlaps(other)
    assert other.overlaps(one)


def test_an_incident_opens_at_the_default_or_a_rules_level_and_any_level_once_assessed() -> None:
    levels = levels_by_state(book("guards").playbook)

    assert levels["detected"] == {"low", "medium", "high"}  # the default, and the levels the rules set
    assert levels["assessed"] == {"low", "medium", "high", "critical"}  # assess asks for a severity


def test_only_the_levels_a_guard_lets_through_arrive_by_its_transition() -> None:
    # Every incident opens low and nothing sets a severity: escalate (high only) passes nothing on.
    text = (ROOT / "tests" / "fixtures" / "playbooks" / "bad" / "guard-level-never-holds.yaml").read_text()
    document, problems = read_yaml(text, "guard-level-never-holds.yaml")
    assert document is not None
    assert not problems

    levels = levels_by_state(build(document.data))

    assert levels["assessed"] == {"low"}
    assert levels["resolution_offered"] == {"low"}  # from acknowledged, never by escalate
