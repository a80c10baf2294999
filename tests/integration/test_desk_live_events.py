"""The desk's live channel over real HTTP: the daemon as ``calmly serve`` wires it (its service telling the feed),
a client reading ``GET /desk/events`` as a browser's EventSource does, and mentions sent to the API."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from intake_support import mention

from engine.api import create_app
from engine.api._access import current_person
from engine.daemon import Config, build
from engine.desk import live_router
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
        app = create_app(self.daemon.context)
        # The bearer token's person stands in for the desk's session: the stream is the same for both.
        app.include_router(live_router(current_person, heartbeat=HEARTBEAT))
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

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


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
    with (
        httpx.Client(base_url=served.url, timeout=5) as client,
        client.stream("GET", "/desk/events", headers=served.auth) as stream,
    ):
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        frames = _frames(stream.iter_lines())
        assert next(frames) == [": live"]  # open: the page clears its "not live" banner
        sent = client.post("/v1/mentions", headers=served.auth, json={"mentions": [mention("tw-1")]})
        assert sent.status_code == 200, sent.text
        opened = sent.json()["results"][0]["incident"]

        incident = next(frame for frame in frames if frame[0] == "event: incident")

    data = json.loads(incident[1].removeprefix("data: "))
    now = served.daemon.service.incident(opened).row.incident
    assert data == {"id": opened, "state": now.state, "revision": now.revision}


def test_sends_a_heartbeat_while_nothing_changes(served: Served) -> None:
    with (
        httpx.Client(base_url=served.url, timeout=5) as client,
        client.stream("GET", "/desk/events", headers=served.auth) as stream,
    ):
        frames = _frames(stream.iter_lines())
        next(frames)
        heartbeat = next(frames)

    assert heartbeat[0].startswith(": ping")


def test_refuses_the_stream_to_a_caller_without_a_sign_in(served: Served) -> None:
    with httpx.Client(base_url=served.url, timeout=5) as client:
        answer = client.get("/desk/events")

    assert answer.status_code == 401
    assert served.daemon.context.feed is not None
