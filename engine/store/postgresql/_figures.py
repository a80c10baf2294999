"""Figures over the whole PostgreSQL store (readiness, logs, ``/metrics``) and the incidents with their whole logs a
page at a time (reports and exports).

The counts are read over partial indexes rather than kept by triggers as SQLite keeps them: a kept figure is one
row every writer updates, which would make every daemon's writes wait on one another's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import psycopg

from engine.store._codec import decode_incident, moment, parse_moment
from engine.store._records import Event, RecordedIncident, Tally

__all__ = ["PAGE", "counts", "grouped", "recorded_page", "tallies"]

Connection = psycopg.Connection[Any]

_COUNTS = """
SELECT (SELECT count(*) FROM incidents),
       (SELECT count(*) FROM incidents WHERE NOT final),
       (SELECT count(*) FROM deadlines WHERE done_at IS NULL),
       (SELECT count(*) FROM outbox WHERE state = 'pending'),
       (SELECT count(*) FROM deliveries WHERE state = 'pending'),
       (SELECT count(*) FROM deliveries WHERE state = 'dead')
"""
_FIGURES = (
    "incidents",
    "open_incidents",
    "pending_deadlines",
    "outbox_pending",
    "deliveries_pending",
    "deliveries_dead",
)


def counts(db: Connection) -> dict[str, int]:
    row = db.execute(_COUNTS).fetchone()
    assert row is not None
    return {name: int(value) for name, value in zip(_FIGURES, row, strict=True)}


def tallies(db: Connection) -> list[Tally]:
    rows = db.execute(
        "SELECT playbook, state, severity, count(*), count(*) FILTER (WHERE breached) FROM incidents "
        "GROUP BY playbook, state, severity"
    ).fetchall()
    return [Tally(row[0], row[1], row[2], int(row[3]), int(row[4])) for row in rows]


#: Incidents per page, as in SQLite: the queries cost little beside the decoding, and memory stays flat.
PAGE = 500

_WHERE = "seq > %(after)s AND opened_at >= %(since)s AND opened_at < %(until)s {closed}"
_PAGE_END_SQL = f"SELECT max(seq) FROM (SELECT seq FROM incidents WHERE {_WHERE} ORDER BY seq LIMIT %(limit)s) AS page"
_PAGE_SQL = f"""
SELECT incidents.seq, incidents.final, incidents.body, events.seq, events.incident_id, events.at, events.kind,
       events.actor, events.playbook_digest, events.command, events.history
FROM incidents LEFT JOIN events ON events.incident_id = incidents.id
WHERE incidents.seq <= %(upto)s AND {_WHERE.replace("seq >", "incidents.seq >")}
ORDER BY incidents.seq, events.seq
"""
_EARLIEST, _LATEST = "0000", "9999"


def recorded_page(
    db: Connection, since: datetime | None, until: datetime | None, closed_only: bool, after: int
) -> tuple[list[tuple[Any, ...]], int]:
    """The rows of the next page of incidents after the one at ``after`` (its seq), and where the page ended."""
    closed = "AND final" if closed_only else ""
    values = {
        "after": after,
        "since": _EARLIEST if since is None else moment(since),
        "until": _LATEST if until is None else moment(until),
        "limit": PAGE,
    }
    end = db.execute(_PAGE_END_SQL.format(closed=closed), values).fetchone()
    upto = None if end is None else end[0]
    if upto is None:
        return [], after
    rows = db.execute(_PAGE_SQL.format(closed=closed), {**values, "upto": upto}).fetchall()
    return rows, int(upto)


def grouped(rows: list[tuple[Any, ...]]) -> Iterator[RecordedIncident]:
    """The incidents of a page's rows (an incident's first row, then one per event), in order."""
    current: int | None = None
    final = False
    body: Any = None
    events: list[Event] = []
    for row in rows:
        if row[0] != current:
            if current is not None:
                yield RecordedIncident(decode_incident(body), final, tuple(events))
            current, final, body, events = row[0], bool(row[1]), row[2], []
        if row[3] is not None:
            events.append(Event(row[3], row[4], parse_moment(row[5]), row[6], row[7], row[8], row[9], row[10]))
    if current is not None:
        yield RecordedIncident(decode_incident(body), final, tuple(events))
