"""API tokens in SQLite: kept by their hash only, with their person, scope, expiry and revocation."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from engine.store._codec import moment, parse_moment, parse_optional_moment
from engine.store._records import TokenRecord

__all__ = ["SQLiteTokens", "token"]


class SQLiteTokens:
    """Tokens, inside one transaction (see :class:`engine.store.TokenRepository`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def add(self, record: TokenRecord) -> None:
        self._db.execute(
            "INSERT INTO tokens (hash, person, created_at, expires_at, revoked_at, label, scope) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                record.hash,
                record.person,
                moment(record.created_at),
                None if record.expires_at is None else moment(record.expires_at),
                None,
                record.label,
                record.scope,
            ),
        )

    def revoke(self, person: str, at: datetime) -> int:
        done = self._db.execute(
            "UPDATE tokens SET revoked_at = ? WHERE person = ? AND revoked_at IS NULL", (moment(at), person)
        )
        return done.rowcount


def token(db: sqlite3.Connection, token_hash: str) -> TokenRecord | None:
    row = db.execute(
        "SELECT hash, person, created_at, expires_at, revoked_at, label, scope FROM tokens WHERE hash = ?",
        (token_hash,),
    ).fetchone()
    if row is None:
        return None
    return TokenRecord(
        row[0],
        row[1],
        parse_moment(row[2]),
        parse_optional_moment(row[3]),
        parse_optional_moment(row[4]),
        row[5],
        row[6],
    )
