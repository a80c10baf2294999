"""Mentions in SQLite: each one received, what became of it, and the body the listening tool sent."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.store._codec import canonical_json, moment, parse_moment
from engine.store._records import MentionBody, MentionRecord

__all__ = ["SQLiteMentions", "mention", "mentions_of"]


class SQLiteMentions:
    """Mentions received, inside one transaction (see :class:`engine.store.MentionRepository`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def get(self, channel: str, external_id: str) -> MentionRecord | None:
        return mention(self._db, channel, external_id)

    def by_url(self, url_key: str) -> MentionRecord | None:
        row = self._db.execute(
            "SELECT channel, external_id, outcome, incident_id, received_at FROM mentions WHERE url_key = ?",
            (url_key,),
        ).fetchone()
        return None if row is None else MentionRecord(row[0], row[1], row[2], row[3], parse_moment(row[4]))

    def record(
        self,
        channel: str,
        external_id: str,
        *,
        outcome: str,
        incident_id: str | None,
        body: Mapping[str, Any],
        at: datetime,
        url_key: str | None = None,
        source: str | None = None,
    ) -> None:
        self._db.execute(
            "INSERT INTO mentions (channel, external_id, outcome, incident_id, received_at, body, url_key, source) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (channel, external_id, str(outcome), incident_id, moment(at), canonical_json(body), url_key, source),
        )


def mention(db: sqlite3.Connection, channel: str, external_id: str) -> MentionRecord | None:
    row = db.execute(
        "SELECT outcome, incident_id, received_at FROM mentions WHERE channel = ? AND external_id = ?",
        (channel, external_id),
    ).fetchone()
    if row is None:
        return None
    return MentionRecord(channel, external_id, row[0], row[1], parse_moment(row[2]))


def latest_mentions(db: sqlite3.Connection, incident_ids: Sequence[str]) -> dict[str, MentionBody]:
    if not incident_ids:
        return {}
    marks = ", ".join("?" for _ in incident_ids)
    rows = db.execute(
        "SELECT m.incident_id, m.channel, m.external_id, m.outcome, m.received_at, m.body FROM mentions AS m "
        f"WHERE m.incident_id IN ({marks}) AND m.rowid = (SELECT latest.rowid FROM mentions AS latest "
        "WHERE latest.incident_id = m.incident_id ORDER BY latest.received_at DESC, latest.rowid DESC LIMIT 1)",
        tuple(incident_ids),
    ).fetchall()
    return {row[0]: MentionBody(row[1], row[2], row[3], parse_moment(row[4]), json.loads(row[5])) for row in rows}


def mentions_of(db: sqlite3.Connection, incident_id: str) -> list[MentionBody]:
    rows = db.execute(
        "SELECT channel, external_id, outcome, received_at, body FROM mentions WHERE incident_id = ? "
        "ORDER BY received_at, rowid",
        (incident_id,),
    ).fetchall()
    return [MentionBody(row[0], row[1], row[2], parse_moment(row[3]), json.loads(row[4])) for row in rows]
