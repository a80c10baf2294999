"""Incidents with their whole logs, a page at a time: what reports and exports read (see
:meth:`engine.store.IncidentViews.recorded`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime

from engine.store._codec import decode_incident, moment, parse_moment
from engine.store._records import Event, RecordedIncident

__all__ = ["PAGE", "recorded_page"]

#: Incidents per page: big enough that the queries cost little beside the decoding, small enough to keep memory flat.
PAGE = 500

# One query per page: the page's incidents in the order of opening (the unique index on seq), each joined to its
# events (the index of events by incident). ``opened_at`` is compared as text: moments are stored sortable.
_PAGE_SQL = """
WITH page AS (
    SELECT id, seq, final, body FROM incidents
    WHERE seq > :after AND opened_at >= :since AND opened_at < :until {closed}
    ORDER BY seq LIMIT :limit
)
SELECT page.seq, page.final, page.body, events.seq, events.incident_id, events.at, events.kind, events.actor,
       events.playbook_digest, events.command, events.history
FROM page LEFT JOIN events ON events.incident_id = page.id
ORDER BY page.seq, events.seq
"""

#: Bounds for an open-ended period: every stored moment sorts between them.
_EARLIEST, _LATEST = "0000", "9999"


def recorded_page(
    db: sqlite3.Connection, since: datetime | None, until: datetime | None, closed_only: bool, after: int
) -> tuple[list[RecordedIncident], int]:
    """The next page of incidents after the one at ``after`` (its seq; 0 for the first), and where the page ended."""
    rows = db.execute(
        _PAGE_SQL.format(closed="AND final = 1" if closed_only else ""),
        {
            "after": after,
            "since": _EARLIEST if since is None else moment(since),
            "until": _LATEST if until is None else moment(until),
            "limit": PAGE,
        },
    ).fetchall()
    return list(_grouped(rows)), (rows[-1][0] if rows else after)


def _grouped(rows: list[sqlite3.Row]) -> Iterator[RecordedIncident]:
    current: int | None = None
    final = False
    body = ""
    events: list[Event] = []
    for row in rows:
        if row[0] != current:
            if current is not None:
                yield RecordedIncident(decode_incident(json.loads(body)), final, tuple(events))
            current, final, body, events = row[0], bool(row[1]), row[2], []
        if row[3] is not None:  # an incident with no event yet (never, as the service writes them) has none
            at, kind, actor, digest, command, history = row[5], row[6], row[7], row[8], row[9], row[10]
            events.append(
                Event(row[3], row[4], parse_moment(at), kind, actor, digest, json.loads(command), json.loads(history))
            )
    if current is not None:
        yield RecordedIncident(decode_incident(json.loads(body)), final, tuple(events))
