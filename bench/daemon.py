"""Figures for the daemon: intake through the store, HTTP, deadline lateness, memory and start-up, each beside a
baseline measured in the same run.

* Intake through the store beside raw ``sqlite3`` making the same statements: ``bench/intake.py``.
* HTTP actions: a real ``calmly serve`` on loopback, several client threads with keep-alive connections: ``assess``
  on incidents just opened (by as many mentions, one a request), beside ``GET /healthz`` on the same server with the
  same clients. Intake under load, beside a minimal app, is ``bench/surge.py``.
* With many open incidents (100,000; 5,000 with ``--quick``) in the store, built through ``Service.ingest`` in
  batches of 1,000: the daemon on the system clock opens incidents under a bench-only playbook whose detected limit
  is a few seconds, so 200 deadlines fall due while it runs; lateness is the time of each ``deadline fired`` log line
  (written after the commit) minus the deadline's ``due_at``, beside the same on an empty store. Then the daemon's
  resident memory (``VmRSS``) beside the same daemon over an empty store after the same run, and the time from
  starting the process to ``/readyz`` answering 200, beside the same with an empty store.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

import httpx
from ruamel.yaml import YAML

from engine.playbook import load
from engine.service import Library, Service, issue_token
from engine.store import SQLiteStore, Store

from figure import BenchError, Figure

__all__ = [
    "DaemonRepeats",
    "Where",
    "daemon_figures",
    "http_figures",
    "mention_body",
    "open_incident_figures",
    "open_service",
    "system_now",
]

ROOT = Path(__file__).resolve().parent.parent
PLAYBOOKS = ROOT / "playbooks"
ROSTER = ROOT / "examples" / "roster.yaml"
LATENESS_TARGET_MS = 50.0
MEMORY_TARGET_MB = 300.0
READY_TARGET_S = 2.0
#: The bench-only playbook: customer-complaint with a detected limit this short, for mentions with this phrase.
LATENESS_LIMIT = "2s"
LATENESS_PHRASE = "bench deadline"
LATENESS_INCIDENTS = 200
HTTP_CLIENTS = 4
BATCH = 1000

#: Where a daemon's store is: a data folder (SQLite), or the URL of a PostgreSQL store (``calmly serve --store``).
Where = Path | str


@dataclass(frozen=True, slots=True)
class DaemonRepeats:
    mentions: int  # mentions per intake run, through the store and raw
    requests: int  # HTTP requests per kind per round
    open_incidents: int  # the open incidents in the store for lateness, memory and start-up
    rounds: int  # runs of each measurement; figures are medians


def mention_body(number: int, text: str = "My order arrived broken", prefix: str = "m") -> dict[str, Any]:
    return {
        "channel": "twitter",
        "external_id": f"{prefix}{number}",
        "text": text,
        "posted_at": "2026-11-23T09:00:00Z",
        "author": {"handle": f"@{prefix}{number}", "followers": 10},
    }


def open_service(
    folder: Path, clock: Callable[[], datetime], playbooks: Sequence[Path] = (PLAYBOOKS,), synchronous: str = "full"
) -> Service:
    store = SQLiteStore(folder, synchronous)
    store.migrate()
    library = Library(store)
    library.install(list(playbooks), clock())
    return Service(store, library, clock)


def system_now() -> datetime:
    return datetime.now(UTC)


# --- a daemon in a subprocess -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _calmly() -> str:
    return str(Path(sys.executable).with_name("calmly"))


def _token(data: Where) -> str:
    store = _open_store(data)
    store.migrate()
    try:
        return issue_token(store, "alice", system_now(), label="bench")
    finally:
        store.close()


def _open_store(data: Where) -> Store:
    if isinstance(data, Path):
        return SQLiteStore(data)
    from engine.store.postgresql import PostgreSQLStore  # noqa: PLC0415 - psycopg only where a database is given

    return PostgreSQLStore(data)


class Daemon:
    """``calmly serve`` on a free loopback port and the system clock, over the store in a data folder or in the
    PostgreSQL database a URL names; ``started`` is when the process was spawned."""

    def __init__(self, data: Where, playbooks: Sequence[Path], log: Path, roster: Path = ROSTER) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        place = ["--data", str(data)] if isinstance(data, Path) else ["--store", data]
        command = [_calmly(), "serve", *place, "--roster", str(roster)]
        for path in playbooks:
            command += ["--playbooks", str(path)]
        command += ["--listen", f"127.0.0.1:{self.port}", "--log-format", "json"]
        with log.open("wb") as out:
            self.started = time.perf_counter()
            # The bench measures throughput: the rate limits (a guard for production) are turned off.
            environment = {
                **os.environ,
                "CALMLY_RATE_LIMIT_PER_MINUTE": "0",
                "CALMLY_INTAKE_RATE_LIMIT_PER_MINUTE": "0",
            }
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=environment)

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds from spawning the process to /readyz answering 200."""
        with httpx.Client(timeout=1.0) as client:
            while time.perf_counter() - self.started < timeout:
                if self.process.poll() is not None:
                    raise BenchError(f"calmly serve exited {self.process.returncode}:\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return time.perf_counter() - self.started
                time.sleep(0.005)
        raise BenchError(f"calmly serve was not ready within {timeout} s:\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-20:])

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(json.JSONDecodeError):
                found.append(json.loads(line))
        return found

    def rss_mb(self) -> float:
        return _rss_mb(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise BenchError(f"calmly serve did not stop within 30 s of SIGTERM:\n{self.tail()}") from None
        if code != 0:
            raise BenchError(f"calmly serve exited {code} after SIGTERM:\n{self.tail()}")


@contextlib.contextmanager
def _running(data: Where, playbooks: Sequence[Path], log: Path) -> Iterator[Daemon]:
    daemon = Daemon(data, playbooks, log)
    try:
        yield daemon
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise BenchError(f"/proc/{pid}/status has no VmRSS line")


# --- HTTP requests per second -----------------------------------------------------------------------------------


def _concurrently(url: str, token: str, jobs: Sequence[tuple[str, str, Any]]) -> float:
    """Wall seconds for ``HTTP_CLIENTS`` threads, each with a keep-alive client, to make all ``jobs`` (each 2xx)."""
    headers = {"Authorization": f"Bearer {token}"}
    shares = [jobs[index::HTTP_CLIENTS] for index in range(HTTP_CLIENTS)]
    failures: list[str] = []
    clients = [httpx.Client(base_url=url, headers=headers, timeout=30.0) for _ in shares]

    def work(client: httpx.Client, share: Sequence[tuple[str, str, Any]]) -> None:
        for method, path, body in share:
            response = client.request(method, path, json=body)
            if not response.is_success:
                failures.append(f"{method} {path}: {response.status_code} {response.text[:300]}")
                return

    try:
        for client in clients:  # connect before timing
            client.get("/healthz")
        threads = [threading.Thread(target=work, args=pair) for pair in zip(clients, shares, strict=True)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
    finally:
        for client in clients:
            client.close()
    if failures:
        raise BenchError(f"a request of the HTTP bench failed: {failures[0]}")
    return elapsed


def http_figures(repeats: DaemonRepeats) -> list[Figure]:
    count = repeats.requests
    samples: dict[str, list[float]] = {"healthz": [], "intake": [], "action": []}
    with tempfile.TemporaryDirectory(prefix="calmly-bench-http-") as tmp:
        folder = Path(tmp)
        token = _token(folder / "data")
        with _running(folder / "data", [PLAYBOOKS], folder / "daemon.log") as daemon:
            daemon.wait_ready()
            opened = 0
            for round_number in range(repeats.rounds):
                healthz = [("GET", "/healthz", None)] * count
                mentions = [("POST", "/v1/mentions", mention_body(n, prefix=f"h{round_number}m")) for n in range(count)]
                assess = {"version": 0, "fields": {"severity": "high"}}
                actions = [("POST", f"/v1/incidents/inc-{opened + n + 1}/actions/assess", assess) for n in range(count)]
                samples["healthz"].append(_concurrently(daemon.url, token, healthz))
                samples["intake"].append(_concurrently(daemon.url, token, mentions))
                samples["action"].append(_concurrently(daemon.url, token, actions))
                opened += count
            daemon.stop()
    per_request = {key: statistics.median(values) * 1000 / count for key, values in samples.items()}
    rate = {key: 1000 / value for key, value in per_request.items()}
    return [
        Figure(
            key="http_action_ms_per_request_vs_healthz",
            name="HTTP action, per request",
            unit="ms",
            value=per_request["action"],
            baseline_name="GET /healthz, same server",
            baseline=per_request["healthz"],
            target="- (context)",
            met=None,
            detail=f"POST /v1/incidents/ID/actions/assess on incidents just opened (by as many POST /v1/mentions, "
            f"{rate['intake']:,.0f} requests/s): {rate['action']:,.0f} requests/s; {count:,} requests a round from "
            f"{HTTP_CLIENTS} client threads with keep-alive connections, median of {repeats.rounds} rounds, against "
            f"calmly serve on loopback; GET /healthz: {rate['healthz']:,.0f} requests/s",
        ),
    ]


# --- many open incidents: lateness, memory, start-up ------------------------------------------------------------


def _bench_playbook(folder: Path) -> Path:
    """customer-complaint with a detected limit of seconds, taking only mentions with the bench phrase."""
    source = (PLAYBOOKS / "customer-complaint.yaml").read_text(encoding="utf-8")
    doc = YAML(typ="safe", pure=True).load(source)  # YAML 1.2, as calmly reads it
    doc["playbook"] = "bench-deadlines"
    doc["description"] = "The benchmark's playbook: deadlines seconds after opening."
    doc["applies_to"] = {"channels": ["twitter"], "priority": 1000, "when": {"keywords_any": [LATENESS_PHRASE]}}
    doc["states"]["detected"]["limit"] = {"default": LATENESS_LIMIT}
    doc.pop("targets", None)
    doc["escalation"] = [step for step in doc["escalation"] if "repeat_every" not in step]
    path = folder / "bench-deadlines.yaml"
    path.write_text(json.dumps(doc, indent=2), encoding="utf-8")  # JSON is YAML 1.2, so no scalar changes type
    loaded = load(path.read_bytes(), path.as_posix())
    if loaded.errors:
        shown = "; ".join(f"{p.code} {p.message}" for p in loaded.errors)
        raise BenchError(f"the bench-only playbook does not load: {shown}")
    return path


def build_open_incidents(
    data: Path, count: int, playbooks: Sequence[Path], body: Callable[[int], dict[str, Any]] = mention_body
) -> float:
    """``count`` open incidents (customer-complaint, deadlines hours ahead) through Service.ingest, the mention
    numbered N being ``body(N)``; seconds taken."""
    service = open_service(data, system_now, playbooks)
    start = time.perf_counter()
    for first in range(0, count, BATCH):
        service.ingest([body(number) for number in range(first, min(count, first + BATCH))])
    elapsed = time.perf_counter() - start
    counts = service.store.counts()
    service.store.close()
    if counts["open_incidents"] != count:
        raise BenchError(f"building the store opened {counts['open_incidents']} incidents, not {count}")
    return elapsed


class Lateness(NamedTuple):
    """One lateness run: each deadline's lateness by log time and as the daemon reports it (ms), the daemon's
    resident memory afterwards (MB), and its start to ready (s)."""

    by_log: list[float]
    reported: list[float]
    rss_mb: float
    ready_s: float


def _lateness_ms(data: Where, playbooks: Sequence[Path], log: Path) -> Lateness:
    """Open the bench incidents over about two seconds and wait for their deadlines to fire."""
    token = _token(data)
    with _running(data, playbooks, log) as daemon:
        ready = daemon.wait_ready()
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=daemon.url, headers=headers, timeout=30.0) as client:
            per_request = 10
            for first in range(0, LATENESS_INCIDENTS, per_request):
                batch = [
                    mention_body(number, text=f"{LATENESS_PHRASE}: my order arrived broken", prefix="late")
                    for number in range(first, first + per_request)
                ]
                response = client.post("/v1/mentions", json={"mentions": batch})
                if response.status_code != 200 or any(r["status"] != "opened" for r in response.json()["results"]):
                    raise BenchError(f"the lateness bench's mentions were not taken: {response.text[:300]}")
                time.sleep(2.0 / (LATENESS_INCIDENTS / per_request))
        expected = LATENESS_INCIDENTS * 2  # the 75% warning and the breach (the 200% step is left out of the playbook)
        settle = time.perf_counter() + 2 * _seconds(LATENESS_LIMIT) + 3.0
        while time.perf_counter() < settle and _steps(_fired(daemon)) < expected:  # the log is written line by line
            time.sleep(0.2)
        rss = daemon.rss_mb()
        daemon.stop()
        fired = _fired(daemon)
    if _steps(fired) < expected:
        raise BenchError(
            f"only {_steps(fired)} of {expected} escalation steps were told in the lateness bench:\n{daemon.tail()}"
        )
    by_log = [(_parse(line["timestamp"]) - _parse(line["due_at"])).total_seconds() * 1000 for line in fired]
    reported = [float(line["late_ms"]) for line in fired]
    return Lateness(by_log, reported, rss, ready)


def _fired(daemon: Daemon) -> list[dict[str, Any]]:
    return [line for line in daemon.lines() if line.get("event") == "deadline fired"]


def _steps(fired: list[dict[str, Any]]) -> int:
    """The escalation steps the fired deadlines told: one role each in the bench's playbook. A warning fired after
    the breach was due too (a stall of half a second on a loaded machine) tells both steps in one firing, as the
    daemon does; counting lines would call that a deadline lost."""
    return sum(len(line.get("notified", [])) for line in fired)


def _seconds(duration: str) -> float:
    from engine.playbook import parse_duration  # noqa: PLC0415

    return parse_duration(duration).total_seconds()


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _ready_s(data: Where, playbooks: Sequence[Path], log: Path) -> float:
    with _running(data, playbooks, log) as daemon:
        elapsed = daemon.wait_ready()
        daemon.stop()
    return elapsed


def open_incident_figures(repeats: DaemonRepeats) -> list[Figure]:
    count = repeats.open_incidents
    with tempfile.TemporaryDirectory(prefix="calmly-bench-open-") as tmp:
        folder = Path(tmp)
        books = folder / "playbooks"
        books.mkdir()
        playbooks = [PLAYBOOKS, _bench_playbook(books)]
        full, empty = folder / "full", folder / "empty"
        built = build_open_incidents(full, count, playbooks)
        open_service(empty, system_now, playbooks).store.close()

        ready: dict[str, list[float]] = {"full": [], "empty": []}
        for round_number in range(repeats.rounds):
            order = [("full", full), ("empty", empty)][:: 1 if round_number % 2 == 0 else -1]
            for key, data in order:
                ready[key].append(_ready_s(data, playbooks, folder / f"ready-{key}-{round_number}.log"))

        late_full, reported_full, rss_full, _ = _lateness_ms(full, playbooks, folder / "late-full.log")
        late_empty, reported_empty, rss_empty, _ = _lateness_ms(empty, playbooks, folder / "late-empty.log")
    ready_full, ready_empty = statistics.median(ready["full"]), statistics.median(ready["empty"])
    p50, p99 = _percentile(late_full, 0.5), _percentile(late_full, 0.99)
    base50, base99 = _percentile(late_empty, 0.5), _percentile(late_empty, 0.99)
    floor = 0.001  # a ratio needs a baseline above zero
    lateness = (
        f"{len(late_full)} deadlines of {LATENESS_INCIDENTS} incidents opened over 2 s under a bench-only playbook "
        f"(detected limit {LATENESS_LIMIT}: the 75% warning and the breach), calmly serve on the system clock with "
        f"{count:,} other open incidents; lateness = time of the 'deadline fired' log line minus due_at; the daemon's "
        f"own late_ms: p50 {_percentile(reported_full, 0.5):.0f} ms, p99 {_percentile(reported_full, 0.99):.0f} ms "
        f"(empty store: {_percentile(reported_empty, 0.99):.0f} ms)"
    )
    store = f"the store built through Service.ingest in batches of {BATCH:,} in {built:.1f} s"
    return [
        Figure(
            key="deadline_lateness_p50_ms",
            name=f"deadline lateness p50, {count:,} open incidents",
            unit="ms",
            value=max(p50, floor),
            baseline_name="the same, empty store",
            baseline=max(base50, floor),
            target="- (context)",
            met=None,
            detail=lateness,
        ),
        Figure(
            key="deadline_lateness_p99_ms",
            name=f"deadline lateness p99, {count:,} open incidents",
            unit="ms",
            value=max(p99, floor),
            baseline_name="the same, empty store",
            baseline=max(base99, floor),
            target=f"< {LATENESS_TARGET_MS:.0f} ms",
            met=p99 < LATENESS_TARGET_MS,
            detail=lateness,
        ),
        Figure(
            key="daemon_rss_mb_open_incidents",
            name=f"daemon resident memory, {count:,} open incidents",
            unit="MB",
            value=rss_full,
            baseline_name="the same daemon, empty store",
            baseline=rss_empty,
            target=f"< {MEMORY_TARGET_MB:.0f} MB",
            met=rss_full < MEMORY_TARGET_MB,
            detail=f"VmRSS of calmly serve after the same lateness run on each store: "
            f"{(rss_full - rss_empty) * 1024 * 1024 / count:,.0f} bytes more an open incident (the scheduler asks "
            f"the store's index; no incident is held in memory); {store}",
        ),
        Figure(
            key="daemon_ready_s_open_incidents",
            name=f"daemon start to ready, {count:,} open incidents",
            unit="s",
            value=ready_full,
            baseline_name="the same, empty store",
            baseline=ready_empty,
            target=f"< {READY_TARGET_S:.1f} s",
            met=ready_full < READY_TARGET_S,
            detail=f"spawning calmly serve until /readyz answers 200, median of {repeats.rounds} starts each, "
            f"alternating; {store}",
        ),
    ]


def daemon_figures(repeats: DaemonRepeats) -> list[Figure]:
    if not Path(_calmly()).exists():
        raise BenchError(f"calmly is not installed next to {sys.executable} (pip install -e '.[dev]')")
    if os.name != "posix" or not Path("/proc/self/status").exists():
        raise BenchError("the daemon figures read /proc/PID/status: run them on Linux")
    return [*http_figures(repeats), *open_incident_figures(repeats)]
