"""The desk across two daemons on one PostgreSQL database: a page whose live channel (``GET /desk/events``) is open
on one daemon hears of an incident that a mention posted to the other opened, and a presence beat sent to one shows
on the incident page the other serves. Real ``calmly serve`` processes on a shared simulated clock; the hints cross
the network, so the cases poll with a timeout and none waits for a deadline. Skips, saying how to enable it, without
CALMLY_TEST_POSTGRES_URL."""

from __future__ import annotations

import contextlib
import json
import queue
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from conftest import fresh_schema
from crash_harness import START, Daemon, Place, issue_tokens
from intake_support import mention

HEARD_WITHIN_S = 5.0


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[Daemon, Daemon, dict[str, str]]]:
    """Two daemons on one fresh schema, and a token per person (``calmly token issue --store``)."""
    with fresh_schema() as url:
        place = Place(url)
        tokens = issue_tokens(tmp_path / "data", place)
        first = Daemon(tmp_path, tmp_path / "data", START, 0, place)
        second = Daemon(tmp_path, tmp_path / "data", START, 1, place)
        try:
            first.wait_ready()
            second.wait_ready()
            yield first, second, tokens
        finally:
            codes = [daemon.terminate() for daemon in (first, second)]
        assert codes == [0, 0]


@contextmanager
def desk(daemon: Daemon, token: str) -> Iterator[httpx.Client]:
    """A browser signed in to the daemon's desk."""
    with httpx.Client(base_url=daemon.url, timeout=10, follow_redirects=False) as client:
        answer = client.post("/signin", data={"token": token})
        assert answer.status_code == 303, answer.text
        yield client


class Events:
    """The frames of a page's live channel, read in a thread of their own so that a case can wait with a timeout."""

    def __init__(self, client: httpx.Client) -> None:
        self.frames: queue.Queue[list[str]] = queue.Queue()
        self.open = threading.Event()
        self._client = client
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.open.wait(HEARD_WITHIN_S), "the live channel did not open"

    def _read(self) -> None:
        frame: list[str] = []
        # The stream ends when the case closes its client, which is how this thread ends.
        with (
            contextlib.suppress(httpx.HTTPError, RuntimeError),
            self._client.stream("GET", "/desk/events", timeout=httpx.Timeout(10, read=None)) as stream,
        ):
            for line in stream.iter_lines():
                if line == ": live":
                    self.open.set()
                elif line:
                    frame.append(line)
                elif frame:
                    self.frames.put(frame)
                    frame = []

    def incident(self, wanted: str) -> dict[str, object]:
        """The data of the first ``incident`` event about ``wanted``, within the time a hint takes."""
        ends = time.monotonic() + HEARD_WITHIN_S
        while (left := ends - time.monotonic()) > 0:
            try:
                frame = self.frames.get(timeout=left)
            except queue.Empty:
                break
            if frame[0] == "event: incident":
                data: dict[str, object] = json.loads(frame[1].removeprefix("data: "))
                if data["id"] == wanted:
                    return data
        raise AssertionError(f"no incident event about {wanted} within {HEARD_WITHIN_S} s")


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _presence_of(page: str) -> str:
    found = re.search(r'<ul id="presence-list"[^>]*>(.*?)</ul>', page, re.DOTALL)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def _post_mention(daemon: Daemon, token: str, external_id: str) -> str:
    answer = httpx.post(
        f"{daemon.url}/v1/mentions", json=mention(external_id), headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code in (200, 201), answer.text
    found: str = answer.json()["results"][0]["incident"]
    return found


def test_a_page_on_one_daemon_hears_of_an_incident_opened_through_the_other(
    pair: tuple[Daemon, Daemon, dict[str, str]],
) -> None:
    first, second, tokens = pair
    with desk(first, tokens["alice"]) as alice:
        events = Events(alice)
        opened = _post_mention(second, tokens["alice"], "tw-between-1")
        heard = events.incident(opened)
        truth = alice.get(f"/v1/incidents/{opened}", headers={"Authorization": f"Bearer {tokens['alice']}"})

    assert truth.status_code == 200, truth.text
    assert heard == {"id": opened, "state": truth.json()["state"], "revision": truth.json()["revision"]}


def test_a_beat_sent_to_one_daemon_shows_on_the_incident_page_the_other_serves(
    pair: tuple[Daemon, Daemon, dict[str, str]],
) -> None:
    first, second, tokens = pair
    opened = _post_mention(second, tokens["alice"], "tw-between-2")
    with desk(first, tokens["alice"]) as alice, desk(second, tokens["bob"]) as bob:
        before = _presence_of(bob.get(f"/incidents/{opened}").text)
        beat = alice.post(
            "/desk/presence",
            data={"csrf": _csrf(alice.get("/").text), "incident": opened, "activity": "drafting", "trigger": "assess"},
        )
        assert beat.status_code == 200, beat.text
        ends, shown = time.monotonic() + HEARD_WITHIN_S, ""
        while time.monotonic() < ends and "Alice" not in shown:
            shown = _presence_of(bob.get(f"/incidents/{opened}").text)
            time.sleep(0.05)
        left = alice.post(
            "/desk/presence", data={"csrf": _csrf(alice.get("/").text), "incident": opened, "activity": "left"}
        )
        assert left.status_code == 200, left.text
        ends, after = time.monotonic() + HEARD_WITHIN_S, shown
        while time.monotonic() < ends and "Alice" in after:
            after = _presence_of(bob.get(f"/incidents/{opened}").text)
            time.sleep(0.05)

    assert "Alice" not in before
    assert "Alice" in shown, shown
    assert "Alice" not in after, after
