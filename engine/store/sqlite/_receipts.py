"""Intake receipts in SQLite: the ``webhook-id`` of each signed request taken lately, so a replay is refused."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from engine.store._codec import moment

__all__ = ["SQLiteReceipts"]


class SQLiteReceipts:
    """Receipts, inside one transaction (see :class:`engine.store.ReceiptRepository`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def take(self, webhook_id: str, at: datetime, forget_before: datetime) -> bool:
        self._db.execute("DELETE FROM intake_receipts WHERE seen_at < ?", (moment(forget_before),))
        taken = self._db.execute(
            "INSERT INTO intake_receipts (webhook_id, seen_at) VALUES (?, ?) ON CONFLICT (webhook_id) DO NOTHING",
            (webhook_id, moment(at)),
        )
        return taken.rowcount == 1
