"""The log is the truth: an incident rebuilt by replaying its event log through the runtime."""

from __future__ import annotations

from engine.errors import NotFound
from engine.incident import Incident, JoinMention, Refused, open_incident, parse_mention, step
from engine.playbook import Failed
from engine.service._library import Library
from engine.store import (
    AttemptCommand,
    IncidentViews,
    JoinCommand,
    MutedCommand,
    OpenCommand,
    PassedOnCommand,
    decode_command,
)

__all__ = ["rebuild"]


def rebuild(store: IncidentViews, library: Library, incident_id: str) -> Incident:
    """The incident replayed from its event log through the runtime: what its row must equal."""
    incident: Incident | None = None
    for event in store.events(incident_id):
        book = library.by_digest(event.playbook_digest)
        command = decode_command(event.command)
        if isinstance(command, OpenCommand):
            mention = parse_mention(command.mention)
            if isinstance(mention, Failed):
                raise ValueError(f"event {event.seq}: the stored mention no longer parses")
            opened = open_incident(command.id, mention, book, event.at, follows=command.follows, group=command.group)
            incident = opened.incident
            continue
        if incident is None:
            raise ValueError(f"event {event.seq} of {incident_id} comes before the incident opened")
        if isinstance(command, AttemptCommand | PassedOnCommand | MutedCommand):
            continue  # refused, passed on, or a muted author's post, when it was made: it changed nothing here
        if isinstance(command, JoinCommand):
            joined = parse_mention(command.mention)
            if isinstance(joined, Failed):
                raise ValueError("a stored mention no longer parses")
            outcome = step(incident, JoinMention(joined, command.via), event.at, book)
        else:
            outcome = step(incident, command, event.at, book)
        if isinstance(outcome, Refused):
            raise ValueError(f"event {event.seq} of {incident_id} is refused on replay: {outcome.message}")
        incident = outcome.incident
    if incident is None:
        raise NotFound(f"there is no incident {incident_id}")
    return incident
