"""Validation reports in the formats people and machines read: text, JSON, GitHub annotations and SARIF 2.1.0.

Each renderer takes the load results of one run and returns the whole report as a string, so the command decides
where it goes and tests can read it directly.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import quote

from engine import __version__
from engine.playbook import LoadResult, Problem, Severity, all_rules

__all__ = ["Format", "failed", "render"]

_SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


class Format(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    GITHUB = "github"
    SARIF = "sarif"


def failed(results: Sequence[LoadResult], *, strict: bool) -> bool:
    """Whether the run fails: any error, or under ``strict`` any warning."""
    return any(result.errors or (strict and result.warnings) for result in results)


def _counts(results: Sequence[LoadResult]) -> tuple[int, int]:
    errors = sum(len(result.errors) for result in results)
    warnings = sum(len(result.warnings) for result in results)
    return errors, warnings


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _text(results: Sequence[LoadResult], strict: bool) -> str:
    lines = [problem.located for result in results for problem in result.problems]
    errors, warnings = _counts(results)
    bad = sum(1 for result in results if result.errors or (strict and result.warnings))
    if errors or warnings:
        summary = f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
        verdict = f"{bad} of {_plural(len(results), 'playbook')} failed" if bad else "no playbook failed"
        lines.append(f"{summary}; {verdict}" + (" (warnings fail under --strict)" if strict and warnings else ""))
    else:
        lines.append(f"{_plural(len(results), 'playbook')} valid")
    return "\n".join(lines) + "\n"


def _problem_json(problem: Problem) -> dict[str, Any]:
    pointer = "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in problem.path)
    return {
        "code": problem.code,
        "name": problem.rule.name,
        "severity": problem.severity.value,
        "message": problem.message,
        "line": problem.line,
        "column": problem.column,
        "pointer": pointer,
    }


def _json(results: Sequence[LoadResult], strict: bool) -> str:
    errors, warnings = _counts(results)
    files = []
    for result in results:
        playbook = result.playbook
        files.append(
            {
                "file": result.source,
                "valid": not (result.errors or (strict and result.warnings)),
                "playbook": playbook.id if playbook else None,
                "version": playbook.version if playbook else None,
                "digest": playbook.digest if playbook else None,
                "problems": [_problem_json(problem) for problem in result.problems],
            }
        )
    report = {
        "calmly": __version__,
        "valid": not failed(results, strict=strict),
        "strict": strict,
        "summary": {"files": len(results), "errors": errors, "warnings": warnings},
        "files": files,
    }
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(results: Sequence[LoadResult], strict: bool) -> str:
    lines = []
    for result in results:
        for problem in result.problems:
            kind = "error" if problem.severity is Severity.ERROR or strict else "warning"
            lines.append(
                f"::{kind} file={_escape_property(problem.file)},line={problem.line},col={problem.column}::"
                f"{_escape_data(problem.code + ' ' + problem.message)}"
            )
    errors, warnings = _counts(results)
    lines.append(
        f"{_plural(len(results), 'playbook')} checked: {_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
    )
    return "\n".join(lines) + "\n"


def _sarif(results: Sequence[LoadResult], strict: bool) -> str:
    catalogue = all_rules()
    index = {rule.code: position for position, rule in enumerate(catalogue)}
    sarif_rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "help": {"text": f"{rule.summary} See docs/problems.md#{rule.code.lower()} in the calmly sources."},
            "defaultConfiguration": {"level": "error" if rule.severity is Severity.ERROR else "warning"},
        }
        for rule in catalogue
    ]
    sarif_results = []
    for result in results:
        for problem in result.problems:
            level = "error" if problem.severity is Severity.ERROR or strict else "warning"
            sarif_results.append(
                {
                    "ruleId": problem.code,
                    "ruleIndex": index[problem.code],
                    "level": level,
                    "message": {"text": problem.message},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": quote(problem.file), "uriBaseId": "%SRCROOT%"},
                                "region": {"startLine": problem.line, "startColumn": problem.column},
                            }
                        }
                    ],
                }
            )
    log = {
        "$schema": _SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "calmly",
                        "version": __version__,
                        "rules": sarif_rules,
                    }
                },
                "columnKind": "unicodeCodePoints",
                "artifacts": [
                    {"location": {"uri": quote(result.source), "uriBaseId": "%SRCROOT%"}} for result in results
                ],
                "results": sarif_results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


_RENDERERS: dict[Format, Callable[[Sequence[LoadResult], bool], str]] = {
    Format.TEXT: _text,
    Format.JSON: _json,
    Format.GITHUB: _github,
    Format.SARIF: _sarif,
}


def render(results: Sequence[LoadResult], fmt: Format, *, strict: bool = False) -> str:
    """The whole report for one run."""
    return _RENDERERS[fmt](results, strict)
