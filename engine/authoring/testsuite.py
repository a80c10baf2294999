"""Playbook tests, in the spirit of ``promtool test rules``: a timeline, and what must be true along it.

A test file names a playbook (relative to the file) and holds tests; each test plays a timeline on a simulated
clock and checks expectations at given times: state, severity, who was notified, which clocks breached or stand
still, which actions were refused, which draft replies were approved and by whom. A failing expectation is reported
at its own line and column.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from engine.authoring.simulation import IncidentView, PromiseView, Trail, simulate
from engine.authoring.timeline import Timeline, build_timeline, parse_moment, read_timeline
from engine.files import load_file, read_document_file
from engine.incident import Rulebook
from engine.playbook import Failed, LoadResult, Marks, Problem, format_duration, parse_duration, rules
from engine.service import offset_zone, wall_time

__all__ = ["TEST_SUFFIXES", "ExpectationFailure", "FileReport", "TestReport", "discover_tests", "run_test_file"]

TEST_SUFFIXES = (".test.yaml", ".test.yml")

_NONE = timedelta(0)


@dataclass(frozen=True, slots=True)
class ExpectationFailure:
    file: str
    line: int
    column: int
    message: str


@dataclass(frozen=True, slots=True)
class TestReport:
    name: str
    expectations: int
    failures: tuple[ExpectationFailure, ...]

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass
class FileReport:
    file: str
    playbook: str | None = None
    problems: list[Problem] = field(default_factory=list)
    tests: list[TestReport] = field(default_factory=list)
    #: The playbook as loaded (with the positions of its document), when it could be.
    loaded: LoadResult | None = field(default=None, repr=False)
    #: What the file's tests did, one after another: what a coverage report counts.
    trail: Trail = field(default_factory=Trail, repr=False)

    @property
    def passed(self) -> bool:
        return not self.problems and all(test.passed for test in self.tests)


#: Folders a search leaves out: installed packages and tools' caches, never a team's tests.
_NOT_SEARCHED = frozenset({"node_modules", "site-packages", "__pycache__"})


def discover_tests(paths: Iterable[Path]) -> list[Path]:
    """Test files as given, and every ``*.test.yaml`` below each folder, sorted.

    A folder search leaves out hidden folders (``.git``, ``.venv``), virtual environments and ``node_modules``, so
    ``calmly test`` run at the top of a repository (the default, ``.``) finds the team's tests wherever they live.
    """
    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(name for name in dirs if _searched(Path(root, name)))
            found.extend(Path(root, name) for name in sorted(files) if name.endswith(TEST_SUFFIXES))
    return list(dict.fromkeys(found))


def _searched(folder: Path) -> bool:
    name = folder.name
    return not (name.startswith(".") or name in _NOT_SEARCHED or (folder / "pyvenv.cfg").exists())


def _check(expected: Mapping[str, Any], view: IncidentView | None, count: int) -> list[tuple[str, str]]:
    """(key, message) for each expectation that does not hold."""
    wrong: list[tuple[str, str]] = []
    if "incidents" in expected and expected["incidents"] != count:
        wrong.append(("incidents", f"expected {expected['incidents']} incidents opened, got {count}"))
    keys = set(expected) - {"at", "incident", "incidents"}
    if not keys:
        return wrong
    if view is None:
        return [*wrong, ("incident", f"expected incident {expected.get('incident', 1)}, but only {count} opened")]
    for key in ("state", "severity", "mentions", "playbook"):
        if key in expected and expected[key] != getattr(view, key):
            wrong.append((key, f"expected {key} {expected[key]}, got {getattr(view, key)}"))
    if "surged" in expected and list(expected["surged"]) != list(view.surged):
        got = ", ".join(view.surged) or "none"
        wrong.append(("surged", f"expected surges [{', '.join(expected['surged'])}] to have fired, got [{got}]"))
    if "linked" in expected:
        missing = [
            f"{item['incident']}" + (f" ({item['relation']})" if "relation" in item else "")
            for item in expected["linked"]
            if not any(
                number == item["incident"] and item.get("relation", relation) == relation
                for number, relation in view.links
            )
        ]
        if missing:
            got = ", ".join(f"{number} ({relation})" for number, relation in view.links) or "none"
            wrong.append(("linked", f"expected links to incidents {', '.join(missing)}; linked: {got}"))
    if "breached" in expected and set(expected["breached"]) != view.breached:
        got = ", ".join(sorted(view.breached)) or "none"
        wrong.append(("breached", f"expected breached [{', '.join(expected['breached'])}], got [{got}]"))
    if "paused" in expected and not _paused_as(expected["paused"], view):
        wrong.append(
            (
                "paused",
                f"expected paused [{', '.join(map(_pause_words, expected['paused']))}], got "
                f"[{', '.join(_pause_words(item) for item in view.paused) or 'none'}]",
            )
        )
    wrong += _check_notices(expected, view)
    wrong += _check_records(expected, view)
    return wrong


def _pause_words(item: Any) -> str:
    """A clock standing still as an expectation names it, or as a view holds it: ``resolution (23h left)``."""
    if isinstance(item, str):
        return item
    if isinstance(item, tuple):
        name, counted, left = item
        return f"{name} ({format_duration(counted)} counted, {format_duration(max(left, _NONE))} left)"
    details = [f"{item[key]} {key}" for key in ("counted", "left") if key in item]
    return f"{item['clock']} ({', '.join(details)})" if details else str(item["clock"])


def _paused_as(expected: list[Any], view: IncidentView) -> bool:
    """Exactly the clocks expected stand still, each with the time counted and left where the test says."""
    if {item if isinstance(item, str) else item["clock"] for item in expected} != {name for name, *_ in view.paused}:
        return False
    standing = {name: (counted, max(left, _NONE)) for name, counted, left in view.paused}
    return all(
        isinstance(item, str)
        or (
            ("counted" not in item or parse_duration(item["counted"]) == standing[item["clock"]][0])
            and ("left" not in item or parse_duration(item["left"]) == standing[item["clock"]][1])
        )
        for item in expected
    )


def _check_notices(expected: Mapping[str, Any], view: IncidentView) -> list[tuple[str, str]]:
    """(key, message) for each expectation on notifications that does not hold."""
    wrong: list[tuple[str, str]] = []
    if "notified" in expected:
        missing = [_wanted(item, "role") for item in expected["notified"] if not _was_notified(item, view)]
        if missing:
            got = ", ".join(sorted(view.notified)) or "nobody"
            wrong.append(("notified", f"expected {', '.join(missing)} to have been notified; notified: {got}"))
    if "not_notified" in expected:
        told = [role for role in expected["not_notified"] if role in view.notified]
        if told:
            wrong.append(("not_notified", f"expected {', '.join(told)} not to have been notified, but they were"))
    if "notified_count" in expected:
        counts = {role: sum(1 for notice in view.notices if notice.role == role) for role in expected["notified_count"]}
        off = [
            f"{role} {counts[role]} times, not {times}"
            for role, times in expected["notified_count"].items()
            if counts[role] != times
        ]
        if off:
            wrong.append(("notified_count", f"expected other counts of notifications: {'; '.join(off)}"))
    return wrong


def _check_records(expected: Mapping[str, Any], view: IncidentView) -> list[tuple[str, str]]:
    """(key, message) for each expectation on what the incident's record holds (targets met, promises, refusals,
    approvals, the draft) that does not hold."""
    wrong: list[tuple[str, str]] = []
    if "met" in expected:
        unmet = [_wanted(item, "target") for item in expected["met"] if not _was_met(item, view)]
        if unmet:
            got = ", ".join(f"{name} ({'late' if late else 'on time'})" for name, late in view.met) or "none"
            wrong.append(("met", f"expected {', '.join(unmet)} to have been met; met: {got}"))
    if expected.get("promises") == [] and view.promises:
        got = ", ".join(_promise_words(promise) for promise in view.promises)
        wrong.append(("promises", f"expected no promise made by then; promises: {got}"))
    elif "promises" in expected:
        unseen = [_wanted_promise(item) for item in expected["promises"] if not _was_promised(item, view)]
        if unseen:
            got = ", ".join(_promise_words(promise) for promise in view.promises) or "none"
            wrong.append(("promises", f"expected {', '.join(unseen)} to have been promised; promises: {got}"))
    if "refused" in expected:
        missing = [_wanted(item, "action") for item in expected["refused"] if not _was_refused(item, view)]
        if missing:
            got = ", ".join(f"{action} ({reason})" for action, reason in view.refusals) or "none"
            wrong.append(("refused", f"expected {', '.join(missing)} to have been refused; refused: {got}"))
    if "approved" in expected:
        missing = [_wanted(item, "action") for item in expected["approved"] if not _was_approved(item, view)]
        if missing:
            got = ", ".join(f"{action} (by {person})" for action, person in view.approvals) or "none"
            wrong.append(("approved", f"expected {', '.join(missing)} to have been approved; approved: {got}"))
    if "draft" in expected and expected["draft"] != (view.draft or "none"):
        wrong.append(("draft", f"expected the draft reply {expected['draft']}, got {view.draft or 'none'}"))
    return wrong


def _was_approved(item: Any, view: IncidentView) -> bool:
    """A draft reply approved for the action, or (a mapping) approved by that person."""
    if isinstance(item, str):
        return any(action == item for action, _ in view.approvals)
    return any(action == item["action"] and item.get("by", person) == person for action, person in view.approvals)


def _wanted(item: Any, name: str) -> str:
    """An expected notification or refusal in words: the role or action, and what else it must have been."""
    if isinstance(item, str):
        return item
    details = [
        f"{key} {str(value).lower() if isinstance(value, bool) else value}"
        for key, value in item.items()
        if key != name
    ]
    return f"{item[name]} ({', '.join(details)})" if details else str(item[name])


def _was_notified(item: Any, view: IncidentView) -> bool:
    """A role notified, or (a mapping) notified from that clock or event and step, of that kind, late or on
    time."""
    if isinstance(item, str):
        return item in view.notified
    return any(
        notice.role == item["role"]
        and item.get("clock", notice.clock) == notice.clock
        and item.get("kind", notice.kind) == notice.kind
        and item.get("late", notice.late) == notice.late
        and item.get("event", notice.event) == notice.event
        and item.get("step", notice.step) == notice.step
        for notice in view.notices
    )


def _was_met(item: Any, view: IncidentView) -> bool:
    """A target met, or (a mapping) met late (having breached first) or on time."""
    if isinstance(item, str):
        return any(name == item for name, _ in view.met)
    return any(name == item["target"] and item.get("late", late) == late for name, late in view.met)


def _wanted_promise(item: Any) -> str:
    if isinstance(item, str):
        return item
    name = item.get("promise") or item.get("kind")
    details = [
        f"{key} {str(value).lower()}" if key != "kind" else f"a {value}"
        for key, value in item.items()
        if key != ("promise" if "promise" in item else "kind")
    ]
    return f"{name} ({', '.join(details)})" if details else str(name)


def _promise_words(promise: PromiseView) -> str:
    kept = "kept" if promise.kept else "open"
    timing = "late" if promise.late else "in time"
    breached = ", breached" if promise.breached else ""
    return f"{promise.id} ({kept}, {timing}{breached})"


def _was_promised(item: Any, view: IncidentView) -> bool:
    """A promise of a kind, or (a mapping) one with that id or kind, kept or not, late or not, breached or not."""
    if isinstance(item, str):
        return any(promise.kind == item for promise in view.promises)
    return any(
        item.get("promise", promise.id) == promise.id
        and item.get("kind", promise.kind) == promise.kind
        and item.get("kept", promise.kept) == promise.kept
        and item.get("late", promise.late) == promise.late
        and item.get("breached", promise.breached) == promise.breached
        for promise in view.promises
    )


def _was_refused(item: Any, view: IncidentView) -> bool:
    """An action refused, or (a mapping) refused for that reason."""
    if isinstance(item, str):
        return item in view.refused
    return any(action == item["action"] and item.get("reason", reason) == reason for action, reason in view.refusals)


def _timeline(raw: Any, marks: Marks, source: Path, index: int) -> Timeline | Failed[Problem]:
    if isinstance(raw, str):
        return read_timeline(source.parent / raw)
    return build_timeline(raw, marks, source.as_posix(), ("tests", index, "timeline"))


def _run_one(
    book: Rulebook,
    raw: Mapping[str, Any],
    marks: Marks,
    source: Path,
    index: int,
    *,
    trail: Trail,
    others: Sequence[Rulebook] = (),
) -> TestReport | Failed[Problem]:
    timeline = _timeline(raw["timeline"], marks, source, index)
    if isinstance(timeline, Failed):
        return timeline
    expectations = raw["expect"]
    probes = [parse_moment(item["at"], timeline.start) for item in expectations]
    problems: list[Problem] = []
    for position in range(1, len(probes)):
        if probes[position] < probes[position - 1]:
            pos = marks.value(("tests", index, "expect", position, "at"))
            problems.append(
                Problem(
                    rules.EVENT_ORDER,
                    source.as_posix(),
                    pos.line,
                    pos.column,
                    "this expectation is earlier than the one above it; list them in time order",
                )
            )
    if problems:
        return Failed(tuple(problems))
    result = simulate(book, timeline, probes, others=others)
    trail.extend(result.trail)
    failures = []
    for position, (expected, snapshot) in enumerate(zip(expectations, result.snapshots, strict=True)):
        number = expected.get("incident", 1)
        view = snapshot[number - 1] if number <= len(snapshot) else None
        moment = probes[position]
        when = _when(moment, timeline.start)
        for key, message in _check(expected, view, len(snapshot)):
            pos = marks.value(("tests", index, "expect", position, key))
            failures.append(
                ExpectationFailure(source.as_posix(), pos.line, pos.column, f"at {when}, incident {number}: {message}")
            )
    return TestReport(raw["name"], len(expectations), tuple(failures))


def _when(moment: datetime, start: datetime) -> str:
    return f"+{format_duration(moment - start)} ({wall_time(moment, offset_zone(start))})"


def run_test_file(path: Path) -> FileReport:
    """Read a test file, load its playbook, and run each of its tests."""
    report = FileReport(path.as_posix())
    read = read_document_file(path, "playbook-test")
    if isinstance(read, Failed):
        report.problems = list(read.problems)
        return report
    data, marks = read
    playbook_path = path.parent / data["playbook"]
    loaded = load_file(playbook_path)
    report.playbook = playbook_path.as_posix()
    report.loaded = loaded
    if loaded.playbook is None:
        pos = marks.value(("playbook",))
        why = loaded.problems[0].message if loaded.problems else "it has errors"
        report.problems = [
            Problem(
                rules.PLAYBOOK_UNAVAILABLE,
                report.file,
                pos.line,
                pos.column,
                f"cannot test {playbook_path.as_posix()}: {why}",
            )
        ]
        return report
    book = Rulebook(loaded.playbook)
    others = _others(report, data, marks, path)
    if report.problems:
        return report
    for index, raw in enumerate(data["tests"]):
        outcome = _run_one(book, raw, marks, path, index, trail=report.trail, others=others)
        if isinstance(outcome, Failed):
            report.problems.extend(outcome.problems)
        else:
            report.tests.append(outcome)
    return report


def _others(report: FileReport, data: Mapping[str, Any], marks: Marks, path: Path) -> list[Rulebook]:
    """The playbooks the file runs beside the one under test (``playbooks``); a problem each for one unusable."""
    books: list[Rulebook] = []
    for position, name in enumerate(data.get("playbooks", ())):
        other = path.parent / name
        loaded = load_file(other) if other.is_file() else None
        if loaded is not None and loaded.playbook is not None:
            books.append(Rulebook(loaded.playbook))
            continue
        why = "there is no such file" if loaded is None else (loaded.problems[0].message if loaded.problems else "")
        pos = marks.value(("playbooks", position))
        report.problems.append(
            Problem(
                rules.PLAYBOOK_UNAVAILABLE,
                report.file,
                pos.line,
                pos.column,
                f"cannot run {other.as_posix()} beside the playbook under test: {why or 'it has errors'}",
            )
        )
    return books
