"""Incidents with their whole logs, a page at a time: what reports and exports read (see
:meth:`engine.store.IncidentViews.recorded`)."""

from __future__ import annotations

import functools
import json
import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from engine.store._codec import decode_incident, moment
from engine.store._records import Event, RecordedIncident

__all__ = ["PAGE", "RecordedRange", "grouped", "read_range", "recorded_page", "recorded_ranges"]

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

#: How many incidents the next page holds, and where it ends: one walk of the index on seq.
_RANGE_SQL = f"SELECT count(*), max(seq) FROM (SELECT seq FROM incidents WHERE {_WHERE} ORDER BY seq LIMIT :limit)"


@dataclass(frozen=True, slots=True)
class RecordedRange:
    """One page of :meth:`~engine.store.IncidentViews.recorded` named by where it lies (the incidents with seq
    after ``after`` up to ``upto`` in the period), not by its rows: small to send to another process, which reads
    the rows itself (:func:`read_range`)."""

    database: str
    since: str
    until: str
    closed_only: bool
    after: int
    upto: int

    def values(self) -> dict[str, Any]:
        return {"after": self.after, "upto": self.upto, "since": self.since, "until": self.until, "limit": PAGE}


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


def recorded_ranges(
    db: sqlite3.Connection, database: Path, since: datetime | None, until: datetime | None, closed_only: bool
) -> Iterator[tuple[RecordedRange, int]]:
    """The pages of the period as ranges, each with how many incidents it holds. The rows are read when each range
    is (:func:`read_range`), so a page the caller has not reached yet may hold changes made meanwhile, as a page of
    :meth:`~engine.store.IncidentViews.recorded` would."""
    closed = "AND final = 1" if closed_only else ""
    first, last = _EARLIEST if since is None else moment(since), _LATEST if until is None else moment(until)
    after = 0
    while True:
        values = {"after": after, "since": first, "until": last, "limit": PAGE}
        count, upto = db.execute(_RANGE_SQL.format(closed=closed), values).fetchone()
        if not count:
            return
        yield RecordedRange(str(database), first, last, closed_only, after, upto), count
        if count < PAGE:
            return
        after = upto


# A range read in the worker takes its incidents' records and their events apart, so a record's text is not repeated
# on each of its events' rows, in one read transaction, so the two agree.
_RANGE_INCIDENTS_SQL = f"SELECT seq, final, body FROM incidents WHERE seq <= :upto AND {_WHERE} ORDER BY seq"
_RANGE_EVENTS_SQL = f"""
SELECT incidents.seq, events.seq, events.incident_id, events.at, events.kind, events.actor, events.playbook_digest,
       events.command, events.history
FROM incidents JOIN events ON events.incident_id = incidents.id
WHERE incidents.seq <= :upto AND {_WHERE.replace("seq >", "incidents.seq >")}
ORDER BY incidents.seq, events.seq
"""


@functools.cache
def _reader(database: str, process: int) -> sqlite3.Connection:
    """One read-only connection per database for this process, kept while it lives (a worker reads many pages).
    Named by the process too: a connection must not be used across a fork, so a worker forked from a process that
    read a range opens its own."""
    uri = f"{Path(database).resolve().as_uri()}?mode=ro"
    return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)


def read_range(page: RecordedRange) -> Iterator[RecordedIncident]:
    """The incidents of one range, read from the database here and decoded (in the process that replays them)."""
    closed = "AND final = 1" if page.closed_only else ""
    db = _reader(page.database, os.getpid())
    db.execute("BEGIN")
    try:
        records = db.execute(_RANGE_INCIDENTS_SQL.format(closed=closed), page.values()).fetchall()
        logged = db.execute(_RANGE_EVENTS_SQL.format(closed=closed), page.values()).fetchall()
    finally:
        db.execute("COMMIT")
    return _joined(records, logged)


def _joined(records: list[tuple[Any, ...]], logged: list[tuple[Any, ...]]) -> Iterator[RecordedIncident]:
    at = 0
    for seq, final, body in records:
        mine = []
        while at < len(logged) and logged[at][0] == seq:
            mine.append(logged[at][1:])
            at += 1
        yield _incident(final, body, mine)


def grouped(rows: list[tuple[Any, ...]]) -> Iterator[RecordedIncident]:
    """The incidents of a page's rows (an incident's first row, then one per event), in order."""
    current: int | None = None
    final, body = False, ""
    mine: list[tuple[Any, ...]] = []
    for row in rows:
        if row[0] != current:
            if current is not None:
                yield _incident(final, body, mine)
            current, final, body, mine = row[0], row[1], row[2], []
        if row[3] is not None:  # an incident with no event yet (never, as the service writes them) has none
            mine.append(row[3:])
    if current is not None:
        yield _incident(final, body, mine)


_DECODER = msgspec.json.Decoder()


def _decoded(text: str) -> list[Any]:
    """The JSON text read by msgspec, twice as quick as :mod:`json` and with the same result; by :mod:`json` where
    msgspec refuses what json reads (an escaped lone surrogate, NaN, a number past a float's range)."""
    try:
        decoded: list[Any] = _DECODER.decode(text)
    except msgspec.DecodeError:
        decoded = json.loads(text)
    return decoded


def _incident(final: Any, body: str, logged: list[tuple[Any, ...]]) -> RecordedIncident:
    """One incident from its record and its events' columns (seq, incident, at, kind, actor, digest, command,
    history). The record and every event's command and history are one JSON text, decoded in one call: the
    decoder's call and its keys' memo are paid once for all of them, not twice an event."""
    parts = [body]
    for row in logged:
        parts.append(row[6])
        parts.append(row[7])
    decoded = _decoded("[" + ",".join(parts) + "]")
    if len(decoded) != len(parts):  # a hand-edited row holding more than one value: read it as it was written
        decoded = [json.loads(part) for part in parts]
    moment_of = datetime.fromisoformat  # reads the stored "Z" itself since Python 3.11
    events = tuple(
        Event(row[0], row[1], moment_of(row[2]), row[3], row[4], row[5], decoded[2 * i + 1], decoded[2 * i + 2])
        for i, row in enumerate(logged)
    )
    return RecordedIncident(decode_incident(decoded[0]), bool(final), events)
