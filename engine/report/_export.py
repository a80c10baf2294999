"""The export format: a period's incidents with their recorded commands and history, as JSON Lines.

Every line is one JSON object with a ``type``:

- ``export`` (the first line): ``format`` (``calmly-export``), ``version`` (:data:`EXPORT_VERSION`), when it was
  made, the period and whether it was redacted;
- ``playbook``: a playbook version incidents opened under (``digest``, ``id``, ``version``, ``path``, ``source``),
  before the first incident that needs it;
- ``incident``: one incident: ``final``, ``incident`` (its record as the store keeps it) and ``events`` (its log in
  order: each command as recorded, with the history entries it wrote).

Redacted (``redact=True``), an export masks every text written by a person (posts, replies, notes, contact details,
free-text review answers) and puts a pseudonym in place of what says who someone is or where to find them
(handles, post ids, links, threads, customer ids), keeping the people acting, times, counts, states, verdicts, the
house-rule phrases a refusal names and the review's other answers: what reports and replays need. Reading is the
same in reverse, one line at a time, and a line that cannot be read is an :class:`ExportError` naming the file and
the line.
"""

from __future__ import annotations

import hashlib
import hmac
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

#: Keys whose values are words a person wrote: a post's or reply's text, a contact's details, a free-text note,
#: outcome or message. Redacted, each is the mask.
_WRITTEN = frozenset({"text", "contact", "note", "outcome", "kept_note", "message"})
#: Keys whose values say who someone is or where to find them: an author's handle, the post's id, link and thread,
#: the customer's id in the brand's systems. Redacted, each is a pseudonym, the same for the same value throughout
#: one export (so the same author's posts still join one incident when the export is replayed) and keyed by the
#: export's own secret (so it cannot be matched with another export's, nor worked back by trying handles).
_IDENTIFYING = {
    "author": "author",
    "handle": "author",
    "external_id": "post",
    "thread_id": "thread",
    "customer_id": "customer",
    "url": "link",
    "url_key": "link",
}


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


def _handle(written: str) -> str:
    """A handle as one person's: without its ``@``, in any case (``@Ann_B`` and ``ann_b`` are one author)."""
    return written.lstrip("@").casefold()


class _Redactor:
    """Redacts one export: personal words masked, identifying values pseudonymised, free-text review answers
    masked; every other value (kinds, states, roles, people acting, keys, digests, times, counts) kept as it is,
    so a report from the redacted export gives the figures of one from the store."""

    def __init__(self, secret: bytes, text_answers: Callable[[str], frozenset[str] | None]) -> None:
        self._secret = secret
        self._text_answers = text_answers
        self._names: dict[tuple[str, str], str] = {}

    def pseudonym(self, kind: str, value: str) -> str:
        found = self._names.get((kind, value))
        if found is None:
            digest = hmac.new(self._secret, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:12]
            found = self._names[(kind, value)] = f"{kind}-{digest}"
        return found

    def _handles(self, record: Mapping[str, Any], events: Iterable[Mapping[str, Any]]) -> re.Pattern[str] | None:
        """Every handle of the incident's authors, as a pattern that finds it as a whole word in a summary."""
        found = {str(record.get("author") or "")}
        for event in events:
            mention = event["command"].get("mention")
            if isinstance(mention, Mapping):
                found.add(str((mention.get("author") or {}).get("handle") or ""))
            for entry in event["history"]:
                found.add(str((entry.get("details") or {}).get("author") or ""))
        bare = sorted({handle.lstrip("@") for handle in found if handle.strip("@ ")}, key=len, reverse=True)
        if not bare:
            return None
        return re.compile(r"(?<![\w@])@?(?:" + "|".join(re.escape(handle) for handle in bare) + r")(?![\w])", re.I)

    def _value(self, key: str | None, value: Any, digest: str) -> Any:
        if isinstance(value, Mapping):
            if key == "review":
                return self._review(value, digest)
            return {name: self._value(name, item, digest) for name, item in value.items()}
        if isinstance(value, list):
            return [self._value(None, item, digest) for item in value]
        if isinstance(value, str) and key is not None:
            if key in _WRITTEN:
                return MASK
            kind = _IDENTIFYING.get(key)
            if kind is not None:
                return self.pseudonym(kind, _handle(value) if kind == "author" else value) if value else value
        return value

    def _review(self, answers: Mapping[str, Any], digest: str) -> dict[str, Any]:
        """The answers with the free-text ones masked; without the playbook to say which those are, every answer
        in words but yes and no."""
        texts = self._text_answers(digest)
        return {
            question: MASK
            if (question in texts if texts is not None else isinstance(answer, str) and answer not in ("yes", "no"))
            else answer
            for question, answer in answers.items()
        }

    def _summary(self, entry: Mapping[str, Any], handles: re.Pattern[str] | None) -> Any:
        summary = entry.get("summary")
        if entry.get("kind") == "note":
            return MASK  # a note's summary is its text
        if not isinstance(summary, str) or handles is None:
            return summary
        return handles.sub(lambda found: self.pseudonym("author", _handle(found.group(0))), summary)

    def line(self, line: dict[str, Any]) -> dict[str, Any]:
        record = line["incident"]
        digest = str(record.get("playbook_digest") or "")
        handles = self._handles(record, line["events"])
        events = []
        for event in line["events"]:
            history = []
            for entry in event["history"]:
                kept = self._value(None, entry, digest)
                kept["summary"] = self._summary(entry, handles)
                history.append(kept)
            events.append({**self._value(None, event, digest), "history": history})
        return {**line, "incident": self._value(None, record, digest), "events": events}


def export_lines(
    recorded: Iterable[RecordedIncident],
    playbook_of: Callable[[str], PlaybookRecord | None],
    *,
    exported_at: datetime,
    period: Period,
    redact: bool,
    secret: bytes = b"",
    text_answers: Callable[[str], frozenset[str] | None] = lambda digest: None,
) -> Iterator[str]:
    """The export's lines (each without its newline), one incident at a time. Redacted, identifying values are
    pseudonymised with ``secret`` (give each export a random one) and the review answers that
    ``text_answers(digest)`` names (the free-text questions of that playbook version; None when it is not known, and
    then every answer in words but yes and no) are masked."""
    redactor = _Redactor(secret, text_answers) if redact else None
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
        yield canonical_json(line if redactor is None else redactor.line(line))


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
