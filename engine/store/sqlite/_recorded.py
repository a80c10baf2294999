"""Incidents with their whole logs, a page at a time: what reports and exports read (see
:meth:`engine.store.IncidentViews.recorded`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from engine.store._codec import decode_incident, moment, parse_moment
from engine.store._records import Event, RecordedIncident

__all__ = ["PAGE", "grouped", "recorded_page"]

#: Incidents per page: big enough that the queries cost little beside the decoding, small enough to keep memory flat.
PAGE = 500

# A page is a range of seq, the order of opening: where the next PAGE incidents of the period end (a walk of the
# unique index on seq), then those incidents joined to their events in one query, which walks the same index and
# the index of events by incident, so the rows come in order with nothing to sort. ``opened_at`` is compared as
# text: moments are stored sortable.
_WHERE = "seq > :after AND opened_at >= :since AND opened_at < :until {closed}"
_PAGE_END_SQL = f"SELECT max(seq) FROM (SELECT seq FROM incidents WHERE {_WHERE} ORDER BY seq LIMIT :limit)"
_PAGE_SQL = f"""
SELECT incidents.seq, incidents.final, incidents.body, events.seq, events.incident_id, events.at, events.kind,
       events.actor, events.playbook_digest, events.command, events.history
FROM incidents LEFT JOIN events ON events.incident_id = incidents.id
WHERE incidents.seq <= :upto AND {_WHERE.replace("seq >", "incidents.seq >")}
ORDER BY incidents.seq, events.seq
"""

#: Bounds for an open-ended period: every stored moment sorts between them.
_EARLIEST, _LATEST = "0000", "9999"


def recorded_page(
    db: sqlite3.Connection, since: datetime | None, until: datetime | None, closed_only: bool, after: int
) -> tuple[list[tuple[Any, ...]], int]:
    """The rows of the next page of incidents after the one at ``after`` (its seq; 0 for the first), and where
    the page ended. :func:`grouped` turns them into incidents one at a time, decoded while the caller works, so
    only one incident's log is decoded at once, not a page's."""
    closed = "AND final = 1" if closed_only else ""
    values = {
        "after": after,
        "since": _EARLIEST if since is None else moment(since),
        "until": _LATEST if until is None else moment(until),
        "limit": PAGE,
    }
    upto = db.execute(_PAGE_END_SQL.format(closed=closed), values).fetchone()[0]
    if upto is None:
        return [], after
    rows = db.execute(_PAGE_SQL.format(closed=closed), {**values, "upto": upto}).fetchall()
    return rows, upto


def grouped(rows: list[tuple[Any, ...]]) -> Iterator[RecordedIncident]:
    """The incidents of a page's rows (an incident's first row, then one per event), in order."""
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
