"""``calmly diff`` over 100,000 recorded incidents (5,000 with ``--quick``), beside replaying the same incidents
through one playbook with bare ``step`` in the same run.

The store is the one ``bench/report.py`` makes, with each copy's log naming the copy: the broken-order timeline
played through the service under the shipped customer-complaint playbook, its closed incident copied in SQL (row
and log, 13 commands). The diff is what ``calmly diff OLD NEW --replay DATA --format json`` does in process: the
store's pages read, each incident replayed through the old playbook (and checked against its recording) and through
a new one whose ``detected`` limits are halved, the two compared and the totals rendered, over a pool of one worker
process per core. The baseline is the least a replay must do, in this process: every recorded command of every
incident decoded and stepped once through the old playbook with ``step``.
"""

from __future__ import annotations

import json
import os
import resource
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from engine.authoring.behaviour import PlaybookText, diff_chunks
from engine.authoring.diffview import diff_json
from engine.files import load_file
from engine.incident import (
    Act,
    DeadlineReached,
    Incident,
    JoinMention,
    Refused,
    Rulebook,
    open_incident,
    parse_mention,
    step,
)
from engine.playbook import Failed
from engine.store import JoinCommand, OpenCommand, SQLiteStore, decode_command
from engine.store.sqlite import read_recorded_range

from figure import BenchError, Figure
from report import PLAYBOOK, fill_store

__all__ = ["diff_figure"]

_OLD_LIMIT = "limit: {critical: 15m, high: 1h, medium: 4h, low: 24h}"
_NEW_LIMIT = "limit: {critical: 10m, high: 30m, medium: 2h, low: 12h}"

#: The whole diff of 100,000 incidents, in seconds, on the 2-core machine.
TARGET_S = 30.0


def _fill(data: Path, count: int) -> None:
    """The report's store, with each copy's log and row naming the copy (the report's copies keep the first
    incident's id in their logs, which a report never reads but a replay does)."""
    fill_store(data, count)
    with sqlite3.connect(data / "calmly.sqlite3") as db:
        db.execute(
            "UPDATE events SET command = replace(command, 'inc-1', incident_id), "
            "history = replace(history, 'inc-1', incident_id) WHERE incident_id != 'inc-1'"
        )
        db.execute(  # the report's copy named itself in its "id" only
            'UPDATE incidents SET body = replace(replace(body, \'"id":"\' || id || \'"\', \'"id":"inc-1"\'), '
            "'inc-1', id) WHERE id != 'inc-1'"
        )
    db.close()


def _texts() -> list[PlaybookText]:
    old = PLAYBOOK.read_text(encoding="utf-8")
    if _OLD_LIMIT not in old:
        raise BenchError(f"{PLAYBOOK.name} no longer has the detected limits this figure halves")
    return [PlaybookText(old, PLAYBOOK.as_posix(), old.replace(_OLD_LIMIT, _NEW_LIMIT), "new.yaml")]


def _cpu() -> float:
    """CPU seconds spent so far by this process and by its children that have ended (the pool's workers)."""
    mine, theirs = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + theirs.ru_utime + theirs.ru_stime


def _diff(data: Path, count: int, texts: list[PlaybookText], cpu: list[float]) -> float:
    store = SQLiteStore(data)
    try:
        began = _cpu()
        start = time.perf_counter()
        pages = (
            ((read_recorded_range, page), size) for page, size in store.recorded_ranges(None, None, closed_only=False)
        )
        summary = diff_chunks(pages, texts, None, jobs=os.cpu_count() or 1)
        json.dumps(diff_json(summary, [{"old": "old", "new": "new"}]))
        elapsed = time.perf_counter() - start
        cpu.append(_cpu() - began)  # the pool has ended: its workers are counted
    finally:
        store.close()
    if summary.incidents != count or summary.nondeterministic or summary.changed != count:
        raise BenchError(
            f"the diff replayed {summary.incidents:,} incidents ({summary.changed:,} changed, "
            f"{summary.nondeterministic:,} not reproduced), not {count:,} all changed and all reproduced"
        )
    return elapsed


def _bare(data: Path, count: int, book: Rulebook, cpu: list[float]) -> float:
    """Every recorded command stepped once through ``book``, in this process: the least a replay does."""
    store = SQLiteStore(data)
    try:
        began = _cpu()
        start = time.perf_counter()
        seen = 0
        for recorded in store.recorded(None, None, closed_only=False):
            incident: Incident | None = None
            for event in recorded.events:
                command = decode_command(event.command)
                if isinstance(command, OpenCommand):
                    mention = parse_mention(command.mention)
                    if isinstance(mention, Failed):
                        raise BenchError("a recorded mention does not parse")
                    incident = open_incident(command.id, mention, book, event.at).incident
                    continue
                if incident is None or not isinstance(command, Act | DeadlineReached | JoinCommand):
                    continue
                if isinstance(command, JoinCommand):
                    joined = parse_mention(command.mention)
                    if isinstance(joined, Failed):
                        raise BenchError("a recorded mention does not parse")
                    outcome = step(incident, JoinMention(joined), event.at, book)
                else:
                    outcome = step(incident, command, event.at, book)
                if not isinstance(outcome, Refused):
                    incident = outcome.incident
            seen += 1
        elapsed = time.perf_counter() - start
        cpu.append(_cpu() - began)
    finally:
        store.close()
    if seen != count:
        raise BenchError(f"bare step replayed {seen:,} incidents, not {count:,}")
    return elapsed


def _warm(data: Path) -> None:
    """Every row read once, so both sides start from a warm page cache (a pass of bare step did it at the cost of
    one more whole replay)."""
    with sqlite3.connect(data / "calmly.sqlite3") as db:
        db.execute("SELECT sum(length(body)) FROM incidents").fetchone()
        db.execute("SELECT sum(length(command) + length(history)) FROM events").fetchone()
    db.close()


def diff_figure(count: int, runs: int) -> Figure:
    texts = _texts()
    loaded = load_file(PLAYBOOK).playbook
    if loaded is None:
        raise BenchError(f"{PLAYBOOK.name} does not load")
    book = Rulebook(loaded)
    with tempfile.TemporaryDirectory(prefix="calmly-bench-diff-") as folder:
        data = Path(folder) / "data"
        _fill(data, count)
        _warm(data)
        diffs, bares = [], []
        diff_cpu: list[float] = []
        bare_cpu: list[float] = []
        for _ in range(runs):  # interleaved, so a noisy neighbour slows both alike
            diffs.append(_diff(data, count, texts, diff_cpu))
            bares.append(_bare(data, count, book, bare_cpu))
    diff_s, bare_s = statistics.median(diffs), statistics.median(bares)
    detail = (
        f"{count:,} recorded incidents of 13 logged commands each (the broken-order timeline's, copied in SQL); the "
        f"diff: each replayed through the old playbook (checked against its recording) and a new one with halved "
        f"detected limits, compared and rendered as JSON, over {os.cpu_count()} worker processes: "
        f"{count / diff_s:,.0f} incidents/s; bare step: every recorded command stepped once through one playbook in "
        f"one process: {count / bare_s:,.0f} incidents/s; CPU time (all processes; what the two cores share on a "
        f"quiet machine): the diff {statistics.median(diff_cpu):.1f} s, bare step {statistics.median(bare_cpu):.1f} "
        f"s; medians of {runs} interleaved runs; target: the whole diff of 100,000 in under {TARGET_S:.0f} s"
    )
    return Figure(
        "diff_s_recorded_incidents_vs_bare_step",
        f"diff of {count:,} recorded incidents",
        "s",
        diff_s,
        "the same incidents replayed with bare step through one playbook",
        bare_s,
        f"< {TARGET_S:.0f} s for 100,000",
        diff_s * 100_000 / count < TARGET_S,
        detail,
    )


if __name__ == "__main__":
    import sys

    print(json.dumps(diff_figure(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, 1).as_json(), indent=2))
