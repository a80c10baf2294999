"""What the authoring and CI commands print: ``calmly simulate``'s story, ``calmly test``'s report and ``calmly
check``'s findings, as text for people and JSON for scripts.

Each function returns what is printed and prints nothing; the commands choose the format and the exit code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.authoring.simulation import Simulation
    from engine.authoring.testsuite import FileReport
    from engine.authoring.timeline import Timeline
    from engine.playbook import Playbook, Problem

__all__ = ["check_json", "check_lines", "config_json", "config_lines", "story_json", "tests_json", "tests_text"]


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
