"""The crash harness: ``calmly serve`` under a steady stream of work, killed with SIGKILL at random moments.

:class:`CrashRun` starts the daemon as a subprocess (the ``calmly`` next to this interpreter) on a free loopback port,
on a simulated clock, over a temporary data folder, the shipped playbooks and the example roster. Client threads send
mentions (unique ids, many joining open incidents by the same author or thread, some sent again), take actions (the
ones each incident offers, with the fields they require and the version last seen; refusals are fine) and move the
clock forward (``POST /v1/admin/clock``), which makes deadlines fire. Every answer in 2xx is recorded. At a random
moment the daemon is killed with SIGKILL and started again on the same folder, with the clock at the latest time it
may have reached (a clock going back would make nothing fire). After the last cycle it is stopped with SIGTERM and
:func:`check_store` opens the store and checks what the daemon promised:

* every acknowledged mention is in the mentions table, with the incident the answer named;
* every acknowledged action is in its incident's event log, with the history the answer showed;
* every incident's row equals the incident rebuilt from its event log;
* no deadline fired twice: each key is in at most one ``deadline`` event, was armed and is marked done at that moment;
* no notification was made twice: each escalation in the histories has its own key, and exactly one outbox row;
* no deadline was lost: an open incident's pending deadlines are exactly the ones its running clocks wait for.

With a :class:`Place` naming a PostgreSQL store, :class:`CrashRun` starts several daemons on it: the clients send
each request to any daemon that is up, each cycle kills one of them (at random) and starts it again, and the clock
is moved through one daemon (they share it). A :class:`Receiver` (a webhook on loopback that the roster of
:func:`notifying_roster` sends every notification to) is checked too: each notification came once, or again with
the same ``webhook-id`` only after a daemon was killed in between, and every delivery marked delivered came.

The choices are drawn from a seeded random generator; the seed is in every failure message. Thread timing still
varies between runs, so a seed narrows a failure down rather than replaying it exactly.
"""

from __future__ import annotations

import contextlib
import http.server
import itertools
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from engine.incident import deadline_key
from engine.playbook import Failed
from engine.service import Library, Service
from engine.store import SQLiteStore, Store, moment

__all__ = [
    "Clients",
    "CrashRun",
    "Daemon",
    "Ledger",
    "Place",
    "Receiver",
    "check_store",
    "issue_tokens",
    "notifying_roster",
    "people_by_role",
    "run_crash_test",
]

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
ROSTER = ROOT / "examples" / "roster.yaml"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
STEP = timedelta(minutes=17)
#: Who acts: one person per role the shipped playbooks use, so every action has someone allowed to take it.
PEOPLE = ("alice", "bob", "carol", "dana", "grace", "ivan", "priya", "tomas", "erin")
#: Texts that lead to each shipped playbook (and one that no playbook takes on a channel only safety-and-legal reads).
TEXTS = (
    ("twitter", "My order arrived broken and nobody answers"),
    ("twitter", "Still waiting for my refund"),
    ("facebook", "Your delivery was late again"),
    ("instagram", "The app is down again, can't log in"),
    ("twitter", "outage? site down for everyone"),
    ("twitter", "crypto giveaway, check my bio"),
    ("twitter", "I got food poisoning from your sandwich"),
    ("forum", "Anyone else like the new colours?"),
)
REPLY = "Hi, thank you for telling us. We're sorry, and we're looking into it now."
REVIEW = {"avoidable": "no", "missed_opportunity": "none", "root_cause": "delivery"}
READY_TIMEOUT_S = 30.0
REQUEST_TIMEOUT_S = 10.0


def calmly() -> str:
    return str(Path(sys.executable).with_name("calmly"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _moment(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


# --- what the daemon acknowledged ---------------------------------------------------------------------------------


@dataclass
class Ledger:
    """Everything the daemon answered in 2xx, and what may have happened without an answer."""

    mentions: dict[tuple[str, str], list[str | None]] = field(default_factory=dict)
    actions: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # answers no client should ever get (5xx, a valid body refused)
    clock_attempted: datetime = START
    sent: int = 0
    acknowledged: int = 0
    failed: int = 0
    refused: int = 0
    unavailable: int = 0  # 503 answers while the database was down (each with Retry-After)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _known: set[str] = field(default_factory=set)

    def mention(self, channel: str, external_id: str, incident: str | None) -> None:
        with self.lock:
            self.mentions.setdefault((channel, external_id), []).append(incident)
            if incident is not None and incident not in self._known:
                self._known.add(incident)
                self.incidents.append(incident)

    def error(self, message: str) -> None:
        with self.lock:
            self.errors.append(message)


# --- the daemon ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """Where the daemons keep their store and whom they notify: by default a data folder (SQLite) and the example
    roster; with ``store`` a PostgreSQL URL that every daemon of the run shares."""

    store: str | None = None
    roster: Path = ROSTER
    environment: dict[str, str] = field(default_factory=dict)

    def store_flags(self, data: Path) -> list[str]:
        return ["--store", self.store] if self.store is not None else ["--data", str(data)]


class Daemon:
    """One ``calmly serve`` process on a free port; its output goes to a log file in the run's folder."""

    def __init__(self, folder: Path, data: Path, clock: datetime, number: int, place: Place | None = None) -> None:
        place = place or Place()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"daemon-{number:04d}.log"
        command = [
            calmly(),
            "serve",
            *place.store_flags(data),
            "--playbooks",
            str(PLAYBOOKS),
            "--roster",
            str(place.roster),
            "--listen",
            f"127.0.0.1:{self.port}",
            "--log-format",
            "json",
            "--simulated-clock",
            _moment(clock),
        ]
        with self.log.open("wb") as out:
            # Load, not abuse: the per-token rate limit (a guard for production) would refuse most of it.
            environment = {**os.environ, "CALMLY_RATE_LIMIT_PER_MINUTE": "0", **place.environment}
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=environment)

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def wait_ready(self) -> float:
        """Seconds from now until /readyz answers 200; an error with the log when the daemon exits or hangs."""
        started = time.monotonic()
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() - started < READY_TIMEOUT_S:
                if self.process.poll() is not None:
                    raise AssertionError(f"the daemon exited {self.process.returncode} at start:\n{self.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return time.monotonic() - started
                time.sleep(0.02)
        self.kill()
        raise AssertionError(f"the daemon was not ready after {READY_TIMEOUT_S} s:\n{self.tail()}")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def terminate(self, timeout: float = 20.0) -> int:
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"the daemon did not stop within {timeout} s of SIGTERM:\n{self.tail()}") from None


def issue_tokens(data: Path, place: Place | None = None) -> dict[str, str]:
    """A token per person, each from ``calmly token issue`` (run side by side; the store takes one writer at once)."""
    place = place or Place()
    runs = {
        person: subprocess.Popen(
            [calmly(), "token", "issue", person, *place.store_flags(data), "--roster", str(place.roster)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for person in PEOPLE
    }
    tokens = {}
    for person, run in runs.items():
        out, err = run.communicate(timeout=60)
        if run.returncode != 0:
            raise AssertionError(f"calmly token issue {person} exited {run.returncode}: {err}")
        tokens[person] = out.strip()
    return tokens


# --- the clients --------------------------------------------------------------------------------------------------


class Clients:
    """The threads that keep the daemon busy while it is up; they pause while it is down."""

    def __init__(self, ledger: Ledger, tokens: dict[str, str], seed: int, roles: dict[str, str]) -> None:
        self.ledger = ledger
        self.tokens = tokens
        self.roles = roles  # role -> a person who has it
        self.seed = seed
        self.urls: list[str] = []  # the daemons up now (replaced whole, never changed in place)
        self.up = threading.Event()
        self.done = threading.Event()
        self.shared_clock = False  # whether the daemons share one simulated clock (on one PostgreSQL database)
        self.outage = threading.Event()  # set while the database is down: 503 with Retry-After is the right answer
        self.counter = itertools.count(1)
        self.unanswered: list[dict[str, Any]] = []  # mentions sent without an answer: sent again later
        work = [
            ("mentions-1", self._mentions),
            ("mentions-2", self._mentions),
            ("actions-1", self._actions),
            ("actions-2", self._actions),
            ("clock", self._clock),
        ]
        self.threads = [
            threading.Thread(target=self._guarded, args=(target, number), name=f"crash-{name}", daemon=True)
            for number, (name, target) in enumerate(work, start=1)
        ]

    def _guarded(self, target: Any, number: int) -> None:
        """A client that fails records why (a thread's exception would otherwise only be printed)."""
        try:
            target(number)
        except Exception as error:
            self.ledger.error(f"{threading.current_thread().name} failed: {error!r}")

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        self.done.set()
        self.up.set()
        for thread in self.threads:
            thread.join(REQUEST_TIMEOUT_S + 5)

    def _headers(self, person: str = "alice") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[person]}"}

    def _loop(self, rng: random.Random) -> Iterator[str]:
        """The address of a daemon that is up (any one, at random); waits while none is; ends when the run is over."""
        while not self.done.is_set():
            self.up.wait()
            urls = self.urls
            if self.done.is_set():
                return
            if urls:
                yield rng.choice(urls)

    def _post(self, client: httpx.Client, url: str, body: Any, person: str = "alice") -> httpx.Response | None:
        with self.ledger.lock:
            self.ledger.sent += 1
        try:
            response = client.post(url, json=body, headers=self._headers(person))
        except httpx.HTTPError:  # killed mid-request, or not listening yet: the outcome is unknown
            with self.ledger.lock:
                self.ledger.failed += 1
            time.sleep(0.01)
            return None
        if response.status_code == 503 and self.outage.is_set():
            with self.ledger.lock:
                self.ledger.unavailable += 1
            if "retry-after" not in response.headers:
                self.ledger.error(f"POST {url} answered 503 without Retry-After: {response.text[:300]}")
            time.sleep(0.01)
            return None  # nothing was done: sent again later, as a client would
        with self.ledger.lock:
            if response.is_success:
                self.ledger.acknowledged += 1
            elif response.status_code < 500:
                self.ledger.refused += 1
        if response.status_code >= 500:
            self.ledger.error(f"POST {url} answered {response.status_code}: {response.text[:300]}")
        return response

    # --- mentions

    def _mention(self, rng: random.Random, thread: int) -> dict[str, Any]:
        channel, text = rng.choice(TEXTS)
        handle = f"@user{rng.randrange(60)}" if rng.random() < 0.7 else f"@fresh{thread}_{next(self.counter)}"
        mention: dict[str, Any] = {
            "channel": channel,
            "external_id": f"m{thread}-{next(self.counter)}",
            "text": text,
            "posted_at": "2026-11-23T09:00:00Z",
            "author": {"handle": handle, "followers": rng.choice((10, 300, 20_000))},
        }
        if rng.random() < 0.3:
            mention["thread_id"] = f"thread-{rng.randrange(20)}"
        return mention

    def _mentions(self, thread: int) -> None:
        rng = random.Random(self.seed * 100 + thread)
        with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
            for url in self._loop(rng):
                batch = [self._mention(rng, thread) for _ in range(rng.choice((1, 1, 1, 2, 5)))]
                with self.ledger.lock:
                    if self.unanswered and rng.random() < 0.2:
                        batch.append(self.unanswered.pop(rng.randrange(len(self.unanswered))))
                    elif self.ledger.mentions and rng.random() < 0.05:
                        channel, external_id = rng.choice(list(self.ledger.mentions))
                        batch.append({**self._mention(rng, thread), "channel": channel, "external_id": external_id})
                body: Any = batch[0] if len(batch) == 1 and rng.random() < 0.5 else {"mentions": batch}
                response = self._post(client, f"{url}/v1/mentions", body)
                if response is None:
                    with self.ledger.lock:
                        self.unanswered.extend(batch)
                    continue
                if response.status_code != 200:
                    self.ledger.error(f"valid mentions were refused: {response.status_code} {response.text[:300]}")
                    continue
                for item, result in zip(batch, response.json()["results"], strict=True):
                    self.ledger.mention(item["channel"], item["external_id"], result["incident"])
                time.sleep(rng.uniform(0, 0.01))

    # --- actions

    def _fields(self, requires: list[str], incident: dict[str, Any], rng: random.Random) -> dict[str, Any]:
        values: dict[str, Any] = {
            "severity": rng.choice(("low", "medium", "high", "critical")),
            "public_reply": {"channel": incident["channel"], "text": REPLY if rng.random() < 0.9 else "Calm down."},
            "offer": "a replacement, sent today",
            "contact_route": rng.choice(("dm", "phone", "email")),
            "contact": "+44 20 7946 0000",
            "outcome": "replaced the order",
            "review": REVIEW,
            "reason": rng.choice(("spam", "troll", "abuse", "duplicate")),
            "note": "looked at it",
            "merged_into": rng.choice(self.ledger.incidents) if self.ledger.incidents else "inc-1",
        }
        return {name: values[name] for name in requires if name in values}

    def _actions(self, thread: int) -> None:
        rng = random.Random(self.seed * 100 + thread)
        with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
            for url in self._loop(rng):
                with self.ledger.lock:
                    known = self.ledger.incidents[-200:]
                if not known:
                    time.sleep(0.01)
                    continue
                incident_id = rng.choice(known)
                try:
                    shown = client.get(f"{url}/v1/incidents/{incident_id}", headers=self._headers())
                except httpx.HTTPError:
                    time.sleep(0.01)
                    continue
                if shown.status_code == 503 and self.outage.is_set():
                    time.sleep(0.01)
                    continue
                if shown.status_code != 200:
                    self.ledger.error(f"GET {incident_id}, an acknowledged incident: {shown.status_code} {shown.text}")
                    continue
                details = shown.json()
                if not details["actions"]:
                    continue
                action = rng.choice(details["actions"])
                person = self.roles.get(rng.choice(action["by"]), "alice") if rng.random() < 0.9 else "erin"
                version = details["version"] if rng.random() < 0.9 else max(0, details["version"] - 1)
                body = {"version": version, "fields": self._fields(action["requires"], details, rng)}
                trigger = action["trigger"]
                response = self._post(client, f"{url}/v1/incidents/{incident_id}/actions/{trigger}", body, person)
                if response is not None and response.status_code == 200:
                    answer = response.json()
                    record = {
                        "incident": incident_id,
                        "trigger": trigger,
                        "person": person,
                        "version": version,
                        "new_version": answer["incident"]["version"],
                        "history": answer["history"],
                    }
                    with self.ledger.lock:
                        self.ledger.actions.append(record)

    # --- the clock

    def _clock(self, thread: int) -> None:
        rng = random.Random(self.seed * 100 + thread)
        with httpx.Client(timeout=REQUEST_TIMEOUT_S) as client:
            for _ in self._loop(rng):
                with self.ledger.lock:
                    # Moved with "to" rather than "advance", so the latest time it may have reached is known even
                    # when the answer never comes: the daemon restarts there, and its clock never goes back.
                    target = self.ledger.clock_attempted + STEP
                    self.ledger.clock_attempted = target
                # bob is the social lead: moving the clock needs an admin role. The daemons on one database share
                # their simulated clock, so one of them is moved and the others follow.
                urls = self.urls
                for url in [rng.choice(urls)] if self.shared_clock and urls else urls:
                    response = self._post(client, f"{url}/v1/admin/clock", {"to": _moment(target)}, person="bob")
                    if response is not None and response.status_code != 200:
                        self.ledger.error(f"moving the clock was refused: {response.status_code} {response.text[:300]}")
                time.sleep(rng.uniform(0.02, 0.1))


# --- checking the store -------------------------------------------------------------------------------------------


def check_store(
    data: Path, ledger: Ledger, stats: dict[str, int] | None = None, store_url: str | None = None
) -> list[str]:
    """Every broken promise, in words (empty when the store keeps them all); ``stats`` gets what was checked. The
    store is the SQLite one in ``data``, or the PostgreSQL one at ``store_url``."""
    problems: list[str] = []
    store: Store
    if store_url is not None:
        from engine.store.postgresql import PostgreSQLStore  # noqa: PLC0415 - only the PostgreSQL runs need it

        store = PostgreSQLStore(store_url, pool_size=2)
    else:
        store = SQLiteStore(data)
    try:
        library = Library(store)
        library.install([PLAYBOOKS], START)
        service = Service(store, library, lambda: START)
        problems += _check_mentions(store, ledger)
        events = {incident_id: store.events(incident_id) for incident_id in store.all_incident_ids()}
        problems += _check_actions(events, ledger)
        problems += _check_rebuilds(store, service, events)
        problems += _check_deadlines(store, store_url, events)
        problems += _check_notifications(store, store_url, events)
        if stats is not None:
            kinds = [event.kind for log in events.values() for event in log]
            stats.update(
                incidents=len(events),
                events=len(kinds),
                deadline_events=kinds.count("deadline"),
                outbox=len(_rows(store, store_url, "SELECT key FROM outbox")),
            )
    finally:
        store.close()
    return problems


def _rows(store: Store, url: str | None, query: str) -> list[tuple[Any, ...]]:
    """Rows the store's contract has no read for (every deadline, done or not; every outbox row)."""
    if url is None:
        assert isinstance(store, SQLiteStore)
        with contextlib.closing(sqlite3.connect(store.path)) as raw:
            return raw.execute(query).fetchall()
    import psycopg  # noqa: PLC0415 - only the PostgreSQL runs need it

    with psycopg.connect(url) as db:
        return db.execute(query).fetchall()  # type: ignore[arg-type]  # the harness's own fixed queries


def _check_mentions(store: Store, ledger: Ledger) -> list[str]:
    problems = []
    for (channel, external_id), answers in ledger.mentions.items():
        stored = store.mention(channel, external_id)
        if stored is None:
            problems.append(f"mention {channel}/{external_id} was acknowledged but is not in the store")
            continue
        for named in answers:
            if stored.incident_id != named:
                problems.append(
                    f"mention {channel}/{external_id} was acknowledged with incident {named}, "
                    f"but the store has {stored.incident_id}"
                )
        if stored.incident_id is not None and store.incident(stored.incident_id) is None:
            problems.append(f"mention {channel}/{external_id} names {stored.incident_id}, which is not in the store")
    return problems


def _check_actions(events: dict[str, list[Any]], ledger: Ledger) -> list[str]:
    problems = []
    for action in ledger.actions:
        found = [
            event
            for event in events.get(action["incident"], [])
            if event.kind == "act"
            and event.command["trigger"] == action["trigger"]
            and event.command["person"] == action["person"]
            and event.command["expected_revision"] == action["version"]
        ]
        where = f"{action['trigger']} by {action['person']} on {action['incident']} at version {action['version']}"
        if len(found) != 1:
            problems.append(f"the acknowledged action {where} is in the event log {len(found)} times")
        elif list(found[0].history) != action["history"]:
            problems.append(f"the acknowledged action {where} has another history in the log than in the answer")
    return problems


def _check_rebuilds(store: Store, service: Service, events: dict[str, list[Any]]) -> list[str]:
    problems = []
    for incident_id in events:
        row = store.incident(incident_id)
        try:
            rebuilt = service.rebuild(incident_id)
        except (ValueError, LookupError) as error:
            problems.append(f"{incident_id} cannot be rebuilt from its event log: {error}")
            continue
        if row is None or row.incident != rebuilt:
            problems.append(f"{incident_id}: the stored row differs from the incident rebuilt from its event log")
    return problems


def _check_deadlines(store: Store, store_url: str | None, events: dict[str, list[Any]]) -> list[str]:
    problems = []
    rows = {
        row[0]: row for row in _rows(store, store_url, "SELECT key, incident_id, clock, due_at, done_at FROM deadlines")
    }
    fired: dict[str, int] = {}
    for incident_id, log in events.items():
        for event in log:
            if event.kind != "deadline":
                continue
            key = str(event.command["key"])
            fired[key] = fired.get(key, 0) + 1
            row = rows.get(key)
            if row is None:
                problems.append(f"{incident_id}: the deadline {key} fired but was never armed")
            elif row[1] != incident_id:
                problems.append(f"{incident_id}: the deadline {key} fired for another incident than {row[1]}")
            elif row[4] is None or row[4] != moment(event.at):
                problems.append(f"{incident_id}: the deadline {key} fired at {event.at} but is marked done at {row[4]}")
    problems += [f"the deadline {key} fired {count} times" for key, count in fired.items() if count > 1]
    for incident_id in events:
        row = store.incident(incident_id)
        if row is None or row.final:
            continue
        incident = row.incident
        waiting = {deadline_key(incident.id, clock, clock.next) for clock in incident.clocks if clock.next is not None}
        pending = {deadline.key for deadline in store.pending_deadlines(incident_id)}
        if waiting - pending:
            problems.append(f"{incident_id}: its clocks wait for {sorted(waiting - pending)}, which are not pending")
        if pending - waiting:
            problems.append(f"{incident_id}: {sorted(pending - waiting)} are pending, but no clock waits for them")
    return problems


def _check_notifications(store: Store, store_url: str | None, events: dict[str, list[Any]]) -> list[str]:
    problems = []
    outbox = {row[0]: row[1] for row in _rows(store, store_url, "SELECT key, incident_id FROM outbox")}
    notified: dict[str, int] = {}
    for incident_id, log in events.items():
        for event in log:
            for entry in event.history:
                if entry["kind"] not in ("escalation", "notice"):  # a clock's step, or an event told at once
                    continue
                key = str(entry["details"]["key"])
                notified[key] = notified.get(key, 0) + 1
                if outbox.get(key) != incident_id:
                    problems.append(f"{incident_id}: the notification {key} has no outbox row for this incident")
    problems += [f"the notification {key} was made {count} times" for key, count in notified.items() if count > 1]
    problems += [
        f"the outbox row {key} comes from no escalation or notice in any history"
        for key in outbox
        if key not in notified
    ]
    return problems


# --- the run ------------------------------------------------------------------------------------------------------


class Receiver:
    """A webhook receiver on loopback: answers 200 to every request and notes each ``webhook-id`` with the moment
    (``time.monotonic``) it came, so a repeat can be told apart from a redelivery after a daemon died."""

    def __init__(self) -> None:
        self.received: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                key = self.headers.get("webhook-id") or ""
                with receiver.lock:
                    receiver.received.setdefault(key, []).append(time.monotonic())
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, name="crash-receiver", daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def check(self, store_url: str, kills: list[float]) -> list[str]:
        """A key came more than once only when a daemon was killed between its first and its last coming; every
        delivery the store marks delivered came at least once."""
        problems = []
        with self.lock:
            received = {key: list(times) for key, times in self.received.items()}
        for key, times in received.items():
            if len(times) > 1 and not any(times[0] <= kill <= times[-1] for kill in kills):
                problems.append(f"the notification {key} came {len(times)} times with no daemon killed between")
        import psycopg  # noqa: PLC0415 - only the PostgreSQL runs need it

        with psycopg.connect(store_url) as db:
            delivered = db.execute(
                "SELECT outbox_key FROM deliveries WHERE state = 'delivered' AND channel = 'webhook'"
            ).fetchall()
        problems += [
            f"the notification {key} is marked delivered but never came" for (key,) in delivered if key not in received
        ]
        return problems


def notifying_roster(folder: Path, receiver: Receiver) -> Path:
    """The example roster with every role notified by a signed webhook to ``receiver``."""
    roles = sorted(people_by_role())
    lines = [
        f"  {role}: {{notify: [{{channel: webhook, url: '{receiver.url}', secret_env: HOOK_SECRET}}]}}"
        for role in roles
    ]
    path = folder / "roster.yaml"
    path.write_text(ROSTER.read_text(encoding="utf-8") + "\nroles:\n" + "\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass
class CrashRun:
    """``cycles`` kills and restarts, each of one of ``daemons`` daemons (at random) after a random ``uptime``
    (seconds) under load; then SIGTERM to each and checks. With ``place.store`` every daemon is on that PostgreSQL
    store, and ``receiver`` (where the roster sends every notification) is checked too."""

    folder: Path
    seed: int
    cycles: int
    uptime: tuple[float, float] = (0.4, 1.6)
    daemons: int = 1
    place: Place = field(default_factory=Place)
    receiver: Receiver | None = None
    ledger: Ledger = field(default_factory=Ledger)
    ready_times: list[float] = field(default_factory=list)
    kills: list[float] = field(default_factory=list)  # time.monotonic() just before each SIGKILL
    stats: dict[str, int] = field(default_factory=dict)

    def run(self) -> list[str]:
        data = self.folder / "data"
        rng = random.Random(self.seed)
        tokens = issue_tokens(data, self.place)
        roles = people_by_role()
        clients = Clients(self.ledger, tokens, self.seed, roles)
        clients.shared_clock = self.place.store is not None
        started = itertools.count()
        running = [Daemon(self.folder, data, START, next(started), self.place) for _ in range(self.daemons)]
        self.ready_times += [daemon.wait_ready() for daemon in running]
        clients.urls = [daemon.url for daemon in running]
        clients.up.set()
        clients.start()
        problems: list[str] = []
        try:
            for _ in range(self.cycles):
                time.sleep(rng.uniform(*self.uptime))
                victim = rng.randrange(len(running))
                clients.urls = [daemon.url for index, daemon in enumerate(running) if index != victim]
                if not clients.urls:
                    clients.up.clear()
                self.kills.append(time.monotonic())
                running[victim].kill()
                with self.ledger.lock:
                    restart_at = self.ledger.clock_attempted
                running[victim] = Daemon(self.folder, data, restart_at, next(started), self.place)
                self.ready_times.append(running[victim].wait_ready())
                clients.urls = [daemon.url for daemon in running]
                clients.up.set()
            time.sleep(rng.uniform(*self.uptime))
        finally:
            clients.stop()
            codes = [(daemon, daemon.terminate()) for daemon in running]
        for daemon, code in codes:
            if code != 0:
                problems.append(f"the daemon exited {code} after SIGTERM:\n{daemon.tail()}")
        stuck = [thread.name for thread in clients.threads if thread.is_alive()]
        if stuck:
            problems.append(f"client threads did not finish: {stuck}")
        problems += self.ledger.errors
        problems += check_store(data, self.ledger, self.stats, self.place.store)
        if self.receiver is not None and self.place.store is not None:
            problems += self.receiver.check(self.place.store, self.kills)
            with self.receiver.lock:
                self.stats["webhooks_received"] = sum(len(times) for times in self.receiver.received.values())
                self.stats["webhooks_repeated"] = sum(len(times) - 1 for times in self.receiver.received.values())
        return problems

    def summary(self) -> str:
        ledger = self.ledger
        slowest = max(self.ready_times, default=0.0)
        return (
            f"seed {self.seed}: {self.daemons} daemon(s), {self.cycles} kills; {ledger.sent} requests, "
            f"{ledger.acknowledged} acknowledged, "
            f"{ledger.refused} refused, {ledger.failed} without an answer; {len(ledger.mentions)} mentions and "
            f"{len(ledger.actions)} actions acknowledged, {len(ledger.incidents)} incidents; clock at "
            f"{_moment(ledger.clock_attempted)}; slowest restart to ready {slowest:.2f} s; in the store: "
            + ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in self.stats.items())
        )


def people_by_role() -> dict[str, str]:
    from engine.service import load_roster  # noqa: PLC0415

    roster = load_roster(ROSTER)
    if isinstance(roster, Failed):
        raise AssertionError(f"the example roster has problems: {roster.problems}")
    found: dict[str, str] = {}
    for person in PEOPLE:
        for role in roster.roles_of(person):
            found.setdefault(role, person)
    return found


def run_crash_test(
    folder: Path,
    cycles: int,
    seed: int | None = None,
    *,
    daemons: int = 1,
    place: Place | None = None,
    receiver: Receiver | None = None,
) -> CrashRun:
    """Run the crash test; an AssertionError naming the seed and every broken promise when one is broken."""
    if seed is None:
        seed = int(os.environ.get("CALMLY_CRASH_SEED") or random.SystemRandom().randrange(1, 2**31))
    run = CrashRun(folder, seed, cycles, daemons=daemons, place=place or Place(), receiver=receiver)
    print(f"crash test seed {seed} (CALMLY_CRASH_SEED={seed} reproduces the choices)", flush=True)
    problems = run.run()
    print(run.summary(), flush=True)
    if problems:
        shown = "\n".join(f"  {problem}" for problem in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise AssertionError(f"crash test failed (seed {seed}; logs in {folder}):\n{shown}{more}\n{run.summary()}")
    return run
