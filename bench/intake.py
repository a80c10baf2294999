"""Intake through the store beside raw ``sqlite3`` making the same statements (a figure of ``bench/daemon.py``).

:meth:`engine.service.Service.ingest`, one mention a call (one transaction each), every mention opening an incident,
on a :class:`engine.store.SQLiteStore` in a fresh folder; beside it raw ``sqlite3`` making the same statements on the
same tables (the same schema and pragmas; the rows' JSON, copied from what the store wrote, made before timing). The
statements of one mention are counted on both sides and must be as many. Target: at least half of raw's rate.
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.store import SQLiteStore
from engine.store._migrations import MIGRATIONS

from daemon import DaemonRepeats, mention_body, open_service, system_now
from figure import BenchError, Figure

__all__ = ["INGEST_TARGET_RATIO", "ingest_figure"]

INGEST_TARGET_RATIO = 2.0  # at least half of raw's rate


_RAW_OPEN = (
    "SELECT body FROM (SELECT seq, body FROM incidents WHERE final = 0 AND channel = ?1 AND author = ?2 UNION ALL "
    "SELECT seq, body FROM incidents WHERE final = 0 AND channel = ?1 AND thread_id = ?3 AND author <> ?2) "
    "ORDER BY seq"
)
_RAW_STATEMENTS = (
    "SELECT outcome, incident_id, received_at FROM mentions WHERE channel = ? AND external_id = ?",
    _RAW_OPEN,
    # The incidents merged into others that the mention's author or thread would have joined (usually none).
    "SELECT body FROM ("
    "SELECT seq, body FROM incidents WHERE merged_into IS NOT NULL AND channel = ?1 AND author = ?2 "
    "UNION ALL "
    "SELECT seq, body FROM incidents WHERE merged_into IS NOT NULL AND channel = ?1 AND thread_id = ?3 "
    "AND author <> ?2"
    ") ORDER BY seq DESC",
    # A closed incident whose author is muted, that would take the mention instead of a new incident (none here).
    "SELECT body FROM incidents WHERE muted_until IS NOT NULL AND channel = ? AND author = ? "
    "AND muted_until > ? ORDER BY seq DESC LIMIT 1",
    "INSERT INTO counters (name, value) VALUES ('incident', 1) "
    "ON CONFLICT (name) DO UPDATE SET value = value + 1 RETURNING value",
    "INSERT INTO incidents (id, seq, playbook, playbook_version, playbook_digest, state, severity, channel, author, "
    "thread_id, final, breached, waiting_on, revision, opened_at, updated_at, body) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO events (incident_id, at, kind, actor, playbook_digest, command, history) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "INSERT INTO deadlines (key, incident_id, clock, due_at) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (key) DO UPDATE SET due_at = excluded.due_at WHERE deadlines.done_at IS NULL",
    "INSERT INTO mentions (channel, external_id, outcome, incident_id, received_at, body) VALUES (?, ?, ?, ?, ?, ?)",
)


@dataclass(frozen=True, slots=True)
class _Template:
    """What one mention wrote through the store, to be written again raw with other ids."""

    incident: tuple[Any, ...]
    event: tuple[Any, ...]
    deadlines: tuple[tuple[Any, ...], ...]
    mention: tuple[Any, ...]


def _template(store: SQLiteStore) -> _Template:
    with contextlib.closing(sqlite3.connect(store.path)) as db:
        incident = db.execute(
            "SELECT id, seq, playbook, playbook_version, playbook_digest, state, severity, channel, author, thread_id, "
            "final, breached, waiting_on, revision, opened_at, updated_at, body FROM incidents ORDER BY seq LIMIT 1"
        ).fetchone()
        event = db.execute(
            "SELECT incident_id, at, kind, actor, playbook_digest, command, history FROM events WHERE incident_id = ?",
            (incident[0],),
        ).fetchone()
        deadlines = db.execute(
            "SELECT key, incident_id, clock, due_at FROM deadlines WHERE incident_id = ?", (incident[0],)
        ).fetchall()
        mention = db.execute(
            "SELECT channel, external_id, outcome, incident_id, received_at, body FROM mentions WHERE incident_id = ?",
            (incident[0],),
        ).fetchone()
    return _Template(tuple(incident), tuple(event), tuple(map(tuple, deadlines)), tuple(mention))


def _swap(value: Any, old: str, new: str) -> Any:
    return value.replace(old, new) if isinstance(value, str) else value


def _raw_rows(template: _Template, count: int) -> list[_Template]:
    """The template's rows for ``count`` more mentions, each with its own incident id, author and mention id."""
    old_id, old_author = template.incident[0], template.incident[8]
    rows = []
    for number in range(count):
        new_id, new_author, new_external = f"raw-{number}", f"@raw{number}", f"raw{number}"

        def swap(row: tuple[Any, ...], new_id: str = new_id, new_author: str = new_author) -> tuple[Any, ...]:
            return tuple(_swap(_swap(value, old_id, new_id), old_author, new_author) for value in row)

        mention = swap(template.mention)
        rows.append(
            _Template(
                swap(template.incident),
                swap(template.event),
                tuple(swap(row) for row in template.deadlines),
                (mention[0], new_external, *mention[2:]),
            )
        )
    return rows


def _raw_database(folder: Path, store: Path) -> sqlite3.Connection:
    """A database with the store's schema, pragmas and playbook versions (the incidents refer to them)."""
    db = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None, check_same_thread=False)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")  # as the store's default
    db.execute("PRAGMA foreign_keys = ON")
    for _, _, statements in MIGRATIONS:
        for statement in statements:
            db.execute(statement)
    with contextlib.closing(sqlite3.connect(store)) as source:
        playbooks = source.execute("SELECT digest, id, version, source, path, loaded_at FROM playbooks").fetchall()
    db.executemany("INSERT INTO playbooks VALUES (?, ?, ?, ?, ?, ?)", playbooks)
    return db


def _raw_write(db: sqlite3.Connection, row: _Template, seq: int) -> None:
    select_mention, select_open, select_merged, select_muted, counter, incident, event, deadline, mention = (
        _RAW_STATEMENTS
    )
    db.execute("BEGIN IMMEDIATE")
    db.execute(select_mention, (row.mention[0], row.mention[1])).fetchone()
    db.execute(select_open, (row.incident[7], row.incident[8], row.incident[9])).fetchall()
    db.execute(select_merged, (row.incident[7], row.incident[8], row.incident[9])).fetchall()
    db.execute(select_muted, (row.incident[7], row.incident[8], row.incident[15])).fetchone()
    db.execute(counter).fetchone()
    db.execute(incident, (row.incident[0], seq, *row.incident[2:]))
    db.execute(event, row.event)
    for armed in row.deadlines:
        db.execute(deadline, armed)
    db.execute(mention, row.mention)
    db.execute("COMMIT")


def _statements(db: sqlite3.Connection, work: Callable[[], object]) -> int:
    seen: list[str] = []
    db.set_trace_callback(seen.append)
    try:
        work()
    finally:
        db.set_trace_callback(None)
    return len(seen)


def ingest_figure(repeats: DaemonRepeats) -> Figure:
    count = repeats.mentions
    store_samples: list[float] = []
    raw_samples: list[float] = []
    per_mention = (0, 0)
    for round_number in range(repeats.rounds):
        with tempfile.TemporaryDirectory(prefix="calmly-bench-ingest-") as tmp:
            folder = Path(tmp)
            service = open_service(folder / "store", system_now)
            store = service.store
            assert isinstance(store, SQLiteStore)
            prefix = f"r{round_number}m"
            service.ingest([mention_body(0, prefix="warm")])
            counted_store = _statements(store._db, functools.partial(service.ingest, [mention_body(1, prefix="warm")]))
            mentions = [[mention_body(number, prefix=prefix)] for number in range(count)]
            start = time.perf_counter()
            for batch in mentions:
                service.ingest(batch)
            store_samples.append(time.perf_counter() - start)
            last = store.mention("twitter", f"{prefix}{count - 1}")
            if last is None or last.outcome != "opened":
                raise BenchError("the intake bench's mentions did not open incidents")
            template = _template(store)
            store.close()

            db = _raw_database(folder, store.path)
            rows = _raw_rows(template, count + 1)
            counted_raw = _statements(db, functools.partial(_raw_write, db, rows[0], 1))
            start = time.perf_counter()
            for seq, row in enumerate(rows[1:], start=2):
                _raw_write(db, row, seq)
            raw_samples.append(time.perf_counter() - start)
            db.close()
            if counted_raw != counted_store:
                raise BenchError(
                    f"the raw baseline makes {counted_raw} statements a mention, the store {counted_store}: "
                    "update bench/daemon.py to make the same writes as the store"
                )
            per_mention = (counted_store, counted_raw)
    value = statistics.median(store_samples) * 1e6 / count
    baseline = statistics.median(raw_samples) * 1e6 / count
    return Figure(
        key="intake_us_per_mention_vs_raw_sqlite",
        name="intake through the store, per mention",
        unit="us",
        value=value,
        baseline_name="raw sqlite3, same statements",
        baseline=baseline,
        target=f"<= {INGEST_TARGET_RATIO:.1f}x (half of raw's rate)",
        met=value / baseline <= INGEST_TARGET_RATIO,
        detail=f"Service.ingest on SQLiteStore, {count:,} mentions one a transaction, each opening an incident: "
        f"{1e6 / value:,.0f} mentions/s; raw sqlite3 with the same {per_mention[1]} statements a mention "
        f"(BEGIN to COMMIT) on the same schema: {1e6 / baseline:,.0f}/s",
    )
