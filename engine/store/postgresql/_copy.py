"""Moving from SQLite: an SQLite store copied into an empty PostgreSQL store, table by table, in one transaction
whose counts are checked before it commits.

Every row goes over as it is (moments are the same text on both backends, bodies the same JSON), with its sequence
number: events and mentions keep their order, and the identity columns carry on after the last one copied. What
only SQLite keeps (its figures and tallies, kept by triggers) is counted anew in PostgreSQL and not copied.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from engine.errors import StoreError
from engine.store.postgresql._store import PostgreSQLStore

__all__ = ["COPIED_TABLES", "Copied", "copy_sqlite_store"]

#: Each table in the order its references need, with its columns, and what SQLite reads for each where it differs.
COPIED_TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("playbooks", ("digest", "id", "version", "source", "path", "loaded_at")),
    ("counters", ("name", "value")),
    (
        "incidents",
        (
            "id",
            "seq",
            "playbook",
            "playbook_version",
            "playbook_digest",
            "state",
            "severity",
            "channel",
            "author",
            "thread_id",
            "final",
            "breached",
            "waiting_on",
            "revision",
            "opened_at",
            "updated_at",
            "body",
            "owner",
            "next_due",
            "merged_into",
            "muted_until",
            "group_key",
            "grouped_at",
        ),
    ),
    ("events", ("seq", "incident_id", "at", "kind", "actor", "playbook_digest", "command", "history")),
    (
        "mentions",
        ("channel", "external_id", "outcome", "incident_id", "received_at", "body", "url_key", "source", "seq"),
    ),
    ("deadlines", ("key", "incident_id", "clock", "due_at", "done_at")),
    (
        "outbox",
        (
            "key",
            "incident_id",
            "created_at",
            "body",
            "state",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_error",
        ),
    ),
    (
        "deliveries",
        (
            "outbox_key",
            "destination",
            "channel",
            "state",
            "attempts",
            "next_attempt_at",
            "last_error",
            "delivered_at",
        ),
    ),
    ("tokens", ("hash", "person", "created_at", "expires_at", "revoked_at", "label", "scope")),
    ("intake_receipts", ("webhook_id", "seen_at")),
    ("desk_sessions", ("id_hash", "person", "csrf", "expires_at")),
    ("desk_links", ("code_hash", "person", "expires_at")),
)

#: What SQLite reads for a column it spells otherwise: a mention's order is its rowid there.
_SQLITE_SPELLING = {("mentions", "seq"): "rowid"}
#: The identity columns, moved on past the last number copied.
_IDENTITIES = (("events", "seq"), ("mentions", "seq"))
#: SQLite keeps these as 0 and 1.
_BOOLEANS = frozenset({"final", "breached"})


@dataclass(frozen=True, slots=True)
class Copied:
    """One table copied: how many rows the SQLite store held, and how many the PostgreSQL store holds now."""

    table: str
    rows: int
    copied: int


def copy_sqlite_store(
    source: Path, target: PostgreSQLStore, *, on_row: Callable[[str], None] | None = None
) -> list[Copied]:
    """Copy the SQLite database ``source`` (a store migrated to this calmly's schema) into ``target``, which must
    hold no rows yet; every table's count checked in the same transaction, which commits only when all agree.
    ``on_row`` hears of each row copied (by its table), for a progress line."""
    reader = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True)  # a path with ? or # too
    try:
        with target.transaction() as db:
            _refuse_unless_empty(db, target)
            copied = []
            for table, columns in COPIED_TABLES:
                rows = int(reader.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
                # COPY, not INSERT: one stream a table, as fast as the server takes rows in.
                with db.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in _rows(reader, table, columns):
                        copy.write_row(row)
                        if on_row is not None:
                            on_row(table)
                landed = db.execute(f"SELECT count(*) FROM {table}").fetchone()
                copied.append(Copied(table, rows, int(landed[0]) if landed else 0))
            for table, column in _IDENTITIES:
                db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                    f"(SELECT COALESCE(max({column}), 0) + 1 FROM {table}), false)"
                )
            unequal = [item for item in copied if item.rows != item.copied]
            if unequal:
                shown = ", ".join(f"{item.table} {item.copied} of {item.rows}" for item in unequal)
                raise StoreError(f"the copy does not add up ({shown}); nothing was kept in {target.path}")
    finally:
        reader.close()
    return copied


def _rows(reader: sqlite3.Connection, table: str, columns: tuple[str, ...]) -> Iterator[tuple[Any, ...]]:
    read = ", ".join(_SQLITE_SPELLING.get((table, column), column) for column in columns)
    booleans = [index for index, column in enumerate(columns) if column in _BOOLEANS]
    for row in reader.execute(f"SELECT {read} FROM {table} ORDER BY rowid"):
        if not booleans:
            yield row
            continue
        values = list(row)
        for index in booleans:
            values[index] = bool(values[index])
        yield tuple(values)


def _refuse_unless_empty(db: psycopg.Connection[Any], target: PostgreSQLStore) -> None:
    held = []
    for table, _ in COPIED_TABLES:
        found = db.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()
        if found and found[0]:
            held.append(table)
    if held:
        raise StoreError(
            f"the store at {target.path} holds rows already (in {', '.join(held)}); copy into an empty database or "
            "schema, one no daemon has started on"
        )
