"""Playbook versions in SQLite: the exact source of each version an incident was opened under, by digest."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from engine.store._codec import moment
from engine.store._records import PlaybookRecord

__all__ = ["SQLitePlaybooks", "playbook"]


class SQLitePlaybooks:
    """Playbook versions, inside one transaction (see :class:`engine.store.PlaybookRepository`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def save(self, record: PlaybookRecord, at: datetime) -> None:
        self._db.execute(
            "INSERT INTO playbooks (digest, id, version, source, path, loaded_at) VALUES (?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (digest) DO NOTHING",
            (record.digest, record.id, record.version, record.source, record.path, moment(at)),
        )


def playbook(db: sqlite3.Connection, digest: str) -> PlaybookRecord | None:
    row = db.execute("SELECT digest, id, version, source, path FROM playbooks WHERE digest = ?", (digest,)).fetchone()
    return None if row is None else PlaybookRecord(row[0], row[1], row[2], row[3], row[4])
