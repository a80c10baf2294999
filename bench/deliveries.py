"""Figures for notification delivery (a part of ``make bench``).

* Delivery cost (and deliveries per second): notifications routed and delivered by the dispatcher to a webhook
  receiver on loopback, each signed with the Standard Webhooks scheme and recorded in the store, beside the same
  bodies posted to the same receiver by a bare HTTP client, one after another like the dispatcher.
* Due to received: ``calmly serve`` on the system clock with a bench-only playbook whose deadlines fall seconds
  after opening and a roster that sends them to the receiver; for each notification, the time the receiver got it
  minus the time its step fell due, p50 and p99 (target: p99 under 100 ms on loopback), beside the deadline's own
  lateness (firing and committing, from the daemon's log) in the same run.
"""

from __future__ import annotations

import json
import logging
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import structlog

from engine.notify import Dispatcher, WebhookChannel
from engine.playbook import Failed
from engine.service import Library, Service, load_roster
from engine.store import SQLiteStore
from engine.testing import FakeClock

from daemon import (
    LATENESS_PHRASE,
    PLAYBOOKS,
    Daemon,
    _bench_playbook,
    _parse,
    _percentile,
    _token,
    mention_body,
)
from figure import BenchError, Figure

__all__ = ["delivery_figures"]

RECEIPT_TARGET_MS = 100.0
SECRET = "whsec_Y2FsbWx5IGJlbmNoIHNpZ25pbmcgc2VjcmV0IQ=="


@dataclass
class Receipts:
    """What the receiver got: the body and the wall-clock moment of each request."""

    got: list[tuple[datetime, dict[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@contextmanager
def _receiver() -> Iterator[tuple[str, Receipts]]:
    receipts = Receipts()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            arrived = datetime.now(UTC)
            with receipts.lock:
                receipts.got.append((arrived, json.loads(body)))
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks", receipts
    finally:
        server.shutdown()
        server.server_close()


def _roster(folder: Path, url: str) -> Path:
    path = folder / "roster.yaml"
    path.write_text(
        "people:\n"
        "  alice: {roles: [community_manager]}\n"
        "  bob: {roles: [social_lead]}\n"
        "roles:\n"
        f"  community_manager: {{notify: [{{channel: webhook, url: '{url}', secret_env: CALMLY_BENCH_SECRET}}]}}\n"
        f"  social_lead: {{notify: [{{channel: webhook, url: '{url}', secret_env: CALMLY_BENCH_SECRET}}]}}\n",
        encoding="utf-8",
    )
    return path


def _throughput(count: int) -> tuple[float, float, int]:
    """Deliveries per second through the dispatcher, and bare posts per second, over the same bodies."""
    with tempfile.TemporaryDirectory(prefix="calmly-bench-deliveries-") as tmp, _receiver() as (url, receipts):
        folder = Path(tmp)
        roster = load_roster(_roster(folder, url))
        if isinstance(roster, Failed):
            raise BenchError(f"the bench roster does not load: {roster.problems[0].message}")
        clock = FakeClock("2026-11-23T09:00:00+00:00")
        store = SQLiteStore(folder / "data")
        store.migrate()
        library = Library(store)
        library.install([PLAYBOOKS], clock.now())
        service = Service(store, library, clock.now)
        service.ingest([mention_body(number) for number in range(count)])
        clock.advance(timedelta(hours=3))  # the 75% warnings of the detected limit and of the first response
        service.fire_due(limit=10 * count)
        channel = WebhookChannel({"CALMLY_BENCH_SECRET": SECRET}, lambda: datetime.now(UTC), timeout=10.0)
        dispatcher = Dispatcher(store, library, lambda: roster, {"webhook": channel}, clock.now)
        started = time.perf_counter()
        dispatcher.route(limit=10 * count)
        delivered = 0
        while outcomes := dispatcher.deliver_due(limit=500):
            if any(outcome.error is not None for outcome in outcomes):
                raise BenchError(f"a delivery failed in the bench: {outcomes[0].error}")
            delivered += len(outcomes)
        elapsed = time.perf_counter() - started
        store.close()
        bodies = [json.dumps(body, separators=(",", ":")).encode() for _, body in receipts.got]
        if delivered == 0 or len(bodies) != delivered:
            raise BenchError(f"the receiver got {len(bodies)} of {delivered} deliveries")
        with httpx.Client(timeout=10.0) as client:
            started = time.perf_counter()
            for body in bodies:
                client.post(url, content=body, headers={"content-type": "application/json"}).raise_for_status()
            bare = time.perf_counter() - started
    return delivered / elapsed, len(bodies) / bare, delivered


def _receipt_latency(incidents: int) -> tuple[list[float], list[float]]:
    """Due-to-received for every notification, and the deadlines' own lateness (ms), from one daemon run."""
    with tempfile.TemporaryDirectory(prefix="calmly-bench-receipt-") as tmp, _receiver() as (url, receipts):
        folder = Path(tmp)
        playbook = _bench_playbook(folder)
        data = folder / "data"
        token = _token(data)
        import os  # noqa: PLC0415 - the secret reaches the daemon through its environment, as in production

        os.environ["CALMLY_BENCH_SECRET"] = SECRET
        daemon = Daemon(data, [PLAYBOOKS, playbook], folder / "daemon.log", roster=_roster(folder, url))
        try:
            daemon.wait_ready()
            with httpx.Client(base_url=daemon.url, headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
                for first in range(0, incidents, 10):
                    batch = [
                        mention_body(number, text=f"{LATENESS_PHRASE}: my order arrived broken", prefix="note")
                        for number in range(first, min(incidents, first + 10))
                    ]
                    client.post("/v1/mentions", json={"mentions": batch}).raise_for_status()
                    time.sleep(1.0 / max(1, incidents // 10))
            deadline = time.perf_counter() + 15.0
            while time.perf_counter() < deadline and len(receipts.got) < 2 * incidents:
                time.sleep(0.1)
            daemon.stop()
        finally:
            os.environ.pop("CALMLY_BENCH_SECRET", None)
            if daemon.process.poll() is None:
                daemon.process.kill()
                daemon.process.wait()
        fired = [line for line in daemon.lines() if line.get("event") == "deadline fired"]
    if len(receipts.got) < 2 * incidents:
        raise BenchError(f"the receiver got {len(receipts.got)} of {2 * incidents} notifications:\n{daemon.tail()}")
    received = [
        (arrived - datetime.fromisoformat(body["data"]["scheduled_at"])).total_seconds() * 1000
        for arrived, body in receipts.got
    ]
    lateness = [(_parse(line["timestamp"]) - _parse(line["due_at"])).total_seconds() * 1000 for line in fired]
    return received, lateness


@contextmanager
def _quiet() -> Iterator[None]:
    """The dispatcher logs each delivery; the bench's own output is the table."""
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    try:
        yield
    finally:
        structlog.reset_defaults()


def delivery_figures(quick: bool) -> list[Figure]:
    with _quiet():
        per_second, bare_per_second, count = _throughput(100 if quick else 500)
    received, lateness = _receipt_latency(50 if quick else 200)
    p50, p99 = _percentile(received, 0.5), _percentile(received, 0.99)
    late50, late99 = _percentile(lateness, 0.5), _percentile(lateness, 0.99)
    return [
        Figure(
            key="delivery_ms_vs_bare_post",
            name="notification delivered, each",
            unit="ms",
            value=1000 / per_second,
            baseline_name="a bare HTTP post of the same body",
            baseline=1000 / bare_per_second,
            target="- (context)",
            met=None,
            detail=f"{count} signed webhook deliveries routed, sent and recorded one after another by the dispatcher "
            f"to a receiver on loopback: {per_second:,.0f}/s; an httpx client posting the same bodies to it: "
            f"{bare_per_second:,.0f}/s",
        ),
        Figure(
            key="due_to_received_p50_ms",
            name="deadline due to notification received, p50",
            unit="ms",
            value=p50,
            baseline_name="the deadline's own lateness, p50",
            baseline=late50,
            target="- (context)",
            met=None,
            detail=f"{len(received)} notifications from calmly serve on the system clock to a webhook receiver on "
            "loopback: the receiver's clock at arrival minus the step's due time; baseline: 'deadline fired' log "
            "line minus due_at, same run",
        ),
        Figure(
            key="due_to_received_p99_ms",
            name="deadline due to notification received, p99",
            unit="ms",
            value=p99,
            baseline_name="the deadline's own lateness, p99",
            baseline=late99,
            target=f"< {RECEIPT_TARGET_MS:.0f} ms",
            met=p99 < RECEIPT_TARGET_MS,
            detail="as above",
        ),
    ]
