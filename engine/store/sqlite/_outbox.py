"""The outbox in SQLite: notifications written with their incident's change, routed to their destinations, and
each delivery's attempts until it is delivered or given up on."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from engine.store._codec import canonical_json, moment, parse_moment, parse_optional_moment
from engine.store._records import Delivery, DeliveryState, OutboxRow

__all__ = ["SQLiteOutbox", "deliveries", "due_deliveries", "earliest_delivery", "outbox_rows"]

#: The longest error text a delivery keeps: enough to tell what went wrong, not a whole error page.
_ERROR_LENGTH = 2000


class SQLiteOutbox:
    """Notifications and their deliveries, inside one transaction (see :class:`engine.store.OutboxRepository`).

    The states written are those :class:`engine.store.OutboxState` and :class:`engine.store.DeliveryState` name,
    spelled out in the SQL: SQLite uses a partial index (``WHERE state = 'pending'``) only for a literal.
    """

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def enqueue(self, key: str, incident_id: str, at: datetime, body: Mapping[str, Any]) -> bool:
        added = self._db.execute(
            "INSERT INTO outbox (key, incident_id, created_at, body, next_attempt_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO NOTHING",
            (key, incident_id, moment(at), canonical_json(body), moment(at)),
        )
        return added.rowcount == 1

    def route(self, outbox_key: str, destinations: Sequence[tuple[str, str]], at: datetime) -> None:
        for destination, channel in destinations:
            self._db.execute(
                "INSERT INTO deliveries (outbox_key, destination, channel, next_attempt_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (outbox_key, destination) DO NOTHING",
                (outbox_key, destination, channel, moment(at)),
            )
        self._db.execute("UPDATE outbox SET state = 'routed' WHERE key = ?", (outbox_key,))

    def claim(self, now: datetime, limit: int, lease: timedelta, leased_at: datetime | None = None) -> list[Delivery]:
        # One daemon holds the data folder: what is due is its own to send, and no lease is needed.
        return due_deliveries(self._db, now, limit)

    def delivered(self, outbox_key: str, destination: str, at: datetime) -> None:
        self._db.execute(
            "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, "
            "last_error = NULL WHERE outbox_key = ? AND destination = ? AND state = 'pending'",
            (moment(at), outbox_key, destination),
        )

    def failed(self, outbox_key: str, destination: str, error: str, retry_at: datetime | None, at: datetime) -> None:
        state = DeliveryState.PENDING if retry_at is not None else DeliveryState.DEAD
        self._db.execute(
            "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, state = ?, next_attempt_at = ? "
            "WHERE outbox_key = ? AND destination = ? AND state = 'pending'",
            (
                error[:_ERROR_LENGTH],
                state.value,
                moment(retry_at if retry_at is not None else at),
                outbox_key,
                destination,
            ),
        )

    def retry_dead(self, outbox_key: str | None, at: datetime) -> int:
        condition = "state = 'dead'" + (" AND outbox_key = ?" if outbox_key is not None else "")
        values: tuple[Any, ...] = (moment(at),) + ((outbox_key,) if outbox_key is not None else ())
        # Due at the earlier of ``at`` and when it died: `calmly outbox retry` passes the wall clock, and a daemon on
        # a simulated clock behind it must still see the delivery due at once.
        done = self._db.execute(
            "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = MIN(next_attempt_at, ?) "
            f"WHERE {condition}",
            values,
        )
        return done.rowcount


def outbox_rows(db: sqlite3.Connection, state: str | None, limit: int) -> list[OutboxRow]:
    query = "SELECT key, incident_id, created_at, body, state, attempts FROM outbox"
    values: tuple[Any, ...] = ()
    if state is not None:
        query += " WHERE state = ?"
        values = (state,)
    rows = db.execute(query + " ORDER BY created_at, key LIMIT ?", (*values, limit)).fetchall()
    return [OutboxRow(row[0], row[1], parse_moment(row[2]), json.loads(row[3]), row[4], row[5]) for row in rows]


def deliveries(db: sqlite3.Connection, state: str | None, limit: int) -> list[Delivery]:
    if state is None:
        return _deliveries(db, "1 = 1", (), limit)
    return _deliveries(db, "d.state = ?", (state,), limit)


def deliveries_of(db: sqlite3.Connection, incident_id: str) -> list[Delivery]:
    #: An incident's notifications are few (a handful of escalation steps); no page of them is needed.
    return _deliveries(db, "o.incident_id = ?", (incident_id,), 10_000)


def due_deliveries(db: sqlite3.Connection, now: datetime, limit: int) -> list[Delivery]:
    return _deliveries(db, "d.state = 'pending' AND d.next_attempt_at <= ?", (moment(now),), limit)


def earliest_delivery(db: sqlite3.Connection) -> datetime | None:
    row = db.execute("SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'").fetchone()
    return parse_optional_moment(row[0])


def _deliveries(db: sqlite3.Connection, condition: str, values: tuple[Any, ...], limit: int) -> list[Delivery]:
    query = (
        "SELECT d.outbox_key, d.destination, d.channel, d.state, d.attempts, d.next_attempt_at, d.last_error, "
        "d.delivered_at, o.incident_id, o.body FROM deliveries d JOIN outbox o ON o.key = d.outbox_key "
        f"WHERE {condition} ORDER BY d.next_attempt_at, d.outbox_key, d.destination LIMIT ?"
    )
    rows = db.execute(query, (*values, limit)).fetchall()
    return [
        Delivery(
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            parse_moment(row[5]),
            row[6],
            parse_optional_moment(row[7]),
            row[8],
            json.loads(row[9]),
        )
        for row in rows
    ]
