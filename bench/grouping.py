"""Grouping and surge detection during a replayed burst (a figure of ``bench/run.py``).

10,000 outage complaints (1,000 with ``--quick``) posted within one simulated minute, each from someone else, go
through :meth:`engine.service.Service.ingest` one mention a call (one transaction each, as a listening tool's
single requests are), on a :class:`engine.store.SQLiteStore` in a fresh folder, under the shipped
``service-outage`` playbook: with its ``group`` and ``surges`` sections, the first complaint opens the channel's
incident and every later one joins it (one index search for the group, the incident's counts updated, both surges
firing once on the way); beside the same burst through the same intake under the same playbook with those two
sections removed, where every complaint opens an incident of its own. The two take turns, round by round, so a
change in the machine's load falls on both; each figure is the median of its rounds. Per mention.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from engine.service import SimulatedClock

from daemon import PLAYBOOKS, open_service
from figure import BenchError, Figure

__all__ = ["GroupingRepeats", "grouping_figure"]

START = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BURST = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class GroupingRepeats:
    mentions: int
    rounds: int


def _playbooks(folder: Path, *, grouped: bool) -> Path:
    """A folder holding service-outage as shipped, or with its group and surges removed."""
    doc = yaml.safe_load((PLAYBOOKS / "service-outage.yaml").read_text(encoding="utf-8"))
    if not grouped:
        doc.pop("group")
        doc.pop("surges")
    folder.mkdir(parents=True)
    (folder / "service-outage.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return folder


def _burst(count: int) -> list[tuple[datetime, list[dict[str, Any]]]]:
    moments = [START + BURST * number / count for number in range(count)]
    return [
        (
            at,
            [
                {
                    "channel": "twitter",
                    "external_id": f"burst-{number}",
                    "text": "Is the app down? It's not working for me",
                    "posted_at": at.isoformat(),
                    "author": {"handle": f"@witness{number}", "followers": 40},
                }
            ],
        )
        for number, at in enumerate(moments)
    ]


def _run(folder: Path, playbooks: Path, burst: list[tuple[datetime, list[dict[str, Any]]]]) -> tuple[float, int]:
    """Seconds for the burst, and how many incidents it left."""
    clock = SimulatedClock(START)
    service = open_service(folder, clock.now, (playbooks,))
    try:
        start = time.perf_counter()
        for at, batch in burst:
            clock.set(at)
            service.ingest(batch)
        elapsed = time.perf_counter() - start
        return elapsed, service.store.counts()["incidents"]
    finally:
        service.store.close()


def grouping_figure(repeats: GroupingRepeats) -> Figure:
    count = repeats.mentions
    burst = _burst(count)
    grouped_samples: list[float] = []
    plain_samples: list[float] = []
    surged: tuple[str, ...] = ()
    with tempfile.TemporaryDirectory(prefix="calmly-bench-grouping-") as tmp:
        folder = Path(tmp)
        grouped_books = _playbooks(folder / "grouped", grouped=True)
        plain_books = _playbooks(folder / "plain", grouped=False)
        for round_number in range(repeats.rounds):
            elapsed, incidents = _run(folder / f"g{round_number}", grouped_books, burst)
            if incidents != 1:
                raise BenchError(f"the grouped burst left {incidents} incidents, not one")
            grouped_samples.append(elapsed)
            elapsed, incidents = _run(folder / f"p{round_number}", plain_books, burst)
            if incidents != count:
                raise BenchError(f"the burst without grouping left {incidents} incidents, not {count:,}")
            plain_samples.append(elapsed)
        service = open_service(folder / f"g{repeats.rounds - 1}", SimulatedClock(START).now, (grouped_books,))
        try:
            row = service.store.incident("inc-1")
            surged = () if row is None else row.incident.surged
        finally:
            service.store.close()
    if surged != ("outage_spike", "going_viral"):
        raise BenchError(f"the grouped burst surged {surged}, not both of service-outage's surge rules")
    value = statistics.median(grouped_samples) * 1e6 / count
    baseline = statistics.median(plain_samples) * 1e6 / count
    return Figure(
        key="grouped_intake_us_per_mention_vs_ungrouped",
        name="intake during a burst with grouping and surges, per mention",
        unit="us",
        value=value,
        baseline_name="the same burst without group and surges",
        baseline=baseline,
        target="reported",
        met=None,
        detail=f"{count:,} outage complaints within one simulated minute, one a transaction, under service-outage: "
        f"grouped into one incident that surged ({', '.join(surged)}), {1e6 / value:,.0f} mentions/s; without its "
        f"group and surges each opens an incident: {1e6 / baseline:,.0f}/s",
    )
