"""Due deadlines fired several to a transaction, on a real store (SQLite, and PostgreSQL) with a clock moved by
hand: each fires once, with the same outcome as firing them one at a time; an incident meets its deadlines in due
order; a cancelled one never fires; a batch that fails leaves nothing behind (SQLite's full disk); and the
scheduler fires batch after batch by itself."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import Backend
from intake_support import mention

from engine.daemon import Scheduler
from engine.service import FiredDeadline, Library, Service
from engine.store import Store
from engine.testing import FakeClock

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
START = "2026-11-23T09:00:00+00:00"  # a Monday
ALICE = {"person": "alice", "roles": frozenset({"community_manager"})}
#: Complaints of every severity and under several playbooks, each by its own author.
TEXTS = (
    "My order arrived broken",
    "Still waiting for my refund",
    "I got food poisoning from your sandwich",
    "outage? site down for everyone",
    "The app is down again, can't log in",
    "crypto giveaway, check my bio",
)


@dataclass
class Desk:
    """A service over a store in a folder, as the daemon builds it."""

    clock: FakeClock
    store: Store
    service: Service

    @classmethod
    def at(cls, backend: Backend) -> Desk:
        clock = FakeClock(START)
        store = backend.open()
        library = Library(store)
        library.install([PLAYBOOKS], clock.now())
        return cls(clock, store, Service(store, library, clock.now))

    def fire_all(self, limit: int | None = None) -> list[FiredDeadline]:
        """Fire every deadline due now, batch after batch, as the scheduler does."""
        fired: list[FiredDeadline] = []
        while True:
            batch = self.service.fire_due() if limit is None else self.service.fire_due(limit)
            if not batch:
                return fired
            fired += batch

    def recorded(self) -> dict[str, Any]:
        """Everything firing writes, per incident: its row, its log, its notifications and its pending deadlines."""
        found: dict[str, Any] = {}
        for incident_id in self.store.all_incident_ids():
            row = self.store.incident(incident_id)
            assert row is not None
            found[incident_id] = {
                "row": (row.incident, row.final, row.waiting_on),
                "log": [(e.at, e.kind, e.actor, e.command, e.history) for e in self.store.events(incident_id)],
                "pending": self.store.pending_deadlines(incident_id),
            }
        outbox = self.store.outbox(limit=100_000)
        found["outbox"] = sorted((row.key, row.incident_id, row.created_at, dict(row.body)) for row in outbox)
        return found


@pytest.fixture
def desk(backend: Backend) -> Iterator[Desk]:
    made = Desk.at(backend)
    yield made
    made.store.close()


def _busy_day(desk: Desk, fire: Callable[[], list[FiredDeadline]]) -> list[FiredDeadline]:
    """Sixty complaints at once, some worked, the clock moved past warnings, breaches and escalations."""
    mentions = [
        mention(str(number), text=TEXTS[number % len(TEXTS)], handle=f"@c{number}")
        | ({"author": {"handle": f"@c{number}", "followers": 20_000}} if number % 7 == 0 else {})
        for number in range(60)
    ]
    desk.service.ingest(mentions)
    fired = []
    for step in ("20m", "40m", "2h", "1h30m", "5h", "1d"):
        desk.clock.advance(step)
        fired += fire()
        if step == "40m":
            for incident_id in ("inc-2", "inc-8", "inc-14"):  # complaints assessed as high: their clocks re-planned
                done = desk.service.act(incident_id, "assess", **ALICE, fields={"severity": "high"}, version=0)
                assert done.refused is None
    return fired


def test_deadlines_due_together_fire_once_each_with_the_same_outcome_as_one_at_a_time(
    backend: Backend, tmp_path: Path
) -> None:
    # Batched on each backend, one at a time on SQLite: the same outcome on both backends, too.
    batched, single = Desk.at(backend), Desk.at(Backend("sqlite", tmp_path / "single"))
    try:
        fired = _busy_day(batched, batched.fire_all)
        one_by_one = _busy_day(single, lambda: single.fire_all(limit=1))

        assert len(fired) > 100
        assert len({item.key for item in fired}) == len(fired)  # none twice
        assert sorted(item.key for item in fired) == sorted(item.key for item in one_by_one)
        assert batched.recorded() == single.recorded()
        assert batched.service.fire_due() == []
    finally:
        batched.store.close()
        single.store.close()


def test_an_incident_with_several_deadlines_in_one_batch_meets_them_in_due_order(desk: Desk) -> None:
    desk.service.ingest([mention("1")])  # medium: detected within 4h, first response within 4h, resolution in 24h
    desk.clock.advance("19h")  # each clock's next step fell due: the detected and first-response warnings at 3h,
    # the resolution warning at 18h

    fired = desk.service.fire_due()

    assert [item.key.split("/")[1] for item in fired] == ["first_response", "limit:detected", "resolution"]
    assert [item.due_at for item in fired] == sorted(item.due_at for item in fired)
    deadline_events = [event for event in desk.store.events("inc-1") if event.kind == "deadline"]
    assert [event.command["key"] for event in deadline_events] == [item.key for item in fired]
    row = desk.store.incident("inc-1")
    assert row is not None
    assert row.incident.breached == {"first_response", "limit:detected"}  # each step kept what the one before did
    assert desk.service.rebuild("inc-1") == row.incident
    assert {row.body["clock"] for row in desk.store.outbox()} == {"first_response", "limit:detected", "resolution"}


def test_a_deadline_cancelled_by_an_action_before_the_batch_is_claimed_never_fires(desk: Desk) -> None:
    desk.service.ingest([mention("1")])
    desk.clock.advance("3h")  # the detected limit's warning is due, but not yet fired
    desk.service.act("inc-1", "assess", **ALICE, fields={"severity": "medium"}, version=0)  # detected is over

    fired = desk.service.fire_due()

    assert "limit:detected" not in {item.key.split("/")[1] for item in fired}
    assert "limit:detected" not in {row.body["clock"] for row in desk.store.outbox()}
    assert not any(
        event.kind == "deadline" and "limit:detected" in str(event.command["key"])
        for event in desk.store.events("inc-1")
    )


def test_a_batch_that_fails_part_way_leaves_every_deadline_pending_and_fires_whole_with_the_same_keys_after(
    tmp_path: Path,
) -> None:
    failing = Desk.at(Backend("sqlite", tmp_path / "failing"))
    untroubled = Desk.at(Backend("sqlite", tmp_path / "untroubled"))
    try:
        for desk in (failing, untroubled):
            desk.service.ingest([mention(str(number), handle=f"@c{number}") for number in range(10)])
            desk.clock.advance("3h")
        # The store gives way as the batch writes its fifth incident's step, as a full disk would.
        with sqlite3.connect(failing.store.path) as db:
            db.execute(
                "CREATE TRIGGER disk_full BEFORE INSERT ON events WHEN NEW.incident_id = 'inc-5' "
                "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
            )
        pending = len(failing.store.due(failing.clock.now(), 1000))

        with pytest.raises(sqlite3.Error, match="disk is full"):
            failing.service.fire_due()

        assert len(failing.store.due(failing.clock.now(), 1000)) == pending == 20
        assert failing.store.outbox() == []
        assert all(e.kind == "open" for i in failing.store.all_incident_ids() for e in failing.store.events(i))
        with sqlite3.connect(failing.store.path) as db:
            db.execute("DROP TRIGGER disk_full")
        fired = failing.fire_all()
        assert len(fired) == pending
        untroubled.fire_all()
        assert failing.recorded() == untroubled.recorded()
    finally:
        failing.store.close()
        untroubled.store.close()


def test_a_batch_ended_early_fires_what_it_did_and_leaves_the_rest_for_the_next(
    backend: Backend, tmp_path: Path
) -> None:
    hurried, unhurried = Desk.at(backend), Desk.at(Backend("sqlite", tmp_path / "unhurried"))
    try:
        for desk in (hurried, unhurried):
            desk.service.ingest([mention(str(number), handle=f"@c{number}") for number in range(5)])
            desk.clock.advance("3h")  # ten warnings due

        first = hurried.service.fire_due(enough=lambda: True)

        assert len(first) == 1
        assert len(hurried.store.due(hurried.clock.now(), 100)) == 9
        rest = hurried.fire_all()
        assert [item.key for item in first + rest] == [item.key for item in unhurried.fire_all()]
        assert hurried.recorded() == unhurried.recorded()
    finally:
        hurried.store.close()
        unhurried.store.close()


def test_the_scheduler_fires_batch_after_batch_on_a_simulated_clock_without_being_woken_again(desk: Desk) -> None:
    desk.service.ingest([mention(str(number), handle=f"@c{number}") for number in range(60)])
    desk.clock.advance("3h")  # 120 warnings due: several batches
    due = len(desk.store.due(desk.clock.now(), 1000))
    scheduler = Scheduler(desk.service, desk.clock.now, simulated=True)
    scheduler.start()
    try:
        give_up = time.monotonic() + 20
        while desk.store.due(desk.clock.now(), 1) and time.monotonic() < give_up:
            time.sleep(0.01)  # waiting for the scheduler's thread; the clock does not move
    finally:
        scheduler.stop()

    assert due == 120
    assert desk.store.due(desk.clock.now(), 1) == []
    assert len(desk.store.outbox(limit=1000)) == due
