"""HTTP intake with one, two and three daemons on one PostgreSQL database, under the same concurrent clients.

For each number of daemons, a fresh schema in the database ``CALMLY_BENCH_POSTGRES_URL`` (or
``CALMLY_TEST_POSTGRES_URL``) names and that many ``calmly serve --store URL`` processes on loopback ports of their
own; then one wrk process a daemon, all started together, share the same 12 keep-alive connections between them
(12, 6 + 6, 4 + 4 + 4) and post one new mention a request (``bench/intake.lua``: each mention opens an incident) for
the same seconds. The figure is the mentions all the daemons acknowledged (answered 2xx) a second, as the wall time
a mention takes, the one-daemon run its baseline; beside it for context, the same clients against one daemon over
SQLite. The runs take turns, round by round, so a change in the machine's load falls on all alike; each figure is
the median of its rounds.

After every run, with the daemons stopped, the store is counted: each wrk process's mentions (one a number, under a
prefix of its own; the store keeps a mention once) must be at least as many as the daemons acknowledged to it, and
no more than it could have had in flight when it stopped (one or two a connection); each must have opened an
incident, and the store must hold as many incidents as mentions. Otherwise the bench stops: the figure is of work
done.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import statistics
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

from daemon import PLAYBOOKS, Daemon, Where, _token, mention_body
from figure import BenchError, Figure
from postgresql import fresh_schema, postgres_url
from surge import Load, cpu_seconds, run_wrk, wrk

__all__ = ["DAEMONS", "DaemonsRepeats", "postgresql_daemons_figures"]

#: Numbers of daemons on one database.
DAEMONS = (1, 2, 3)
#: The clients' keep-alive connections, shared out evenly between the daemons of a run.
CONNECTIONS = 12
#: Mentions posted to each daemon before a run is timed (imports, caches, the pool's connections).
WARM_MENTIONS = 20


@dataclass(frozen=True, slots=True)
class DaemonsRepeats:
    seconds: float  # how long the clients post in each run
    rounds: int  # runs of each number of daemons, taking turns; figures are medians


@dataclass(frozen=True, slots=True)
class _Run:
    """One run's totals over all its daemons."""

    acknowledged: int  # mentions answered 2xx
    rate: float  # mentions acknowledged a second, all daemons together
    p99_ms: float  # the slowest daemon's p99 latency
    cpu_ms: float  # the daemons' CPU time a mention, all together


#: For one wrk process's prefix: its mentions in the store, the highest number among them, and how many of them
#: opened an incident; for the prefix "": the incidents in the store, all its mentions, and 0.
Counter = Callable[[str], tuple[int, int, int]]


def _check(prefix: str, load: Load, connections: int, counted: tuple[int, int, int]) -> None:
    """Every mention the daemons acknowledged is in the store, and opened an incident; beyond those, only the
    requests wrk had made but not seen answered when it stopped (one or two a connection) may have landed."""
    stored, highest, opened = counted
    most = load.requests + 2 * connections
    if not load.requests <= stored <= most or highest > most or opened != stored:
        raise BenchError(
            f"the daemons acknowledged {load.requests:,} mentions from {prefix} over {connections} connections, but "
            f"the store holds {stored:,} of them (numbered up to {highest:,}, {opened:,} opening an incident)"
        )


def _check_store(counter: Counter) -> None:
    incidents, mentions, _ = counter("")
    if incidents != mentions:
        raise BenchError(f"the store holds {mentions:,} mentions but {incidents:,} incidents: each was to open one")


def _warm(daemon: Daemon, token: str, prefix: str) -> None:
    with httpx.Client(base_url=daemon.url, headers={"Authorization": f"Bearer {token}"}, timeout=30.0) as client:
        for number in range(WARM_MENTIONS):
            answer = client.post("/v1/mentions", json=mention_body(number, prefix=prefix))
            if not answer.is_success:
                raise BenchError(f"a warm-up mention was refused ({answer.status_code}): {answer.text[:300]}")


@contextlib.contextmanager
def _daemons(where: Where, count: int, folder: Path, name: str) -> Iterator[list[Daemon]]:
    """``count`` daemons on one store, all ready (started together, so their start-ups overlap)."""
    started = [Daemon(where, [PLAYBOOKS], folder / f"{name}-{number}.log") for number in range(count)]
    try:
        for daemon in started:
            daemon.wait_ready()
        yield started
        with ThreadPoolExecutor(count) as pool:  # each stop waits for its daemon to finish: together
            list(pool.map(Daemon.stop, started))
    finally:
        for daemon in started:
            if daemon.process.poll() is None:
                daemon.process.kill()
                daemon.process.wait()


def _run(where: Where, count: int, *, seconds: float, folder: Path, name: str, counter: Counter) -> _Run:
    """The same clients spread over ``count`` daemons on ``where``; the store counted afterwards."""
    token = _token(where)
    share = CONNECTIONS // count
    with _daemons(where, count, folder, name) as daemons:
        for number, daemon in enumerate(daemons):
            _warm(daemon, token, f"{name}w{number}m")
        before = [cpu_seconds(daemon.process.pid) for daemon in daemons]
        prefixes = [f"{name}d{number}" for number in range(count)]
        with ThreadPoolExecutor(count) as pool:
            futures = [
                pool.submit(
                    run_wrk, daemon.url, "/v1/mentions", connections=share, seconds=seconds, prefix=prefix, token=token
                )
                for daemon, prefix in zip(daemons, prefixes, strict=True)
            ]
            loads = [future.result() for future in futures]
        cpu = sum(cpu_seconds(daemon.process.pid) - start for daemon, start in zip(daemons, before, strict=True))
    _check_store(counter)
    for prefix, load in zip(prefixes, loads, strict=True):
        _check(prefix, load, share, counter(f"{prefix}t1n"))
    acknowledged = sum(load.requests for load in loads)
    return _Run(
        acknowledged, sum(load.rate for load in loads), max(load.p99_ms for load in loads), cpu * 1000 / acknowledged
    )


#: For one wrk process's prefix: its mentions in the store, the highest number among them, those opening an incident.
_COUNT_SQL = (
    "SELECT count(*), COALESCE(max(CAST(substr(external_id, {start}) AS integer)), 0), "
    "COALESCE(sum(CASE WHEN outcome = 'opened' AND incident_id IS NOT NULL THEN 1 ELSE 0 END), 0) "
    "FROM mentions WHERE channel = 'twitter' AND substr(external_id, 1, {length}) = {mark}"
)


_TOTALS_SQL = "SELECT (SELECT count(*) FROM incidents), (SELECT count(*) FROM mentions), 0"


def _postgresql_counter(url: str) -> Counter:
    def count(prefix: str) -> tuple[int, int, int]:
        with psycopg.connect(url, autocommit=True) as db:
            if not prefix:
                row = db.execute(_TOTALS_SQL).fetchone()
            else:
                query = _COUNT_SQL.format(start=len(prefix) + 1, length=len(prefix), mark="%s")
                row = db.execute(query, (prefix,)).fetchone()
        assert row is not None
        return int(row[0]), int(row[1]), int(row[2])

    return count


def _sqlite_counter(data: Path) -> Counter:
    def count(prefix: str) -> tuple[int, int, int]:
        with contextlib.closing(sqlite3.connect(data / "calmly.sqlite3")) as db:
            if not prefix:
                row = db.execute(_TOTALS_SQL).fetchone()
            else:
                query = _COUNT_SQL.format(start=len(prefix) + 1, length=len(prefix), mark="?")
                row = db.execute(query, (prefix,)).fetchone()
        return int(row[0]), int(row[1]), int(row[2])

    return count


def _one_round(base: str, repeats: DaemonsRepeats, folder: Path, round_number: int) -> dict[str, _Run]:
    runs: dict[str, _Run] = {}
    keys = ["sqlite", *(str(count) for count in DAEMONS)]
    shift = round_number % len(keys)
    for key in keys[shift:] + keys[:shift]:
        name = f"r{round_number}{key}"
        if key == "sqlite":
            data = folder / f"{name}-data"
            runs[key] = _run(data, 1, seconds=repeats.seconds, folder=folder, name=name, counter=_sqlite_counter(data))
            continue
        with fresh_schema(base) as url:
            runs[key] = _run(
                url, int(key), seconds=repeats.seconds, folder=folder, name=name, counter=_postgresql_counter(url)
            )
    return runs


def _median(runs: Sequence[_Run], attribute: str) -> float:
    return float(statistics.median(getattr(run, attribute) for run in runs))


def postgresql_daemons_figures(repeats: DaemonsRepeats) -> list[Figure]:
    """The figures, or none where no database is given or wrk is not installed (the caller says so)."""
    base = postgres_url()
    if base is None or wrk() is None:
        return []
    with tempfile.TemporaryDirectory(prefix="calmly-bench-pg-daemons-") as tmp:
        rounds = [_one_round(base, repeats, Path(tmp), number) for number in range(repeats.rounds)]
    by_key = {key: [round_[key] for round_ in rounds] for key in rounds[0]}
    rate = {key: _median(runs, "rate") for key, runs in by_key.items()}
    us = {key: 1e6 / value for key, value in rate.items()}

    def described(key: str) -> str:
        runs = by_key[key]
        return (
            f"{rate[key]:,.0f} mentions/s (p99 {_median(runs, 'p99_ms'):.0f} ms, daemons' CPU "
            f"{_median(runs, 'cpu_ms'):.2f} ms a mention)"
        )

    how = (
        f"wrk, {CONNECTIONS} keep-alive connections shared out evenly between the daemons (one wrk a daemon), "
        f"{repeats.seconds:g} s a run, median of {repeats.rounds} rounds taking turns; POST /v1/mentions, one "
        "mention a request, each opening an incident, every acknowledged mention counted in the store afterwards"
    )
    figures = [
        Figure(
            key="postgresql_intake_us_per_mention_1_daemon_vs_sqlite",
            name="HTTP intake, 1 daemon on PostgreSQL, per mention",
            unit="us",
            value=us["1"],
            baseline_name="1 daemon on SQLite, same clients",
            baseline=us["sqlite"],
            target="- (context)",
            met=None,
            detail=f"{how}: on PostgreSQL {described('1')}; on SQLite {described('sqlite')}",
        ),
    ]
    for count in DAEMONS[1:]:
        figures.append(
            Figure(
                key=f"postgresql_intake_us_per_mention_{count}_daemons_vs_1",
                name=f"HTTP intake, {count} daemons on one PostgreSQL, per mention",
                unit="us",
                value=us[str(count)],
                baseline_name="1 daemon on it, same clients",
                baseline=us["1"],
                target="< 1.00x (more than one takes)",
                met=us[str(count)] < us["1"],
                detail=f"{how}: {count} daemons {described(str(count))}; 1 daemon {described('1')}; "
                f"{rate[str(count)] / rate['1']:.2f}x one daemon's rate on {_cores()}",
            )
        )
    return figures


def _cores() -> str:
    return f"{os.cpu_count()} cores shared with the clients and the database server"
