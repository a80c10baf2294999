"""Groups and surges through the daemon's service on a real store (SQLite, and PostgreSQL): a replayed burst gathers
into one incident, surges once, opens one crisis linked both ways, and all of it survives a restart and rebuilds
from the log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import Backend

from engine.service import Library, Service
from engine.testing import FakeClock

ROOT = Path(__file__).resolve().parents[2]
SURGES = ROOT / "tests" / "fixtures" / "playbooks" / "surges"
START = datetime.fromisoformat("2026-11-23T09:00:00+00:00")


class Desk:
    def __init__(self, backend: Backend, clock: FakeClock, paths: list[Path]) -> None:
        self.backend, self.clock, self.paths = backend, clock, paths
        self.store = backend.open()
        self.library = Library(self.store)
        self.library.install(paths, clock.now())
        self.service = Service(self.store, self.library, clock.now)

    def restart(self) -> Desk:
        self.store.close()
        return Desk(self.backend, self.clock, self.paths)


@pytest.fixture
def desk(backend: Backend) -> Iterator[Desk]:
    made = Desk(backend, FakeClock(START.isoformat()), [SURGES])
    yield made
    made.store.close()


def burst(count: int, every: timedelta, *, first: int = 1, text: str = "I can't log in, is it down?") -> list[Any]:
    return [
        {
            "channel": "twitter",
            "external_id": f"tw-{number}",
            "text": text,
            "posted_at": (START + every * (number - first)).isoformat(),
            "author": {"handle": f"@user{number}", "followers": 10},
        }
        for number in range(first, first + count)
    ]


def test_a_burst_about_one_topic_gathers_into_one_incident_with_every_witness(desk: Desk) -> None:
    results = desk.service.ingest(burst(4, timedelta(seconds=30)))

    assert [result.status for result in results] == ["opened", "joined", "joined", "joined"]
    assert {result.incident_id for result in results} == {"inc-1"}
    assert results[1].message == "grouped with the mentions of 'login-outage about login'"
    row = desk.store.incident("inc-1")
    assert row is not None
    assert (row.incident.mention_count, row.incident.severity, row.incident.group) == (
        4,
        "low",
        "login-outage about login",
    )
    assert [body.body["author"]["handle"] for body in desk.store.mentions_of("inc-1")] == [
        "@user1",
        "@user2",
        "@user3",
        "@user4",
    ]


def test_another_topic_and_a_quiet_spell_each_open_an_incident_of_their_own(desk: Desk) -> None:
    desk.service.ingest(burst(2, timedelta(seconds=30)))
    (payments,) = desk.service.ingest(burst(1, timedelta(0), first=50, text="payment failed again, outage?"))
    (later,) = desk.service.ingest(burst(1, timedelta(0), first=60))  # posted at START: within the window
    late = burst(1, timedelta(0), first=70)[0] | {"posted_at": (START + timedelta(minutes=31)).isoformat()}
    desk.clock.advance("31m")
    (after_quiet,) = desk.service.ingest([late])

    assert (payments.status, payments.incident_id) == ("opened", "inc-2")
    assert (later.status, later.incident_id) == ("joined", "inc-1")
    assert (after_quiet.status, after_quiet.incident_id) == ("opened", "inc-3")


def test_a_surge_raises_the_group_once_notifies_once_and_survives_a_restart(desk: Desk) -> None:
    desk.service.ingest(burst(4, timedelta(seconds=30)))
    restarted = desk.restart()  # the first four counted before the restart still count after it
    restarted.service.ingest(burst(3, timedelta(seconds=30), first=5))

    row = restarted.store.incident("inc-1")
    assert row is not None
    assert (row.incident.severity, row.incident.surged) == ("critical", ("spike",))
    surge_notices = [item for item in restarted.store.outbox() if "/event/surge/" in item.key]
    assert [item.key for item in surge_notices] == ["inc-1/event/surge/spike/r0"]
    assert restarted.service.rebuild("inc-1") == row.incident
    restarted.store.close()


def test_a_rate_surge_opens_one_crisis_incident_linked_both_ways_in_the_same_transaction(desk: Desk) -> None:
    results = desk.service.ingest(burst(20, timedelta(seconds=10)))
    more = desk.service.ingest(burst(30, timedelta(seconds=5), first=21))

    assert {result.incident_id for result in results + more} == {"inc-1"}
    crisis = desk.store.incident("inc-2")
    group = desk.store.incident("inc-1")
    assert crisis is not None
    assert group is not None
    assert crisis.incident.playbook == "brand-crisis"
    assert ("inc-1", "surge_of") in crisis.incident.links
    assert ("inc-2", "crisis") in group.incident.links
    assert group.incident.surged == ("spike", "crisis")
    assert desk.store.counts()["incidents"] == 2  # one crisis, however many mentions came after the surge
    assert desk.service.rebuild("inc-1") == group.incident
    assert desk.service.rebuild("inc-2") == crisis.incident
    history = [entry["summary"] for event in desk.store.events("inc-2") for entry in event.history]
    assert "opened for a surge of inc-1 (login-outage)" in history


def test_a_second_group_that_surges_joins_the_crisis_already_open_from_the_same_rule(desk: Desk) -> None:
    desk.service.ingest(burst(20, timedelta(seconds=10)))
    desk.service.ingest(burst(20, timedelta(seconds=10), first=100, text="payment failed, outage!"))

    assert desk.store.counts()["incidents"] == 3  # the login group, its crisis, the payments group
    crisis = desk.store.incident("inc-2")
    assert crisis is not None
    assert {link for link in crisis.incident.links if link[1] == "surge_of"} == {
        ("inc-1", "surge_of"),
        ("inc-3", "surge_of"),
    }


def test_a_crisis_playbook_that_is_not_loaded_is_named_in_the_groups_history_and_nothing_else_opens(
    backend: Backend,
) -> None:
    alone = Desk(backend, FakeClock(START.isoformat()), [SURGES / "login-outage.yaml"])
    try:
        alone.service.ingest(burst(20, timedelta(seconds=10)))
        assert alone.store.counts()["incidents"] == 1
        history = [entry["summary"] for event in alone.store.events("inc-1") for entry in event.history]
        assert "surge crisis could not open a crisis incident: no playbook brand-crisis is loaded" in history
    finally:
        alone.store.close()
