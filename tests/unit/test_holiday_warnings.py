"""A calendar naming a country whose regions keep more holidays than its national list is warned about (W704)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.playbook import load

COMPLAINT = (Path(__file__).resolve().parents[2] / "playbooks" / "customer-complaint.yaml").read_text("utf-8")


def warnings_for(holidays: str) -> list[str]:
    assert "holidays: GB-ENG" in COMPLAINT
    result = load(COMPLAINT.replace("holidays: GB-ENG", f"holidays: {holidays}"), "complaint.yaml")
    assert result.playbook is not None, result.problems
    return [f"{problem.line}:{problem.column}: {problem.code} {problem.message}" for problem in result.warnings]


def test_gb_alone_is_warned_about_naming_easter_monday_and_the_regions() -> None:
    (warning,) = warnings_for("GB")
    assert warning.startswith("25:15: W704 calendars.office.holidays is GB, the national list")
    assert "Easter Monday" in warning
    assert "GB-ENG, GB-NIR, GB-SCT or GB-WLS" in warning


@pytest.mark.parametrize(("country", "day"), [("DE", "Reformation Day"), ("CH", "Good Friday")])
def test_other_countries_whose_regions_keep_more_days_are_warned_about_too(country: str, day: str) -> None:
    (warning,) = warnings_for(country)
    assert " W704 " in warning
    assert day in warning


@pytest.mark.parametrize("holidays", ["GB-ENG", "GB-SCT", "IE", "DE-BY"])
def test_a_region_or_a_country_without_regional_lists_is_not_warned_about(holidays: str) -> None:
    assert warnings_for(holidays) == []
