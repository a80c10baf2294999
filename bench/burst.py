"""Figures for a burst of deadlines (a part of ``make bench``): many falling due at once on a running daemon.

The store is built first, through ``Service.ingest``, under a bench-only playbook whose one deadline per incident
(the breach of a one-hour detected limit, no targets, no other escalation step) falls due at a moment chosen for it:
each incident is opened an hour before the moment its deadline should fall due. Then ``calmly serve`` starts on the
system clock over that store, and the daemon meets, in this order:

* a quiet spell, with no deadline due, in which one client on one keep-alive connection posts a mention every
  20 ms (``POST /v1/mentions``, each opening a customer-complaint incident), timing each answer;
* deadlines spread out, 100 a second (400 over 4 s; 200 over 2 s with ``--quick``), as the lateness figure of
  ``bench/daemon.py`` meets them;
* the burst: 10,000 deadlines (2,000 with ``--quick``) due within 2 s, while the same client posts a mention every
  20 ms from the moment the first falls due until the last has fired.

Lateness is the time of each ``deadline fired`` log line (written after the commit) minus the deadline's
``due_at``: the burst's p50 and p99 beside the spread deadlines'. Intake is the mentions' round trips during the
burst beside those in the quiet spell. Target: p99 lateness under 1 s for the burst.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from ruamel.yaml import YAML

from engine.playbook import load
from engine.testing import FakeClock

from daemon import PLAYBOOKS, Daemon, _parse, _percentile, _token, mention_body, open_service
from figure import BenchError, Figure

__all__ = ["burst_figures"]

BURST_TARGET_MS = 1000.0
PHRASE = "bench burst"
#: How long before its deadline each bench incident is opened: the bench playbook's detected limit.
LIMIT = timedelta(hours=1)
#: One mention posted this often while intake is timed.
INTAKE_EVERY_S = 0.02
QUIET_S = 3.0
GAP_S = 2.0
#: The longest the bench waits for the burst to drain before it gives up.
DRAIN_TIMEOUT_S = 120.0


@dataclass(frozen=True, slots=True)
class BurstSize:
    burst: int  # deadlines due evenly within burst_s
    burst_s: float
    spread: int  # deadlines due evenly within spread_s, before the burst
    spread_s: float
    lead_s: float  # from the start of the build to the quiet spell: building the store and starting the daemon


FULL = BurstSize(burst=10_000, burst_s=2.0, spread=400, spread_s=4.0, lead_s=20.0)
QUICK = BurstSize(burst=2_000, burst_s=2.0, spread=200, spread_s=2.0, lead_s=8.0)


@dataclass(frozen=True, slots=True)
class Timeline:
    """The moments, on the system clock, that the store is built for."""

    quiet: datetime  # the quiet spell starts; the daemon must be ready by then
    spread: datetime  # the first spread deadline
    burst: datetime  # the first deadline of the burst

    @classmethod
    def after(cls, start: datetime, size: BurstSize) -> Timeline:
        quiet = start + timedelta(seconds=size.lead_s)
        spread = quiet + timedelta(seconds=QUIET_S + 0.5)
        burst = spread + timedelta(seconds=size.spread_s + GAP_S)
        return cls(quiet, spread, burst)


def _burst_playbook(folder: Path) -> Path:
    """customer-complaint with one deadline per incident, the breach of a one-hour detected limit, taking only
    mentions with the bench phrase."""
    source = (PLAYBOOKS / "customer-complaint.yaml").read_text(encoding="utf-8")
    doc = YAML(typ="safe", pure=True).load(source)  # YAML 1.2, as calmly reads it
    doc["playbook"] = "bench-burst"
    doc["description"] = "The benchmark's playbook: one deadline an hour after opening."
    doc["applies_to"] = {"channels": ["twitter"], "priority": 1000, "when": {"keywords_any": [PHRASE]}}
    doc["states"]["detected"]["limit"] = {"default": "1h"}
    doc.pop("targets", None)
    doc["escalation"] = [{"after": "100%", "notify": ["social_lead"]}]
    path = folder / "bench-burst.yaml"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")  # JSON is YAML 1.2, so no scalar changes type
    loaded = load(path.read_bytes(), path.as_posix())
    if loaded.errors:
        shown = "; ".join(f"{p.code} {p.message}" for p in loaded.errors)
        raise BenchError(f"the burst bench's playbook does not load: {shown}")
    return path


def _open_due(data: Path, playbooks: Sequence[Path], first_due: datetime, count: int, within_s: float) -> None:
    """``count`` bench incidents whose deadlines fall due evenly over ``within_s`` from ``first_due``: opened in
    200 groups (or one a group, when fewer), each on a clock set an hour before its group's deadline."""
    groups = min(count, 200)
    clock = FakeClock(first_due - LIMIT)
    service = open_service(data, clock.now, playbooks, synchronous="normal")
    try:
        for group in range(groups):
            clock.set(first_due - LIMIT + timedelta(seconds=within_s * group / groups))
            numbers = range(count * group // groups, count * (group + 1) // groups)
            prefix = f"burst{first_due.timestamp():.0f}-"
            results = service.ingest(
                [mention_body(n, text=f"{PHRASE}: my order arrived broken", prefix=prefix) for n in numbers]
            )
            if any(result.status != "opened" for result in results):
                raise BenchError(f"the burst bench's mentions did not all open incidents: {results[0]}")
    finally:
        service.store.close()


@dataclass
class Intake:
    """One client on one keep-alive connection posting a mention every ``INTAKE_EVERY_S``: each request's start
    (system clock) and round trip (ms)."""

    client: httpx.Client
    sent: int = 0
    samples: list[tuple[datetime, float]] = field(default_factory=list)

    def post_one(self) -> None:
        self.sent += 1
        body = mention_body(self.sent, prefix="burst-intake-")
        started_at = datetime.now(UTC)
        started = time.perf_counter()
        response = self.client.post("/v1/mentions", json=body)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise BenchError(f"a mention of the burst bench was refused: {response.status_code} {response.text[:300]}")
        self.samples.append((started_at, elapsed))
        pause = INTAKE_EVERY_S - elapsed / 1000
        if pause > 0:
            time.sleep(pause)

    def between(self, start: datetime, end: datetime) -> list[float]:
        return [ms for at, ms in self.samples if start <= at <= end]


class FiredLines:
    """The daemon's ``deadline fired`` lines, read as its log grows."""

    def __init__(self, log: Path) -> None:
        self._log = log
        self._offset = 0
        self._partial = b""
        self.lines: list[dict[str, Any]] = []

    def read(self) -> int:
        with self._log.open("rb") as out:
            out.seek(self._offset)
            chunk = out.read()
        self._offset += len(chunk)
        *complete, self._partial = (self._partial + chunk).split(b"\n")
        for raw in complete:
            if b'"deadline fired"' in raw:
                self.lines.append(json.loads(raw))
        return len(self.lines)


def _wait_until(moment: datetime) -> None:
    pause = (moment - datetime.now(UTC)).total_seconds()
    if pause > 0:
        time.sleep(pause)


def _lateness(lines: Sequence[dict[str, Any]], start: datetime, end: datetime) -> list[float]:
    """Lateness (ms, by log time) of the deadlines due from ``start`` to ``end``."""
    found = []
    for line in lines:
        due = _parse(line["due_at"])
        if start <= due <= end:
            found.append((_parse(line["timestamp"]) - due).total_seconds() * 1000)
    return found


@dataclass(frozen=True, slots=True)
class BurstRun:
    burst_late: list[float]
    spread_late: list[float]
    burst_intake: list[float]
    quiet_intake: list[float]
    drained_s: float  # from the first deadline of the burst falling due to the last one fired


def _run(size: BurstSize) -> BurstRun:
    with tempfile.TemporaryDirectory(prefix="calmly-bench-burst-") as tmp:
        folder = Path(tmp)
        books = folder / "playbooks"
        books.mkdir()
        playbooks = [PLAYBOOKS, _burst_playbook(books)]
        data = folder / "data"
        when = Timeline.after(datetime.now(UTC), size)
        _open_due(data, playbooks, when.spread, size.spread, size.spread_s)
        _open_due(data, playbooks, when.burst, size.burst, size.burst_s)
        token = _token(data)
        daemon = Daemon(data, playbooks, folder / "daemon.log")
        try:
            daemon.wait_ready()
            late_by = (datetime.now(UTC) - when.quiet).total_seconds()
            if late_by > 0:
                raise BenchError(
                    f"building the store and starting the daemon took {late_by:.1f} s longer than the burst bench "
                    f"allows ({size.lead_s:.0f} s): the machine is too busy for this figure now; run it again"
                )
            fired = FiredLines(daemon.log)
            headers = {"Authorization": f"Bearer {token}"}
            with httpx.Client(base_url=daemon.url, headers=headers, timeout=30.0) as client:
                intake = Intake(client)
                client.get("/healthz").raise_for_status()  # connect before timing
                _wait_until(when.quiet)
                while datetime.now(UTC) < when.quiet + timedelta(seconds=QUIET_S):
                    intake.post_one()
                _wait_until(when.burst)
                expected = size.spread + size.burst
                give_up = time.perf_counter() + DRAIN_TIMEOUT_S
                while fired.read() < expected:
                    if time.perf_counter() > give_up:
                        raise BenchError(f"only {len(fired.lines)} of {expected} deadlines fired:\n{daemon.tail()}")
                    for _ in range(20):
                        intake.post_one()
            daemon.stop()
        finally:
            if daemon.process.poll() is None:
                daemon.process.kill()
                daemon.process.wait()
    burst_end = when.burst + timedelta(seconds=size.burst_s)
    spread_end = when.spread + timedelta(seconds=size.spread_s)
    last_fired = max(_parse(line["timestamp"]) for line in fired.lines)
    return BurstRun(
        burst_late=_lateness(fired.lines, when.burst, burst_end),
        spread_late=_lateness(fired.lines, when.spread, spread_end),
        burst_intake=intake.between(when.burst, last_fired),
        quiet_intake=intake.between(when.quiet, when.quiet + timedelta(seconds=QUIET_S)),
        drained_s=(last_fired - when.burst).total_seconds(),
    )


def burst_figures(quick: bool) -> list[Figure]:
    size = QUICK if quick else FULL
    run = _run(size)
    if len(run.burst_late) != size.burst or len(run.spread_late) != size.spread:
        raise BenchError(
            f"the burst bench counted {len(run.burst_late)} of {size.burst} burst deadlines and "
            f"{len(run.spread_late)} of {size.spread} spread ones"
        )
    if not run.burst_intake or not run.quiet_intake:
        raise BenchError("the burst bench timed no mention during the burst or the quiet spell")
    floor = 0.001  # a ratio needs a baseline above zero
    late = {share: _percentile(run.burst_late, share) for share in (0.5, 0.99)}
    spread = {share: _percentile(run.spread_late, share) for share in (0.5, 0.99)}
    busy = {share: _percentile(run.burst_intake, share) for share in (0.5, 0.99)}
    quiet = {share: _percentile(run.quiet_intake, share) for share in (0.5, 0.99)}
    burst = f"{size.burst:,} due within {size.burst_s:.0f} s"
    lateness = (
        f"{size.burst:,} deadlines (one per incident, a bench-only playbook) due evenly within {size.burst_s:.0f} s "
        f"on calmly serve with the system clock, beside {size.spread} due {size.spread / size.spread_s:.0f} a "
        f"second earlier in the same run; lateness = time of the 'deadline fired' log line minus due_at; the burst "
        f"drained {run.drained_s:.1f} s after its first deadline fell due ({size.burst / run.drained_s:,.0f} "
        f"deadlines/s), while one client posted a mention every {INTAKE_EVERY_S * 1000:.0f} ms"
    )
    intake = (
        f"POST /v1/mentions (one mention opening an incident), one keep-alive connection, one request every "
        f"{INTAKE_EVERY_S * 1000:.0f} ms at most: {len(run.burst_intake)} requests from the burst's first deadline "
        f"to its last one fired, beside {len(run.quiet_intake)} in a quiet spell before any deadline fell due"
    )
    figures = []
    for share, label in ((0.5, "p50"), (0.99, "p99")):
        met = late[share] < BURST_TARGET_MS if share == 0.99 else None
        target = f"< {BURST_TARGET_MS:.0f} ms" if share == 0.99 else "- (context)"
        figures.append(
            Figure(
                key=f"burst_lateness_{label}_ms",
                name=f"deadline lateness {label}, {burst}",
                unit="ms",
                value=max(late[share], floor),
                baseline_name=f"the same, {size.spread / size.spread_s:.0f} due a second",
                baseline=max(spread[share], floor),
                target=target,
                met=met,
                detail=lateness,
            )
        )
    for share, label in ((0.5, "p50"), (0.99, "p99")):
        figures.append(
            Figure(
                key=f"burst_intake_{label}_ms",
                name=f"intake {label} during a burst of {size.burst:,} deadlines",
                unit="ms",
                value=busy[share],
                baseline_name=f"the same, no deadline due, {label}",
                baseline=quiet[share],
                target="- (context)",
                met=None,
                detail=intake,
            )
        )
    return figures
