"""Incidents as JSON and back, exactly: what the store keeps in an incident's row.

Times are written as RFC 3339 UTC with microseconds (``2026-11-23T09:00:00.000000Z``), which sorts as text;
durations as whole microseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from engine.incident import ClockState, Incident, Occurrence

__all__ = ["decode_incident", "encode_incident", "moment", "parse_moment"]


def moment(value: datetime) -> str:
    """A moment as sortable text in UTC."""
    return value.astimezone(UTC).isoformat(timespec="microseconds")[:-6] + "Z"  # quicker than strftime


def parse_moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _micros(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


def _occurrence(value: Occurrence | None) -> list[Any] | None:
    if value is None:
        return None
    return [_micros(value.offset), value.step, value.repetition, moment(value.at)]


def _read_occurrence(value: list[Any] | None) -> Occurrence | None:
    if value is None:
        return None
    offset, step, repetition, at = value
    return Occurrence(timedelta(microseconds=offset), step, repetition, parse_moment(at))


def encode_incident(incident: Incident) -> dict[str, Any]:
    return {
        "id": incident.id,
        "playbook": incident.playbook,
        "playbook_version": incident.playbook_version,
        "playbook_digest": incident.playbook_digest,
        "state": incident.state,
        "severity": incident.severity,
        "channel": incident.channel,
        "author": incident.author,
        "opened_at": moment(incident.opened_at),
        "entered_at": moment(incident.entered_at),
        "last_mention_at": moment(incident.last_mention_at),
        "thread_id": incident.thread_id,
        "revision": incident.revision,
        "clocks": [
            {
                "name": clock.name,
                "started_at": moment(clock.started_at),
                "epoch": clock.epoch,
                "due_at": moment(clock.due_at),
                "fired": _occurrence(clock.fired),
                "next": _occurrence(clock.next),
            }
            for clock in incident.clocks
        ],
        "finished_clocks": sorted(incident.finished_clocks),
        "breached": sorted(incident.breached),
        "mentions": [list(key) for key in incident.mentions],
        "facts": dict(incident.facts),
        "links": [list(link) for link in incident.links],
    }


def decode_incident(data: dict[str, Any]) -> Incident:
    return Incident(
        id=data["id"],
        playbook=data["playbook"],
        playbook_version=data["playbook_version"],
        playbook_digest=data["playbook_digest"],
        state=data["state"],
        severity=data["severity"],
        channel=data["channel"],
        author=data["author"],
        opened_at=parse_moment(data["opened_at"]),
        entered_at=parse_moment(data["entered_at"]),
        last_mention_at=parse_moment(data["last_mention_at"]),
        thread_id=data["thread_id"],
        revision=data["revision"],
        clocks=tuple(
            ClockState(
                name=clock["name"],
                started_at=parse_moment(clock["started_at"]),
                epoch=clock["epoch"],
                due_at=parse_moment(clock["due_at"]),
                fired=_read_occurrence(clock["fired"]),
                next=_read_occurrence(clock["next"]),
            )
            for clock in data["clocks"]
        ),
        finished_clocks=frozenset(data["finished_clocks"]),
        breached=frozenset(data["breached"]),
        mentions=tuple((channel, external_id) for channel, external_id in data["mentions"]),
        facts=MappingProxyType(dict(data["facts"])),
        links=tuple((incident_id, relation) for incident_id, relation in data.get("links", ())),  # none before links
    )
