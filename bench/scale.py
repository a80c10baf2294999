"""What must cost the same at any size: ``/metrics``, ``/readyz`` and a start with 1,000,000 open incidents beside
the same with 10,000 (100,000 beside 10,000 with ``--quick``), and a reply joining a thread that holds 10,000 already
beside the first replies to it.

The large stores are made the quick way: one incident opened through the service, then its row and its pending
deadlines copied in SQL with new ids, in one transaction (the store's triggers keep its figures as they would for
incidents opened one by one). Each daemon is ``calmly serve`` on loopback with the system clock; the figures are
medians of requests made one at a time after the daemon is ready.
"""

from __future__ import annotations

import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from engine.service import Service
from engine.testing import FakeClock, memory_store

from daemon import PLAYBOOKS, Daemon, _token, mention_body, open_service, system_now
from figure import BenchError, Figure

__all__ = ["ScaleRepeats", "scale_figures"]

#: How much more the large store may cost than the small one before a figure counts as growing with it.
FLAT = 1.5


@dataclass(frozen=True, slots=True)
class ScaleRepeats:
    small: int  # open incidents in the small store
    large: int  # open incidents in the large store
    requests: int  # requests of each kind per daemon; figures are medians
    replies: int  # replies joining one thread


def _fill(data: Path, count: int) -> None:
    """A store of ``count`` open incidents, each like the first (its row and pending deadlines copied by SQL)."""
    service = open_service(data, system_now)
    service.ingest([mention_body(1)])
    service.store.close()
    with sqlite3.connect(data / "calmly.sqlite3") as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(incidents)")]
        copied = ", ".join(
            {
                "id": "'inc-' || n.i",
                "seq": "n.i",
                "body": 'replace(body, \'"id":"inc-1"\', \'"id":"inc-\' || n.i || \'"\')',
            }.get(column, column)
            for column in columns
        )
        numbers = "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        db.execute(
            f"{numbers}INSERT INTO incidents ({', '.join(columns)}) SELECT {copied} FROM incidents, n "
            "WHERE incidents.id = 'inc-1'",
            (count,),
        )
        db.execute(
            f"{numbers}INSERT INTO deadlines (key, incident_id, clock, due_at) SELECT "
            "replace(key, 'inc-1/', 'inc-' || n.i || '/'), 'inc-' || n.i, clock, due_at FROM deadlines, n "
            "WHERE incident_id = 'inc-1' AND done_at IS NULL",
            (count,),
        )
        db.execute("UPDATE counters SET value = ? WHERE name = 'incident'", (count,))
        found = db.execute("SELECT value FROM figures WHERE name = 'open_incidents'").fetchone()[0]
    db.close()
    if found != count:
        raise BenchError(f"the store was to hold {count:,} open incidents but holds {found:,}")


@dataclass(frozen=True, slots=True)
class _Costs:
    ready_s: float
    metrics_ms: float
    readyz_ms: float


def _metrics_ms(cost: _Costs) -> float:
    return cost.metrics_ms


def _readyz_ms(cost: _Costs) -> float:
    return cost.readyz_ms


def _ready_s(cost: _Costs) -> float:
    return cost.ready_s


#: Each figure of the flat costs: its key, what it is, its unit, and how it is read from a measurement.
_MEASURES = (
    ("metrics_ms", "GET /metrics", "ms", _metrics_ms),
    ("readyz_ms", "GET /readyz", "ms", _readyz_ms),
    ("start_s", "start to ready", "s", _ready_s),
)


def _costs(data: Path, log: Path, requests: int, open_incidents: int) -> _Costs:
    token = _token(data)
    daemon = Daemon(data, [PLAYBOOKS], log)
    try:
        ready = daemon.wait_ready()
        samples: dict[str, list[float]] = {"/metrics": [], "/readyz": []}
        with httpx.Client(base_url=daemon.url, timeout=30.0) as client:
            listed = client.get("/v1/incidents", params={"limit": "1"}, headers={"Authorization": f"Bearer {token}"})
            if listed.status_code != 200:
                raise BenchError(f"GET /v1/incidents answered {listed.status_code}: {listed.text[:200]}")
            metrics = client.get("/metrics").text
            counted = sum(
                float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines() if line.startswith("calmly_incidents{")
            )
            if counted != open_incidents:
                raise BenchError(f"/metrics counts {counted:,.0f} incidents, not {open_incidents:,}")
            for _ in range(requests):
                for path, times in samples.items():
                    start = time.perf_counter()
                    answer = client.get(path)
                    times.append((time.perf_counter() - start) * 1000)
                    if answer.status_code != 200:
                        raise BenchError(f"{path} answered {answer.status_code}")
    finally:
        daemon.stop()
    return _Costs(ready, statistics.median(samples["/metrics"]), statistics.median(samples["/readyz"]))


def _join_costs(replies: int) -> tuple[float, float]:
    """Median ms per reply for the first tenth of ``replies`` joining one thread, and for the last tenth."""
    clock = FakeClock("2026-11-23T09:00:00+00:00")
    store = memory_store()
    from engine.service import Library  # noqa: PLC0415 - beside its one use

    library = Library(store)
    library.install([PLAYBOOKS], clock.now())
    service = Service(store, library, clock.now, measured=False)
    timed: list[float] = []
    for number in range(replies + 1):
        reply = {**mention_body(number, "Same here, my order is broken too", "r"), "thread_id": "outage-thread"}
        start = time.perf_counter()
        [result] = service.ingest([reply])
        timed.append((time.perf_counter() - start) * 1000)
        if number and result.status != "joined":
            raise BenchError(f"reply {number} did not join the thread ({result.status})")
    tenth = max(1, replies // 10)
    return statistics.median(timed[1 : tenth + 1]), statistics.median(timed[-tenth:])


def scale_figures(repeats: ScaleRepeats) -> list[Figure]:
    costs = {}
    with tempfile.TemporaryDirectory(prefix="calmly-bench-scale-") as folder:
        for size in (repeats.small, repeats.large):
            data = Path(folder) / f"data-{size}"
            _fill(data, size)
            costs[size] = _costs(data, Path(folder) / f"serve-{size}.log", repeats.requests, size)
    small, large = costs[repeats.small], costs[repeats.large]
    first, last = _join_costs(repeats.replies)
    detail = (
        f"calmly serve on loopback over a store of {repeats.large:,} open incidents beside one of {repeats.small:,} "
        f"(rows copied in SQL from one opened through the service); median of {repeats.requests} requests made one "
        "at a time after /readyz answered; start: from spawning the process to /readyz answering 200"
    )
    large_name, small_name = f"{repeats.large:,} open incidents", f"{repeats.small:,}"
    target = f"<= {FLAT:.1f}x"
    figures = [
        Figure(
            f"scale_{key}",
            f"{label}, {large_name}",
            unit,
            value(large),
            f"the same, {small_name} open incidents",
            value(small),
            target,
            value(large) / value(small) <= FLAT,
            detail,
        )
        for key, label, unit, value in _MEASURES
    ]
    tenth = max(1, repeats.replies // 10)
    figures.append(
        Figure(
            "scale_join_ms",
            f"a reply joining a thread of {repeats.replies - tenth:,}+ mentions",
            "ms",
            last,
            f"the first {tenth:,} replies to it",
            first,
            target,
            last / first <= FLAT,
            f"{repeats.replies:,} replies in one thread through the service over in-memory SQLite, one request each; "
            f"median ms per reply for the last {tenth:,} beside the first {tenth:,}",
        )
    )
    return figures
