"""Merged incidents: the incident a merge closed one into, and the open one at the end of a chain of merges.

A duplicate merged into a lead incident is closed, but its thread and its author carry on posting; what they post
belongs to the incident it was merged into. Merges may chain (a lead merged in its turn into another), so the
open incident is found by following them, never round a loop.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.incident._record import Incident

__all__ = ["merge_target", "merged_into"]


def merged_into(incident: Incident) -> str | None:
    """The id of the incident ``incident`` was merged into (its ``merged_into`` field), or None."""
    value = incident.facts.get("merged_into")
    return value if isinstance(value, str) and value else None


def merge_target(
    incident: Incident, find: Callable[[str], Incident | None], closed: Callable[[Incident], bool]
) -> Incident | None:
    """The open incident at the end of ``incident``'s chain of merges.

    None when the chain ends in an incident that is closed and merged into nothing (a later mention would have
    found a closed incident anyway), names an incident ``find`` does not have, or comes back to one it passed."""
    seen = {incident.id}
    following = merged_into(incident)
    while following is not None and following not in seen:
        found = find(following)
        if found is None:
            return None
        if not closed(found):
            return found
        seen.add(found.id)
        following = merged_into(found)
    return None
