"""Who may do what, in PostgreSQL: API tokens and desk sessions (kept by their hashes only) with the one-time
sign-in codes, and the playbook versions incidents run under (by digest)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from engine.store._codec import moment, parse_moment, parse_optional_moment
from engine.store._records import DeskSession, PlaybookRecord, TokenRecord

__all__ = ["PostgreSQLPlaybooks", "PostgreSQLSessions", "PostgreSQLTokens", "playbook", "session", "token"]

Connection = psycopg.Connection[Any]


class PostgreSQLTokens:
    """Tokens, inside one transaction (see :class:`engine.store.TokenRepository`)."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def add(self, record: TokenRecord) -> None:
        self._db.execute(
            "INSERT INTO tokens (hash, person, created_at, expires_at, revoked_at, label, scope) "
            "VALUES (%s, %s, %s, %s, NULL, %s, %s)",
            (
                record.hash,
                record.person,
                moment(record.created_at),
                None if record.expires_at is None else moment(record.expires_at),
                record.label,
                record.scope,
            ),
        )

    def revoke(self, person: str, at: datetime) -> int:
        done = self._db.execute(
            "UPDATE tokens SET revoked_at = %s WHERE person = %s AND revoked_at IS NULL", (moment(at), person)
        )
        return done.rowcount


class PostgreSQLSessions:
    """Desk sessions, inside one transaction (see :class:`engine.store.SessionRepository`)."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def add(self, session: DeskSession) -> None:
        self._db.execute(
            "INSERT INTO desk_sessions (id_hash, person, csrf, expires_at) VALUES (%s, %s, %s, %s)",
            (session.id_hash, session.person, session.csrf, moment(session.expires_at)),
        )

    def end(self, id_hash: str) -> None:
        self._db.execute("DELETE FROM desk_sessions WHERE id_hash = %s", (id_hash,))

    def end_all_of(self, person: str) -> int:
        self._db.execute("DELETE FROM desk_links WHERE person = %s", (person,))
        return self._db.execute("DELETE FROM desk_sessions WHERE person = %s", (person,)).rowcount

    def forget_expired(self, now: datetime) -> int:
        self._db.execute("DELETE FROM desk_links WHERE expires_at <= %s", (moment(now),))
        return self._db.execute("DELETE FROM desk_sessions WHERE expires_at <= %s", (moment(now),)).rowcount

    def add_link(self, code_hash: str, person: str, expires_at: datetime) -> None:
        self._db.execute(
            "INSERT INTO desk_links (code_hash, person, expires_at) VALUES (%s, %s, %s)",
            (code_hash, person, moment(expires_at)),
        )

    def spend_link(self, code_hash: str, now: datetime) -> str | None:
        # Deleted whether it is still good or not: a code is tried once. Two daemons spending one code at once:
        # the second's DELETE waits for the first and then finds nothing.
        row = self._db.execute(
            "DELETE FROM desk_links WHERE code_hash = %s RETURNING person, expires_at", (code_hash,)
        ).fetchone()
        if row is None or parse_moment(row[1]) <= now:
            return None
        person: str = row[0]
        return person


class PostgreSQLPlaybooks:
    """Playbook versions, inside one transaction (see :class:`engine.store.PlaybookRepository`)."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def save(self, record: PlaybookRecord, at: datetime) -> None:
        self._db.execute(
            "INSERT INTO playbooks (digest, id, version, source, path, loaded_at) VALUES (%s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (digest) DO NOTHING",
            (record.digest, record.id, record.version, record.source, record.path, moment(at)),
        )


def token(db: Connection, token_hash: str) -> TokenRecord | None:
    row = db.execute(
        "SELECT hash, person, created_at, expires_at, revoked_at, label, scope FROM tokens WHERE hash = %s",
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


def session(db: Connection, id_hash: str) -> DeskSession | None:
    row = db.execute(
        "SELECT id_hash, person, csrf, expires_at FROM desk_sessions WHERE id_hash = %s", (id_hash,)
    ).fetchone()
    return None if row is None else DeskSession(row[0], row[1], row[2], parse_moment(row[3]))


def playbook(db: Connection, digest: str) -> PlaybookRecord | None:
    row = db.execute("SELECT digest, id, version, source, path FROM playbooks WHERE digest = %s", (digest,)).fetchone()
    return None if row is None else PlaybookRecord(row[0], row[1], row[2], row[3], row[4])
