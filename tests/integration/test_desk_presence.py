"""Who else has an incident open, over real HTTP: the beats an incident page sends (``POST /desk/presence``), the
incident page and queue rows that show them, and the ``presence`` events of ``GET /desk/events``, on the daemon as
``calmly serve`` wires it, over a real SQLite store on a simulated clock.

The pages are read in process (one app, a client per person, as each person's browser); the live channel is read
from a daemon served on loopback, its stream sweeping every 0.2 s rather than every 5 s.
"""

from __future__ import annotations

import dataclasses
import json
import re
import socket
import threading
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from intake_support import mention
from starlette.exceptions import StarletteDeprecationWarning

from engine.api._errors import install_handlers
from engine.daemon import Config, Daemon, build
from engine.desk import create_web_app, live_router, pages_router, presence_router
from engine.desk._session import signed_in
from engine.service import issue_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)  # it nudges towards httpx2; calmly ships httpx
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
QUICK = 0.2  # seconds between the served stream's heartbeats and sweeps


def _config(folder: Path) -> Config:
    return Config(data=folder, playbooks=(ROOT / "playbooks",), roster=ROOT / "examples" / "roster.yaml")


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    built = build(_config(tmp_path), START)
    yield built
    built.store.close()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


class Person:
    """One person's browser on the daemon's one app: its own cookies, following no redirect by itself."""

    def __init__(self, app: FastAPI, daemon: Daemon, person: str) -> None:
        self.http = TestClient(app, follow_redirects=False)
        answer = self.http.post("/signin", data={"token": issue_token(daemon.store, person, START)})
        assert answer.status_code == 303, answer.text
        self.csrf = _csrf(self.http.get("/").text)

    def beat(self, incident: str, activity: str, trigger: str = "", **form: str) -> httpx.Response:
        fields = {"csrf": self.csrf, "incident": incident, "activity": activity, "trigger": trigger, **form}
        return self.http.post("/desk/presence", data=fields)

    def page(self, path: str) -> str:
        answer = self.http.get(path)
        assert answer.status_code == 200, answer.text
        return answer.text


@pytest.fixture
def app(daemon: Daemon) -> FastAPI:
    return create_web_app(daemon.context, daemon.presence)


def _open(daemon: Daemon, text: str = "My order arrived broken", handle: str = "@ann") -> str:
    (result,) = daemon.context.service.ingest([mention("1", text, handle)])
    return str(result.incident_id)


def _presence_of(page: str) -> str:
    """What the incident page's "who else has it open" list says, tags left out."""
    found = re.search(r'<ul id="presence-list"[^>]*>(.*?)</ul>', page, re.DOTALL)
    assert found is not None
    return re.sub(r"<[^>]+>", "", found.group(1))


def _marker_of(rows: str, incident: str) -> str:
    """The queue row's presence marker, as its HTML."""
    found = re.search(rf'data-incident="{incident}".*?<span class="presence-marker">(.*?)</span>\s*</td>', rows, re.S)
    assert found is not None
    return found.group(1)


# --- the beat ----------------------------------------------------------------------------------------------------


def test_a_beat_without_the_sessions_form_token_is_refused_and_shows_nobody(daemon: Daemon, app: FastAPI) -> None:
    incident = _open(daemon)
    alice, bob = Person(app, daemon, "alice"), Person(app, daemon, "bob")

    forged = bob.http.post("/desk/presence", data={"incident": incident, "activity": "viewing", "csrf": "forged"})
    missing = bob.http.post("/desk/presence", data={"incident": incident, "activity": "viewing"})

    assert forged.status_code == missing.status_code == 403
    assert "was not sent from the desk's own page" in forged.json()["problem"]
    assert _presence_of(alice.page(f"/incidents/{incident}")) == ""


def test_a_beat_without_a_sign_in_is_refused(daemon: Daemon, app: FastAPI) -> None:
    incident = _open(daemon)

    answer = TestClient(app).post("/desk/presence", data={"incident": incident, "activity": "viewing"})

    assert answer.status_code == 401
    assert answer.json()["problem"] == "Sign in to the desk first."


def test_a_beat_on_an_incident_that_does_not_exist_is_refused_saying_so(daemon: Daemon, app: FastAPI) -> None:
    bob = Person(app, daemon, "bob")

    answer = bob.beat("inc-404", "viewing")

    assert answer.status_code == 404
    assert answer.json() == {"problem": "There is no incident 'inc-404'; open one from the queue."}
    assert daemon.presence is not None
    assert daemon.presence.people(START) == frozenset()


def test_a_beat_that_says_no_known_activity_is_refused_in_words(daemon: Daemon, app: FastAPI) -> None:
    incident = _open(daemon)
    bob = Person(app, daemon, "bob")

    answer = bob.beat(incident, "lurking")
    bad_trigger = bob.beat(incident, "drafting", trigger="<script>")

    assert answer.status_code == 422
    assert answer.json()["problem"] == "Say what you are doing on the incident: viewing, drafting or left."
    assert bad_trigger.status_code == 422
    assert "not an action of the incident's playbook" in bad_trigger.json()["problem"]


def test_a_beat_is_answered_with_who_else_is_on_the_incident(daemon: Daemon, app: FastAPI) -> None:
    incident = _open(daemon)
    alice, carol = Person(app, daemon, "alice"), Person(app, daemon, "carol")
    carol.beat(incident, "drafting", trigger="acknowledge")

    answer = alice.beat(incident, "viewing")

    assert answer.status_code == 200
    assert answer.json() == {
        "incident": incident,
        "present": [{"person": "carol", "name": "Carol Lindqvist", "activity": "drafting", "trigger": "acknowledge"}],
    }


# --- on the pages ------------------------------------------------------------------------------------------------


def test_the_incident_page_says_who_else_is_viewing_and_drafting_and_never_yourself(
    daemon: Daemon, app: FastAPI
) -> None:
    incident = _open(daemon)
    alice, bob, carol = Person(app, daemon, "alice"), Person(app, daemon, "bob"), Person(app, daemon, "carol")
    for person in (alice, bob):
        assert person.beat(incident, "viewing").status_code == 200
    carol.beat(incident, "drafting", trigger="offer_resolution")

    seen_by_alice = _presence_of(alice.page(f"/incidents/{incident}"))
    seen_by_bob = _presence_of(bob.page(f"/incidents/{incident}"))

    assert "Bob Okafor is viewing this incident" in seen_by_alice
    assert "Carol Lindqvist is drafting: offer resolution" in seen_by_alice
    assert "Alice Moreau" not in seen_by_alice
    assert "Alice Moreau is viewing this incident" in seen_by_bob
    assert "Bob Okafor" not in seen_by_bob


def test_the_queue_row_marks_who_is_viewing_and_drafting_in_words_as_well_as_signs(
    daemon: Daemon, app: FastAPI
) -> None:
    incident = _open(daemon)
    alice, bob, carol = Person(app, daemon, "alice"), Person(app, daemon, "bob"), Person(app, daemon, "carol")
    bob.beat(incident, "viewing")
    carol.beat(incident, "drafting", trigger="acknowledge")

    on_the_queue = _marker_of(alice.page("/"), incident)
    in_the_rows = _marker_of(alice.page("/desk/queue-rows"), incident)
    bobs_queue = _marker_of(bob.page("/"), incident)

    assert on_the_queue == in_the_rows
    shown = re.sub(r"<[^>]+>", "", on_the_queue)
    assert shown == "👁 bob viewing, ✎ carol drafting: acknowledge"  # the action's name for screen readers
    assert '<span aria-hidden="true">👁 </span>bob viewing' in on_the_queue  # the sign is decoration
    assert "bob" not in bobs_queue
    assert "carol" in bobs_queue


def test_a_page_that_stops_beating_is_no_longer_shown_45_seconds_after_its_last_beat(
    daemon: Daemon, app: FastAPI
) -> None:
    incident = _open(daemon)
    alice, bob = Person(app, daemon, "alice"), Person(app, daemon, "bob")
    clock = daemon.context.simulated
    assert clock is not None
    bob.beat(incident, "viewing")

    clock.advance("44s")
    still = _presence_of(alice.page(f"/incidents/{incident}"))
    clock.advance("1s")
    gone = _presence_of(alice.page(f"/incidents/{incident}"))

    assert "Bob Okafor" in still
    assert gone == ""


def test_leaving_the_page_takes_the_person_off_at_once(daemon: Daemon, app: FastAPI) -> None:
    incident = _open(daemon)
    alice, bob = Person(app, daemon, "alice"), Person(app, daemon, "bob")
    bob.beat(incident, "viewing")

    bob.beat(incident, "left")

    assert _presence_of(alice.page(f"/incidents/{incident}")) == ""


def test_a_person_who_signs_out_is_no_longer_shown(daemon: Daemon, app: FastAPI) -> None:
    incident = _open(daemon)
    alice, bob = Person(app, daemon, "alice"), Person(app, daemon, "bob")
    bob.beat(incident, "drafting", trigger="assess")

    assert bob.http.post("/signout", data={"csrf": bob.csrf}).status_code == 303

    assert _presence_of(alice.page(f"/incidents/{incident}")) == ""
    assert "bob" not in _marker_of(alice.page("/"), incident)


def test_a_person_taken_off_the_roster_is_no_longer_shown(daemon: Daemon, app: FastAPI) -> None:
    incident = _open(daemon)
    alice, bob = Person(app, daemon, "alice"), Person(app, daemon, "bob")
    bob.beat(incident, "viewing")
    roster = daemon.context.roster

    daemon.context.roster = dataclasses.replace(
        roster, people={person: member for person, member in roster.people.items() if person != "bob"}
    )

    assert _presence_of(alice.page(f"/incidents/{incident}")) == ""
    assert alice.beat(incident, "viewing").json()["present"] == []
    assert daemon.presence is not None
    assert "bob" not in daemon.presence.people(START)  # tidied away at alice's beat


# --- the live channel --------------------------------------------------------------------------------------------


class Served:
    """The daemon's desk on a free loopback port, in a thread; a client signed in per person."""

    def __init__(self, folder: Path) -> None:
        self.daemon = build(_config(folder), START)
        app = FastAPI()
        app.state.context = self.daemon.context
        app.state.presence = self.daemon.presence
        install_handlers(app)
        app.include_router(live_router(signed_in, heartbeat=QUICK, sweep=QUICK))
        app.include_router(pages_router)
        app.include_router(presence_router)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.clients: list[httpx.Client] = []

    def __enter__(self) -> Served:
        self.thread.start()
        for _ in range(1000):  # uvicorn says it listens by setting started
            if self.server.started:
                return self
            threading.Event().wait(0.01)
        raise AssertionError("the server did not start within 10 s")

    def __exit__(self, *_: object) -> None:
        for client in self.clients:
            client.close()
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.daemon.store.close()

    def signed_in(self, person: str) -> tuple[httpx.Client, str]:
        """A client holding ``person``'s session cookie, and the session's form token."""
        client = httpx.Client(base_url=self.url, timeout=5)
        self.clients.append(client)
        answer = client.post("/signin", data={"token": issue_token(self.daemon.store, person, START)})
        assert answer.status_code == 303, answer.text
        return client, _csrf(client.get("/").text)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    with Served(tmp_path) as running:
        yield running


def _presence_events(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The stream's ``presence`` events' data, as the browser's EventSource hands them to the page."""
    frame: list[str] = []
    for line in lines:
        if line:
            frame.append(line)
            continue
        if frame and frame[0] == "event: presence":
            yield json.loads(frame[1].removeprefix("data: "))
        frame = []


def test_the_stream_tells_a_page_who_came_to_an_incident_and_leaves_its_own_person_out(served: Served) -> None:
    incident = _open(served.daemon)
    alice, alice_csrf = served.signed_in("alice")
    bob, bob_csrf = served.signed_in("bob")

    with alice.stream("GET", "/desk/events") as stream:
        assert stream.status_code == 200
        events = _presence_events(stream.iter_lines())
        bob.post("/desk/presence", data={"csrf": bob_csrf, "incident": incident, "activity": "viewing"})
        came = next(events)
        alice.post("/desk/presence", data={"csrf": alice_csrf, "incident": incident, "activity": "viewing"})
        herself = next(events)  # alice came too: her page is told who else is there, not that she is
        bob.post(
            "/desk/presence",
            data={"csrf": bob_csrf, "incident": incident, "activity": "drafting", "trigger": "assess"},
        )
        drafting = next(events)

    bob_viewing = {"person": "bob", "name": "Bob Okafor", "activity": "viewing", "trigger": None}
    assert came == {"incident": incident, "present": [bob_viewing]}
    assert herself == {"incident": incident, "present": [bob_viewing]}
    assert drafting == {"incident": incident, "present": [{**bob_viewing, "activity": "drafting", "trigger": "assess"}]}


def test_the_stream_notices_a_page_that_stopped_beating_without_anyone_else_beating(served: Served) -> None:
    incident = _open(served.daemon)
    alice, _ = served.signed_in("alice")
    bob, bob_csrf = served.signed_in("bob")
    clock = served.daemon.context.simulated
    assert clock is not None

    with alice.stream("GET", "/desk/events") as stream:
        events = _presence_events(stream.iter_lines())
        bob.post("/desk/presence", data={"csrf": bob_csrf, "incident": incident, "activity": "viewing"})
        came = next(events)
        clock.advance("45s")  # bob's laptop was closed: no beat, no word; alice's stream sweeps him out
        gone = next(events)

    assert [person["person"] for person in came["present"]] == ["bob"]
    assert gone == {"incident": incident, "present": []}
