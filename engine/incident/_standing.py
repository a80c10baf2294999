"""Whether an incident can be acted on at all: it is still open, and it is as the person last saw it.

Every command a person gives (an action, a draft, a promise kept) asks this first, in the same words.
"""

from __future__ import annotations

from engine.incident._record import Incident, RefusalReason, Refused
from engine.incident._rulebook import Rulebook

__all__ = ["standing"]


def standing(incident: Incident, expected_revision: int | None, book: Rulebook) -> Refused | None:
    """Why nothing can be done to ``incident`` now (closed, or changed since the revision the person saw), or None."""
    if book.is_final(incident.state):
        return Refused(RefusalReason.CLOSED, f"the incident is closed ({incident.state}); nothing more can be done")
    if expected_revision is not None and expected_revision != incident.revision:
        return Refused(
            RefusalReason.STALE,
            f"the incident changed since you looked (you saw revision {expected_revision}, it is now "
            f"{incident.revision}); look again before acting",
        )
    return None
