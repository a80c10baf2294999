"""Wake-up hints between daemons on one PostgreSQL database: a committed unit of work that armed a deadline or
added a notification is heard by another daemon's listener (the earliest due time, or the outbox), one that rolled
back is not, and a listener that connects wakes both loops once for what it may have missed. Skips, saying how to
enable it, without CALMLY_TEST_POSTGRES_URL.

A hint arrives over the network, so the cases wait for it with a timeout; none waits for a deadline."""

from __future__ import annotations

import queue
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from conftest import fresh_schema

from engine.store.postgresql import HintListener, PostgreSQLStore
from engine.testing import FakeClock

START = "2026-11-23T09:00:00+00:00"
HEARD_WITHIN_S = 10.0


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
