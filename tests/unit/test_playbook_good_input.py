"""The minimal playbook: valid under --strict, and the base every bad fixture changes in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.files import load_file
from engine.playbook import LIFECYCLE, load

MINIMAL = Path(__file__).parents[1] / "fixtures" / "playbooks" / "good" / "minimal.good.yaml"


def test_minimal_playbook_loads_with_no_errors_and_no_warnings() -> None:
    result = load_file(MINIMAL)

    assert result.problems == ()
    assert result.playbook is not None
    assert result.playbook.id == "minimal"
    assert tuple(result.playbook.states) == LIFECYCLE
    assert result.playbook.final_states == {"reviewed"}


def _lines_without_comments() -> list[tuple[int, str]]:
    lines = MINIMAL.read_text(encoding="utf-8").splitlines(keepends=True)
    return [(number, line) for number, line in enumerate(lines, start=1) if not line.startswith("#")]


@pytest.mark.parametrize(("number", "line"), _lines_without_comments(), ids=lambda value: str(value).strip())
def test_every_line_of_the_minimal_playbook_is_needed(number: int, line: str) -> None:
    lines = MINIMAL.read_text(encoding="utf-8").splitlines(keepends=True)
    without = "".join(lines[: number - 1] + lines[number:])

    result = load(without, "minimal-without-a-line.yaml")

    assert result.problems, f"the minimal playbook is still valid without line {number}: {line.strip()}"
