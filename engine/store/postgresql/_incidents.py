"""Incidents in PostgreSQL: their rows (a projection, kept in step with their log), the log of commands itself, and
the views over them.

Several daemons write one database, so what SQLite's single writer gave for free is asked for here: the incident
rows a unit of work reads to change are locked (``FOR UPDATE``) until it ends, so a deadline firing, an action and
a mention joining one incident take turns; a mention's author, thread and group are locked by name (transaction
advisory locks) before they are looked up, so two mentions of one author arriving at two daemons do not open two
incidents; and the revision check refuses a change to a row that moved since it was read.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import psycopg

from engine.errors import Conflict
from engine.incident import Incident
from engine.store._codec import canonical_json, decode_incident, moment, parse_moment
from engine.store._projection import row_values
from engine.store._records import Event, IncidentFilter, IncidentRow

__all__ = [
    "PostgreSQLEventLog",
    "PostgreSQLIncidents",
    "all_incident_ids",
    "events_of",
    "incident_row",
    "incident_rows",
    "lock_names",
]

_PREFIX = "inc-"
_MINTED = re.compile(r"inc-([0-9]+)")

_ROW = "SELECT body, final, waiting_on, updated_at FROM incidents"

Connection = psycopg.Connection[Any]


def lock_names(db: Connection, *names: str) -> None:
    """Hold a lock on each name until the transaction ends (in one sorted order, so two holders never wait on each
    other in a circle): what makes a lookup and the insert after it one step, with several writers."""
    for name in sorted(set(names)):
        db.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))


class PostgreSQLIncidents:
    """The incidents' rows, inside one transaction (see :class:`engine.store.IncidentRepository`)."""

    def __init__(self, db: Connection) -> None:
        self._db = db
        #: Each incident saved, with its state and revision: hinted to the other daemons' desks at commit.
        self.saved: dict[str, tuple[str, int]] = {}

    def get(self, incident_id: str) -> Incident | None:
        row = self._db.execute("SELECT body FROM incidents WHERE id = %s FOR UPDATE", (incident_id,)).fetchone()
        return None if row is None else decode_incident(row[0])

    def open_for(self, channel: str, author: str, thread_id: str | None) -> list[Incident]:
        names = [f"author\x1f{channel}\x1f{author}"]
        if thread_id is not None:
            names.append(f"thread\x1f{channel}\x1f{thread_id}")
        lock_names(self._db, *names)
        rows = self._db.execute(
            "SELECT body FROM incidents WHERE NOT final AND channel = %(channel)s "
            "AND (author = %(author)s OR thread_id = %(thread)s) ORDER BY seq FOR UPDATE",
            {"channel": channel, "author": author, "thread": thread_id},
        ).fetchall()
        return [decode_incident(row[0]) for row in rows]

    def merged_for(self, channel: str, author: str, thread_id: str | None) -> list[Incident]:
        rows = self._db.execute(
            "SELECT body FROM incidents WHERE merged_into IS NOT NULL AND channel = %(channel)s "
            "AND (author = %(author)s OR thread_id = %(thread)s) ORDER BY seq DESC",
            {"channel": channel, "author": author, "thread": thread_id},
        ).fetchall()
        return [decode_incident(row[0]) for row in rows]

    def muted_for(self, channel: str, author: str, now: datetime) -> Incident | None:
        row = self._db.execute(
            "SELECT body FROM incidents WHERE muted_until IS NOT NULL AND channel = %s AND author = %s "
            "AND muted_until > %s ORDER BY seq DESC LIMIT 1 FOR UPDATE",
            (channel, author, moment(now)),
        ).fetchone()
        return None if row is None else decode_incident(row[0])

    def grouped(self, group: str, since: datetime | None) -> Incident | None:
        lock_names(self._db, f"group\x1f{group}")
        row = self._db.execute(
            "SELECT body FROM incidents WHERE NOT final AND group_key = %s AND grouped_at >= %s "
            "ORDER BY grouped_at DESC LIMIT 1 FOR UPDATE",
            (group, "" if since is None else moment(since)),
        ).fetchone()
        return None if row is None else decode_incident(row[0])

    def new_id(self) -> str:
        # The counters row, not a sequence: a rolled-back intake gives its number back, so ids have no gaps and
        # match what SQLite gives out. The row is held until the transaction ends, so openings take turns.
        row = self._db.execute(
            "INSERT INTO counters (name, value) VALUES ('incident', 1) "
            "ON CONFLICT (name) DO UPDATE SET value = counters.value + 1 RETURNING value"
        ).fetchone()
        assert row is not None
        return f"{_PREFIX}{row[0]}"

    def save(
        self,
        incident: Incident,
        *,
        final: bool,
        waiting_on: Sequence[str],
        previous_revision: int | None,
        at: datetime,
    ) -> None:
        values = row_values(incident, final=final, waiting_on=waiting_on, at=at)
        self.saved[incident.id] = (incident.state, incident.revision)
        if previous_revision is None:
            values["seq"] = self._sequence(incident.id)
            columns = ", ".join(values)
            marks = ", ".join(f"%({name})s" for name in values)
            self._db.execute(f"INSERT INTO incidents ({columns}) VALUES ({marks})", values)
            return
        sets = ", ".join(f"{name} = %({name})s" for name in values if name != "id")
        updated = self._db.execute(
            f"UPDATE incidents SET {sets} WHERE id = %(id)s AND revision = %(previous)s",
            {**values, "previous": previous_revision},
        )
        if updated.rowcount != 1:
            raise Conflict(
                f"incident {incident.id} changed since revision {previous_revision} (someone acted at the same "
                "moment); read it again and act on what it shows now"
            )

    def _sequence(self, incident_id: str) -> int:
        minted = _MINTED.fullmatch(incident_id)
        if minted is not None:
            return int(minted[1])
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM incidents").fetchone()
        assert row is not None
        return int(row[0])


class PostgreSQLEventLog:
    """The append-only log of each incident's commands (see :class:`engine.store.EventLog`)."""

    def __init__(self, db: Connection) -> None:
        self._db = db

    def append(
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
        row = self._db.execute(
            "INSERT INTO events (incident_id, at, kind, actor, playbook_digest, command, history) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING seq",
            (incident_id, moment(at), kind, actor, playbook_digest, canonical_json(command), canonical_json(history)),
        ).fetchone()
        assert row is not None
        return int(row[0])


def _incident_row(row: tuple[Any, ...]) -> IncidentRow:
    waiting = tuple(role for role in str(row[2]).split("|") if role)
    return IncidentRow(decode_incident(row[0]), bool(row[1]), waiting, parse_moment(row[3]))


def incident_row(db: Connection, incident_id: str) -> IncidentRow | None:
    row = db.execute(f"{_ROW} WHERE id = %s", (incident_id,)).fetchone()
    return None if row is None else _incident_row(row)


def incident_rows(db: Connection, where: IncidentFilter) -> list[IncidentRow]:
    clauses: list[str] = []
    values: list[Any] = []
    for column, chosen in (
        ("state", where.states),
        ("severity", where.severities),
        ("playbook", where.playbooks),
        ("channel", where.channels),
    ):
        if chosen:
            clauses.append(f"{column} = ANY(%s)")
            values.append(list(chosen))
    if where.breached is not None:
        clauses.append("breached = %s")
        values.append(bool(where.breached))
    if where.open_only or where.order == "due":
        clauses.append("NOT final")
    if where.waiting_on:
        clauses.append("strpos(waiting_on, %s) > 0")
        values.append(f"|{where.waiting_on}|")
    if where.waiting_on_any:
        clauses.append("(" + " OR ".join("strpos(waiting_on, %s) > 0" for _ in where.waiting_on_any) + ")")
        values.extend(f"|{role}|" for role in where.waiting_on_any)
    if where.owner is not None:
        clauses.append("owner = %s")
        values.append(where.owner)
    if where.text:
        # lower() folds case beyond ASCII under a UTF-8 database (but not ß into ss, as Python's casefold does).
        clauses.append(
            "(strpos(lower(id), %s) > 0 OR strpos(lower(author), %s) > 0 OR id IN (SELECT incident_id FROM "
            "mentions WHERE incident_id IS NOT NULL AND strpos(lower(body->>'text'), %s) > 0))"
        )
        values.extend([where.text.strip().lower().lstrip("@")] * 3)
    if where.order == "due":
        return _by_due(db, clauses, values, where.limit)
    if where.after is not None:
        clauses.append("seq > COALESCE((SELECT seq FROM incidents WHERE id = %s), 0)")
        values.append(where.after)
    condition = " AND ".join(clauses) or "TRUE"
    rows = db.execute(f"{_ROW} WHERE {condition} ORDER BY seq LIMIT %s", (*values, where.limit)).fetchall()
    return [_incident_row(row) for row in rows]


def _by_due(db: Connection, clauses: list[str], values: list[Any], limit: int) -> list[IncidentRow]:
    condition = " AND ".join(clauses)
    rows = db.execute(
        f"{_ROW} WHERE {condition} AND next_due IS NOT NULL ORDER BY next_due, seq LIMIT %s", (*values, limit)
    ).fetchall()
    if len(rows) < limit:
        rows += db.execute(
            f"{_ROW} WHERE {condition} AND next_due IS NULL ORDER BY seq LIMIT %s", (*values, limit - len(rows))
        ).fetchall()
    return [_incident_row(row) for row in rows]


def events_of(db: Connection, incident_id: str) -> list[Event]:
    rows = db.execute(
        "SELECT seq, incident_id, at, kind, actor, playbook_digest, command, history FROM events "
        "WHERE incident_id = %s ORDER BY seq",
        (incident_id,),
    ).fetchall()
    return [Event(row[0], row[1], parse_moment(row[2]), row[3], row[4], row[5], row[6], row[7]) for row in rows]


def all_incident_ids(db: Connection) -> list[str]:
    return [row[0] for row in db.execute("SELECT id FROM incidents ORDER BY seq").fetchall()]
