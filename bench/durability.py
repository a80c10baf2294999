"""What durable commits cost: intake through the store with ``synchronous=FULL`` (the default) beside ``NORMAL``.

:meth:`engine.service.Service.ingest`, one mention a call (one transaction each, every mention opening an incident),
on a :class:`engine.store.SQLiteStore` in a fresh folder, once with each setting; the two alternate round by round in
the same run, so the machine's mood touches both alike. FULL syncs the write-ahead log at every commit, so what was
acknowledged survives a power loss; NORMAL syncs at checkpoints only, and survives a crash of the process. The
ratio is what the promise costs on this disk (a tmpfs or a disk that ignores flushes shows little).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from daemon import DaemonRepeats, mention_body, open_service, system_now
from figure import BenchError, Figure

__all__ = ["durability_figure"]


def _ingest_seconds(folder: Path, synchronous: str, count: int, prefix: str) -> float:
    service = open_service(folder, system_now, synchronous=synchronous)
    try:
        service.ingest([mention_body(0, prefix=f"warm{prefix}")])
        mentions = [[mention_body(number, prefix=prefix)] for number in range(count)]
        start = time.perf_counter()
        for batch in mentions:
            service.ingest(batch)
        elapsed = time.perf_counter() - start
        last = service.store.mention("twitter", f"{prefix}{count - 1}")
        if last is None or last.outcome != "opened":
            raise BenchError("the durability bench's mentions did not open incidents")
        return elapsed
    finally:
        service.store.close()


def durability_figure(repeats: DaemonRepeats) -> Figure:
    count = repeats.mentions
    samples: dict[str, list[float]] = {"full": [], "normal": []}
    for round_number in range(repeats.rounds):
        order = ("full", "normal") if round_number % 2 == 0 else ("normal", "full")
        for setting in order:
            with tempfile.TemporaryDirectory(prefix=f"calmly-bench-{setting}-") as tmp:
                samples[setting].append(_ingest_seconds(Path(tmp), setting, count, f"r{round_number}{setting}"))
    value = statistics.median(samples["full"]) * 1e6 / count
    baseline = statistics.median(samples["normal"]) * 1e6 / count
    return Figure(
        key="durable_intake_us_per_mention_full_vs_normal",
        name="durable intake (synchronous=FULL), per mention",
        unit="us",
        value=value,
        baseline_name="the same with synchronous=NORMAL",
        baseline=baseline,
        target="reported: the price of surviving a power loss",
        met=None,
        detail=f"Service.ingest on SQLiteStore in WAL, {count:,} mentions one a transaction, each opening an incident: "
        f"FULL {1e6 / value:,.0f} mentions/s (each commit synced to the disk: survives a power loss), NORMAL "
        f"{1e6 / baseline:,.0f}/s (survives a process crash; the last commits may be lost on a power loss)",
    )
