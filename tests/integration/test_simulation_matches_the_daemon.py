"""``calmly simulate`` and the daemon run one intake path: every shipped timeline leaves the same history.

The daemon's side is its service over a real SQLite store in a folder, built as the daemon builds it, driven the
way the daemon is: each mention and action at its time, and between them the scheduler's loop (sleep until the
earliest deadline, fire everything due). The simulation's side is ``simulate`` over a store in memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.authoring.simulation import simulate
from engine.authoring.timeline import Timeline, read_timeline
from engine.files import load_file
from engine.incident import Actor, DraftReply, Rulebook
from engine.service import IntakeStatus, Library, Service
from engine.store import SQLiteStore, Store, encode_incident
from engine.testing import FakeClock, memory_store

ROOT = Path(__file__).resolve().parents[2]
TIMELINES = sorted((ROOT / "examples" / "timelines").glob("*.yaml"))
#: The playbook each timeline is written for (its first line names it); the complaint desk's when it is another's.
PLAYBOOK_OF = {"broken-order": "customer-complaint", "waiting-on-the-customer": "customer-complaint"}


def _playbook(timeline: Path) -> Path:
    return ROOT / "playbooks" / f"{PLAYBOOK_OF.get(timeline.stem, timeline.stem)}.yaml"


def _timeline(path: Path) -> Timeline:
    read = read_timeline(path)
    assert isinstance(read, Timeline), read
    return read


def _history(store: Store) -> dict[str, Any]:
    """Every incident as its row holds it, and its log: each command, when, by whom, and what it wrote down."""
    found: dict[str, Any] = {}
    for incident_id in store.all_incident_ids():
        row = store.incident(incident_id)
        assert row is not None
        events = [
            (event.kind, event.at, event.actor, dict(event.command), [dict(entry) for entry in event.history])
            for event in store.events(incident_id)
        ]
        found[incident_id] = {"row": encode_incident(row.incident), "final": row.final, "events": events}
    return found


def _run_as_the_daemon(folder: Path, playbook: Path, timeline: Timeline) -> SQLiteStore:
    clock = FakeClock(timeline.start)
    store = SQLiteStore(folder)
    store.migrate()
    library = Library(store)
    library.install([playbook], clock.now())
    service = Service(store, library, clock.now)
    opened: list[str] = []

    def run_until(moment: Any) -> None:
        while (due := service.next_due()) is not None and due <= moment:
            clock.set(max(due, clock.now()))
            service.fire_due()

    for event in timeline.events:
        run_until(event.at)
        clock.set(max(event.at, clock.now()))
        if event.mention is not None:
            (result,) = service.ingest([dict(event.sent)])
            if result.status == IntakeStatus.OPENED and result.incident_id is not None:
                opened.append(result.incident_id)
        elif event.act is not None and event.by is not None and event.incident <= len(opened):
            roles = timeline.people[event.by]
            incident_id = opened[event.incident - 1]
            if event.draft is not None:  # a draft reply submitted, approved or returned, as the desk and API send it
                service.draft(
                    incident_id, DraftReply(event.draft, event.act, Actor(event.by, roles), dict(event.fields))
                )
            else:
                service.act(incident_id, event.act, person=event.by, roles=roles, fields=event.fields, version=None)
    run_until(timeline.until)
    return store


@pytest.mark.parametrize("path", TIMELINES, ids=lambda path: path.stem)
def test_simulate_and_the_daemon_leave_the_same_history_for_every_shipped_timeline(path: Path, tmp_path: Path) -> None:
    timeline = _timeline(path)
    loaded = load_file(_playbook(path))
    assert loaded.playbook is not None
    simulated = memory_store()
    daemon = _run_as_the_daemon(tmp_path / "data", _playbook(path), timeline)
    try:
        simulate(Rulebook(loaded.playbook), timeline, store=simulated)
        expected = _history(daemon)
        assert expected, f"{path.name} opens no incident: nothing would be compared"
        assert _history(simulated) == expected
    finally:
        simulated.close()
        daemon.close()
