"""``calmly serve`` as a test runs it: configured through its environment, on a free loopback port and a simulated
clock, logging JSON lines to a file the test reads; with tokens for the people it needs.

Shared by the end-to-end tests that drive one daemon process for a whole module (operations, bad input, the
browser); ``test_daemon_commands`` keeps its own, which is configured by flags as the README shows.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import httpx
import pytest

__all__ = ["CALMLY", "START", "ServedDaemon", "environment", "free_port"]

CALMLY = Path(sys.executable).with_name("calmly")
START = "2026-11-23T09:00:00Z"  # a Monday
READY_WITHIN = 20.0  # seconds; start-up takes well under one


def environment(**extra: str) -> dict[str, str]:
    """The test's environment without any CALMLY_ variable of the machine running it, plus ``extra``."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("CALMLY_")}
    return {**clean, **extra}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class ServedDaemon:
    """One ``calmly serve`` in ``folder`` (data in ``folder/data``, log in ``folder/daemon.log``), ready when built,
    with a token for each of ``people``; ``flags`` add to its command line, ``extra`` to its environment (secrets,
    log level …)."""

    def __init__(
        self,
        folder: Path,
        *,
        playbooks: Path,
        roster: Path,
        people: Iterable[str] = (),
        flags: Sequence[str] = (),
        **extra: str,
    ) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = folder / "daemon.log"
        self.env = environment(
            CALMLY_DATA=str(self.data),
            CALMLY_PLAYBOOKS=str(playbooks),
            CALMLY_ROSTER=str(roster),
            CALMLY_LISTEN=self.url.removeprefix("http://"),
            CALMLY_LOG_FORMAT="json",
            **extra,
        )
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [str(CALMLY), "serve", "--simulated-clock", START, *flags],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=folder,
            )
        self._wait_ready()
        self.tokens = {person: self.issue(person) for person in people}

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"calmly serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"calmly serve was not ready within {READY_WITHIN}s:\n{self.log.read_text()}")

    def issue(self, person: str) -> str:
        issued = subprocess.run(
            [str(CALMLY), "token", "issue", person],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert issued.returncode == 0, issued.stderr
        return issued.stdout.strip()

    def auth(self, person: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[person]}"}

    def entries(self) -> list[dict[str, object]]:
        """Every JSON line the daemon has logged so far."""
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]

    def wait_for_log(self, event: str, after: int) -> dict[str, object]:
        """The first line logging ``event`` after the first ``after`` lines (it waits for it to be written)."""
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            for entry in self.entries()[after:]:
                if entry.get("event") == event:
                    return entry
            time.sleep(0.05)
        pytest.fail(f"no {event!r} in the log:\n{self.log.read_text()}")

    def stop(self) -> int:
        """SIGTERM, and the exit code once it has stopped."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=30)
