"""Open incidents listed by when their next clock runs out, as the desk's queue reads them: straight from an index
of the store (SQLite and PostgreSQL), the first to run out first and those with no clock running last; and a store
written before that index existed gets it filled in when it is opened."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import Backend
from intake_support import mention
from test_service_with_a_store import Desk

from engine.incident import Actor
from engine.store import IncidentFilter
from engine.testing import FakeClock

START = "2026-11-23T09:00:00+00:00"  # a Monday


def _first_due(desk: Desk, incident_id: str) -> str:
    row = desk.store.incident(incident_id)
    assert row is not None
    return min(clock.due_at for clock in row.incident.clocks).isoformat()


def _opened(backend: Backend) -> Desk:
    """Three open complaints whose first clocks run out at different times, and one closed."""
    clock = FakeClock(START)
    desk = Desk(backend, clock)
    desk.service.ingest([mention("1", handle="@ann")])  # an everyday complaint: its clock runs out last
    clock.advance("10m")
    desk.service.ingest([mention("2", handle="@ben")])
    desk.service.ingest([mention("3", handle="@cat")])
    bob = Actor("bob", frozenset({"social_lead"}))
    # inc-2, assessed critical, now has the shortest limit of all; inc-3 is closed.
    desk.service.act("inc-2", "assess", person="bob", roles=bob.roles, fields={"severity": "critical"}, version=0)
    desk.service.act("inc-3", "do_not_engage", person="bob", roles=bob.roles, fields={"reason": "troll"}, version=0)
    return desk


def test_open_incidents_come_by_the_time_their_next_clock_runs_out(backend: Backend) -> None:
    desk = _opened(backend)

    listed = desk.store.incidents(IncidentFilter(order="due"))

    assert [row.incident.id for row in listed] == sorted(["inc-1", "inc-2"], key=lambda key: _first_due(desk, key))
    assert all(not row.final for row in listed)
    assert _first_due(desk, "inc-2") < _first_due(desk, "inc-1")


def test_the_order_by_due_keeps_the_other_filters(backend: Backend) -> None:
    desk = _opened(backend)

    critical = desk.store.incidents(IncidentFilter(order="due", severities=("critical",)))
    on_other_channel = desk.store.incidents(IncidentFilter(order="due", channels=("facebook",)))

    assert [row.incident.id for row in critical] == ["inc-2"]
    assert on_other_channel == []


def test_a_store_written_before_the_due_index_gets_it_filled_in_when_opened(tmp_path: Path) -> None:
    desk = _opened(Backend("sqlite", tmp_path))
    expected = [row.incident.id for row in desk.store.incidents(IncidentFilter(order="due"))]
    desk.store.close()
    # The store as schema version 8 left it: no owner, no next_due, no indexes on them.
    with sqlite3.connect(tmp_path / "calmly.sqlite3") as db:
        db.execute("DROP INDEX incidents_by_next_due")
        db.execute("DROP INDEX incidents_by_owner")
        db.execute("DROP INDEX outbox_by_incident")
        db.execute("ALTER TABLE incidents DROP COLUMN owner")
        db.execute("ALTER TABLE incidents DROP COLUMN next_due")
        db.execute("DELETE FROM schema_migrations WHERE version = 9")
    db.close()

    reopened = desk.restart()

    assert [row.incident.id for row in reopened.store.incidents(IncidentFilter(order="due"))] == expected
    with sqlite3.connect(tmp_path / "calmly.sqlite3") as db:
        filled = dict(db.execute("SELECT id, next_due FROM incidents").fetchall())
    db.close()
    assert filled["inc-3"] is None  # closed: not in the queue
    assert filled["inc-1"].replace("Z", "+00:00").startswith(_first_due(reopened, "inc-1")[:19])
