"""HTTP intake under load: ``calmly serve`` beside the minimal app (``bench/minimal_app.py``), both driven by wrk.

wrk runs as a process of its own (a load generator in the server's process would take the server's time), with
``bench/intake.lua`` posting new mentions, each with an external_id and an author of its own, so that on calmly each
mention opens an incident. Both servers run side by side, on the same uvicorn settings, and for each number of
connections (1, 4, 16 and 64) the two take turns, round by round in the same run, so a change in the machine's load
falls on both alike; each figure is the median of its rounds.

* One mention a request: ``POST /v1/mentions`` on calmly (a bearer token checked, the mention checked against its
  schema, matched to a playbook, an incident opened, and all of it committed before the answer), beside
  ``POST /mentions`` on the minimal app (FastAPI parses the body, one insert, one commit). Target: calmly answers at
  least half as many requests a second as the minimal app, at every number of connections.
* Batches: ``POST /v1/mentions`` with ``{"mentions": [...]}`` of 100 mentions a request, at 4 connections, beside the
  minimal app inserting the same batches in one transaction each; per mention. This is how a listening tool should
  send a burst.

Every request must be answered with a 2xx: a run with a refused or failed request, or none at all, stops the bench.
Without wrk on the PATH (``apt-get install wrk``), these figures are left out and the report says so.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from daemon import PLAYBOOKS, _free_port, _running, _token
from figure import BenchError, Figure

__all__ = ["CONNECTIONS", "SurgeRepeats", "surge_figures", "wrk"]

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path(__file__).resolve().with_name("intake.lua")
MINIMAL_APP = Path(__file__).resolve().with_name("minimal_app.py")
CONNECTIONS = (1, 4, 16, 64)
BATCH_CONNECTIONS = 4
SURGE_TARGET_RATIO = 2.0  # at least half the minimal app's rate


@dataclass(frozen=True, slots=True)
class SurgeRepeats:
    seconds: float  # how long wrk runs for each measurement
    rounds: int  # turns each server takes at each number of connections; figures are medians
    batch: int  # mentions a request for the batched figure


@dataclass(frozen=True, slots=True)
class Load:
    """The totals of one wrk run."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_s: float = 0.0  # the server process's CPU time (user and system) during the run

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_ms(self) -> float:
        """The server's CPU time per request."""
        return self.cpu_s * 1000 / self.requests


def wrk() -> str | None:
    """wrk on the PATH, if it is installed."""
    return shutil.which("wrk")


def run_wrk(
    url: str, path: str, *, connections: int, seconds: float, prefix: str, batch: int = 0, token: str | None = None
) -> Load:
    """wrk against ``url`` with one thread (plenty for a few thousand requests a second, and it leaves the cores
    to the server); every request must be answered with a 2xx."""
    found = wrk()
    if found is None:
        raise BenchError("wrk is not installed (apt-get install wrk)")
    command = [found, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(SCRIPT)]
    if token is not None:
        command += ["-H", f"Authorization: Bearer {token}"]
    command += [url, "--", path, prefix, str(batch)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=seconds + 60)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise BenchError(f"wrk failed ({done.returncode}) against {url}{path}:\n{done.stdout}\n{done.stderr}")
    totals = json.loads(lines[-1])
    failed = {key: totals[key] for key in ("connect", "read", "write", "status", "timeout") if totals[key]}
    if failed or totals["requests"] == 0:
        raise BenchError(f"wrk against {url}{path} at {connections} connections: errors {failed}, {done.stdout}")
    return Load(totals["requests"], totals["duration_us"] / 1e6, totals["p50_us"] / 1000, totals["p99_us"] / 1000)


class MinimalApp:
    """``bench/minimal_app.py`` in a process of its own, on a free loopback port."""

    def __init__(self, db: Path, log: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [sys.executable, str(MINIMAL_APP), "--db", str(db), "--port", str(self.port)]
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.perf_counter() + timeout
        with httpx.Client(timeout=1.0) as client:
            while time.perf_counter() < deadline:
                if self.process.poll() is not None:
                    raise BenchError(f"the minimal app exited {self.process.returncode}:\n{self.log.read_text()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        return
                time.sleep(0.02)
        raise BenchError(f"the minimal app was not ready within {timeout} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextlib.contextmanager
def minimal_app(db: Path, log: Path) -> Iterator[MinimalApp]:
    app = MinimalApp(db, log)
    try:
        app.wait_ready()
        yield app
    finally:
        app.stop()


@dataclass(frozen=True, slots=True)
class _Side:
    """One of the two servers, and where its mentions go."""

    url: str
    single: str
    batched: str
    token: str | None
    pid: int

    def load(self, connections: int, seconds: float, prefix: str, batch: int = 0) -> Load:
        path = self.single if batch == 0 else self.batched
        before = cpu_seconds(self.pid)
        done = run_wrk(
            self.url, path, connections=connections, seconds=seconds, prefix=prefix, batch=batch, token=self.token
        )
        return dataclasses.replace(done, cpu_s=cpu_seconds(self.pid) - before)


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process ``pid`` has used so far, from /proc/PID/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _turns(sides: dict[str, _Side], connections: int, repeats: SurgeRepeats, batch: int) -> dict[str, list[Load]]:
    """Each side loaded ``repeats.rounds`` times at ``connections``, taking turns, the first alternating."""
    loads: dict[str, list[Load]] = {key: [] for key in sides}
    keys = list(sides)
    for round_number in range(repeats.rounds):
        for key in keys if round_number % 2 == 0 else keys[::-1]:
            prefix = f"c{connections}b{batch}r{round_number}"
            loads[key].append(sides[key].load(connections, repeats.seconds, prefix, batch))
    return loads


def _median(loads: Sequence[Load], attribute: str) -> float:
    return float(statistics.median(getattr(load, attribute) for load in loads))


def surge_figures(repeats: SurgeRepeats) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="calmly-bench-surge-") as tmp:
        folder = Path(tmp)
        token = _token(folder / "data")
        with (
            _running(folder / "data", [PLAYBOOKS], folder / "daemon.log") as daemon,
            minimal_app(folder / "minimal.sqlite3", folder / "minimal.log") as minimal,
        ):
            daemon.wait_ready()
            sides = {
                "calmly": _Side(daemon.url, "/v1/mentions", "/v1/mentions", token, daemon.process.pid),
                "minimal": _Side(minimal.url, "/mentions", "/mentions/batch", None, minimal.process.pid),
            }
            for key, side in sides.items():  # warm up: imports, caches, the thread pool's threads
                side.load(4, 1, f"warm{key}")
            single = {connections: _turns(sides, connections, repeats, 0) for connections in CONNECTIONS}
            batched = _turns(sides, BATCH_CONNECTIONS, repeats, repeats.batch)
            daemon.stop()
        answered = sum(load.requests for loads in single.values() for load in loads["calmly"])
        answered += sum(load.requests for load in batched["calmly"]) * repeats.batch
        _check_opened(folder / "data", answered)
    return [
        *(_single_figure(connections, loads, repeats) for connections, loads in single.items()),
        _batched_figure(batched, repeats),
    ]


def _check_opened(data: Path, answered: int) -> None:
    """Every mention calmly took must have opened an incident, and every one it answered must be in the store, or
    the workload was not the one measured."""
    with contextlib.closing(sqlite3.connect(data / "calmly.sqlite3")) as db:
        outcomes = dict(db.execute("SELECT outcome, COUNT(*) FROM mentions GROUP BY outcome").fetchall())
    if set(outcomes) != {"opened"} or outcomes["opened"] < answered:
        raise BenchError(f"the {answered:,} mentions calmly answered should each have opened an incident: {outcomes}")


def _single_figure(connections: int, loads: dict[str, list[Load]], repeats: SurgeRepeats) -> Figure:
    rate = {key: _median(values, "rate") for key, values in loads.items()}
    value, baseline = 1000 / rate["calmly"], 1000 / rate["minimal"]
    latency = {key: (_median(values, "p50_ms"), _median(values, "p99_ms")) for key, values in loads.items()}
    cpu = {key: _median(values, "cpu_ms") for key, values in loads.items()}
    return Figure(
        key=f"http_intake_ms_per_request_{connections}_connections_vs_minimal_app",
        name=f"HTTP intake, {connections} connection{'s' if connections > 1 else ''}, per request",
        unit="ms",
        value=value,
        baseline_name="minimal FastAPI + SQLite app",
        baseline=baseline,
        target=f"<= {SURGE_TARGET_RATIO:.1f}x (half its rate)",
        met=value / baseline <= SURGE_TARGET_RATIO,
        detail=f"wrk, {connections} keep-alive connection(s), {repeats.seconds:g} s a round, median of "
        f"{repeats.rounds} rounds taking turns: POST /v1/mentions, one mention opening an incident, "
        f"{rate['calmly']:,.0f} requests/s (latency p50 {latency['calmly'][0]:.1f} ms, p99 "
        f"{latency['calmly'][1]:.1f} ms; server CPU {cpu['calmly']:.2f} ms a request); the minimal app's "
        f"POST /mentions, one insert and commit, {rate['minimal']:,.0f}/s (p50 {latency['minimal'][0]:.1f} ms, "
        f"p99 {latency['minimal'][1]:.1f} ms; CPU {cpu['minimal']:.2f} ms)",
    )


def _batched_figure(loads: dict[str, list[Load]], repeats: SurgeRepeats) -> Figure:
    per_second = {key: _median(values, "rate") * repeats.batch for key, values in loads.items()}
    value, baseline = 1e6 / per_second["calmly"], 1e6 / per_second["minimal"]
    return Figure(
        key="http_intake_us_per_mention_batched_vs_minimal_app",
        name=f"HTTP intake, batches of {repeats.batch}, per mention",
        unit="us",
        value=value,
        baseline_name="minimal app, the same batches",
        baseline=baseline,
        target="- (context)",
        met=None,
        detail=f'wrk, {BATCH_CONNECTIONS} connections, {{"mentions": [...]}} of {repeats.batch} a request, each '
        f"opening an incident: {per_second['calmly']:,.0f} mentions/s (server CPU "
        f"{_median(loads['calmly'], 'cpu_ms') / repeats.batch:.2f} ms a mention); the minimal app inserting each "
        f"batch in one transaction: {per_second['minimal']:,.0f}/s",
    )
