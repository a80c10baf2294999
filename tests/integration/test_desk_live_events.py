"""The desk's live channel over real HTTP: the daemon as ``calmly serve`` wires it (its service telling the feed),
a client signed in to the desk reading ``GET /desk/events`` as a browser's EventSource does, and mentions taken by
the service from another thread, as the API's workers do. The heartbeat comes every 0.2 s here, not every 15 s."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from intake_support import mention

from engine.api._errors import install_handlers
from engine.daemon import Config, build
from engine.desk import live_router, pages_router
from engine.desk._session import COOKIE, signed_in
from engine.service import issue_token

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
HEARTBEAT = 0.2


class Served:
    """The daemon's app with the live channel, on a free loopback port, in a thread; ``url`` and a token."""

    def __init__(self, folder: Path) -> None:
        config = Config(data=folder, playbooks=(ROOT / "playbooks",), roster=ROOT / "examples" / "roster.yaml")
        self.daemon = build(config, START)
        self.token = issue_token(self.daemon.store, "alice", START)
        # The desk's sign-in and its live channel, on an app of their own: the daemon's has a 15 s heartbeat.
        app = FastAPI()
        app.state.context = self.daemon.context
        install_handlers(app)
        app.include_router(live_router(signed_in, heartbeat=HEARTBEAT))
        app.include_router(pages_router)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        for _ in range(1000):  # uvicorn says it listens by setting started
            if self.server.started:
                return self
            threading.Event().wait(0.01)
        raise AssertionError("the server did not start within 10 s")

    def __exit__(self, *_: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.daemon.store.close()

    @contextmanager
    def signed_in(self) -> Iterator[httpx.Client]:
        """A client holding the desk's session cookie, as a browser does after signing in."""
        with httpx.Client(base_url=self.url, timeout=5) as client:
            answer = client.post("/signin", data={"token": self.token})
            assert answer.status_code == 303, answer.text
            assert COOKIE in client.cookies
            yield client


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with Served(tmp_path) as running:
        yield running


def _frames(lines: Iterator[str]) -> Iterator[list[str]]:
    """The stream's frames (the lines up to a blank one), as the browser's EventSource splits them."""
    frame: list[str] = []
    for line in lines:
        if line:
            frame.append(line)
        elif frame:
            yield frame
            frame = []


def test_tells_a_connected_page_when_a_mention_opens_an_incident(served: Served) -> None:
    with served.signed_in() as client, client.stream("GET", "/desk/events") as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        frames = _frames(stream.iter_lines())
        assert next(frames) == [": live"]  # open: the page clears its "not live" banner
        (taken,) = served.daemon.service.ingest([mention("tw-1")])
        opened = taken.incident_id

        incident = next(frame for frame in frames if frame[0] == "event: incident")

    data = json.loads(incident[1].removeprefix("data: "))
    now = served.daemon.service.incident(opened).row.incident
    assert data == {"id": opened, "state": now.state, "revision": now.revision}


def test_sends_a_heartbeat_while_nothing_changes(served: Served) -> None:
    with served.signed_in() as client, client.stream("GET", "/desk/events") as stream:
        frames = _frames(stream.iter_lines())
        next(frames)
        heartbeat = next(frames)

    assert heartbeat[0].startswith(": ping")


def test_refuses_the_stream_to_a_caller_without_a_sign_in(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=5) as client:
        answer = client.get("/desk/events")

    assert answer.status_code == 401
    assert served.daemon.context.feed is not None
