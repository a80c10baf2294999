"""Who else has an incident open, as the desk's presence registry keeps it: from the beats of each person's page,
on a clock the test moves, each change of company announced once, and nobody shown to themselves."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from engine.api import IncidentNotice, PresenceNotice
from engine.desk import LocalFeed, MemoryPresence, SharedPresence
from engine.desk._presence import Activity, Presence, tidy
from engine.service import Person, Roster
from engine.testing import FakeClock

VIEWING = Activity.VIEWING
DRAFTING = Activity.DRAFTING
LEFT = Activity.LEFT


class Announced:
    """The incidents the registry announced, in order."""

    def __init__(self) -> None:
        self.incidents: list[str] = []

    def __call__(self, incident: str) -> None:
        self.incidents.append(incident)


def test_a_person_on_an_incident_is_shown_to_others_and_never_to_themselves() -> None:
    clock = FakeClock()
    presence = MemoryPresence()

    presence.beat("inc-1", Presence("bob", VIEWING), clock.now())
    presence.beat("inc-1", Presence("alice", VIEWING), clock.now())

    assert presence.others("inc-1", "alice", clock.now()) == (Presence("bob", VIEWING),)
    assert presence.others("inc-1", "bob", clock.now()) == (Presence("alice", VIEWING),)
    assert presence.others("inc-2", "alice", clock.now()) == ()


def test_a_beat_counts_for_45_seconds_and_is_then_no_longer_shown() -> None:
    clock = FakeClock()
    presence = MemoryPresence()
    presence.beat("inc-1", Presence("bob", VIEWING), clock.now())

    clock.advance("44s")
    still = presence.others("inc-1", "alice", clock.now())
    clock.advance("1s")
    expired = presence.others("inc-1", "alice", clock.now())

    assert still == (Presence("bob", VIEWING),)
    assert expired == ()
    assert presence.people(clock.now()) == frozenset()


def test_each_beat_starts_the_45_seconds_again() -> None:
    clock = FakeClock()
    presence = MemoryPresence()
    for _ in range(5):  # a page open for 100 s, beating every 20 s
        presence.beat("inc-1", Presence("bob", VIEWING), clock.now())
        clock.advance("20s")

    assert presence.others("inc-1", "alice", clock.now()) == (Presence("bob", VIEWING),)


def test_drafting_names_the_action_and_a_later_beat_of_viewing_takes_its_place() -> None:
    clock = FakeClock()
    presence = MemoryPresence()
    presence.beat("inc-1", Presence("carol", VIEWING), clock.now())

    presence.beat("inc-1", Presence("carol", DRAFTING, "acknowledge"), clock.now())
    drafting = presence.others("inc-1", "alice", clock.now())
    presence.beat("inc-1", Presence("carol", VIEWING), clock.now())
    viewing = presence.others("inc-1", "alice", clock.now())

    assert drafting == (Presence("carol", DRAFTING, "acknowledge"),)
    assert viewing == (Presence("carol", VIEWING),)


def test_leaving_takes_the_person_off_at_once() -> None:
    clock = FakeClock()
    announced = Announced()
    presence = MemoryPresence(announced)
    presence.beat("inc-1", Presence("bob", VIEWING), clock.now())

    presence.beat("inc-1", Presence("bob", LEFT), clock.now())
    presence.beat("inc-1", Presence("bob", LEFT), clock.now())  # the page said so twice: nothing more changed

    assert presence.others("inc-1", "alice", clock.now()) == ()
    assert announced.incidents == ["inc-1", "inc-1"]


def test_a_page_that_says_it_left_after_the_next_one_opened_does_not_take_its_person_off() -> None:
    clock = FakeClock()
    presence = MemoryPresence()
    presence.beat("inc-1", Presence("alice", DRAFTING, "assess"), clock.now(), page="first")
    presence.beat("inc-1", Presence("alice", VIEWING), clock.now(), page="second")  # the page after her action

    presence.beat("inc-1", Presence("alice", LEFT), clock.now(), page="first")  # the first page's word, late
    kept = presence.others("inc-1", "bob", clock.now())
    presence.beat("inc-1", Presence("alice", LEFT), clock.now(), page="second")
    gone = presence.others("inc-1", "bob", clock.now())

    assert kept == (Presence("alice", VIEWING),)
    assert gone == ()


def test_announces_a_change_of_who_is_there_or_what_they_do_and_not_every_beat() -> None:
    clock = FakeClock()
    announced = Announced()
    presence = MemoryPresence(announced)

    presence.beat("inc-1", Presence("bob", VIEWING), clock.now())  # came
    clock.advance("20s")
    presence.beat("inc-1", Presence("bob", VIEWING), clock.now())  # still there: nothing to tell
    presence.beat("inc-1", Presence("bob", DRAFTING, "assess"), clock.now())  # started typing
    presence.beat("inc-1", Presence("bob", DRAFTING, "acknowledge"), clock.now())  # typing in another form
    presence.beat("inc-2", Presence("bob", VIEWING), clock.now())  # opened another incident too

    assert announced.incidents == ["inc-1", "inc-1", "inc-1", "inc-2"]


def test_a_sweep_announces_the_incidents_whose_people_stopped_beating() -> None:
    clock = FakeClock()
    announced = Announced()
    presence = MemoryPresence(announced)
    presence.beat("inc-1", Presence("bob", VIEWING), clock.now())
    presence.beat("inc-2", Presence("carol", VIEWING), clock.now())
    clock.advance("30s")
    presence.beat("inc-2", Presence("carol", VIEWING), clock.now())
    announced.incidents.clear()

    clock.advance("20s")  # bob's last beat is 50 s old, carol's 20 s
    presence.sweep(clock.now())
    presence.sweep(clock.now())

    assert announced.incidents == ["inc-1"]
    assert presence.people(clock.now()) == frozenset({"carol"})


def test_a_beat_on_any_incident_also_sweeps_out_the_expired_ones() -> None:
    clock = FakeClock()
    announced = Announced()
    presence = MemoryPresence(announced)
    presence.beat("inc-1", Presence("bob", VIEWING), clock.now())
    clock.advance("1m")
    announced.incidents.clear()

    presence.beat("inc-2", Presence("carol", VIEWING), clock.now())

    assert announced.incidents == ["inc-1", "inc-2"]


def test_forgetting_a_person_takes_them_off_every_incident() -> None:
    clock = FakeClock()
    announced = Announced()
    presence = MemoryPresence(announced)
    presence.beat("inc-1", Presence("bob", VIEWING), clock.now())
    presence.beat("inc-2", Presence("bob", DRAFTING, "assess"), clock.now())
    presence.beat("inc-2", Presence("carol", VIEWING), clock.now())
    announced.incidents.clear()

    presence.forget("bob")

    assert presence.people(clock.now()) == frozenset({"carol"})
    assert announced.incidents == ["inc-1", "inc-2"]


def test_the_queues_view_lists_every_incident_someone_else_is_on() -> None:
    clock = FakeClock()
    presence = MemoryPresence()
    presence.beat("inc-1", Presence("bob", VIEWING), clock.now())
    presence.beat("inc-2", Presence("carol", DRAFTING, "acknowledge"), clock.now())
    presence.beat("inc-2", Presence("alice", VIEWING), clock.now())
    presence.beat("inc-3", Presence("alice", VIEWING), clock.now())  # only alice: nothing for her to see there

    around = presence.around("alice", clock.now())

    assert around == {"inc-1": (Presence("bob", VIEWING),), "inc-2": (Presence("carol", DRAFTING, "acknowledge"),)}


def test_someone_taken_off_the_roster_is_forgotten_when_the_registry_is_tidied() -> None:
    clock = FakeClock()
    presence = MemoryPresence()
    presence.beat("inc-1", Presence("bob", VIEWING), clock.now())
    presence.beat("inc-1", Presence("carol", VIEWING), clock.now())
    roster = Roster({"carol": Person("carol", frozenset({"customer_care"}))}, source="test")

    tidy(presence, roster, clock.now())

    assert presence.people(clock.now()) == frozenset({"carol"})


def test_the_change_feed_hands_each_listener_the_incident_whose_company_changed() -> None:
    async def scenario() -> list[IncidentNotice | PresenceNotice]:
        feed = LocalFeed()
        listener = feed.subscribe()
        presence = MemoryPresence(feed.publish_presence)
        presence.beat("inc-1", Presence("bob", VIEWING), FakeClock().now())
        listener.close()
        return [notice async for notice in listener]

    assert asyncio.run(scenario()) == [PresenceNotice("inc-1")]


# --- shared between daemons --------------------------------------------------------------------------------------


class Told:
    """What a shared registry told the other daemons, in order."""

    def __init__(self) -> None:
        self.said: list[tuple[str, ...]] = []

    def beat(self, incident: str, presence: Presence, at: datetime, page: str) -> None:
        self.said.append(("beat", incident, presence.person, presence.activity.value, at.isoformat(), page))

    def forget(self, person: str) -> None:
        self.said.append(("forget", person))


def test_a_shared_registry_tells_the_other_daemons_each_beat_and_sign_out_of_its_own_pages() -> None:
    clock, told = FakeClock(), Told()
    presence = SharedPresence(told.beat, told.forget, Announced())

    presence.beat("inc-1", Presence("bob", VIEWING), clock.now(), "p1")
    presence.forget("bob")

    at = clock.now().isoformat()
    assert told.said == [("beat", "inc-1", "bob", "viewing", at, "p1"), ("forget", "bob")]


def test_a_beat_heard_from_another_daemon_shows_here_expires_here_and_is_not_told_on() -> None:
    clock, told, announced = FakeClock(), Told(), Announced()
    presence = SharedPresence(told.beat, told.forget, announced)

    presence.heard_beat("inc-1", Presence("bob", DRAFTING, "acknowledge"), clock.now(), "p1")
    shown = presence.others("inc-1", "alice", clock.now())
    clock.advance(timedelta(seconds=46))
    presence.sweep(clock.now())

    assert shown == (Presence("bob", DRAFTING, "acknowledge"),)
    assert presence.others("inc-1", "alice", clock.now()) == ()
    assert announced.incidents == ["inc-1", "inc-1"]
    assert told.said == []


def test_a_sign_out_heard_from_another_daemon_takes_the_person_off_here() -> None:
    clock = FakeClock()
    presence = SharedPresence(Told().beat, Told().forget, Announced())
    presence.beat("inc-1", Presence("bob", VIEWING), clock.now())

    presence.heard_forget("bob")

    assert presence.people(clock.now()) == frozenset()
