"""The database itself killed with SIGKILL under load and started again: two daemons on a private PostgreSQL
cluster answer 503 with ``Retry-After`` while it is down, say so in ``/readyz``, and carry on by themselves when it
is back; afterwards the store keeps every promise of the crash test (``crash_harness.check_store``).

The cluster is made for the test with ``initdb`` and run with ``pg_ctl`` from ``pg_config --bindir``, as the
``postgres`` user (the tests run as root in CI), on a free loopback port, in a folder of its own. Skips, saying
why, where there is no PostgreSQL server installed to run or no way to run it as ``postgres``.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from crash_harness import (
    START,
    Clients,
    Daemon,
    Ledger,
    Place,
    check_store,
    free_port,
    issue_tokens,
    people_by_role,
)

DAEMONS = 2
CYCLES = int(os.environ.get("CALMLY_SOAK_CYCLES") or 1)  # database restarts; make soak runs more
UP_S = (1.5, 3.0)  # seconds of load between the database's restarts
DOWN_S = 2.0  # seconds the database stays down
RECOVERY_S = 60.0  # the longest a daemon may take to be ready again once the database is back


def _server_bin() -> Path:
    """Where initdb and pg_ctl are, or a skip saying what is missing."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        pytest.skip("the database restart test needs a PostgreSQL server installed: no pg_config on PATH")
    found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False)
    bindir = Path(found.stdout.strip())
    if found.returncode != 0 or not (bindir / "initdb").exists() or not (bindir / "pg_ctl").exists():
        pytest.skip(f"the database restart test needs initdb and pg_ctl, not found in {bindir}")
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        pytest.skip("the database restart test runs its cluster as the postgres user: run it as root (CI does)")
    return bindir


class Cluster:
    """A PostgreSQL cluster of the test's own: made, started, killed with SIGKILL (the postmaster and every server
    process, as a crash of the machine would) and started again."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # Not under pytest's tmp_path: its parents are root's alone, and the server runs as postgres.
        self.folder = Path(tempfile.mkdtemp(prefix="calmly-pg-"))
        shutil.chown(self.folder, "postgres", "postgres")
        self.data = self.folder / "data"
        self.log = self.folder / "server.log"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        made = self._as_postgres("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        if made.returncode != 0:
            shutil.rmtree(self.folder, ignore_errors=True)
            pytest.skip(f"initdb could not make a cluster as postgres: {made.stderr.strip()[-300:]}")

    def _as_postgres(self, program: str, *arguments: str) -> subprocess.CompletedProcess[str]:
        command = ["runuser", "-u", "postgres", "--", str(self.bindir / program), *arguments]
        return subprocess.run(command, capture_output=True, text=True, check=False, timeout=120, cwd=self.folder)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=on"
        started = self._as_postgres("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        if started.returncode != 0:
            raise AssertionError(f"pg_ctl start failed: {started.stderr}\n{self._tail()}")

    def kill(self) -> None:
        """SIGKILL to the postmaster and to each server process it started."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        children = [pid for pid in _pids() if _parent(pid) == postmaster]
        for pid in (postmaster, *children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in (postmaster, *children)) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def _tail(self) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        return ""


def _pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    made = Cluster(_server_bin())
    made.start()
    try:
        yield made
    finally:
        made.stop()


def _readyz(daemon: Daemon) -> httpx.Response | None:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(f"{daemon.url}/readyz", timeout=5.0)
    return None


def _until(condition: object, timeout: float, what: str) -> float:
    """Seconds until ``condition()`` holds, polled; an AssertionError naming ``what`` after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():  # type: ignore[operator]
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout} s")


def test_daemons_answer_503_while_the_database_is_down_and_carry_on_when_it_is_back(
    tmp_path: Path, cluster: Cluster
) -> None:
    seed = int(os.environ.get("CALMLY_CRASH_SEED") or random.SystemRandom().randrange(1, 2**31))
    rng = random.Random(seed)
    place = Place(cluster.url)
    data = tmp_path / "data"
    ledger = Ledger()
    clients = Clients(ledger, issue_tokens(data, place), seed, people_by_role())
    daemons = [Daemon(tmp_path, data, START, number, place) for number in range(DAEMONS)]
    for daemon in daemons:
        daemon.wait_ready()
    clients.urls = [daemon.url for daemon in daemons]
    clients.up.set()
    clients.start()
    unready: list[dict[str, object]] = []
    recovered: list[float] = []
    try:
        for _ in range(CYCLES):
            time.sleep(rng.uniform(*UP_S))
            clients.outage.set()
            cluster.kill()
            for daemon in daemons:
                answer = _readyz(daemon)
                assert answer is not None, f"/readyz did not answer with the database down:\n{daemon.tail()}"
                unready.append({"status": answer.status_code, **answer.json()})
            time.sleep(DOWN_S)
            cluster.start()
            for daemon in daemons:
                recovered.append(
                    _until(
                        lambda daemon=daemon: (answer := _readyz(daemon)) is not None and answer.status_code == 200,
                        RECOVERY_S,
                        f"a daemon was not ready again once the database was back:\n{daemon.tail()}",
                    )
                )
            time.sleep(0.5)  # connections the pool opened before the database came back are found out by now
            clients.outage.clear()
        time.sleep(rng.uniform(*UP_S))
    finally:
        clients.stop()
        codes = [daemon.terminate() for daemon in daemons]
    stats: dict[str, int] = {}
    problems = ledger.errors + check_store(data, ledger, stats, cluster.url)
    summary = (
        f"seed {seed}: {CYCLES} database restarts; {ledger.sent} requests, {ledger.acknowledged} acknowledged, "
        f"{ledger.unavailable} answered 503 while it was down, {ledger.failed} without an answer; "
        f"{len(ledger.mentions)} mentions and {len(ledger.actions)} actions acknowledged; slowest recovery "
        f"{max(recovered, default=0):.2f} s; in the store: {stats}"
    )
    print(summary)

    assert problems == [], f"{summary}\n" + "\n".join(problems[:50])
    assert codes == [0] * DAEMONS
    assert ledger.unavailable, "no request was answered 503 while the database was down"
    assert all(answer["status"] == 503 for answer in unready), unready
    assert all(answer["error"]["details"]["store"] == "unreachable" for answer in unready), unready  # type: ignore[index]
    assert ledger.mentions
    assert ledger.actions
