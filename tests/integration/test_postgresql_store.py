"""What the PostgreSQL store adds for several daemons on one database, each daemon a store with a pool of its own:
due deadlines claimed once between them, a delivery taken over when its daemon's lease runs out, one mention sent
to two daemons at once recorded once, migrations started together applied once; and a database that cannot be
reached told apart from a URL that cannot be read. Time is passed in: nothing here waits for a clock."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from conftest import fresh_schema
from intake_support import mention

from engine.errors import StoreUnavailable
from engine.service import FiredDeadline, IntakeResult, Library, Service
from engine.store.postgresql import PostgreSQLStore
from engine.testing import FakeClock

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
START = "2026-11-23T09:00:00+00:00"  # a Monday
T = TypeVar("T")


class Daemon:
    """One daemon's view of the shared database: its own store (its own pool) and service, on a shared clock."""

    def __init__(self, url: str, clock: FakeClock) -> None:
        self.store = PostgreSQLStore(url, pool_size=3)
        self.store.migrate()
        library = Library(self.store)
        library.install([PLAYBOOKS], clock.now())
        self.service = Service(self.store, library, clock.now)


@pytest.fixture
def url() -> Iterator[str]:
    with fresh_schema() as made:
        yield made


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def two(url: str, clock: FakeClock) -> Iterator[tuple[Daemon, Daemon]]:
    first, second = Daemon(url, clock), Daemon(url, clock)
    yield first, second
    first.store.close()
    second.store.close()


def together(*calls: Callable[[], T]) -> list[T]:
    """Run the calls in threads that start at the same moment; each one's result, in order (or its error raised)."""
    start = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        start.wait()
        try:
            results[index] = calls[index]()
        except BaseException as error:  # handed back to the test's thread, which raises it
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def _complaints(daemon: Daemon, count: int) -> None:
    for number in range(count):
        (result,) = daemon.service.ingest([mention(f"m{number}", handle=f"@c{number}")])
        assert result.status == "opened"


def test_two_daemons_claiming_the_same_due_deadlines_at_once_get_disjoint_sets(
    two: tuple[Daemon, Daemon], clock: FakeClock
) -> None:
    first, second = two
    _complaints(first, 6)
    clock.advance("30h")
    due = {deadline.key for deadline in first.store.due(clock.now(), 1000)}

    with first.store.write() as one, second.store.write() as other:
        mine = one.deadlines.claim(clock.now(), 5)
        theirs = other.deadlines.claim(clock.now(), 1000)

    assert len(mine) == 5
    assert theirs
    assert {d.key for d in mine}.isdisjoint(d.key for d in theirs)
    assert {d.incident_id for d in mine}.isdisjoint(d.incident_id for d in theirs)  # an incident fires in one place
    assert {d.key for d in mine} | {d.key for d in theirs} <= due


def test_two_daemons_firing_at_once_fire_every_due_deadline_exactly_once(
    two: tuple[Daemon, Daemon], clock: FakeClock
) -> None:
    first, second = two
    _complaints(first, 8)
    clock.advance("30h")
    due = {deadline.key for deadline in first.store.due(clock.now(), 1000)}

    def fire_all(daemon: Daemon) -> list[FiredDeadline]:
        fired: list[FiredDeadline] = []
        while batch := daemon.service.fire_due(3):
            fired += batch
        return fired

    by_first, by_second = together(lambda: fire_all(first), lambda: fire_all(second))

    keys = [item.key for item in by_first + by_second]
    assert sorted(keys) == sorted(due)  # each once, none left behind
    assert by_first
    assert by_second
    assert first.store.due(clock.now(), 1000) == []


def _one_delivery(daemon: Daemon, clock: FakeClock) -> None:
    with daemon.store.write() as tx:
        tx.outbox.enqueue("note-1", "inc-1", clock.now(), {"roles": ["social_lead"]})
        tx.outbox.route("note-1", [("social_lead:log", "log")], clock.now())


def test_a_claimed_delivery_is_left_to_its_daemon_until_the_lease_runs_out_and_then_taken_over(
    two: tuple[Daemon, Daemon], clock: FakeClock
) -> None:
    first, second = two
    _one_delivery(first, clock)
    lease = timedelta(minutes=2)

    with first.store.write() as tx:
        claimed = tx.outbox.claim(clock.now(), 10, lease)
    # The first daemon dies while sending: its claim stays, with nothing recorded.
    with second.store.write() as tx:
        while_held = tx.outbox.claim(clock.now() + timedelta(minutes=1), 10, lease)
    with second.store.write() as tx:
        after_the_lease = tx.outbox.claim(clock.now() + lease, 10, lease)
        tx.outbox.delivered("note-1", "social_lead:log", clock.now() + lease)
    with first.store.write() as tx:
        once_delivered = tx.outbox.claim(clock.now() + 3 * lease, 10, lease)

    assert [(d.outbox_key, d.destination) for d in claimed] == [("note-1", "social_lead:log")]
    assert while_held == []
    assert [(d.outbox_key, d.destination) for d in after_the_lease] == [("note-1", "social_lead:log")]
    assert once_delivered == []
    assert [d.state for d in first.store.deliveries(None, 10)] == ["delivered"]


def test_a_lease_is_measured_by_the_wall_clock_so_a_simulated_clock_jumping_ahead_does_not_end_it(
    two: tuple[Daemon, Daemon], clock: FakeClock
) -> None:
    first, second = two
    _one_delivery(first, clock)
    lease = timedelta(minutes=2)
    wall = clock.now() + timedelta(days=9)  # the machine's time, unrelated to the simulated one

    with first.store.write() as tx:
        claimed = tx.outbox.claim(clock.now(), 10, lease, wall)
    # The simulated clock jumps an hour while the first daemon is still sending; a second later by the wall clock.
    with second.store.write() as tx:
        after_the_jump = tx.outbox.claim(clock.now() + timedelta(hours=1), 10, lease, wall + timedelta(seconds=1))
    with second.store.write() as tx:
        after_the_lease = tx.outbox.claim(clock.now() + timedelta(hours=1), 10, lease, wall + lease)

    assert len(claimed) == 1
    assert after_the_jump == []
    assert [(d.outbox_key, d.destination) for d in after_the_lease] == [("note-1", "social_lead:log")]


def test_a_failed_attempt_ends_the_lease_so_the_retry_is_due_when_the_backoff_says(
    two: tuple[Daemon, Daemon], clock: FakeClock
) -> None:
    first, second = two
    _one_delivery(first, clock)
    lease = timedelta(minutes=2)
    with first.store.write() as tx:
        tx.outbox.claim(clock.now(), 10, lease)
        tx.outbox.failed(
            "note-1", "social_lead:log", "503 from the receiver", clock.now() + timedelta(seconds=5), clock.now()
        )

    with second.store.write() as tx:
        retried = tx.outbox.claim(clock.now() + timedelta(seconds=5), 10, lease)

    assert [(d.attempts, d.last_error) for d in retried] == [(1, "503 from the receiver")]


def test_the_same_mention_sent_to_two_daemons_at_once_is_recorded_once(two: tuple[Daemon, Daemon]) -> None:
    first, second = two
    sent = mention("tw-1", "My blender arrived broken")

    results: list[list[IntakeResult]] = together(
        lambda: first.service.ingest([sent]), lambda: second.service.ingest([sent])
    )

    statuses = sorted(str(result.status) for (result,) in results)
    assert statuses == ["duplicate", "opened"]
    assert first.store.counts()["incidents"] == 1
    assert {result.incident_id for (result,) in results} == {"inc-1"}


def test_two_mentions_of_one_author_at_two_daemons_at_once_open_one_incident(two: tuple[Daemon, Daemon]) -> None:
    first, second = two

    results: list[list[IntakeResult]] = together(
        lambda: first.service.ingest([mention("tw-1", "My blender arrived broken")]),
        lambda: second.service.ingest([mention("tw-2", "and nobody answers the phone")]),
    )

    assert sorted(str(result.status) for (result,) in results) == ["joined", "opened"]
    assert first.store.counts()["incidents"] == 1


def test_daemons_starting_together_apply_each_migration_once(url: str) -> None:
    stores = [PostgreSQLStore(url, pool_size=1) for _ in range(3)]
    try:
        versions = together(*(store.migrate for store in stores))
    finally:
        for store in stores:
            store.close()

    with psycopg.connect(url) as db:
        applied = [row[0] for row in db.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions == [13, 13, 13]
    assert applied == list(range(1, 14))


def test_a_database_with_a_newer_schema_is_refused_with_a_clear_message(url: str) -> None:
    store = PostgreSQLStore(url, pool_size=1)
    try:
        store.migrate()
        with psycopg.connect(url, autocommit=True) as db:
            db.execute("INSERT INTO schema_migrations (version, description) VALUES (99, 'from the future')")
        with pytest.raises(StoreUnavailable, match="newer than this calmly knows"):
            store.migrate()
    finally:
        store.close()


def test_a_server_that_does_not_answer_is_named_by_host_and_port_with_what_to_check() -> None:
    with pytest.raises(StoreUnavailable) as refused:
        PostgreSQLStore("postgresql://calmly:s3cret@127.0.0.1:9/calmly")

    message = str(refused.value)
    assert message.startswith("cannot reach the database at 127.0.0.1:9: ")
    assert message.endswith("check the URL and that the server runs")
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("postgresql://calmly:s3cret@[::1/calmly", "cannot be read"),
        ("postgresql://calmly@db/calmly?colour=blue", 'invalid URI query parameter: "colour"'),
        ("mysql://calmly:s3cret@db/calmly", "is not a PostgreSQL URL"),
    ],
)
def test_a_url_that_cannot_be_read_is_told_apart_from_an_unreachable_server(url: str, says: str) -> None:
    with pytest.raises(StoreUnavailable) as refused:
        PostgreSQLStore(url)

    assert says in str(refused.value)
    assert "cannot reach" not in str(refused.value)
    assert "s3cret" not in str(refused.value)


def test_a_store_whose_connections_the_server_ended_answers_unavailable_then_carries_on_by_itself(
    url: str, clock: FakeClock
) -> None:
    named = f"{url}&application_name=calmly_{uuid.uuid4().hex[:8]}"
    daemon = Daemon(named, clock)
    try:
        daemon.service.ingest([mention("before")])
        with psycopg.connect(url, autocommit=True) as admin:  # as a restarted or failed-over server would
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
                (named.rpartition("application_name=")[2],),
            )
        outcomes: list[str] = []
        for _ in range(3):
            try:
                (result,) = daemon.service.ingest([mention("after", handle="@bo")])
                outcomes.append(str(result.status))
                break
            except StoreUnavailable as error:
                outcomes.append(f"unavailable, retry after {error.headers.get('Retry-After')}")
    finally:
        daemon.store.close()

    assert outcomes[-1] == "opened"
    assert set(outcomes[:-1]) <= {"unavailable, retry after 5"}
