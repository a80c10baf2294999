"""Desk sessions in SQLite: kept by the hash of their cookie only, with their person, form token and expiry; and
the one-time sign-in codes that start them, kept by their hash."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from engine.store._codec import moment, parse_moment
from engine.store._records import DeskSession

__all__ = ["SQLiteSessions", "session"]


class SQLiteSessions:
    """Desk sessions, inside one transaction (see :class:`engine.store.SessionRepository`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def add(self, session: DeskSession) -> None:
        self._db.execute(
            "INSERT INTO desk_sessions (id_hash, person, csrf, expires_at) VALUES (?, ?, ?, ?)",
            (session.id_hash, session.person, session.csrf, moment(session.expires_at)),
        )

    def end(self, id_hash: str) -> None:
        self._db.execute("DELETE FROM desk_sessions WHERE id_hash = ?", (id_hash,))

    def end_all_of(self, person: str) -> int:
        self._db.execute("DELETE FROM desk_links WHERE person = ?", (person,))
        return self._db.execute("DELETE FROM desk_sessions WHERE person = ?", (person,)).rowcount

    def forget_expired(self, now: datetime) -> int:
        self._db.execute("DELETE FROM desk_links WHERE expires_at <= ?", (moment(now),))
        return self._db.execute("DELETE FROM desk_sessions WHERE expires_at <= ?", (moment(now),)).rowcount

    def add_link(self, code_hash: str, person: str, expires_at: datetime) -> None:
        self._db.execute(
            "INSERT INTO desk_links (code_hash, person, expires_at) VALUES (?, ?, ?)",
            (code_hash, person, moment(expires_at)),
        )

    def spend_link(self, code_hash: str, now: datetime) -> str | None:
        # Deleted whether it is still good or not: a code is tried once; an expired one is of no more use.
        row = self._db.execute(
            "DELETE FROM desk_links WHERE code_hash = ? RETURNING person, expires_at", (code_hash,)
        ).fetchone()
        if row is None or parse_moment(row[1]) <= now:
            return None
        person: str = row[0]
        return person


def session(db: sqlite3.Connection, id_hash: str) -> DeskSession | None:
    row = db.execute(
        "SELECT id_hash, person, csrf, expires_at FROM desk_sessions WHERE id_hash = ?", (id_hash,)
    ).fetchone()
    if row is None:
        return None
    return DeskSession(row[0], row[1], row[2], parse_moment(row[3]))
