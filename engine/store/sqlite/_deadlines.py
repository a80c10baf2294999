"""Deadlines in SQLite: armed, cancelled and completed with their incident's change, and found when due."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from engine.store._codec import moment, parse_moment, parse_optional_moment
from engine.store._records import DueDeadline

__all__ = ["SQLiteDeadlines", "due", "earliest_due", "pending_of"]

_PENDING = "SELECT key, incident_id, clock, due_at FROM deadlines WHERE done_at IS NULL"


class SQLiteDeadlines:
    """Pending deadlines, inside one transaction (see :class:`engine.store.DeadlineRepository`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def claim(self, now: datetime, limit: int) -> list[DueDeadline]:
        # Read inside BEGIN IMMEDIATE: the write lock this unit of work holds keeps every other writer out.
        return due(self._db, now, limit)

    def arm(self, key: str, incident_id: str, clock: str, due_at: datetime) -> None:
        self._db.execute(
            "INSERT INTO deadlines (key, incident_id, clock, due_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at WHERE deadlines.done_at IS NULL",
            (key, incident_id, clock, moment(due_at)),
        )

    def cancel(self, key: str) -> None:
        self._db.execute("DELETE FROM deadlines WHERE key = ? AND done_at IS NULL", (key,))

    def complete(self, key: str, at: datetime) -> bool:
        done = self._db.execute("UPDATE deadlines SET done_at = ? WHERE key = ? AND done_at IS NULL", (moment(at), key))
        return done.rowcount == 1


def _deadline(row: sqlite3.Row) -> DueDeadline:
    return DueDeadline(row[0], row[1], row[2], parse_moment(row[3]))


def pending_of(db: sqlite3.Connection, incident_id: str) -> list[DueDeadline]:
    rows = db.execute(f"{_PENDING} AND incident_id = ? ORDER BY due_at", (incident_id,)).fetchall()
    return [_deadline(row) for row in rows]


def due(db: sqlite3.Connection, now: datetime, limit: int) -> list[DueDeadline]:
    # Ties in key order: every run over the same store fires deadlines due together in the same order.
    rows = db.execute(f"{_PENDING} AND due_at <= ? ORDER BY due_at, key LIMIT ?", (moment(now), limit)).fetchall()
    return [_deadline(row) for row in rows]


def earliest_due(db: sqlite3.Connection) -> datetime | None:
    row = db.execute("SELECT MIN(due_at) FROM deadlines WHERE done_at IS NULL").fetchone()
    return parse_optional_moment(row[0])
