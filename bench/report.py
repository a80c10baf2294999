"""``calmly report`` over 100,000 closed incidents (5,000 with ``--quick``), beside reading the same rows with plain
SQL in the same run.

The store is made the quick way: the broken-order timeline (examples/timelines) played through the service on a
simulated clock under the shipped customer-complaint playbook, installed as the daemon installs it, then its one
closed incident copied in SQL with new ids, its row and its whole event log (13 commands with their history). The
report is what ``calmly report --format json`` does in process: the store's pages read, each incident's history
walked, the figures counted and rendered. The baseline reads the same rows with one plain SQL query (every
incident joined to its events, in order) through ``sqlite3`` and decodes the same JSON columns with ``json.loads``:
the least any report over these rows must do.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from engine.authoring.simulation import simulate
from engine.authoring.timeline import Timeline, read_timeline
from engine.files import load_file
from engine.incident import Rulebook
from engine.report import Period, Rulebooks, make_report
from engine.service import Library
from engine.store import SQLiteStore

from figure import BenchError, Figure

__all__ = ["fill_store", "report_figure"]

ROOT = Path(__file__).resolve().parents[1]
PLAYBOOK = ROOT / "playbooks" / "customer-complaint.yaml"
TIMELINE = ROOT / "examples" / "timelines" / "broken-order.yaml"

_NUMBERS = "WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
_PLAIN = (
    "SELECT incidents.seq, incidents.body, events.command, events.history FROM incidents JOIN events "
    "ON events.incident_id = incidents.id WHERE incidents.final = 1 ORDER BY incidents.seq, events.seq"
)


def fill_store(data: Path, count: int) -> None:
    """A store of ``count`` closed incidents, each the broken-order incident copied (row and log) in SQL."""
    timeline = read_timeline(TIMELINE)
    loaded = load_file(PLAYBOOK).playbook
    if not isinstance(timeline, Timeline) or loaded is None:
        raise BenchError(f"{TIMELINE.name} or {PLAYBOOK.name} does not load")
    store = SQLiteStore(data, synchronous="normal")
    store.migrate()
    try:
        Library(store).install([PLAYBOOK], timeline.start)
        simulate(Rulebook(loaded), timeline, store=store)
    finally:
        store.close()
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
        db.execute(
            f"{_NUMBERS}INSERT INTO incidents ({', '.join(columns)}) SELECT {copied} FROM incidents, n "
            "WHERE incidents.id = 'inc-1'",
            (count,),
        )
        db.execute(
            f"{_NUMBERS}INSERT INTO events (incident_id, at, kind, actor, playbook_digest, command, history) "
            "SELECT 'inc-' || n.i, at, kind, actor, playbook_digest, command, history FROM n, events "
            "WHERE events.incident_id = 'inc-1' ORDER BY n.i, events.seq",
            (count,),
        )
        closed = db.execute("SELECT COUNT(*) FROM incidents WHERE final = 1").fetchone()[0]
    db.close()
    if closed != count:
        raise BenchError(f"the store was to hold {count:,} closed incidents but holds {closed:,}")


def _report(data: Path, count: int) -> float:
    store = SQLiteStore(data)
    try:
        start = time.perf_counter()
        books = Rulebooks.kept_in(store)
        made = make_report(store.recorded(None, None), books, Period(), None, datetime.now(UTC), trends=False)
        json.dumps(made.as_json())
        elapsed = time.perf_counter() - start
    finally:
        store.close()
    if made.overall["incidents"] != count or made.missing_playbooks:
        raise BenchError(f"the report counted {made.overall['incidents']:,} incidents, not {count:,}")
    return elapsed


def _plain(data: Path, count: int) -> float:
    start = time.perf_counter()
    with sqlite3.connect(data / "calmly.sqlite3") as db:
        seen, last = 0, 0
        for seq, body, command, history in db.execute(_PLAIN):
            if seq != last:
                incident = json.loads(body)
                seen += 1
                last = seq
            json.loads(command)
            json.loads(history)
    elapsed = time.perf_counter() - start
    db.close()
    if seen < count or incident["state"] != "reviewed":
        raise BenchError(f"plain SQL read {seen:,} incidents, not {count:,}")
    return elapsed


def report_figure(count: int, runs: int) -> Figure:
    with tempfile.TemporaryDirectory(prefix="calmly-bench-report-") as folder:
        data = Path(folder) / "data"
        fill_store(data, count)
        _plain(data, count)  # warm the page cache for both, as a second report would find it
        reports, plains = [], []
        for _ in range(runs):  # interleaved, so a noisy neighbour slows both alike
            reports.append(_report(data, count))
            plains.append(_plain(data, count))
    detail = (
        f"{count:,} closed incidents of 13 logged commands each (copied in SQL from the broken-order timeline played "
        "through the service); the report: the store's pages read, every history walked, the figures counted and "
        "rendered as JSON, in process; plain SQL: one query over the same rows, their JSON decoded; medians of "
        f"{runs} interleaved runs"
    )
    return Figure(
        "report_s_closed_incidents_vs_plain_sql",
        f"report over {count:,} closed incidents",
        "s",
        statistics.median(reports),
        "the same rows read with plain SQL",
        statistics.median(plains),
        "<= 3.0x",
        statistics.median(reports) <= 3.0 * statistics.median(plains),
        detail,
    )


if __name__ == "__main__":
    import sys

    print(report_figure(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, 1).as_json())
