"""Muted authors: after a do-not-engage verdict that mutes its author, their next posts are recorded on the closed
incident instead of opening new ones, for as long as the playbook says; don't feed the trolls.

A mute never hides what matters more than the verdict did: a post that matches a playbook of higher priority than
the muted incident's, or that its own playbook rates more severe (a troll whose next post is a threat), opens an
incident of its own as any post would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine.incident._mention import Mention
from engine.incident._record import Incident
from engine.incident._rulebook import Rulebook

__all__ = ["MUTED_UNTIL", "mute_fact", "muted_until", "silences"]

#: The fact a muting action records: until when its author's posts are recorded here (an RFC 3339 time in UTC).
MUTED_UNTIL = "muted_until"


def mute_fact(now: datetime, period: timedelta) -> str:
    """The ``muted_until`` fact of an action at ``now`` that mutes for ``period``."""
    return (now + period).astimezone(UTC).isoformat()


def muted_until(incident: Incident) -> datetime | None:
    """Until when the incident's author is muted, or None when the verdict muted nobody."""
    value = incident.facts.get(MUTED_UNTIL)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def silences(muted: Incident, muted_book: Rulebook, mention: Mention, chosen: Rulebook, now: datetime) -> bool:
    """Whether ``muted`` (closed, its author muted) takes ``mention``, which would otherwise open an incident under
    ``chosen``: the mute still runs, and the post is no more urgent than what the verdict was about."""
    until = muted_until(muted)
    if until is None or until <= now:
        return False
    if chosen.playbook.applies_to.priority > muted_book.playbook.applies_to.priority:
        return False
    if chosen.playbook.id != muted_book.playbook.id:
        return True
    return chosen.levels[chosen.severity_of(mention)] <= chosen.levels.get(muted.severity, 0)
