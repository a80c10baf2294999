"""Incidents in SQLite: their rows (a projection, kept in step with their log) and the log of commands itself."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.errors import Conflict
from engine.incident import Incident
from engine.store._codec import canonical_json, decode_incident, moment, parse_moment
from engine.store._projection import row_values
from engine.store._records import Event, IncidentFilter, IncidentRow

__all__ = ["SQLiteEventLog", "SQLiteIncidents", "all_incident_ids", "events_of", "incident_row", "incident_rows"]

#: Ids this store gives out: ``inc-`` and the incident's place in the order of opening.
_PREFIX = "inc-"
_MINTED = re.compile(r"inc-([0-9]+)")

_ROW = "SELECT body, final, waiting_on, updated_at FROM incidents"


class SQLiteIncidents:
    """The incidents' rows, inside one transaction (see :class:`engine.store.IncidentRepository`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def get(self, incident_id: str) -> Incident | None:
        row = self._db.execute("SELECT body FROM incidents WHERE id = ?", (incident_id,)).fetchone()
        return None if row is None else decode_incident(json.loads(row[0]))

    def open_for(self, channel: str, author: str, thread_id: str | None) -> list[Incident]:
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

    def merged_for(self, channel: str, author: str, thread_id: str | None) -> list[Incident]:
        # Two index searches, as open_for does, over the closed incidents a merge closed (a few among many).
        rows = self._db.execute(
            "SELECT body FROM ("
            "SELECT seq, body FROM incidents WHERE merged_into IS NOT NULL AND channel = ?1 AND author = ?2 "
            "UNION ALL "
            "SELECT seq, body FROM incidents WHERE merged_into IS NOT NULL AND channel = ?1 AND thread_id = ?3 "
            "AND author <> ?2"
            ") ORDER BY seq DESC",
            (channel, author, thread_id),
        ).fetchall()
        return [decode_incident(json.loads(row[0])) for row in rows]

    def muted_for(self, channel: str, author: str, now: datetime) -> Incident | None:
        row = self._db.execute(
            "SELECT body FROM incidents WHERE muted_until IS NOT NULL AND channel = ? AND author = ? "
            "AND muted_until > ? ORDER BY seq DESC LIMIT 1",
            (channel, author, moment(now)),
        ).fetchone()
        return None if row is None else decode_incident(json.loads(row[0]))

    def grouped(self, group: str, since: datetime | None) -> Incident | None:
        # One walk down the partial index from the group's latest mention: the same cost however many groups and
        # incidents there are.
        row = self._db.execute(
            "SELECT body FROM incidents WHERE final = 0 AND group_key = ? AND grouped_at >= ? "
            "ORDER BY grouped_at DESC LIMIT 1",
            (group, "" if since is None else moment(since)),
        ).fetchone()
        return None if row is None else decode_incident(json.loads(row[0]))

    def new_id(self) -> str:
        row = self._db.execute(
            "INSERT INTO counters (name, value) VALUES ('incident', 1) "
            "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value"
        ).fetchone()
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
        if previous_revision is None:
            values["seq"] = self._sequence(incident.id)
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
            raise Conflict(
                f"incident {incident.id} changed since revision {previous_revision} (someone acted at the same "
                "moment); read it again and act on what it shows now"
            )

    def _sequence(self, incident_id: str) -> int:
        """Where a new incident sorts: the number in an id this store gave out, else after every other."""
        minted = _MINTED.fullmatch(incident_id)
        if minted is not None:
            return int(minted[1])
        row = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM incidents").fetchone()
        return int(row[0])


class SQLiteEventLog:
    """The append-only log of each incident's commands (see :class:`engine.store.EventLog`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
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
        cursor = self._db.execute(
            "INSERT INTO events (incident_id, at, kind, actor, playbook_digest, command, history) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (incident_id, moment(at), kind, actor, playbook_digest, canonical_json(command), canonical_json(history)),
        )
        return int(cursor.lastrowid or 0)


def _incident_row(row: sqlite3.Row) -> IncidentRow:
    waiting = tuple(role for role in str(row["waiting_on"]).split("|") if role)
    return IncidentRow(
        decode_incident(json.loads(row["body"])), bool(row["final"]), waiting, parse_moment(row["updated_at"])
    )


def incident_row(db: sqlite3.Connection, incident_id: str) -> IncidentRow | None:
    row = db.execute(f"{_ROW} WHERE id = ?", (incident_id,)).fetchone()
    return None if row is None else _incident_row(row)


def incident_rows(db: sqlite3.Connection, where: IncidentFilter) -> list[IncidentRow]:
    clauses: list[str] = []
    values: list[Any] = []
    for column, chosen in (
        ("state", where.states),
        ("severity", where.severities),
        ("playbook", where.playbooks),
        ("channel", where.channels),
    ):
        if chosen:
            clauses.append(f"{column} IN ({', '.join('?' for _ in chosen)})")
            values.extend(chosen)
    if where.breached is not None:
        clauses.append("breached = ?")
        values.append(int(where.breached))
    if where.open_only or where.order == "due":
        clauses.append("final = 0")
    if where.waiting_on:
        clauses.append("instr(waiting_on, ?) > 0")
        values.append(f"|{where.waiting_on}|")
    if where.waiting_on_any:
        clauses.append("(" + " OR ".join("instr(waiting_on, ?) > 0" for _ in where.waiting_on_any) + ")")
        values.extend(f"|{role}|" for role in where.waiting_on_any)
    if where.owner is not None:
        clauses.append("owner = ?")
        values.append(where.owner)
    if where.text:
        # casefold() is the store's own function (see the store's connection): case ignored beyond ASCII too.
        clauses.append(
            "(instr(casefold(id), ?) > 0 OR instr(casefold(author), ?) > 0 OR id IN (SELECT incident_id FROM "
            "mentions WHERE incident_id IS NOT NULL AND instr(casefold(json_extract(body, '$.text')), ?) > 0))"
        )
        values.extend([where.text.strip().casefold().lstrip("@")] * 3)
    if where.order == "due":
        return _by_due(db, clauses, values, where.limit)
    if where.after is not None:
        clauses.append("seq > COALESCE((SELECT seq FROM incidents WHERE id = ?), 0)")
        values.append(where.after)
    condition = " AND ".join(clauses) or "1 = 1"
    rows = db.execute(f"{_ROW} WHERE {condition} ORDER BY seq LIMIT ?", (*values, where.limit)).fetchall()
    return [_incident_row(row) for row in rows]


def _by_due(db: sqlite3.Connection, clauses: list[str], values: list[Any], limit: int) -> list[IncidentRow]:
    """Open incidents by when their next clock runs out, then those with none running: two walks of the
    ``next_due`` index rather than one sort of every open incident."""
    condition = " AND ".join(clauses)
    rows = db.execute(
        f"{_ROW} WHERE {condition} AND next_due IS NOT NULL ORDER BY next_due, seq LIMIT ?", (*values, limit)
    ).fetchall()
    if len(rows) < limit:
        rows += db.execute(
            f"{_ROW} WHERE {condition} AND next_due IS NULL ORDER BY seq LIMIT ?", (*values, limit - len(rows))
        ).fetchall()
    return [_incident_row(row) for row in rows]


def events_of(db: sqlite3.Connection, incident_id: str) -> list[Event]:
    rows = db.execute(
        "SELECT seq, incident_id, at, kind, actor, playbook_digest, command, history FROM events "
        "WHERE incident_id = ? ORDER BY seq",
        (incident_id,),
    ).fetchall()
    return [
        Event(row[0], row[1], parse_moment(row[2]), row[3], row[4], row[5], json.loads(row[6]), json.loads(row[7]))
        for row in rows
    ]


def all_incident_ids(db: sqlite3.Connection) -> list[str]:
    return [row[0] for row in db.execute("SELECT id FROM incidents ORDER BY seq")]
