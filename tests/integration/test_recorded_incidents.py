"""The store reads a period's incidents with their whole logs, in the order they opened, a page at a time: every
incident once across page boundaries, only those opened within the period, open ones only when asked."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import fresh_schema

from engine.authoring.simulation import simulate
from engine.authoring.timeline import Timeline, read_timeline
from engine.files import load_file
from engine.incident import Rulebook
from engine.store import SQLiteStore
from engine.store.sqlite._recorded import PAGE

ROOT = Path(__file__).resolve().parents[2]
COPIES = 2 * PAGE + 1  # three pages, the last of one incident


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> SQLiteStore:
    folder = tmp_path_factory.mktemp("recorded")
    timeline = read_timeline(ROOT / "examples" / "timelines" / "broken-order.yaml")
    loaded = load_file(ROOT / "playbooks" / "customer-complaint.yaml").playbook
    assert isinstance(timeline, Timeline)
    assert loaded is not None
    made = SQLiteStore(folder)
    made.migrate()
    simulate(Rulebook(loaded), timeline, store=made)
    made.close()
    with sqlite3.connect(folder / "calmly.sqlite3") as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(incidents)")]
        renamed = {
            "id": "'inc-' || n.i",
            "seq": "n.i",
            "body": 'replace(body, \'"id":"inc-1"\', \'"id":"inc-\' || n.i || \'"\')',
        }
        copied = ", ".join(renamed.get(column, column) for column in columns)
        numbers = "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        db.execute(f"{numbers}INSERT INTO incidents SELECT {copied} FROM incidents, n WHERE id = 'inc-1'", (COPIES,))
        db.execute(
            f"{numbers}INSERT INTO events (incident_id, at, kind, actor, playbook_digest, command, history) "
            "SELECT 'inc-' || n.i, at, kind, actor, playbook_digest, command, history FROM n, events "
            "WHERE incident_id = 'inc-1' ORDER BY n.i, events.seq",
            (COPIES,),
        )
        # Every tenth opened a week later, and the last still open.
        db.execute("UPDATE incidents SET opened_at = '2026-11-30T09:00:00.000000Z' WHERE seq % 10 = 0")
        db.execute("UPDATE incidents SET final = 0 WHERE seq = ?", (COPIES,))
    db.close()
    return SQLiteStore(folder)


def test_every_closed_incident_comes_once_in_order_with_its_whole_log(store: SQLiteStore) -> None:
    seen = list(store.recorded(None, None))
    assert [item.incident.id for item in seen] == [f"inc-{n}" for n in range(1, COPIES)]
    first = seen[0]
    assert all(item.final for item in seen)
    assert [event.kind for event in first.events] == [event.kind for event in store.events("inc-1")]
    assert all(len(item.events) == len(first.events) for item in seen)
    assert {event.incident_id for event in seen[-1].events} == {seen[-1].incident.id}


def test_open_incidents_come_only_when_asked(store: SQLiteStore) -> None:
    assert sum(1 for _ in store.recorded(None, None, closed_only=False)) == COPIES


def test_only_incidents_opened_within_the_period_come(store: SQLiteStore) -> None:
    later = datetime(2026, 11, 30, tzinfo=UTC)
    assert sum(1 for _ in store.recorded(later, None, closed_only=False)) == COPIES // 10
    assert sum(1 for _ in store.recorded(None, later, closed_only=False)) == COPIES - COPIES // 10
    assert not list(store.recorded(datetime(2027, 1, 1, tzinfo=UTC), None))


def test_the_postgresql_store_reads_the_same_incidents_page_by_page(store: SQLiteStore) -> None:
    from engine.store.postgresql import PostgreSQLStore, copy_sqlite_store  # noqa: PLC0415

    later = datetime(2026, 11, 30, tzinfo=UTC)
    with fresh_schema() as url:
        copied = PostgreSQLStore(url, pool_size=1)
        try:
            copied.migrate()
            copy_sqlite_store(store.path, copied)
            for since, until, closed_only in ((None, None, True), (None, None, False), (later, None, False)):
                assert list(copied.recorded(since, until, closed_only=closed_only)) == list(
                    store.recorded(since, until, closed_only=closed_only)
                )
        finally:
            copied.close()
