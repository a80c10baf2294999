"""Intake through the PostgreSQL store beside raw psycopg making the same statements, and beside the SQLite store.

:meth:`engine.service.Service.ingest`, one mention a call (one transaction each), every mention opening an incident,
on a :class:`engine.store.postgresql.PostgreSQLStore` in a schema of its own; beside it one psycopg connection
replaying the very statements the store made for one mention (recorded as it made them: the advisory locks, the
lookups, the inserts), each mention's ids swapped in, one transaction a mention; and beside the same intake on an
SQLite store (``synchronous=FULL``, the default) in a fresh folder. Target: at least half of raw's rate.

Runs where ``CALMLY_BENCH_POSTGRES_URL`` (or ``CALMLY_TEST_POSTGRES_URL``) names a database to work in, and is
left out, said so, elsewhere.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from engine.service import Library, Service
from engine.store.postgresql import PostgreSQLStore

from daemon import PLAYBOOKS, DaemonRepeats, mention_body, open_service, system_now
from figure import BenchError, Figure

__all__ = ["INGEST_TARGET_RATIO", "fresh_schema", "postgres_url", "postgresql_figures"]

INGEST_TARGET_RATIO = 2.0  # at least half of raw's rate

Statement = tuple[Any, Any]


def postgres_url() -> str | None:
    return os.environ.get("CALMLY_BENCH_POSTGRES_URL") or os.environ.get("CALMLY_TEST_POSTGRES_URL") or None


@contextmanager
def fresh_schema(base: str) -> Iterator[str]:
    """The URL of a new, empty schema in the database ``base`` names (its ``search_path``), dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(base, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {name}")
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{name}"
    finally:
        with psycopg.connect(base, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {name} CASCADE")


@contextmanager
def _recorded() -> Iterator[list[Statement]]:
    """Every statement run on a psycopg connection meanwhile, with its parameters."""
    seen: list[Statement] = []
    original = psycopg.Connection.execute

    def recording(self: psycopg.Connection[Any], query: Any, params: Any = None, **options: Any) -> Any:
        seen.append((query, params))
        return original(self, query, params, **options)

    psycopg.Connection.execute = recording  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        psycopg.Connection.execute = original  # type: ignore[method-assign]


def _swapped(value: Any, swaps: dict[str, str]) -> Any:
    if isinstance(value, str):
        for old, new in swaps.items():
            value = value.replace(old, new)
        return value
    if isinstance(value, tuple | list):
        return type(value)(_swapped(item, swaps) for item in value)
    return value


def _for_mention(statements: list[Statement], number: int) -> list[Statement]:
    """The recorded mention's statements with another mention's ids (and another incident's) in their place."""
    swaps = {"inc-2": f"inc-{10_000_000 + number}", "rec1": f"raw{number}x"}
    made = []
    for query, params in statements:
        if isinstance(params, dict):
            changed = {key: _swapped(value, swaps) for key, value in params.items()}
            if "seq" in changed:
                changed["seq"] = 10_000_000 + number
            made.append((query, changed))
        else:
            made.append((query, _swapped(params, swaps)))
    return made


def _pg_service(url: str) -> Service:
    store = PostgreSQLStore(url)
    store.migrate()
    library = Library(store)
    library.install([PLAYBOOKS], system_now())
    return Service(store, library, system_now)


def _timed_intake(service: Service, prefix: str, count: int) -> float:
    mentions = [[mention_body(number, prefix=prefix)] for number in range(count)]
    start = time.perf_counter()
    for batch in mentions:
        service.ingest(batch)
    elapsed = time.perf_counter() - start
    last = service.store.mention("twitter", f"{prefix}{count - 1}")
    if last is None or last.outcome != "opened":
        raise BenchError("the PostgreSQL intake bench's mentions did not open incidents")
    return elapsed


def _round(base: str, count: int, round_number: int) -> tuple[float, float, float, int]:
    """One round's seconds for ``count`` mentions: the PostgreSQL store, raw psycopg, the SQLite store."""
    with fresh_schema(base) as url:
        service = _pg_service(url)
        try:
            service.ingest([mention_body(0, prefix="warm")])  # inc-1
            with _recorded() as statements:
                service.ingest([mention_body(1, prefix="rec")])  # inc-2, recorded
            store_s = _timed_intake(service, f"r{round_number}m", count)
        finally:
            service.store.close()
        with psycopg.connect(url, autocommit=True) as db:
            rows = [_for_mention(statements, number) for number in range(count)]
            start = time.perf_counter()
            for row in rows:
                with db.transaction():
                    for query, params in row:
                        db.execute(query, params)
            raw_s = time.perf_counter() - start
            landed = db.execute("SELECT count(*) FROM incidents WHERE seq >= 10000000").fetchone()
        if landed is None or landed[0] != count:
            raise BenchError("the raw psycopg baseline did not write an incident a mention")
    with tempfile.TemporaryDirectory(prefix="calmly-bench-pg-sqlite-") as tmp:
        sqlite = open_service(Path(tmp) / "store", system_now)
        try:
            sqlite.ingest([mention_body(0, prefix="warm")])
            sqlite_s = _timed_intake(sqlite, f"r{round_number}m", count)
        finally:
            sqlite.store.close()
    return store_s, raw_s, sqlite_s, len(statements)


def postgresql_figures(repeats: DaemonRepeats) -> list[Figure]:
    """The two figures, or none where no database is given (the caller says so)."""
    base = postgres_url()
    if base is None:
        return []
    # A fifth of the SQLite figure's mentions: each commit waits for the server's flush, and the figure is a ratio.
    count = max(200, repeats.mentions // 5)
    rounds = [_round(base, count, number) for number in range(repeats.rounds)]
    store_us = statistics.median(item[0] for item in rounds) * 1e6 / count
    raw_us = statistics.median(item[1] for item in rounds) * 1e6 / count
    sqlite_us = statistics.median(item[2] for item in rounds) * 1e6 / count
    statements = rounds[0][3]
    return [
        Figure(
            key="intake_us_per_mention_postgresql_vs_raw_psycopg",
            name="intake through the PostgreSQL store, per mention",
            unit="us",
            value=store_us,
            baseline_name="raw psycopg, same statements",
            baseline=raw_us,
            target=f"<= {INGEST_TARGET_RATIO:.1f}x (half of raw's rate)",
            met=store_us / raw_us <= INGEST_TARGET_RATIO,
            detail=f"Service.ingest on PostgreSQLStore, {count:,} mentions one a transaction, each opening an "
            f"incident: {1e6 / store_us:,.0f} mentions/s; raw psycopg replaying the store's {statements} statements "
            f"a mention in one transaction on the same schema: {1e6 / raw_us:,.0f}/s",
        ),
        Figure(
            key="intake_us_per_mention_postgresql_vs_sqlite",
            name="intake, PostgreSQL store beside SQLite store",
            unit="us",
            value=store_us,
            baseline_name="SQLite store (synchronous=FULL)",
            baseline=sqlite_us,
            target="context",
            met=None,
            detail=f"the same intake on both stores: PostgreSQL on loopback {1e6 / store_us:,.0f} mentions/s, "
            f"SQLite in a local folder {1e6 / sqlite_us:,.0f}/s",
        ),
    ]
