"""A notification outlives the daemon: `calmly serve` is killed while the receiver holds its webhook, and the
restarted daemon sends it again with the same webhook-id, so the receiver can drop the repeat.

The daemon runs on a simulated clock moved with ``POST /v1/admin/clock``; the only waiting is for start-up and for
the delivery thread to reach the receiver (polled, with a limit).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

ROOT = Path(__file__).resolve().parents[2]
CALMLY = Path(sys.executable).with_name("calmly")
START = datetime.fromisoformat("2026-11-23T09:00:00+00:00")  # a Monday
LATE = timedelta(hours=4, minutes=12)  # a medium complaint's 4h limit for detected, and its first response, run out
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WITHIN = 20.0  # seconds to wait for start-up or a delivery; the delivery thread looks at least every 5 s


@dataclass(frozen=True)
class Request:
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A webhook receiver on 127.0.0.1 that holds its first request unanswered (until released) and answers 200 to
    the rest, and drops repeats by webhook-id, as the docs tell receivers to."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.handled: dict[str, Any] = {}  # webhook-id -> payload, each processed once
        self.released = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with receiver.lock:
                    receiver.requests.append(Request(headers, body))
                    first = len(receiver.requests) == 1
                if first:
                    receiver.released.wait(WITHIN)
                    return
                payload = Webhook(SECRET).verify(body, headers)
                with receiver.lock:
                    receiver.handled.setdefault(headers["webhook-id"], payload)
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def ids(self) -> list[str]:
        with self.lock:
            return [request.headers["webhook-id"] for request in self.requests]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def wait_for(what: str, done: Callable[[], bool], log: Path) -> None:
    limit = time.monotonic() + WITHIN
    while time.monotonic() < limit:
        if done():
            return
        time.sleep(0.05)
    pytest.fail(f"{what} within {WITHIN}s; the daemon's log:\n{log.read_text()}")


class Site:
    """A data folder, a roster that sends social_lead's escalations to the receiver, and the daemons run on them."""

    def __init__(self, folder: Path, receiver: Receiver) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.roster = folder / "roster.yaml"
        self.roster.write_text(
            "people:\n"
            "  alice: {email: alice@example.com, roles: [community_manager]}\n"
            "  bob: {email: bob@example.com, roles: [social_lead]}\n"
            "roles:\n"
            f"  social_lead: {{notify: [{{channel: webhook, url: '{receiver.url}', secret_env: HOOK_SECRET}}]}}\n"
        )
        clean = {name: value for name, value in os.environ.items() if not name.startswith("CALMLY_")}
        self.env = {**clean, "HOOK_SECRET": SECRET, "CALMLY_LOG_FORMAT": "json"}
        self.log = folder / "daemon.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, clock: datetime) -> None:
        """``calmly serve`` on a free port, its simulated clock at ``clock``; returns once it is ready."""
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        with self.log.open("a") as log:
            self.process = subprocess.Popen(
                [
                    str(CALMLY),
                    "serve",
                    "--simulated-clock",
                    clock.isoformat(),
                    "--listen",
                    f"127.0.0.1:{port}",
                    "--data",
                    str(self.data),
                    "--playbooks",
                    str(ROOT / "playbooks"),
                    "--roster",
                    str(self.roster),
                ],
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=self.env,
            )
        process = self.process

        def ready() -> bool:
            if process.poll() is not None:
                pytest.fail(f"calmly serve exited with {process.returncode}:\n{self.log.read_text()}")
            try:
                return httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for("calmly serve was not ready", ready, self.log)

    def calmly(self, *args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(CALMLY), *args, "--data", str(self.data)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env=self.env,
        )
        assert done.returncode == 0, done.stderr
        return done

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def site(tmp_path: Path, receiver: Receiver) -> Iterator[Site]:
    made = Site(tmp_path, receiver)
    yield made
    made.stop()


def test_a_webhook_cut_off_by_a_killed_daemon_is_sent_again_after_the_restart_with_the_same_webhook_id(
    site: Site, receiver: Receiver
) -> None:
    site.start(START)
    token = site.calmly("token", "issue", "bob", "--roster", str(site.roster)).stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    mention = {
        "channel": "twitter",
        "external_id": "tw-1",
        "text": "My order arrived broken",
        "posted_at": START.isoformat(),
        "author": {"handle": "@ann_b", "followers": 10},
    }
    assert httpx.post(f"{site.url}/v1/mentions", json=mention, headers=auth).status_code == 200
    moved = httpx.post(f"{site.url}/v1/admin/clock", json={"advance": "4h12m"}, headers=auth)
    assert moved.status_code == 200, moved.text
    assert moved.json()["fired"] > 0

    wait_for("the first webhook did not arrive", lambda: len(receiver.ids()) == 1, site.log)
    site.kill()  # while the receiver holds the request: sent, but never recorded as delivered
    (cut_off,) = receiver.ids()
    site.start(START + LATE)  # the simulated clock where it stood

    wait_for("the cut-off webhook was not sent again", lambda: receiver.ids().count(cut_off) == 2, site.log)
    breaches = {"inc-1/limit:detected/0/1/0", "inc-1/first_response/0/1/0"}
    wait_for("not every breach arrived", lambda: set(receiver.handled) == breaches, site.log)

    assert cut_off in breaches
    assert sorted(receiver.ids()) == sorted([cut_off, *breaches])  # the one cut off twice, the other once
    first, again = (request for request in receiver.requests if request.headers["webhook-id"] == cut_off)
    assert json.loads(first.body)["key"] == json.loads(again.body)["key"] == cut_off
    assert Webhook(SECRET).verify(first.body, first.headers)["key"] == cut_off  # the first was signed too
    assert {payload["data"]["late_by_seconds"] for payload in receiver.handled.values()} == {12 * 60}

    def recorded() -> bool:
        shown = json.loads(site.calmly("outbox", "list", "--state", "delivered", "--format", "json").stdout)
        return {row["key"] for row in shown["deliveries"] if row["channel"] == "webhook"} == breaches

    wait_for("the deliveries were not recorded as delivered", recorded, site.log)
    assert site.stop() == 0
