"""Deadline lateness and start to ready with many open incidents in a PostgreSQL store, each beside the same daemon
over an empty PostgreSQL store: the figures ``bench/daemon.py`` takes over SQLite, on ``calmly serve --store``.

The large store (1,000,000 open incidents; 20,000 with ``--quick``) is filled the quick way, as ``bench/scale.py``
fills SQLite: one incident opened through the service, then its row and its pending deadlines copied with new ids by
the server itself (``INSERT ... SELECT`` over ``generate_series``, one transaction; no row crosses the socket), then
``VACUUM ANALYZE`` on the two tables, as autovacuum does after a load like this one. Each store is a schema of its
own in the database ``CALMLY_BENCH_POSTGRES_URL`` (or ``CALMLY_TEST_POSTGRES_URL``) names, dropped afterwards.

Then, as over SQLite: the time from spawning ``calmly serve`` to ``/readyz`` answering 200 (the median of a few
starts, alternating between the stores), and the lateness of the deadlines of 200 incidents opened over 2 s under a
bench-only playbook whose detected limit is 2 s (the ``deadline fired`` log line's time minus its ``due_at``).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

from engine.service import Library, Service
from engine.store.postgresql import PostgreSQLStore

from daemon import (
    LATENESS_INCIDENTS,
    LATENESS_LIMIT,
    LATENESS_TARGET_MS,
    PLAYBOOKS,
    READY_TARGET_S,
    _bench_playbook,
    _lateness_ms,
    _percentile,
    _ready_s,
    mention_body,
    system_now,
)
from figure import BenchError, Figure
from postgresql import fresh_schema, postgres_url

__all__ = ["PostgresOpenRepeats", "fill_postgresql", "postgresql_open_figures"]


@dataclass(frozen=True, slots=True)
class PostgresOpenRepeats:
    open_incidents: int  # open incidents in the large store
    rounds: int  # starts of the daemon on each store, the figure their median; 0: the lateness runs' starts


def _open_one(url: str, playbooks: Sequence[Path]) -> None:
    """The store made in the schema ``url`` names, with ``playbooks`` installed and one incident (inc-1) opened."""
    store = PostgreSQLStore(url)
    try:
        store.migrate()
        library = Library(store)
        library.install(list(playbooks), system_now())
        [result] = Service(store, library, system_now).ingest([mention_body(1)])
        if result.status != "opened":
            raise BenchError(f"the first mention of the PostgreSQL store did not open an incident ({result.status})")
    finally:
        store.close()


def fill_postgresql(url: str, count: int, playbooks: Sequence[Path]) -> float:
    """A PostgreSQL store of ``count`` open incidents, each a copy of the first (its row with a new id, sequence
    number and body id, and its pending deadlines), made by the server; seconds taken."""
    start = time.perf_counter()
    _open_one(url, playbooks)
    with psycopg.connect(url) as db:
        columns = [
            row[0]
            for row in db.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = 'incidents' ORDER BY ordinal_position"
            )
        ]
        changed = {
            "id": "'inc-' || n",
            "seq": "n",
            "body": 'replace(body::text, \'"id":"inc-1"\', \'"id":"inc-\' || n || \'"\')::json',
        }
        copied = ", ".join(changed.get(column, column) for column in columns)
        numbers = "generate_series(2, %(count)s) AS n"
        db.execute(
            f"INSERT INTO incidents ({', '.join(columns)}) SELECT {copied} FROM incidents, {numbers} "
            "WHERE id = 'inc-1'",
            {"count": count},
        )
        db.execute(
            "INSERT INTO deadlines (key, incident_id, clock, due_at) SELECT replace(key, 'inc-1/', 'inc-' || n || '/'),"
            f" 'inc-' || n, clock, due_at FROM deadlines, {numbers} WHERE incident_id = 'inc-1' AND done_at IS NULL",
            {"count": count},
        )
        db.execute("UPDATE counters SET value = %s WHERE name = 'incident'", (count,))
        db.commit()
        db.autocommit = True
        for table in ("incidents", "deadlines"):
            db.execute(f"VACUUM ANALYZE {table}")
        found = db.execute("SELECT count(*) FROM incidents WHERE NOT final").fetchone()
    if found is None or found[0] != count:
        raise BenchError(f"the PostgreSQL store was to hold {count:,} open incidents but holds {found}")
    return time.perf_counter() - start


def postgresql_open_figures(repeats: PostgresOpenRepeats) -> list[Figure]:
    """The two figures, or none where no database is given (the caller says so)."""
    base = postgres_url()
    if base is None:
        return []
    count = repeats.open_incidents
    with (
        tempfile.TemporaryDirectory(prefix="calmly-bench-pg-open-") as tmp,
        fresh_schema(base) as full,
        fresh_schema(base) as empty,
    ):
        folder = Path(tmp)
        books = folder / "playbooks"
        books.mkdir()
        playbooks = [PLAYBOOKS, _bench_playbook(books)]
        built = fill_postgresql(full, count, playbooks)
        _open_one(empty, playbooks)
        ready: dict[str, list[float]] = {"full": [], "empty": []}
        both = (("full", full), ("empty", empty))
        for round_number in range(repeats.rounds):
            for key, url in both[:: 1 if round_number % 2 == 0 else -1]:
                ready[key].append(_ready_s(url, playbooks, folder / f"ready-{key}-{round_number}.log"))
        full_run = _lateness_ms(full, playbooks, folder / "late-full.log")
        empty_run = _lateness_ms(empty, playbooks, folder / "late-empty.log")
        if repeats.rounds == 0:  # --quick: the starts the lateness runs made, one on each store
            ready = {"full": [full_run.ready_s], "empty": [empty_run.ready_s]}
    late_full, reported_full = full_run.by_log, full_run.reported
    late_empty, reported_empty = empty_run.by_log, empty_run.reported
    floor = 0.001  # a ratio needs a baseline above zero
    p99, base99 = _percentile(late_full, 0.99), _percentile(late_empty, 0.99)
    ready_full, ready_empty = statistics.median(ready["full"]), statistics.median(ready["empty"])
    store = (
        f"{count:,} open incidents copied by the server from one opened through the service, then VACUUM ANALYZE, "
        f"in {built:.1f} s; each store a schema of its own"
    )
    starts = f"median of {repeats.rounds} starts each" if repeats.rounds else "the lateness run's start on each"
    return [
        Figure(
            key="postgresql_deadline_lateness_p99_ms",
            name=f"deadline lateness p99, {count:,} open incidents in PostgreSQL",
            unit="ms",
            value=max(p99, floor),
            baseline_name="the same, empty PostgreSQL store",
            baseline=max(base99, floor),
            target=f"< {LATENESS_TARGET_MS:.0f} ms",
            met=p99 < LATENESS_TARGET_MS,
            detail=f"calmly serve --store on the system clock: {len(late_full)} deadlines of {LATENESS_INCIDENTS} "
            f"incidents opened over 2 s (detected limit {LATENESS_LIMIT}: the 75% warning and the breach); lateness "
            f"= the 'deadline fired' log line's time minus due_at: p50 {_percentile(late_full, 0.5):.1f} ms (empty "
            f"store {_percentile(late_empty, 0.5):.1f} ms); the daemon's own late_ms p99 "
            f"{_percentile(reported_full, 0.99):.0f} ms (empty store {_percentile(reported_empty, 0.99):.0f} ms); "
            f"{store}",
        ),
        Figure(
            key="postgresql_daemon_ready_s_open_incidents",
            name=f"daemon start to ready, {count:,} open incidents in PostgreSQL",
            unit="s",
            value=ready_full,
            baseline_name="the same, empty PostgreSQL store",
            baseline=ready_empty,
            target=f"< {READY_TARGET_S:.1f} s",
            met=ready_full < READY_TARGET_S,
            detail=f"spawning calmly serve --store until /readyz answers 200, {starts}, alternating; {store}",
        ),
    ]
