"""Figures for the desk (a part of ``make bench``), each beside a baseline measured in the same run.

* The queue page: with 100,000 open incidents (5,000 with ``--quick``; one in ten from an author with 20,000
  followers, so ``high``), ``GET /`` signed in through the desk, unfiltered and filtered to ``severity=high``,
  beside ``GET /v1/incidents`` with the same filter (``open=true``, ``limit=50``) on the same ``calmly serve``,
  alternating. Server time is what the daemon's own request histogram (``/metrics``) adds for the request, so the
  client's work is left out of both; the median of the repeats. Target: the queue at most twice the list.
* Mention to queue event: a client signed in to the desk reads ``GET /desk/events`` in a thread while mentions are
  posted one at a time to ``POST /v1/mentions``; for each, the arrival of its ``incident`` event minus the arrival
  of the POST's answer, p50 and p99, beside the POST's own round trip. The daemon publishes a change once it is
  committed, before the answer is written, so the event often comes first: that counts as 0, and how often it
  happened is reported. Target: p99 under 200 ms on loopback.
* Memory per connected queue client: the daemon's resident memory (``VmRSS``) with 100 clients (20 with ``--quick``)
  on ``GET /desk/events``, each with its own session and connection and each told its stream is live, minus the same
  with the sessions started and no client connected, divided by the clients; beside the daemon's idle resident
  memory. It runs on a daemon of its own over an empty store: one that has just rendered a queue of 100,000
  incidents holds freed memory that new clients would reuse unseen.

Every figure stops the run (:class:`BenchError`) when its measurement did not happen: a page without its rows, a
request the daemon's histogram did not count, an event that never came, a client whose stream did not open.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from daemon import PLAYBOOKS, Daemon, _percentile, _running, _token, build_open_incidents, mention_body
from figure import BenchError, Figure

__all__ = ["DeskRepeats", "desk_figures"]

QUEUE_TARGET_RATIO = 2.0
EVENT_TARGET_MS = 200.0
PAGE = 50  # the rows the queue shows, and the API's page of the same filter
#: One open incident in this many is from an author with enough followers to be ``high`` (customer-complaint).
HIGH_EVERY = 10
HIGH_FOLLOWERS = 20_000
#: How long a client waits for the daemon to say its stream is live, and for the last event after the last POST.
WAIT_S = 10.0
_SSE_TIMEOUT = httpx.Timeout(10.0, read=60.0)  # the heartbeat comes every 15 s, so a live stream is never silent
_LATENCY_METRIC = "calmly_http_request_duration_seconds"
COOKIE = "calmly_session"  # the desk's session cookie, as a browser holds it


@dataclass(frozen=True, slots=True)
class DeskRepeats:
    open_incidents: int  # in the store the queue page is read from
    pages: int  # requests of each page and of its baseline; figures are medians
    mentions: int  # posted one at a time for the event's latency
    clients: int  # queue clients connected for the memory figure


def _seed_body(number: int) -> dict[str, Any]:
    body = mention_body(number)
    if number % HIGH_EVERY == 0:
        body["author"]["followers"] = HIGH_FOLLOWERS
    return body


def _sign_in(client: httpx.Client, token: str) -> None:
    """A desk session on ``client`` (its cookie jar), as a browser gets one."""
    answer = client.post("/signin", data={"token": token})
    if answer.status_code != 303 or COOKIE not in client.cookies:
        raise BenchError(f"signing in to the desk failed: {answer.status_code} {answer.text[:300]}")


# --- the queue page ----------------------------------------------------------------------------------------------


def _server_seconds(client: httpx.Client, method: str, route: str) -> tuple[float, float]:
    """The sum and count of the daemon's request histogram for ``route`` answered 200."""
    text = client.get("/metrics").raise_for_status().text
    labels = f'{{method="{method}",route="{route}",status="200"}}'
    found = {}
    for suffix in ("sum", "count"):
        match = re.search(rf"^{_LATENCY_METRIC}_{suffix}{re.escape(labels)} (\S+)$", text, re.MULTILINE)
        found[suffix] = float(match.group(1)) if match else 0.0
    return found["sum"], found["count"]


Check = Callable[[httpx.Response], None]


def _timed(client: httpx.Client, route: str, params: dict[str, str], check: Check) -> float:
    """Seconds the daemon spent answering one ``GET route`` (200, and passing ``check``), by its own histogram."""
    before, count = _server_seconds(client, "GET", route)
    answer = client.get(route, params=params)
    if answer.status_code != 200:
        raise BenchError(f"GET {route} {params} answered {answer.status_code}: {answer.text[:300]}")
    check(answer)
    after, counted = _server_seconds(client, "GET", route)
    if counted != count + 1:
        raise BenchError(f"the daemon's /metrics counted {counted - count:g} requests to {route}, not 1")
    return after - before


def _rows_shown(severity: str | None) -> Check:
    def check(answer: httpx.Response) -> None:
        shown = re.findall(r'<span class="severity severity-([^"]+)">', answer.text)
        if len(shown) != PAGE or (severity is not None and set(shown) != {severity}):
            raise BenchError(f"the queue showed {len(shown)} rows ({sorted(set(shown))}), not {PAGE} {severity or ''}")

    return check


def _listed(severity: str | None) -> Check:
    def check(answer: httpx.Response) -> None:
        listed = answer.json()["incidents"]
        if len(listed) != PAGE or (severity is not None and {row["severity"] for row in listed} != {severity}):
            raise BenchError(f"GET /v1/incidents listed {len(listed)} incidents, not {PAGE} {severity or ''}")

    return check


def _queue_medians(daemon: Daemon, token: str, pages: int) -> dict[str, float]:
    """Median server ms of the queue and of the API's list, unfiltered (``all``) and ``high``, alternating. A first
    round of the filtered view (the cheaper) warms both up and is not counted."""
    views: dict[str, dict[str, str]] = {"all": {}, "high": {"severity": "high"}}
    samples: dict[str, list[float]] = {f"{kind}_{view}": [] for kind in ("queue", "api") for view in views}
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=daemon.url, headers=headers, timeout=300.0) as client:
        _sign_in(client, token)
        for round_number in range(pages + 1):
            for view, query in views.items() if round_number else [("high", views["high"])]:
                severity = query.get("severity")
                queue = ("queue", "/", query, _rows_shown(severity))
                api = ("api", "/v1/incidents", {"open": "true", "limit": str(PAGE), **query}, _listed(severity))
                for kind, route, params, check in (queue, api) if round_number % 2 else (api, queue):
                    seconds = _timed(client, route, params, check)
                    if round_number:
                        samples[f"{kind}_{view}"].append(seconds * 1000)
    return {key: statistics.median(values) for key, values in samples.items()}


def queue_figures(daemon: Daemon, token: str, repeats: DeskRepeats) -> list[Figure]:
    medians = _queue_medians(daemon, token, repeats.pages)
    count = repeats.open_incidents
    detail = (
        f"calmly serve on loopback with {count:,} open incidents (1 in {HIGH_EVERY} high); server time from the "
        f"daemon's request histogram (/metrics) around each request, median of {repeats.pages} of each, "
        f"alternating, after a warm-up; the queue signed in with a desk session, the API with a bearer token; "
        f"the queue reads the first {PAGE} by next deadline from the store's index of open incidents"
    )
    views = [
        ("all", "", "desk_queue_ms_vs_api_list", "open=true&limit=50"),
        ("high", ", severity=high", "desk_queue_high_ms_vs_api_list", "open=true&severity=high&limit=50"),
    ]
    return [
        Figure(
            key=key,
            name=f"queue page GET /{shown}, {count:,} open incidents",
            unit="ms",
            value=medians[f"queue_{view}"],
            baseline_name=f"GET /v1/incidents?{query}",
            baseline=medians[f"api_{view}"],
            target=f"<= {QUEUE_TARGET_RATIO:.1f}x",
            met=medians[f"queue_{view}"] / medians[f"api_{view}"] <= QUEUE_TARGET_RATIO,
            detail=detail,
        )
        for view, shown, key, query in views
    ]


# --- mention to queue event ----------------------------------------------------------------------------------


@dataclass
class _Heard:
    """What the listening client heard: when each incident's first event arrived, and whether the stream is live."""

    expected: int
    arrived: dict[str, float] = field(default_factory=dict)
    live: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)
    failure: list[str] = field(default_factory=list)


def _listen(url: str, cookies: httpx.Cookies, heard: _Heard) -> None:
    """Read ``GET /desk/events`` line by line until ``heard.expected`` incidents have had an event."""
    try:
        with (
            httpx.Client(base_url=url, cookies=cookies, timeout=_SSE_TIMEOUT) as client,
            client.stream("GET", "/desk/events") as stream,
        ):
            if stream.status_code != 200:
                heard.failure.append(f"GET /desk/events answered {stream.status_code}")
                return
            name, data = "", ""
            for line in stream.iter_lines():
                now = time.perf_counter()
                heard.live.set()
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:"):
                    data += line[5:].strip()
                elif not line:
                    if name == "incident":
                        heard.arrived.setdefault(json.loads(data)["id"], now)
                    name, data = "", ""
                    if len(heard.arrived) >= heard.expected:
                        return
    except (httpx.HTTPError, ValueError, KeyError) as error:
        heard.failure.append(f"the queue's event stream failed: {error!r}")
    finally:
        heard.live.set()  # whatever happened, nobody need wait for the stream to open any longer
        heard.done.set()


@dataclass(frozen=True, slots=True)
class EventTimes:
    after_answer_ms: list[float]  # the event's arrival minus the POST answer's (0 when the event came first)
    round_trip_ms: list[float]  # each POST's round trip
    after_sent_ms: list[float]  # the event's arrival minus the POST's sending
    first: int  # how many events came before the POST's answer


def event_times(daemon: Daemon, token: str, mentions: int) -> EventTimes:
    heard = _Heard(expected=mentions)
    with httpx.Client(base_url=daemon.url, timeout=30.0) as desk:
        _sign_in(desk, token)
        cookies = desk.cookies
    listener = threading.Thread(target=_listen, args=(daemon.url, cookies, heard), daemon=True)
    listener.start()
    if not heard.live.wait(WAIT_S) or heard.failure or heard.done.is_set():
        raise BenchError(f"the queue's event stream did not open: {heard.failure or 'no line within 10 s'}")
    answered: dict[str, tuple[float, float]] = {}  # incident id: (sent, answered)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=daemon.url, headers=headers, timeout=30.0) as client:
        client.get("/healthz")  # connect before timing
        for number in range(mentions):
            sent = time.perf_counter()
            answer = client.post("/v1/mentions", json=mention_body(number, prefix="desk"))
            at = time.perf_counter()
            results = answer.json().get("results", []) if answer.status_code == 200 else []
            if len(results) != 1 or results[0].get("status") != "opened":
                raise BenchError(f"a mention of the event bench did not open an incident: {answer.text[:300]}")
            answered[results[0]["incident"]] = (sent, at)
    if not heard.done.wait(WAIT_S) or heard.failure:
        got = len(heard.arrived)
        raise BenchError(f"the queue's client heard {got} of {mentions} incident events: {heard.failure}")
    missing = set(answered) - set(heard.arrived)
    if missing:
        raise BenchError(f"no event arrived for {len(missing)} of the {mentions} incidents opened (say {min(missing)})")
    after = [(heard.arrived[key] - at) * 1000 for key, (_, at) in answered.items()]
    trips = [(at - sent) * 1000 for sent, at in answered.values()]
    after_sent = [(heard.arrived[key] - sent) * 1000 for key, (sent, _) in answered.items()]
    return EventTimes([max(0.0, value) for value in after], trips, after_sent, sum(1 for value in after if value < 0))


def event_figures(times: EventTimes) -> list[Figure]:
    count = len(times.round_trip_ms)
    floor = 0.001  # a ratio needs a value above zero; an event that beat the answer counts as 0
    detail = (
        f"{count} mentions posted one at a time to calmly serve on loopback, each opening an incident, while a client "
        f"signed in to the desk reads GET /desk/events in a thread: the arrival of the incident's event minus the "
        f"arrival of the POST's answer; the event came first for {times.first} of {count} (counted as 0, and a "
        f"figure of 0 is shown as {floor} ms); from the POST's sending, the event arrived after "
        f"{_percentile(times.after_sent_ms, 0.5):.1f} ms (p50) and {_percentile(times.after_sent_ms, 0.99):.1f} ms "
        "(p99)"
    )
    figures = []
    for share, label in ((0.5, "p50"), (0.99, "p99")):
        value = _percentile(times.after_answer_ms, share)
        figures.append(
            Figure(
                key=f"desk_event_after_answer_{label}_ms",
                name=f"mention answered to queue event, {label}",
                unit="ms",
                value=max(value, floor),
                baseline_name=f"POST /v1/mentions round trip, {label}",
                baseline=_percentile(times.round_trip_ms, share),
                target=f"< {EVENT_TARGET_MS:.0f} ms" if label == "p99" else "- (context)",
                met=value < EVENT_TARGET_MS if label == "p99" else None,
                detail=detail,
            )
        )
    return figures


# --- memory per connected client -----------------------------------------------------------------------------


def _sessions(url: str, token: str, count: int) -> list[str]:
    """``count`` desk sessions (their cookies' values), started one after another on one connection."""
    with httpx.Client(base_url=url, timeout=30.0) as client:
        found = []
        for _ in range(count):
            client.cookies.clear()
            _sign_in(client, token)
            found.append(client.cookies[COOKIE])
    return found


@contextlib.contextmanager
def _connected(url: str, sessions: list[str]) -> Iterator[None]:
    """A client of its own on ``GET /desk/events`` for each session, each told its stream is live (its first line),
    until the end."""
    readers = []  # an abandoned line reader would close its stream when collected
    with contextlib.ExitStack() as stack:
        for session in sessions:
            client = stack.enter_context(httpx.Client(base_url=url, cookies={COOKIE: session}, timeout=_SSE_TIMEOUT))
            stream = stack.enter_context(client.stream("GET", "/desk/events"))
            readers.append(stream.iter_lines())
            first = next(readers[-1], None) if stream.status_code == 200 else None
            if first is None or not first.startswith(":"):
                raise BenchError(f"a queue client was not told its stream is live: {stream.status_code} {first!r}")
        yield


def _settled_rss_mb(daemon: Daemon) -> float:
    """The daemon's resident memory once it has been quiet a moment (the median of a few reads)."""
    time.sleep(0.5)
    reads = []
    for _ in range(5):
        reads.append(daemon.rss_mb())
        time.sleep(0.05)
    return statistics.median(reads)


def _open_files(daemon: Daemon) -> int:
    """The daemon's open file descriptors: each client's connection is one."""
    return len(os.listdir(f"/proc/{daemon.process.pid}/fd"))


def client_memory_figure(daemon: Daemon, token: str, clients: int) -> Figure:
    sessions = _sessions(daemon.url, token, clients)
    with _connected(daemon.url, sessions[:2]):  # warms up what every stream uses
        pass
    idle, before = _settled_rss_mb(daemon), _open_files(daemon)
    with _connected(daemon.url, sessions):
        connected, during = _settled_rss_mb(daemon), _open_files(daemon)
    if during - before < clients:
        held = during - before
        raise BenchError(f"the daemon held {held} connections more with {clients} queue clients on, not {clients}")
    grown = connected - idle
    if grown <= 0:
        raise BenchError(
            f"the daemon's resident memory did not grow with {clients} queue clients connected "
            f"({idle:.1f} MB, then {connected:.1f} MB); run with more clients"
        )
    return Figure(
        key="desk_kb_per_queue_client",
        name="memory per connected queue client",
        unit="KB",
        value=grown * 1024 / clients,
        baseline_name="the daemon's idle resident memory",
        baseline=idle * 1024,
        target="- (context)",
        met=None,
        detail=f"VmRSS of calmly serve (empty store) with {clients} clients on GET /desk/events, each with its own "
        f"session and connection and told its stream is live, minus VmRSS with the sessions started and no client "
        f"connected ({idle:.1f} MB, then {connected:.1f} MB), divided by the clients",
    )


# --- the figures -------------------------------------------------------------------------------------------------


def desk_figures(repeats: DeskRepeats) -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="calmly-bench-desk-") as tmp:
        folder = Path(tmp)
        full, empty = folder / "full", folder / "empty"
        build_open_incidents(full, repeats.open_incidents, [PLAYBOOKS], body=_seed_body)
        token = _token(full)
        with _running(full, [PLAYBOOKS], folder / "queue.log") as daemon:
            daemon.wait_ready()
            figures = queue_figures(daemon, token, repeats)
            daemon.stop()
        token = _token(empty)
        with _running(empty, [PLAYBOOKS], folder / "live.log") as daemon:
            daemon.wait_ready()
            memory = client_memory_figure(daemon, token, repeats.clients)
            times = event_times(daemon, token, repeats.mentions)
            daemon.stop()
    return [*figures, *event_figures(times), memory]
