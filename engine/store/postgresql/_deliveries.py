"""Deadlines and the outbox in PostgreSQL: armed, cancelled and completed with their incident's change; claimed
when due by one daemon among several, each claim skipping the rows another holds.

Two kinds of claim, for two kinds of work:

- A due deadline is fired in the same transaction that claims it, so its claim is the row lock itself
  (``FOR UPDATE … SKIP LOCKED``, its incident's row locked with it): it ends with the transaction, and a daemon
  that dies takes it along (the server rolls back what its lost connection held; one that hangs is cut off after
  the connection's ``idle_in_transaction_session_timeout``). A lease written inside that transaction would be
  seen by nobody before the deadline is done.
- A delivery is sent outside any transaction (a webhook may take seconds), so its claim is written and committed: a
  lease (``claimed_until``) that other daemons respect until it runs out, when a delivery whose daemon died is
  taken over. Recording the outcome ends the lease.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg

from engine.store._codec import canonical_json, moment, parse_moment, parse_optional_moment
from engine.store._records import Delivery, DeliveryState, DueDeadline, OutboxRow

__all__ = [
    "PostgreSQLDeadlines",
    "PostgreSQLOutbox",
    "deliveries",
    "deliveries_of",
    "due",
    "due_deliveries",
    "earliest_delivery",
    "earliest_due",
    "outbox_rows",
    "pending_of",
]

Connection = psycopg.Connection[Any]

_PENDING = "SELECT key, incident_id, clock, due_at FROM deadlines WHERE done_at IS NULL"
_ERROR_LENGTH = 2000


class PostgreSQLDeadlines:
    """Pending deadlines, inside one transaction (see :class:`engine.store.DeadlineRepository`)."""

    def __init__(self, db: Connection) -> None:
        self._db = db
        self.earliest_armed: datetime | None = None  # hinted to the other daemons at commit

    def claim(self, now: datetime, limit: int) -> list[DueDeadline]:
        # The incident is locked with its deadline: the batch steps it next, and a deadline whose incident another
        # unit of work holds (an action, a mention joining) waits for the next round instead of blocking this one.
        rows = self._db.execute(
            "SELECT d.key, d.incident_id, d.clock, d.due_at FROM deadlines d JOIN incidents i ON i.id = d.incident_id "
            "WHERE d.done_at IS NULL AND d.due_at <= %s ORDER BY d.due_at, d.key LIMIT %s "
            "FOR UPDATE OF d, i SKIP LOCKED",
            (moment(now), limit),
        ).fetchall()
        return [_deadline(row) for row in rows]

    def arm(self, key: str, incident_id: str, clock: str, due_at: datetime) -> None:
        self._db.execute(
            "INSERT INTO deadlines (key, incident_id, clock, due_at) VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at WHERE deadlines.done_at IS NULL",
            (key, incident_id, clock, moment(due_at)),
        )
        if self.earliest_armed is None or due_at < self.earliest_armed:
            self.earliest_armed = due_at

    def cancel(self, key: str) -> None:
        self._db.execute("DELETE FROM deadlines WHERE key = %s AND done_at IS NULL", (key,))

    def complete(self, key: str, at: datetime) -> bool:
        done = self._db.execute(
            "UPDATE deadlines SET done_at = %s WHERE key = %s AND done_at IS NULL", (moment(at), key)
        )
        return done.rowcount == 1


class PostgreSQLOutbox:
    """Notifications and their deliveries, inside one transaction (see :class:`engine.store.OutboxRepository`)."""

    def __init__(self, db: Connection) -> None:
        self._db = db
        self.added = False  # a notification was added: hinted to the other daemons (their couriers) at commit

    def enqueue(self, key: str, incident_id: str, at: datetime, body: Mapping[str, Any]) -> bool:
        added = self._db.execute(
            "INSERT INTO outbox (key, incident_id, created_at, body, next_attempt_at) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (key) DO NOTHING",
            (key, incident_id, moment(at), canonical_json(body), moment(at)),
        )
        self.added = self.added or added.rowcount == 1
        return added.rowcount == 1

    def route(self, outbox_key: str, destinations: Sequence[tuple[str, str]], at: datetime) -> None:
        if destinations:
            with self._db.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO deliveries (outbox_key, destination, channel, next_attempt_at) "
                    "VALUES (%s, %s, %s, %s) ON CONFLICT (outbox_key, destination) DO NOTHING",
                    [(outbox_key, destination, channel, moment(at)) for destination, channel in destinations],
                )
        self._db.execute("UPDATE outbox SET state = 'routed' WHERE key = %s", (outbox_key,))

    def claim(self, now: datetime, limit: int, lease: timedelta, leased_at: datetime | None = None) -> list[Delivery]:
        # Skips what another daemon is sending (its lease runs) or is claiming right now (its row is locked).
        held = leased_at if leased_at is not None else now
        rows = self._db.execute(
            "WITH due AS (SELECT outbox_key, destination FROM deliveries WHERE state = 'pending' "
            "AND next_attempt_at <= %(now)s AND (claimed_until IS NULL OR claimed_until <= %(held)s) "
            "ORDER BY next_attempt_at, outbox_key, destination LIMIT %(limit)s FOR UPDATE SKIP LOCKED), "
            "claimed AS (UPDATE deliveries d SET claimed_until = %(until)s FROM due "
            "WHERE d.outbox_key = due.outbox_key AND d.destination = due.destination RETURNING d.*) "
            f"SELECT {_DELIVERY_COLUMNS} FROM claimed d JOIN outbox o ON o.key = d.outbox_key "
            "ORDER BY d.next_attempt_at, d.outbox_key, d.destination",
            {"now": moment(now), "held": moment(held), "until": moment(held + lease), "limit": limit},
        ).fetchall()
        return [_delivery(row) for row in rows]

    def delivered(self, outbox_key: str, destination: str, at: datetime) -> None:
        self._db.execute(
            "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = %s, "
            "last_error = NULL, claimed_until = NULL WHERE outbox_key = %s AND destination = %s AND state = 'pending'",
            (moment(at), outbox_key, destination),
        )

    def failed(self, outbox_key: str, destination: str, error: str, retry_at: datetime | None, at: datetime) -> None:
        state = DeliveryState.PENDING if retry_at is not None else DeliveryState.DEAD
        self._db.execute(
            "UPDATE deliveries SET attempts = attempts + 1, last_error = %s, state = %s, next_attempt_at = %s, "
            "claimed_until = NULL WHERE outbox_key = %s AND destination = %s AND state = 'pending'",
            (
                error[:_ERROR_LENGTH],
                state.value,
                moment(retry_at if retry_at is not None else at),
                outbox_key,
                destination,
            ),
        )

    def retry_dead(self, outbox_key: str | None, at: datetime) -> int:
        condition = "state = 'dead'" + (" AND outbox_key = %s" if outbox_key is not None else "")
        values: tuple[Any, ...] = (moment(at),) + ((outbox_key,) if outbox_key is not None else ())
        # Due at the earlier of ``at`` and when it died, as in SQLite: a daemon on a simulated clock sees it due.
        done = self._db.execute(
            "UPDATE deliveries SET state = 'pending', attempts = 0, claimed_until = NULL, "
            f"next_attempt_at = LEAST(next_attempt_at, %s) WHERE {condition}",
            values,
        )
        return done.rowcount


def _deadline(row: tuple[Any, ...]) -> DueDeadline:
    return DueDeadline(row[0], row[1], row[2], parse_moment(row[3]))


def pending_of(db: Connection, incident_id: str) -> list[DueDeadline]:
    rows = db.execute(f"{_PENDING} AND incident_id = %s ORDER BY due_at", (incident_id,)).fetchall()
    return [_deadline(row) for row in rows]


def due(db: Connection, now: datetime, limit: int) -> list[DueDeadline]:
    rows = db.execute(f"{_PENDING} AND due_at <= %s ORDER BY due_at, key LIMIT %s", (moment(now), limit)).fetchall()
    return [_deadline(row) for row in rows]


def earliest_due(db: Connection) -> datetime | None:
    row = db.execute("SELECT MIN(due_at) FROM deadlines WHERE done_at IS NULL").fetchone()
    return None if row is None else parse_optional_moment(row[0])


def outbox_rows(db: Connection, state: str | None, limit: int) -> list[OutboxRow]:
    query = "SELECT key, incident_id, created_at, body, state, attempts FROM outbox"
    values: tuple[Any, ...] = ()
    if state is not None:
        query += " WHERE state = %s"
        values = (state,)
    rows = db.execute(query + " ORDER BY created_at, key LIMIT %s", (*values, limit)).fetchall()
    return [OutboxRow(row[0], row[1], parse_moment(row[2]), row[3], row[4], row[5]) for row in rows]


def deliveries(db: Connection, state: str | None, limit: int) -> list[Delivery]:
    if state is None:
        return _deliveries(db, "TRUE", (), limit)
    return _deliveries(db, "d.state = %s", (state,), limit)


def deliveries_of(db: Connection, incident_id: str) -> list[Delivery]:
    return _deliveries(db, "o.incident_id = %s", (incident_id,), 10_000)


def due_deliveries(db: Connection, now: datetime, limit: int) -> list[Delivery]:
    return _deliveries(db, "d.state = 'pending' AND d.next_attempt_at <= %s", (moment(now),), limit)


def earliest_delivery(db: Connection) -> datetime | None:
    row = db.execute("SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'").fetchone()
    return None if row is None else parse_optional_moment(row[0])


_DELIVERY_COLUMNS = (
    "d.outbox_key, d.destination, d.channel, d.state, d.attempts, d.next_attempt_at, d.last_error, "
    "d.delivered_at, o.incident_id, o.body"
)


def _delivery(row: tuple[Any, ...]) -> Delivery:
    at, error, delivered_at = parse_moment(row[5]), row[6], parse_optional_moment(row[7])
    return Delivery(row[0], row[1], row[2], row[3], row[4], at, error, delivered_at, row[8], row[9])


def _deliveries(db: Connection, condition: str, values: tuple[Any, ...], limit: int) -> list[Delivery]:
    query = (
        f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN outbox o ON o.key = d.outbox_key "
        f"WHERE {condition} ORDER BY d.next_attempt_at, d.outbox_key, d.destination LIMIT %s"
    )
    return [_delivery(row) for row in db.execute(query, (*values, limit)).fetchall()]
