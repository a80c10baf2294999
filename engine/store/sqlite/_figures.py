"""Figures over the whole SQLite store, for readiness, logs and ``/metrics``: counts and tallies."""

from __future__ import annotations

import sqlite3

from engine.store._records import Tally

__all__ = ["counts", "tallies"]


def counts(db: sqlite3.Connection) -> dict[str, int]:
    row = db.execute(
        "SELECT (SELECT COUNT(*) FROM incidents), (SELECT COUNT(*) FROM incidents WHERE final = 0), "
        "(SELECT COUNT(*) FROM deadlines WHERE done_at IS NULL), "
        "(SELECT COUNT(*) FROM outbox WHERE state = 'pending'), "
        "(SELECT COUNT(*) FROM deliveries WHERE state = 'pending'), "
        "(SELECT COUNT(*) FROM deliveries WHERE state = 'dead')"
    ).fetchone()
    return {
        "incidents": row[0],
        "open_incidents": row[1],
        "pending_deadlines": row[2],
        "outbox_pending": row[3],
        "deliveries_pending": row[4],
        "deliveries_dead": row[5],
    }


def tallies(db: sqlite3.Connection) -> list[Tally]:
    rows = db.execute(
        "SELECT playbook, state, severity, COUNT(*), SUM(breached) FROM incidents GROUP BY playbook, state, severity"
    ).fetchall()
    return [Tally(row[0], row[1], row[2], int(row[3]), int(row[4] or 0)) for row in rows]
