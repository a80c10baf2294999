"""The embedded store: one SQLite file in the data folder, in WAL mode.

One connection, shared by the daemon's threads under a lock: SQLite takes one writer at a time anyway, and every
write is short (one incident's change). Writes run in ``BEGIN IMMEDIATE`` transactions, so two processes (the
daemon and ``calmly token issue``) never deadlock; ``busy_timeout`` makes the second wait its turn.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.incident import Incident
from engine.playbook import handle_key
from engine.store._codec import decode_incident, encode_incident, moment, parse_moment
from engine.store._contract import (
    Conflict,
    Delivery,
    DueDeadline,
    Event,
    IncidentFilter,
    IncidentRow,
    MentionBody,
    MentionRecord,
    OutboxRow,
    PlaybookRecord,
    StoreError,
    TokenRecord,
)
from engine.store._migrations import MIGRATIONS

__all__ = ["DATABASE_NAME", "SQLiteStore"]

DATABASE_NAME = "calmly.sqlite3"
_BUSY_TIMEOUT_MS = 10_000
_SYNCHRONOUS = {"full": "FULL", "normal": "NORMAL"}


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _maybe(text: str | None) -> datetime | None:
    return None if text is None else parse_moment(text)


class _Transaction:
    """The write side of one transaction (see :class:`engine.store.WriteTransaction`)."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def incident(self, incident_id: str) -> Incident | None:
        row = self._db.execute("SELECT body FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return None if row is None else decode_incident(json.loads(row[0]))

    def open_incidents_for(self, channel: str, author: str, thread_id: str | None) -> list[Incident]:
        # Two index searches, not one OR: SQLite plans "author = ? OR thread_id = ?" as a walk over every open
        # incident on the channel, so intake slowed as incidents piled up (10 ms a mention with 20,000 open).
        rows = self._db.execute(
            "SELECT body FROM ("
            "SELECT seq, body FROM incidents WHERE final = 0 AND channel = ?1 AND author = ?2 "
            "UNION ALL "
            "SELECT seq, body FROM incidents WHERE final = 0 AND channel = ?1 AND thread_id = ?3 AND author <> ?2"
            ") ORDER BY seq",
            (channel, author, thread_id),
        ).fetchall()
        return [decode_incident(json.loads(row[0])) for row in rows]

    def mention(self, channel: str, external_id: str) -> MentionRecord | None:
        return _mention(self._db, channel, external_id)

    def mention_by_url(self, url_key: str) -> MentionRecord | None:
        row = self._db.execute(
            "SELECT channel, external_id, outcome, incident_id, received_at FROM mentions WHERE url_key = ?",
            (url_key,),
        ).fetchone()
        return None if row is None else MentionRecord(row[0], row[1], row[2], row[3], parse_moment(row[4]))

    def record_mention(
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
            (channel, external_id, outcome, incident_id, moment(at), _json(body), url_key, source),
        )

    def new_incident_id(self) -> str:
        row = self._db.execute(
            "INSERT INTO counters (name, value) VALUES ('incident', 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value"
        ).fetchone()
        return f"inc-{row[0]}"

    def save_incident(
        self,
        incident: Incident,
        *,
        final: bool,
        waiting_on: Sequence[str],
        previous_revision: int | None,
        at: datetime,
    ) -> None:
        values = {
            "id": incident.id,
            "playbook": incident.playbook,
            "playbook_version": incident.playbook_version,
            "playbook_digest": incident.playbook_digest,
            "state": incident.state,
            "severity": incident.severity,
            "channel": incident.channel,
            # The author as joining compares them (@Zed is zed): the column new mentions are looked up by.
            "author": handle_key(incident.channel, incident.author),
            "thread_id": incident.thread_id,
            "final": int(final),
            "breached": int(bool(incident.breached)),
            "waiting_on": "|" + "|".join(waiting_on) + "|",
            "revision": incident.revision,
            "opened_at": moment(incident.opened_at),
            "updated_at": moment(at),
            "body": _json(encode_incident(incident)),
        }
        if previous_revision is None:
            values["seq"] = (
                int(incident.id[4:])
                if incident.id.startswith("inc-") and incident.id[4:].isdigit()
                else _next_seq(self._db)
            )
            columns = ", ".join(values)
            marks = ", ".join(f":{name}" for name in values)
            self._db.execute(f"INSERT INTO incidents ({columns}) VALUES ({marks})", values)
            return
        sets = ", ".join(f"{name} = :{name}" for name in values if name != "id")
        updated = self._db.execute(
            f"UPDATE incidents SET {sets} WHERE id = :id AND revision = :previous",
            {**values, "previous": previous_revision},
        )
        if updated.rowcount != 1:
            raise Conflict(f"incident {incident.id} changed since revision {previous_revision}")

    def append_event(
        self,
        incident_id: str,
        *,
        at: datetime,
        kind: str,
        actor: str | None,
        playbook_digest: str,
        command: Mapping[str, Any],
        history: Sequence[Mapping[str, Any]],
    ) -> int:
        cursor = self._db.execute(
            "INSERT INTO events (incident_id, at, kind, actor, playbook_digest, command, history) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (incident_id, moment(at), kind, actor, playbook_digest, _json(command), _json(list(history))),
        )
        return int(cursor.lastrowid or 0)

    def arm(self, key: str, incident_id: str, clock: str, due_at: datetime) -> None:
        self._db.execute(
            "INSERT INTO deadlines (key, incident_id, clock, due_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at WHERE deadlines.done_at IS NULL",
            (key, incident_id, clock, moment(due_at)),
        )

    def cancel(self, key: str) -> None:
        self._db.execute("DELETE FROM deadlines WHERE key = ? AND done_at IS NULL", (key,))

    def complete(self, key: str, at: datetime) -> bool:
        done = self._db.execute("UPDATE deadlines SET done_at = ? WHERE key = ? AND done_at IS NULL", (moment(at), key))
        return done.rowcount == 1

    def enqueue(self, key: str, incident_id: str, at: datetime, body: Mapping[str, Any]) -> bool:
        added = self._db.execute(
            "INSERT INTO outbox (key, incident_id, created_at, body, next_attempt_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO NOTHING",
            (key, incident_id, moment(at), _json(body), moment(at)),
        )
        return added.rowcount == 1

    def take_receipt(self, webhook_id: str, at: datetime, forget_before: datetime) -> bool:
        self._db.execute("DELETE FROM intake_receipts WHERE seen_at < ?", (moment(forget_before),))
        taken = self._db.execute(
            "INSERT INTO intake_receipts (webhook_id, seen_at) VALUES (?, ?) ON CONFLICT (webhook_id) DO NOTHING",
            (webhook_id, moment(at)),
        )
        return taken.rowcount == 1


def _next_seq(db: sqlite3.Connection) -> int:
    row = db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM incidents").fetchone()
    return int(row[0])


def _mention(db: sqlite3.Connection, channel: str, external_id: str) -> MentionRecord | None:
    row = db.execute(
        "SELECT outcome, incident_id, received_at FROM mentions WHERE channel = ? AND external_id = ?",
        (channel, external_id),
    ).fetchone()
    if row is None:
        return None
    return MentionRecord(channel, external_id, row[0], row[1], parse_moment(row[2]))


def _incident_row(row: sqlite3.Row) -> IncidentRow:
    waiting = tuple(role for role in str(row["waiting_on"]).split("|") if role)
    return IncidentRow(
        decode_incident(json.loads(row["body"])), bool(row["final"]), waiting, parse_moment(row["updated_at"])
    )


class SQLiteStore:
    """The store in ``folder/calmly.sqlite3`` (created with its schema on first use)."""

    def __init__(self, folder: Path, synchronous: str = "full") -> None:
        if synchronous not in _SYNCHRONOUS:
            raise ValueError(f"synchronous is {synchronous!r}; choose one of {', '.join(_SYNCHRONOUS)}")
        self.folder = folder
        self.path = folder / DATABASE_NAME
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=_BUSY_TIMEOUT_MS / 1000
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode = WAL")
            # FULL syncs the WAL at each commit, so what was acknowledged survives a power loss; NORMAL syncs only
            # at checkpoints: never corrupt, and safe through a crash of the process, but the last commits may be
            # lost when the machine loses power.
            self._db.execute(f"PRAGMA synchronous = {_SYNCHRONOUS[synchronous]}")
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        except (OSError, sqlite3.Error) as error:
            raise StoreError(f"cannot open the store at {self.path}: {error}") from error
        self._lock = threading.RLock()

    # --- schema --------------------------------------------------------------------------------------------------

    def migrate(self) -> int:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                    "description TEXT NOT NULL, applied_at TEXT NOT NULL)"
                )
                done = {row[0] for row in self._db.execute("SELECT version FROM schema_migrations")}
                known = {version for version, _, _ in MIGRATIONS}
                if done - known:
                    raise StoreError(
                        f"the store at {self.path} has schema version {max(done)}, newer than this calmly knows "
                        f"({max(known)}); upgrade calmly"
                    )
                for version, description, statements in MIGRATIONS:
                    if version in done:
                        continue
                    for statement in statements:
                        self._db.execute(statement)
                    self._db.execute(
                        "INSERT INTO schema_migrations (version, description, applied_at) "
                        "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
                        (version, description),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            return max(known)

    # --- writing -------------------------------------------------------------------------------------------------

    @contextmanager
    def write(self) -> Iterator[_Transaction]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield _Transaction(self._db)
                self._db.execute("COMMIT")
            except BaseException:
                # A failed COMMIT (a full disk, an I/O error) leaves the transaction open: end it, or every later
                # write on this shared connection would fail and reads would show what was never saved.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- playbooks -----------------------------------------------------------------------------------------------

    def save_playbook(self, record: PlaybookRecord, at: datetime) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO playbooks (digest, id, version, source, path, loaded_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (digest) DO NOTHING",
                (record.digest, record.id, record.version, record.source, record.path, moment(at)),
            )

    def playbook(self, digest: str) -> PlaybookRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT digest, id, version, source, path FROM playbooks WHERE digest = ?", (digest,)
            ).fetchone()
        return None if row is None else PlaybookRecord(row[0], row[1], row[2], row[3], row[4])

    # --- reading -------------------------------------------------------------------------------------------------

    def incident(self, incident_id: str) -> IncidentRow | None:
        with self._lock:
            row = self._db.execute(
                "SELECT body, final, waiting_on, updated_at FROM incidents WHERE id = ?", (incident_id,)
            ).fetchone()
        return None if row is None else _incident_row(row)

    def incidents(self, where: IncidentFilter) -> list[IncidentRow]:
        clauses: list[str] = []
        values: list[Any] = []
        for column, chosen in (("state", where.states), ("severity", where.severities), ("playbook", where.playbooks)):
            if chosen:
                clauses.append(f"{column} IN ({', '.join('?' for _ in chosen)})")
                values.extend(chosen)
        if where.breached is not None:
            clauses.append("breached = ?")
            values.append(int(where.breached))
        if where.open_only:
            clauses.append("final = 0")
        if where.waiting_on:
            clauses.append("instr(waiting_on, ?) > 0")
            values.append(f"|{where.waiting_on}|")
        if where.after is not None:
            clauses.append("seq > COALESCE((SELECT seq FROM incidents WHERE id = ?), 0)")
            values.append(where.after)
        condition = " AND ".join(clauses) or "1 = 1"
        query = f"SELECT body, final, waiting_on, updated_at FROM incidents WHERE {condition} ORDER BY seq LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, (*values, where.limit)).fetchall()
        return [_incident_row(row) for row in rows]

    def events(self, incident_id: str) -> list[Event]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, incident_id, at, kind, actor, playbook_digest, command, history FROM events "
                "WHERE incident_id = ? ORDER BY seq",
                (incident_id,),
            ).fetchall()
        return [
            Event(row[0], row[1], parse_moment(row[2]), row[3], row[4], row[5], json.loads(row[6]), json.loads(row[7]))
            for row in rows
        ]

    def pending_deadlines(self, incident_id: str) -> list[DueDeadline]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, incident_id, clock, due_at FROM deadlines WHERE incident_id = ? AND done_at IS NULL "
                "ORDER BY due_at",
                (incident_id,),
            ).fetchall()
        return [DueDeadline(row[0], row[1], row[2], parse_moment(row[3])) for row in rows]

    def due(self, now: datetime, limit: int) -> list[DueDeadline]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, incident_id, clock, due_at FROM deadlines WHERE done_at IS NULL AND due_at <= ? "
                "ORDER BY due_at LIMIT ?",
                (moment(now), limit),
            ).fetchall()
        return [DueDeadline(row[0], row[1], row[2], parse_moment(row[3])) for row in rows]

    def earliest_due(self) -> datetime | None:
        with self._lock:
            row = self._db.execute("SELECT MIN(due_at) FROM deadlines WHERE done_at IS NULL").fetchone()
        return _maybe(row[0])

    def mention(self, channel: str, external_id: str) -> MentionRecord | None:
        with self._lock:
            return _mention(self._db, channel, external_id)

    def mentions_of(self, incident_id: str) -> list[MentionBody]:
        with self._lock:
            rows = self._db.execute(
                "SELECT channel, external_id, outcome, received_at, body FROM mentions WHERE incident_id = ? "
                "ORDER BY received_at, rowid",
                (incident_id,),
            ).fetchall()
        return [MentionBody(row[0], row[1], row[2], parse_moment(row[3]), json.loads(row[4])) for row in rows]

    def outbox(self, state: str | None = None, limit: int = 100) -> list[OutboxRow]:
        query = "SELECT key, incident_id, created_at, body, state, attempts FROM outbox"
        values: tuple[Any, ...] = ()
        if state is not None:
            query += " WHERE state = ?"
            values = (state,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY created_at, key LIMIT ?", (*values, limit)).fetchall()
        return [OutboxRow(row[0], row[1], parse_moment(row[2]), json.loads(row[3]), row[4], row[5]) for row in rows]

    def counts(self) -> Mapping[str, int]:
        with self._lock:
            row = self._db.execute(
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

    def tallies(self) -> list[tuple[str, str, str, int, int]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT playbook, state, severity, COUNT(*), SUM(breached) FROM incidents "
                "GROUP BY playbook, state, severity"
            ).fetchall()
        return [(row[0], row[1], row[2], int(row[3]), int(row[4] or 0)) for row in rows]

    def all_incident_ids(self) -> Iterator[str]:
        with self._lock:
            ids = [row[0] for row in self._db.execute("SELECT id FROM incidents ORDER BY seq")]
        yield from ids

    # --- notifications ---------------------------------------------------------------------------------------------

    def unrouted(self, limit: int) -> list[OutboxRow]:
        return self.outbox("pending", limit)

    def route(self, outbox_key: str, destinations: Sequence[tuple[str, str]], at: datetime) -> None:
        with self.write():
            for destination, channel in destinations:
                self._db.execute(
                    "INSERT INTO deliveries (outbox_key, destination, channel, next_attempt_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (outbox_key, destination) DO NOTHING",
                    (outbox_key, destination, channel, moment(at)),
                )
            self._db.execute("UPDATE outbox SET state = 'routed' WHERE key = ?", (outbox_key,))

    def _deliveries(self, condition: str, values: tuple[Any, ...], limit: int) -> list[Delivery]:
        query = (
            "SELECT d.outbox_key, d.destination, d.channel, d.state, d.attempts, d.next_attempt_at, d.last_error, "
            "d.delivered_at, o.incident_id, o.body FROM deliveries d JOIN outbox o ON o.key = d.outbox_key "
            f"WHERE {condition} ORDER BY d.next_attempt_at, d.outbox_key, d.destination LIMIT ?"
        )
        with self._lock:
            rows = self._db.execute(query, (*values, limit)).fetchall()
        return [
            Delivery(
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                parse_moment(row[5]),
                row[6],
                _maybe(row[7]),
                row[8],
                json.loads(row[9]),
            )
            for row in rows
        ]

    def due_deliveries(self, now: datetime, limit: int) -> list[Delivery]:
        return self._deliveries("d.state = 'pending' AND d.next_attempt_at <= ?", (moment(now),), limit)

    def deliveries(self, state: str | None, limit: int) -> list[Delivery]:
        if state is None:
            return self._deliveries("1 = 1", (), limit)
        return self._deliveries("d.state = ?", (state,), limit)

    def delivered(self, outbox_key: str, destination: str, at: datetime) -> None:
        with self.write():
            self._db.execute(
                "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1, delivered_at = ?, "
                "last_error = NULL WHERE outbox_key = ? AND destination = ? AND state = 'pending'",
                (moment(at), outbox_key, destination),
            )

    def delivery_failed(
        self, outbox_key: str, destination: str, error: str, retry_at: datetime | None, at: datetime
    ) -> None:
        with self.write():
            self._db.execute(
                "UPDATE deliveries SET attempts = attempts + 1, last_error = ?, state = ?, next_attempt_at = ? "
                "WHERE outbox_key = ? AND destination = ? AND state = 'pending'",
                (
                    error[:2000],
                    "pending" if retry_at is not None else "dead",
                    moment(retry_at if retry_at is not None else at),
                    outbox_key,
                    destination,
                ),
            )

    def retry_dead(self, outbox_key: str | None, at: datetime) -> int:
        condition = "state = 'dead'" + (" AND outbox_key = ?" if outbox_key is not None else "")
        values: tuple[Any, ...] = (moment(at),) + ((outbox_key,) if outbox_key is not None else ())
        # Due at the earlier of ``at`` and when it died: `calmly outbox retry` passes the wall clock, and a daemon on
        # a simulated clock behind it must still see the delivery due at once.
        with self.write():
            done = self._db.execute(
                "UPDATE deliveries SET state = 'pending', attempts = 0, next_attempt_at = MIN(next_attempt_at, ?) "
                f"WHERE {condition}",
                values,
            )
        return done.rowcount

    def earliest_delivery(self) -> datetime | None:
        with self._lock:
            row = self._db.execute("SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'").fetchone()
        return _maybe(row[0])

    # --- tokens --------------------------------------------------------------------------------------------------

    def add_token(self, record: TokenRecord) -> None:
        with self.write():
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

    def token(self, token_hash: str) -> TokenRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT hash, person, created_at, expires_at, revoked_at, label, scope FROM tokens WHERE hash = ?",
                (token_hash,),
            ).fetchone()
        if row is None:
            return None
        return TokenRecord(row[0], row[1], parse_moment(row[2]), _maybe(row[3]), _maybe(row[4]), row[5], row[6])

    def revoke_tokens(self, person: str, at: datetime) -> int:
        with self.write():
            done = self._db.execute(
                "UPDATE tokens SET revoked_at = ? WHERE person = ? AND revoked_at IS NULL", (moment(at), person)
            )
        return done.rowcount
