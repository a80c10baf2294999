"""Wake-up hints between daemons on one PostgreSQL database: a committed unit of work that armed a deadline or
added a notification is heard by another daemon's listener (the earliest due time, or the outbox), one that rolled
back is not, and a listener that connects wakes both loops once for what it may have missed. The other daemons' news
goes the same way: an incident saved (its id, state and revision), a presence beat, a sign-out, a reload that took;
never back to the daemon that sent it, nor to a store in another schema. Skips, saying how to enable it, without
CALMLY_TEST_POSTGRES_URL.

A hint arrives over the network, so the cases wait for it with a timeout; none waits for a deadline."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from conftest import fresh_schema
from intake_support import mention

from engine.service import Library, Service
from engine.store.postgresql import Beat, HintListener, PeerHints, PostgreSQLStore
from engine.testing import FakeClock

START = "2026-11-23T09:00:00+00:00"
HEARD_WITHIN_S = 10.0
PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"


class Heard:
    """What a listener was told, in order: ("deadline", due_at) or ("outbox", None)."""

    def __init__(self) -> None:
        self.hints: queue.Queue[tuple[str, datetime | None]] = queue.Queue()

    def deadline(self, due_at: datetime) -> None:
        self.hints.put(("deadline", due_at))

    def outbox(self) -> None:
        self.hints.put(("outbox", None))

    def next(self) -> tuple[str, datetime | None]:
        return self.hints.get(timeout=HEARD_WITHIN_S)

    def nothing_more(self) -> bool:
        try:
            self.hints.get(timeout=0.5)
        except queue.Empty:
            return True
        return False


@pytest.fixture
def stores() -> Iterator[tuple[PostgreSQLStore, PostgreSQLStore]]:
    with fresh_schema() as url:
        first, second = PostgreSQLStore(url, pool_size=2), PostgreSQLStore(url, pool_size=2)
        first.migrate()
        try:
            yield first, second
        finally:
            first.close()
            second.close()


@pytest.fixture
def listening(stores: tuple[PostgreSQLStore, PostgreSQLStore]) -> Iterator[tuple[PostgreSQLStore, Heard]]:
    """The first daemon's store, and what the second daemon's listener hears (its wake-up on connecting taken)."""
    first, second = stores
    heard = Heard()
    listener: HintListener = second.listen(heard.deadline, heard.outbox)
    listener.start()
    try:
        assert listener.listening.wait(HEARD_WITHIN_S)
        # Woken once on connecting, for whatever was hinted while it did not listen.
        assert heard.next()[0] == "deadline"
        assert heard.next() == ("outbox", None)
        yield first, heard
    finally:
        listener.stop()


def test_a_deadline_armed_by_one_daemon_is_hinted_to_another_with_the_earliest_due_time(
    listening: tuple[PostgreSQLStore, Heard],
) -> None:
    first, heard = listening
    now = FakeClock(START).now()
    with first.write() as tx:
        tx.deadlines.arm("inc-1/a", "inc-1", "limit:detected", now + timedelta(minutes=30))
        tx.deadlines.arm("inc-1/b", "inc-1", "target:first", now + timedelta(minutes=5))

    assert heard.next() == ("deadline", now + timedelta(minutes=5))
    assert heard.nothing_more()


def test_a_notification_added_by_one_daemon_is_hinted_to_another(listening: tuple[PostgreSQLStore, Heard]) -> None:
    first, heard = listening
    now = FakeClock(START).now()
    with first.write() as tx:
        tx.outbox.enqueue("inc-1/note", "inc-1", now, {"key": "inc-1/note", "roles": ["social_lead"]})

    assert heard.next() == ("outbox", None)


def test_a_unit_of_work_that_rolls_back_hints_nothing(listening: tuple[PostgreSQLStore, Heard]) -> None:
    first, heard = listening
    now = FakeClock(START).now()

    def failing_change() -> None:
        with first.write() as tx:
            tx.deadlines.arm("inc-1/a", "inc-1", "limit:detected", now)
            raise RuntimeError("the change failed before its commit")

    with pytest.raises(RuntimeError):
        failing_change()

    assert heard.nothing_more()


def test_a_store_in_another_schema_of_the_database_is_not_woken_by_these_hints(
    stores: tuple[PostgreSQLStore, PostgreSQLStore],
) -> None:
    first, _ = stores
    now = FakeClock(START).now()
    with fresh_schema() as elsewhere_url:
        elsewhere, heard = PostgreSQLStore(elsewhere_url, pool_size=1), Heard()
        listener = elsewhere.listen(heard.deadline, heard.outbox)
        listener.start()
        try:
            assert listener.listening.wait(HEARD_WITHIN_S)
            assert [heard.next()[0], heard.next()[0]] == ["deadline", "outbox"]  # on connecting
            with first.write() as tx:
                tx.deadlines.arm("inc-1/a", "inc-1", "limit:detected", now)
                tx.outbox.enqueue("inc-1/note", "inc-1", now, {"key": "inc-1/note", "roles": ["social_lead"]})

            assert heard.nothing_more()
        finally:
            listener.stop()
            elsewhere.close()


# --- the desk's hints --------------------------------------------------------------------------------------------


class DeskHeard:
    """What a listener tells a daemon's desk, in order: ("incident", (id, state, revision)), ("beat", Beat),
    ("forget", person) or ("reload", None)."""

    def __init__(self, origin: str) -> None:
        self.hints: queue.Queue[tuple[str, object]] = queue.Queue()
        self.desk = PeerHints(
            origin,
            lambda *incident: self.hints.put(("incident", incident)),
            lambda beat: self.hints.put(("beat", beat)),
            lambda person: self.hints.put(("forget", person)),
            lambda: self.hints.put(("reload", None)),
        )

    def next(self) -> tuple[str, object]:
        return self.hints.get(timeout=HEARD_WITHIN_S)

    def nothing_more(self) -> bool:
        try:
            self.hints.get(timeout=0.5)
        except queue.Empty:
            return True
        return False


@contextmanager
def desk_listening(store: PostgreSQLStore, origin: str) -> Iterator[DeskHeard]:
    """What the desk of a daemon whose store is ``origin`` hears through ``store``'s listener."""
    heard = DeskHeard(origin)
    listener = store.listen(lambda _: None, lambda: None, heard.desk)
    listener.start()
    try:
        assert listener.listening.wait(HEARD_WITHIN_S)
        yield heard
    finally:
        listener.stop()


def _service(store: PostgreSQLStore) -> Service:
    library = Library(store)
    library.install([PLAYBOOKS], FakeClock(START).now())
    return Service(store, library, FakeClock(START).now)


def test_an_incident_opened_through_one_daemon_is_hinted_to_the_others_desk_by_id_state_and_revision(
    stores: tuple[PostgreSQLStore, PostgreSQLStore],
) -> None:
    first, second = stores
    with desk_listening(second, second.origin) as heard:
        (taken,) = _service(first).ingest([mention("tw-1")])
        row = first.incident(str(taken.incident_id))

    assert row is not None
    assert heard.next() == ("incident", (taken.incident_id, row.incident.state, row.incident.revision))
    assert heard.nothing_more()


def test_a_daemon_does_not_hear_its_own_peer_hints_again(stores: tuple[PostgreSQLStore, PostgreSQLStore]) -> None:
    first, _ = stores
    with desk_listening(first, first.origin) as heard:
        _service(first).ingest([mention("tw-1")])
        first.tell_beat(Beat("inc-1", "alice", "viewing", None, "p1", FakeClock(START).now()))

        assert heard.nothing_more()


def test_a_store_in_another_schema_of_the_database_does_not_hear_the_peer_hints(
    stores: tuple[PostgreSQLStore, PostgreSQLStore],
) -> None:
    first, _ = stores
    with fresh_schema() as elsewhere_url:
        elsewhere = PostgreSQLStore(elsewhere_url, pool_size=1)
        try:
            with desk_listening(elsewhere, elsewhere.origin) as heard:
                _service(first).ingest([mention("tw-1")])
                first.tell_forget("alice")

                assert heard.nothing_more()
        finally:
            elsewhere.close()


def test_a_presence_beat_a_sign_out_and_a_reload_on_one_daemon_are_hinted_to_the_others_whole(
    stores: tuple[PostgreSQLStore, PostgreSQLStore],
) -> None:
    first, second = stores
    at = FakeClock(START).now()
    beat = Beat("inc-7", "alice", "drafting", "acknowledge", "page-3", at)
    with desk_listening(second, second.origin) as heard:
        first.tell_beat(beat)
        first.tell_forget("alice")
        first.tell_reload()

        assert heard.next() == ("beat", beat)
        assert heard.next() == ("forget", "alice")
        assert heard.next() == ("reload", None)
