"""What the authoring and CI commands print: ``calmly simulate``'s story, ``calmly test``'s report and ``calmly
check``'s findings, as text for people and JSON for scripts.

Each function returns what is printed and prints nothing; the commands choose the format and the exit code.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.authoring.coverage import Coverage, Item, Kind
    from engine.authoring.simulation import Simulation
    from engine.authoring.testsuite import FileReport
    from engine.authoring.timeline import Timeline
    from engine.playbook import Playbook, Problem

__all__ = [
    "check_json",
    "check_lines",
    "config_json",
    "config_lines",
    "coverage_json",
    "coverage_text",
    "coverage_verdict",
    "story_json",
    "tests_json",
    "tests_text",
]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def story_json(playbook: Playbook, story: Timeline, result: Simulation) -> dict[str, Any]:
    """``calmly simulate --format json``: the same lines as the story, each with its time, kind and details."""
    lines = [
        {
            "at": line.at.isoformat(),
            "offset_seconds": int(line.offset.total_seconds()),
            "kind": line.kind,
            "incident": line.incident,
            "text": line.text,
            "details": dict(line.details),
        }
        for line in result.lines
    ]
    report = {"playbook": playbook.id, "version": playbook.version, "timeline": story.source}
    return {**report, "stopped_early": result.stopped_early, "lines": lines}


def tests_text(reports: Sequence[FileReport]) -> str:
    """``calmly test`` in text: each file, each test passed or failed with where, then the tally."""
    lines: list[str] = []
    tests = failed = expectations = 0
    for report in reports:
        lines.append(report.file)
        lines.extend(f"  {problem.located}" for problem in report.problems)
        for test in report.tests:
            tests += 1
            expectations += test.expectations
            lines.append(f"  {'PASS' if test.passed else 'FAIL'}  {test.name}")
            if not test.passed:
                failed += 1
                lines.extend(f"    {f.file}:{f.line}:{f.column}: {f.message}" for f in test.failures)
    broken = sum(1 for report in reports if report.problems)
    summary = f"{_count(tests, 'test')}, {_count(expectations, 'expectation')}: "
    if failed:
        summary += f"{failed} failed"
    elif not broken:
        summary += "all passed"
    else:
        summary += "none failed"
    if broken:
        summary += f"; {broken} file{'s' if broken > 1 else ''} could not be run"
    lines.append(summary)
    return "\n".join(lines) + "\n"


def tests_json(reports: Sequence[FileReport]) -> dict[str, Any]:
    """``calmly test --format json``: every file, test and failure, with its place."""
    return {
        "passed": all(report.passed for report in reports),
        "files": [
            {
                "file": report.file,
                "playbook": report.playbook,
                "passed": report.passed,
                "problems": [
                    {"code": p.code, "message": p.message, "line": p.line, "column": p.column} for p in report.problems
                ],
                "tests": [
                    {
                        "name": test.name,
                        "passed": test.passed,
                        "expectations": test.expectations,
                        "failures": [
                            {"file": f.file, "line": f.line, "column": f.column, "message": f.message}
                            for f in test.failures
                        ],
                    }
                    for test in report.tests
                ],
            }
            for report in reports
        ],
    }


#: The details of an item a line of text shows (the rest are in the JSON), each with the word it follows: what an
#: escalation step applies to.
_SHOWN_DETAILS = {"clocks": "on", "severities": "for"}


def _item_text(file: str, item: Item, kind: Kind) -> str:
    details = "".join(
        f" {_SHOWN_DETAILS[key]} {value if isinstance(value, str) else ', '.join(value)}"
        for key, value in item.details
        if key in _SHOWN_DETAILS
    )
    name = repr(item.name) if kind.quoted else item.name
    return f"{file}:{item.line}:{item.column}: {kind.noun} {name}{details}: {item.missing}"


def coverage_text(coverage: Coverage) -> str:
    """``calmly test --coverage`` in text: per playbook its figures and, located, each item no test exercised;
    then the total."""
    from engine.authoring.coverage import KINDS, shown  # noqa: PLC0415 - only when coverage is asked for

    kinds = {kind.name: kind for kind in KINDS}
    lines = ["coverage: what no test exercised, where the playbook says it"]
    for playbook in coverage.playbooks:
        share = shown(playbook.percent)
        lines.append(
            f"{playbook.file} ({playbook.playbook.id} v{playbook.playbook.version}): "
            f"covered {playbook.covered} of {playbook.total} ({share})"
        )
        figures = [(kind.label, *playbook.of_kind(kind.name)) for kind in KINDS]
        lines.append("  " + ", ".join(f"{label} {done} of {total}" for label, done, total in figures if total))
        lines.extend(
            f"  {_item_text(playbook.file, item, kinds[item.kind])}" for item in playbook.items if not item.covered
        )
    lines.append(f"coverage in total: covered {coverage.covered} of {coverage.total} ({shown(coverage.percent)})")
    return "\n".join(lines) + "\n"


def coverage_verdict(coverage: Coverage, minimum: float) -> str:
    """One line: whether the total meets ``--min-coverage``, and when it does not, by how much and what to do."""
    from engine.authoring.coverage import shown  # noqa: PLC0415

    wanted = f"{minimum:g}%"
    if coverage.meets(minimum):
        # As many decimals as the minimum has, so that 47.36% meeting 47.3% never reads as 47% meeting it.
        places = min(len(f"{minimum:g}".partition(".")[2]), 2)
        return f"coverage {shown(coverage.percent, places)} meets the minimum of {wanted}"
    # The gap rounded up to a tenth, so that a coverage just short of the minimum never reads as 0.0 points.
    gap = math.ceil((minimum - coverage.percent) * 10) / 10
    # Counted as meets() compares, so that exercising this many more is exactly enough.
    enough = next(
        count for count in range(coverage.covered, coverage.total + 1) if count * 100 >= minimum * coverage.total
    )
    needed = enough - coverage.covered
    return (
        f"coverage {shown(coverage.percent, 1)} is below the minimum of {wanted} by {gap:g} points: exercise "
        f"{needed} more of the items listed above (add tests whose timelines take them), or lower --min-coverage"
    )


def coverage_json(coverage: Coverage, minimum: float | None) -> dict[str, Any]:
    """``calmly test --coverage --format json``: the figures in total, per kind and per playbook, and every item
    with its place and whether it was covered."""
    from engine.authoring.coverage import KINDS  # noqa: PLC0415

    def kinds(of: Any) -> list[dict[str, Any]]:
        return [{"kind": kind.name, "covered": of(kind.name)[0], "total": of(kind.name)[1]} for kind in KINDS]

    def total_of(kind: str) -> tuple[int, int]:
        pairs = [playbook.of_kind(kind) for playbook in coverage.playbooks]
        return sum(done for done, _ in pairs), sum(total for _, total in pairs)

    return {
        "covered": coverage.covered,
        "total": coverage.total,
        "percent": round(coverage.percent, 2),
        "minimum": minimum,
        "met": None if minimum is None else coverage.meets(minimum),
        "kinds": kinds(total_of),
        "playbooks": [
            {
                "file": playbook.file,
                "playbook": playbook.playbook.id,
                "version": playbook.playbook.version,
                "covered": playbook.covered,
                "total": playbook.total,
                "percent": round(playbook.percent, 2),
                "kinds": kinds(playbook.of_kind),
                "items": [
                    {
                        "kind": item.kind,
                        "name": item.name,
                        "file": playbook.file,
                        "line": item.line,
                        "column": item.column,
                        "covered": item.covered,
                        "hits": item.hits,
                        "details": {
                            key: value if isinstance(value, str) else list(value) for key, value in item.details
                        },
                    }
                    for item in playbook.items
                ],
            }
            for playbook in coverage.playbooks
        ],
    }


def _tally(findings: Sequence[Problem]) -> tuple[int, int]:
    errors = sum(1 for finding in findings if finding.severity == "error")
    return errors, len(findings) - errors


def check_json(findings: Sequence[Problem], valid: bool) -> dict[str, Any]:
    """``calmly check --format json``: whether the set-up passes, the tally, and every finding with its place."""
    errors, warnings = _tally(findings)
    return {
        "valid": valid,
        "summary": {"errors": errors, "warnings": warnings},
        "findings": [
            {
                "code": finding.code,
                "name": finding.rule.name,
                "severity": str(finding.severity),
                "message": finding.message,
                "file": finding.file,
                "line": finding.line,
                "column": finding.column,
            }
            for finding in findings
        ],
    }


def check_lines(findings: Sequence[Problem], sources: str) -> list[str]:
    """``calmly check`` in text: every finding located, then the tally, or that the set-up of ``sources`` is ok."""
    lines = [finding.located for finding in findings]
    if findings:
        errors, warnings = _tally(findings)
        lines.append(f"{errors} error{'' if errors == 1 else 's'}, {warnings} warning{'' if warnings == 1 else 's'}")
    else:
        lines.append(f"set-up ok: {sources}")
    return lines


def config_json(problems: Sequence[str]) -> dict[str, Any]:
    """``calmly check --format json`` when the configuration itself cannot be used."""
    findings = [{"severity": "error", "message": line} for line in problems]
    return {"valid": False, "summary": {"errors": len(problems), "warnings": 0}, "findings": findings}


def config_lines(problems: Sequence[str]) -> list[str]:
    """``calmly check`` in text when the configuration itself cannot be used: its problems, and that nothing else
    was checked."""
    return [*problems, "the configuration cannot be used; nothing else was checked"]
