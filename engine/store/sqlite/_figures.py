"""Figures over the whole SQLite store, for readiness, logs and ``/metrics``: counts and tallies, kept by triggers
as rows change, so reading them costs the same at 10,000 open incidents and at 1,000,000."""

from __future__ import annotations

import sqlite3

from engine.store._records import Tally

__all__ = ["counts", "tallies"]


_FIGURES = (
    "incidents",
    "open_incidents",
    "pending_deadlines",
    "outbox_pending",
    "deliveries_pending",
    "deliveries_dead",
)


def counts(db: sqlite3.Connection) -> dict[str, int]:
    """The kept figures (see migration 10): one short read, whatever the store holds."""
    kept = dict(db.execute("SELECT name, value FROM figures").fetchall())
    return {name: int(kept.get(name, 0)) for name in _FIGURES}


def tallies(db: sqlite3.Connection) -> list[Tally]:
    rows = db.execute(
        "SELECT playbook, state, severity, SUM(incidents), SUM(breached) FROM tallies "
        "GROUP BY playbook, state, severity HAVING SUM(incidents) > 0"
    ).fetchall()
    return [Tally(row[0], row[1], row[2], int(row[3]), int(row[4] or 0)) for row in rows]
