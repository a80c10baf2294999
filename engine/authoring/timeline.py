"""Timelines: what happens, and when, in a ``calmly simulate`` run or a playbook test.

A timeline is read like a playbook (strict YAML 1.2, a JSON Schema, located problems with stable codes) and
becomes a start time, the people taking part with their roles, and events at absolute times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path as FilePath
from types import MappingProxyType
from typing import Any

from engine.files import read_document_file
from engine.incident import DraftStep, Mention, parse_mention
from engine.playbook import (
    Failed,
    Marks,
    Path,
    Problem,
    Rule,
    dotted,
    format_duration,
    parse_duration,
    rules,
)

__all__ = ["Timeline", "TimelineEvent", "build_timeline", "parse_moment", "read_timeline"]

#: How long time keeps running after the last event when a timeline does not say.
DEFAULT_TAIL = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: datetime
    line: int
    mention: Mention | None = None
    act: str | None = None
    by: str | None = None
    fields: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    incident: int = 1
    #: The mention as it is sent in (``mention`` is what it reads as): what a simulation gives the service.
    sent: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    #: For an action that needs approval: its draft reply submitted, approved or returned, not the action taken.
    draft: DraftStep | None = None


@dataclass(frozen=True, slots=True)
class Timeline:
    source: str
    start: datetime
    people: Mapping[str, frozenset[str]]
    events: tuple[TimelineEvent, ...]
    until: datetime
    description: str | None = None


def parse_moment(value: str, start: datetime) -> datetime:
    """``90m`` after ``start``, or an absolute RFC 3339 time."""
    try:
        return start + parse_duration(value)
    except ValueError:  # the schema allows a duration or an RFC 3339 time, so this is a time
        return datetime.fromisoformat(value.replace("z", "Z"))


class _Reader:
    def __init__(self, source: str, marks: Marks) -> None:
        self.source = source
        self.marks = marks
        self.problems: list[Problem] = []

    def problem(self, rule: Rule, path: Path, message: str) -> None:
        pos = self.marks.value(path)
        self.problems.append(Problem(rule, self.source, pos.line, pos.column, message, path))


def build_timeline(data: Mapping[str, Any], marks: Marks, source: str, prefix: Path = ()) -> Timeline | Failed[Problem]:
    """A timeline from shape-valid data; ``prefix`` is where it sits in its document (inline in a test file)."""
    reader = _Reader(source, marks)
    start = datetime.fromisoformat(data["start"].replace("z", "Z"))
    people = {name: frozenset(roles) for name, roles in data.get("people", {}).items()}
    events: list[TimelineEvent] = []
    previous = burst_ends = start
    for index, raw in enumerate(data["events"]):
        path: Path = (*prefix, "events", index)
        at = parse_moment(raw["at"], start)
        if at < burst_ends:
            reader.problem(
                rules.EVENT_ORDER,
                (*path, "at"),
                f"{dotted(path)} happens before the burst above it ends (its last mention comes "
                f"{format_duration(burst_ends - start)} after the start); list it after that, or shorten the burst",
            )
        elif at < previous:
            reader.problem(
                rules.EVENT_ORDER,
                (*path, "at"),
                f"{dotted(path)} happens before the event above it; list events from the earliest",
            )
        previous = max(previous, at)
        line = marks.value(path).line
        is_mention, is_act = "mention" in raw or "burst" in raw, "act" in raw or "by" in raw or "draft" in raw
        if is_mention == is_act or (is_mention and ("with" in raw or "incident" in raw)) or raw.keys() >= _BOTH:
            reader.problem(
                rules.TIMELINE_EVENT,
                path,
                f"{dotted(path)} must be either a mention (mention: ...), a burst of them (burst: ...) or an action "
                "(act: and by:)",
            )
            continue
        if "burst" in raw:
            burst = _burst(reader, raw["burst"], path, at, index=index, line=line)
            events.extend(burst)
            burst_ends = max(burst_ends, burst[-1].at) if burst else burst_ends
            continue
        if is_mention:
            sent = _as_sent(raw["mention"], at, index)
            mention = _mention(reader, sent, (*path, "mention"), at)
            if mention is not None:
                events.append(TimelineEvent(at, line, mention=mention, sent=MappingProxyType(sent)))
            continue
        if "act" not in raw or "by" not in raw:
            reader.problem(rules.TIMELINE_EVENT, path, f"{dotted(path)} needs both 'act' (the action) and 'by'")
            continue
        if raw["by"] not in people:
            known = ", ".join(sorted(people)) or "nobody yet"
            reader.problem(
                rules.UNKNOWN_PERSON,
                (*path, "by"),
                f"{dotted(path)}: {raw['by']!r} is not in people ({known}); add them with their roles",
            )
            continue
        events.append(
            TimelineEvent(
                at,
                line,
                act=raw["act"],
                by=raw["by"],
                fields=MappingProxyType(dict(raw.get("with", {}))),
                incident=raw.get("incident", 1),
                draft=DraftStep(raw["draft"]) if "draft" in raw else None,
            )
        )
    last = events[-1].at if events else start
    until = parse_moment(data["until"], start) if "until" in data else last + DEFAULT_TAIL
    if until < last:
        reader.problem(rules.EVENT_ORDER, (*prefix, "until"), "until is before the last event; time only goes forward")
    if reader.problems:
        return Failed(tuple(reader.problems))
    return Timeline(source, start, people, tuple(events), until, data.get("description"))


#: An event is a mention or a burst of them, never both.
_BOTH = frozenset({"mention", "burst"})

#: The fields of a burst's mention where ``{n}`` stands for the mention's number in the burst.
_NUMBERED = ("text", "external_id", "thread_id")


def _numbered(raw: Mapping[str, Any], number: int) -> dict[str, Any]:
    data = dict(raw)
    for key in _NUMBERED:
        if isinstance(data.get(key), str):
            data[key] = data[key].replace("{n}", str(number))
    author = dict(data["author"])
    author["handle"] = str(author["handle"]).replace("{n}", str(number))
    data["author"] = author
    return data


def _burst(
    reader: _Reader, raw: Mapping[str, Any], path: Path, at: datetime, *, index: int, line: int
) -> list[TimelineEvent]:
    """A burst's mentions, spread evenly over its time from ``at``; one problem for the first bad one (they are all
    made from the same mention)."""
    count, over = int(raw["count"]), parse_duration(raw["over"])
    template = dict(raw["mention"])
    template.setdefault("external_id", f"event-{index + 1}-{{n}}")
    made: list[TimelineEvent] = []
    for number in range(1, count + 1):
        when = at + over * (number - 1) / count
        sent = _as_sent(_numbered(template, number), when, index)
        mention = _mention(reader, sent, (*path, "burst", "mention"), when)
        if mention is None:
            return []
        made.append(TimelineEvent(when, line, mention=mention, sent=MappingProxyType(sent)))
    return made


def _as_sent(raw: Mapping[str, Any], at: datetime, index: int) -> dict[str, Any]:
    """The mention as a listening tool would send it: an id and a posting time, when the timeline gives none."""
    data = dict(raw)
    data.setdefault("external_id", f"event-{index + 1}")
    data.setdefault("posted_at", at.isoformat())
    return data


def _mention(reader: _Reader, data: Mapping[str, Any], path: Path, at: datetime) -> Mention | None:
    parsed = parse_mention(data, now=at)  # posted after the event that brings it: the daemon would refuse it
    if isinstance(parsed, Failed):
        for error in parsed.problems:
            pointer = tuple(part for part in error.pointer.split("/") if part)
            # A problem of the whole mention already says so ("the mention needs ..."); one of a field names it.
            told = error.message if error.message.startswith("the mention ") else f"the mention's {error.message}"
            reader.problem(rules.BAD_MENTION, (*path, *pointer), f"{dotted(path)}: {told}")
        return None
    return parsed


def read_timeline(path: FilePath) -> Timeline | Failed[Problem]:
    """A timeline file, read and checked."""
    read = read_document_file(path, "timeline")
    if isinstance(read, Failed):
        return read
    data, marks = read
    return build_timeline(data, marks, path.as_posix())
