"""An incident's row as every backend keeps it: the columns its lookups, lists and figures read, projected from the
incident itself (its body is the whole of it), so that both backends index the same things the same way."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from engine.incident import Incident, merged_into, muted_until
from engine.playbook import handle_key
from engine.store._codec import canonical_json, encode_incident, moment

__all__ = ["row_values"]


def row_values(incident: Incident, *, final: bool, waiting_on: Sequence[str], at: datetime) -> dict[str, Any]:
    """The incident's columns by name (``id`` first; ``seq`` is the backend's to give), the body as canonical JSON."""
    return {
        "id": incident.id,
        "playbook": incident.playbook,
        "playbook_version": incident.playbook_version,
        "playbook_digest": incident.playbook_digest,
        "state": incident.state,
        "severity": incident.severity,
        "channel": incident.channel,
        # The author as joining compares them (@Zed is zed): the column new mentions are looked up by.
        "author": handle_key(incident.channel, incident.author),
        "thread_id": incident.thread_id,
        "final": final,
        "breached": bool(incident.breached),
        "waiting_on": "|" + "|".join(waiting_on) + "|",
        "revision": incident.revision,
        "owner": incident.owner,
        # The incident a merge closed this one into: where a later mention of its thread or author goes.
        "merged_into": merged_into(incident) if final else None,
        # Until when a muted author's next posts are recorded here rather than opening incidents.
        "muted_until": _muted(incident) if final else None,
        # The group an open incident gathers, and its latest mention: where the group's next mention goes.
        "group_key": None if final else incident.group,
        "grouped_at": None if final or incident.group is None else moment(incident.last_mention_at),
        # The queue's order: when the first of the running clocks runs out (none for a closed incident).
        # A clock standing still is due at no time: an incident whose clocks all stand still sorts last.
        "next_due": None if final else _next_due(incident),
        "opened_at": moment(incident.opened_at),
        "updated_at": moment(at),
        "body": canonical_json(encode_incident(incident)),
    }


def _muted(incident: Incident) -> str | None:
    until = muted_until(incident)
    return None if until is None else moment(until)


def _next_due(incident: Incident) -> str | None:
    """When the first of the incident's running clocks runs out; a paused clock runs out at no time."""
    due = min((clock.due_at for clock in incident.clocks if clock.paused_at is None), default=None)
    return None if due is None else moment(due)
