"""The export format: a period's incidents with their recorded commands and history, as JSON Lines.

Every line is one JSON object with a ``type``:

- ``export`` (the first line): ``format`` (``calmly-export``), ``version`` (:data:`EXPORT_VERSION`), when it was
  made, the period and whether it was redacted;
- ``playbook``: a playbook version incidents opened under (``digest``, ``id``, ``version``, ``path``, ``source``),
  before the first incident that needs it;
- ``incident``: one incident: ``final``, ``incident`` (its record as the store keeps it) and ``events`` (its log in
  order: each command as recorded, with the history entries it wrote).

Redacted (``redact=True``), an export leaves out the authors' handles and every text written by a person (posts,
replies, notes, contact details), keeping ids, times, counts, states, verdicts, the house-rule phrases a refusal
names and the review's answers: what reports need. Reading is the same in reverse, one line at a time, and a line
that cannot be read is an :class:`ExportError` naming the file and the line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime
from typing import Any

from engine.report._period import Period
from engine.store import Event, PlaybookRecord, RecordedIncident, decode_incident, encode_incident, parse_moment
from engine.store._codec import canonical_json, moment

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "MASK",
    "ExportError",
    "decode_incident_lines",
    "export_lines",
    "incident_lines",
    "read_export",
]

EXPORT_FORMAT = "calmly-export"
EXPORT_VERSION = 1
MASK = "[redacted]"

#: Keys whose values are personal: a post's or reply's words, a handle, a link to the post, a contact's details,
#: a free-text note or outcome.
_PERSONAL = frozenset({"text", "handle", "author", "url", "contact", "note", "outcome", "kept_note", "message"})


class ExportError(ValueError):
    """An export that cannot be read: which file, which line and why."""


# --- writing -------------------------------------------------------------------------------------------------------


def _event(event: Event) -> dict[str, Any]:
    return {
        "seq": event.seq,
        "at": moment(event.at),
        "kind": event.kind,
        "actor": event.actor,
        "playbook_digest": event.playbook_digest,
        "command": event.command,
        "history": list(event.history),
    }


def _handles(record: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every way the incident's authors' handles are written in it, longest first (so ``@ann_b`` goes before
    ``ann_b``)."""
    found = {str(record.get("author") or "")}
    for event in events:
        mention = event["command"].get("mention")
        if isinstance(mention, Mapping):
            found.add(str((mention.get("author") or {}).get("handle") or ""))
        for entry in event["history"]:
            found.add(str((entry.get("details") or {}).get("author") or ""))
    spelled = {variant for handle in found if handle.strip() for variant in (handle, handle.lstrip("@"))}
    return sorted((handle for handle in spelled if handle), key=len, reverse=True)


def _scrubbed(value: Any, handles: re.Pattern[str] | None) -> Any:
    if isinstance(value, Mapping):
        return {
            # An author's object keeps its counts (followers): only text under a personal key goes.
            key: (MASK if key in _PERSONAL and isinstance(item, str) else _scrubbed(item, handles))
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrubbed(item, handles) for item in value]
    if isinstance(value, str) and handles is not None:
        return handles.sub(MASK, value)
    return value


def _redacted(line: dict[str, Any]) -> dict[str, Any]:
    handles = _handles(line["incident"], line["events"])
    pattern = re.compile("|".join(re.escape(handle) for handle in handles), re.IGNORECASE) if handles else None
    events = []
    for event in line["events"]:
        history = []
        for entry in event["history"]:
            details = entry.get("details") or {}
            phrase = details.get("phrase")
            kept = _scrubbed(entry, pattern)
            if entry.get("kind") == "note":
                kept["summary"] = MASK  # a note's summary is its text
            if phrase is not None:  # the playbook's own words, which a report of refusals counts
                kept["details"]["phrase"] = phrase
            history.append(kept)
        events.append({**_scrubbed(event, pattern), "history": history})
    return {**line, "incident": _scrubbed(line["incident"], pattern), "events": events}


def export_lines(
    recorded: Iterable[RecordedIncident],
    playbook_of: Callable[[str], PlaybookRecord | None],
    *,
    exported_at: datetime,
    period: Period,
    redact: bool,
) -> Iterator[str]:
    """The export's lines (each without its newline), one incident at a time."""
    header = {
        "type": "export",
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": exported_at.isoformat(),
        "period": period.as_json(),
        "redacted": redact,
    }
    yield canonical_json(header)
    written: set[str] = set()
    for item in recorded:
        digest = item.incident.playbook_digest
        if digest not in written:
            written.add(digest)
            kept = playbook_of(digest)
            if kept is not None:
                yield canonical_json(
                    {
                        "type": "playbook",
                        "digest": kept.digest,
                        "id": kept.id,
                        "version": kept.version,
                        "path": kept.path,
                        "source": kept.source,
                    }
                )
        line = {
            "type": "incident",
            "final": item.final,
            "incident": encode_incident(item.incident),
            "events": [_event(event) for event in item.events],
        }
        yield canonical_json(_redacted(line) if redact else line)


# --- reading -------------------------------------------------------------------------------------------------------


def _fail(source: str, number: int, why: str) -> ExportError:
    return ExportError(f"{source}:{number}: {why}")


def _read_incident(data: Mapping[str, Any]) -> RecordedIncident:
    incident = decode_incident(dict(data["incident"]))
    events = tuple(
        Event(
            int(event["seq"]),
            incident.id,
            parse_moment(str(event["at"])),
            str(event["kind"]),
            event.get("actor"),
            str(event["playbook_digest"]),
            dict(event["command"]),
            list(event["history"]),
        )
        for event in data["events"]
    )
    return RecordedIncident(incident, bool(data["final"]), events)


def incident_lines(
    lines: Iterable[str], source: str, playbooks: dict[str, tuple[str, str]]
) -> Iterator[tuple[int, str]]:
    """The export's incident lines undecoded, each with its line number, for :func:`decode_incident_lines` to
    decode where the work is (a worker process of ``calmly diff``); the header is checked and each ``playbook``
    line read on the way is put in ``playbooks`` (digest -> (source, path)). Raises :class:`ExportError` for a
    line that is not a calmly export's."""
    started = False
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        if started and text.startswith('{"events"'):  # an incident line as calmly export writes it (keys sorted)
            yield number, text
            continue
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise _fail(source, number, f"not JSON ({error.msg} at column {error.colno})") from None
        kind = data.get("type") if isinstance(data, dict) else None
        if not started:
            if kind != "export" or data.get("format") != EXPORT_FORMAT:
                raise _fail(source, number, "not a calmly export: its first line must be the export's header")
            if data.get("version") != EXPORT_VERSION:
                raise _fail(
                    source,
                    number,
                    f"export format version {data.get('version')!r}; this calmly reads version {EXPORT_VERSION}",
                )
            started = True
            continue
        if kind == "playbook":
            try:
                playbooks[str(data["digest"])] = (str(data["source"]), str(data.get("path") or data["id"]))
            except KeyError as error:
                raise _fail(source, number, f"a playbook line without {error.args[0]!r}") from None
            continue
        if kind != "incident":
            raise _fail(source, number, f"unknown line type {kind!r} (expected export, playbook or incident)")
        yield number, text
    if not started:
        raise ExportError(f"{source}: empty; an export starts with its header line (made by calmly export)")


def decode_incident_lines(numbered: Iterable[tuple[int, str]], source: str) -> Iterator[RecordedIncident]:
    """The incidents of :func:`incident_lines`' lines, one at a time; :class:`ExportError` names a line that
    cannot be read."""
    for number, text in numbered:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise _fail(source, number, f"not JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(data, dict) or data.get("type") != "incident":
            raise _fail(source, number, "not an incident line")
        try:
            yield _read_incident(data)
        except KeyError as error:
            raise _fail(source, number, f"an incident line without {error.args[0]!r}") from None
        except (TypeError, ValueError, AttributeError) as error:
            raise _fail(source, number, f"an incident line that cannot be read ({error})") from None


def read_export(lines: Iterable[str], source: str, playbooks: dict[str, tuple[str, str]]) -> Iterator[RecordedIncident]:
    """The incidents of an export, one at a time; each ``playbook`` line read on the way is put in ``playbooks``
    (digest -> (source, path)) before the incidents that need it. Raises :class:`ExportError` for a line that is
    not a calmly export's."""
    for numbered in incident_lines(lines, source, playbooks):
        yield from decode_incident_lines((numbered,), source)
