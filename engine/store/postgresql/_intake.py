"""Intake in PostgreSQL: each mention received (what became of it, the body the listening tool sent) and the
receipts of signed requests, so a replay is refused.

Several daemons may take the same post at once (two listening tools, a retry sent to another daemon). A mention's
key and its link are locked by name before they are looked up, so the second daemon waits for the first to commit
and then finds the mention recorded (a duplicate) instead of opening a second incident; the primary key and the
unique index on links stay the last word.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg

from engine.store._codec import canonical_json, moment, parse_moment
from engine.store._records import MentionBody, MentionRecord
from engine.store.postgresql._incidents import lock_names

__all__ = ["PostgreSQLMentions", "PostgreSQLReceipts", "latest_mentions", "mention", "mentions_of"]

Connection = psycopg.Connection[Any]


class PostgreSQLMentions:
    """Mentions received, inside one transaction (see :class:`engine.store.MentionRepository`)."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def get(self, channel: str, external_id: str) -> MentionRecord | None:
        lock_names(self._db, f"mention\x1f{channel}\x1f{external_id}")
        return mention(self._db, channel, external_id)

    def by_url(self, url_key: str) -> MentionRecord | None:
        lock_names(self._db, f"link\x1f{url_key}")
        row = self._db.execute(
            "SELECT channel, external_id, outcome, incident_id, received_at FROM mentions WHERE url_key = %s",
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
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (channel, external_id, str(outcome), incident_id, moment(at), canonical_json(body), url_key, source),
        )


class PostgreSQLReceipts:
    """Receipts, inside one transaction (see :class:`engine.store.ReceiptRepository`)."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def take(self, webhook_id: str, at: datetime, forget_before: datetime) -> bool:
        self._db.execute("DELETE FROM intake_receipts WHERE seen_at < %s", (moment(forget_before),))
        taken = self._db.execute(
            "INSERT INTO intake_receipts (webhook_id, seen_at) VALUES (%s, %s) ON CONFLICT (webhook_id) DO NOTHING",
            (webhook_id, moment(at)),
        )
        return taken.rowcount == 1


def mention(db: Connection, channel: str, external_id: str) -> MentionRecord | None:
    row = db.execute(
        "SELECT outcome, incident_id, received_at FROM mentions WHERE channel = %s AND external_id = %s",
        (channel, external_id),
    ).fetchone()
    if row is None:
        return None
    return MentionRecord(channel, external_id, row[0], row[1], parse_moment(row[2]))


def latest_mentions(db: Connection, incident_ids: Sequence[str]) -> dict[str, MentionBody]:
    if not incident_ids:
        return {}
    rows = db.execute(
        "SELECT DISTINCT ON (incident_id) incident_id, channel, external_id, outcome, received_at, body "
        "FROM mentions WHERE incident_id = ANY(%s) ORDER BY incident_id, received_at DESC, seq DESC",
        (list(incident_ids),),
    ).fetchall()
    return {row[0]: MentionBody(row[1], row[2], row[3], parse_moment(row[4]), row[5]) for row in rows}


def mentions_of(db: Connection, incident_id: str) -> list[MentionBody]:
    rows = db.execute(
        "SELECT channel, external_id, outcome, received_at, body FROM mentions WHERE incident_id = %s "
        "ORDER BY received_at, seq",
        (incident_id,),
    ).fetchall()
    return [MentionBody(row[0], row[1], row[2], parse_moment(row[3]), row[4]) for row in rows]
