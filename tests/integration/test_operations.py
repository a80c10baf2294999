"""What operators rely on, in process over a real SQLite store: signed intake, the rate limit, reload, /metrics.

Every refusal is JSON (``{"error": {"code", "message"}}``) and writes nothing: the tests count rows before and after.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from intake_support import mention
from prometheus_client.parser import text_string_to_metric_families
from starlette.exceptions import StarletteDeprecationWarning

from engine.api import create_app
from engine.api._ratelimit import RateLimiter
from engine.daemon import Config, Daemon, Scheduler, build
from engine.service import issue_token, metrics, signature_headers

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
NEXT_SECRET = "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24="
TABLES = ("incidents", "events", "mentions", "deadlines", "outbox", "intake_receipts")


def encode(value: Any) -> bytes:
    return httpx.Request("POST", "http://x", json=value).content


class Floor:
    """A daemon as ``calmly serve`` builds it, over copies of the shipped playbooks and roster it may change."""

    def __init__(self, folder: Path, **options: Any) -> None:
        self.playbooks = folder / "playbooks"
        shutil.copytree(ROOT / "playbooks", self.playbooks)
        self.roster = folder / "roster.yaml"
        shutil.copy(ROOT / "examples" / "roster.yaml", self.roster)
        config = Config(data=folder / "data", playbooks=(self.playbooks,), roster=self.roster, **options)
        self.daemon: Daemon = build(config, START)
        self.store = self.daemon.store
        self.http = TestClient(create_app(self.daemon.context))
        self.tokens = {person: issue_token(self.store, person, START) for person in ("alice", "bob", "carol")}

    def auth(self, person: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[person]}"}

    def signed(self, body: bytes, message_id: str, secret: str = SECRET, at: datetime | None = None) -> httpx.Response:
        at = at or datetime.now(UTC)  # signatures are judged by the wall clock, even on a simulated one
        headers = {"content-type": "application/json", **signature_headers(secret, message_id, at, body)}
        return self.http.post("/v1/mentions", content=body, headers=headers)

    def rows(self) -> dict[str, int]:
        with sqlite3.connect(f"file:{self.store.path}?mode=ro", uri=True) as db:
            counted = {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES}
        db.close()
        return counted

    def close(self) -> None:
        self.http.close()
        self.store.close()


@pytest.fixture
def make_floor(tmp_path: Path) -> Iterator[Any]:
    made: list[Floor] = []

    def make(**options: Any) -> Floor:
        floor = Floor(tmp_path / f"floor{len(made)}", **options)
        made.append(floor)
        return floor

    yield make
    for floor in made:
        floor.close()


@pytest.fixture
def signed_floor(make_floor: Any) -> Floor:
    floor: Floor = make_floor(intake_secrets=(SECRET,))
    return floor


# --- signed intake ------------------------------------------------------------------------------------------------


def test_a_signed_mention_is_taken_without_a_bearer_token(signed_floor: Floor) -> None:
    answer = signed_floor.signed(encode(mention("1")), "msg_1")

    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["status"] == "opened"
    assert signed_floor.rows()["intake_receipts"] == 1


def test_either_secret_signs_while_they_rotate(make_floor: Any) -> None:
    floor: Floor = make_floor(intake_secrets=(SECRET, NEXT_SECRET))

    old = floor.signed(encode(mention("1")), "msg_1", SECRET)
    new = floor.signed(encode(mention("2", handle="@bea")), "msg_2", NEXT_SECRET)

    assert (old.status_code, new.status_code) == (200, 200)


def test_a_replayed_signed_request_is_refused_as_replayed_and_records_nothing(signed_floor: Floor) -> None:
    body = encode(mention("1"))
    assert signed_floor.signed(body, "msg_1").status_code == 200
    before = signed_floor.rows()

    again = signed_floor.signed(body, "msg_1")

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "replayed_request"
    assert signed_floor.rows() == before


def test_a_replay_with_a_new_mention_under_an_old_id_records_nothing(signed_floor: Floor) -> None:
    assert signed_floor.signed(encode(mention("1")), "msg_1").status_code == 200
    before = signed_floor.rows()

    again = signed_floor.signed(encode(mention("2", handle="@bea")), "msg_1")

    assert again.json()["error"]["code"] == "replayed_request"
    assert signed_floor.rows() == before


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (lambda headers: {k: v for k, v in headers.items() if k != "webhook-signature"}, "missing_signature"),
        (lambda headers: {**headers, "webhook-timestamp": "soon"}, "bad_timestamp"),
        (lambda headers: {**headers, "webhook-signature": "v1,AAAA"}, "bad_signature"),
    ],
    ids=["missing", "bad-timestamp", "mismatch"],
)
def test_a_badly_signed_request_is_refused_with_401_saying_why_and_records_nothing(
    signed_floor: Floor, tamper: Any, code: str
) -> None:
    body = encode(mention("1"))
    now = datetime.now(UTC)
    headers = tamper({"content-type": "application/json", **signature_headers(SECRET, "msg_1", now, body)})

    answer = signed_floor.http.post("/v1/mentions", content=body, headers=headers)

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == code
    assert answer.json()["error"]["message"]
    assert signed_floor.rows() == dict.fromkeys(TABLES, 0)


def test_a_signature_over_other_bytes_is_refused(signed_floor: Floor) -> None:
    signed_body = encode(mention("1"))
    now = datetime.now(UTC)
    headers = {"content-type": "application/json", **signature_headers(SECRET, "msg_1", now, signed_body)}

    answer = signed_floor.http.post("/v1/mentions", content=signed_body + b" ", headers=headers)

    assert answer.json()["error"]["code"] == "bad_signature"


@pytest.mark.parametrize("offset", [timedelta(minutes=-6), timedelta(minutes=6)], ids=["old", "future"])
def test_a_signature_more_than_five_minutes_from_now_is_stale(signed_floor: Floor, offset: timedelta) -> None:
    answer = signed_floor.signed(encode(mention("1")), "msg_1", at=datetime.now(UTC) + offset)

    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "stale_timestamp"
    assert signed_floor.rows()["mentions"] == 0


def test_with_secrets_a_bearer_token_alone_does_not_take_mentions_but_still_reads(signed_floor: Floor) -> None:
    posted = signed_floor.http.post("/v1/mentions", json=mention("1"), headers=signed_floor.auth("alice"))
    listed = signed_floor.http.get("/v1/incidents", headers=signed_floor.auth("alice"))

    assert posted.status_code == 401
    assert posted.json()["error"]["code"] == "missing_signature"
    assert listed.status_code == 200


def test_without_secrets_an_unsigned_mention_with_a_token_is_taken(make_floor: Any) -> None:
    floor: Floor = make_floor()

    answer = floor.http.post("/v1/mentions", json=mention("1"), headers=floor.auth("alice"))

    assert answer.status_code == 200


def test_receipts_older_than_twice_the_tolerance_are_forgotten(signed_floor: Floor) -> None:
    store = signed_floor.store
    with store.write() as tx:
        assert tx.receipts.take("msg_1", START, START - timedelta(minutes=10))
    with store.write() as tx:
        assert not tx.receipts.take("msg_1", START + timedelta(minutes=9), START - timedelta(minutes=1))
    with store.write() as tx:  # eleven minutes on: msg_1 could no longer pass the timestamp check
        assert tx.receipts.take("msg_2", START + timedelta(minutes=11), START + timedelta(minutes=1))

    assert signed_floor.rows()["intake_receipts"] == 1


# --- the rate limit -----------------------------------------------------------------------------------------------


def test_a_token_over_its_budget_gets_429_rate_limited_with_retry_after(make_floor: Any) -> None:
    floor: Floor = make_floor(rate_limit_per_minute=3)

    answers = [floor.http.get("/v1/incidents", headers=floor.auth("alice")) for _ in range(4)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert answers[-1].json()["error"]["code"] == "rate_limited"
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert floor.http.get("/v1/incidents", headers=floor.auth("bob")).status_code == 200  # a budget each


def test_requests_without_a_good_token_share_their_address_budget(make_floor: Any) -> None:
    floor: Floor = make_floor(rate_limit_per_minute=2)

    codes = [
        floor.http.get("/v1/incidents", headers={"Authorization": f"Bearer calmly_{n:043d}"}).json()["error"]["code"]
        for n in range(3)
    ]

    assert codes == ["unknown_token", "unknown_token", "rate_limited"]


def test_intake_has_a_budget_of_its_own_so_an_outage_is_not_refused_at_the_peoples_pace(make_floor: Any) -> None:
    floor: Floor = make_floor(rate_limit_per_minute=2, intake_rate_limit_per_minute=5)

    sent = [
        floor.http.post("/v1/mentions", json=mention(str(number), handle=f"@p{number}"), headers=floor.auth("alice"))
        for number in range(6)
    ]
    reading = [floor.http.get("/v1/incidents", headers=floor.auth("alice")) for _ in range(2)]

    assert [answer.status_code for answer in sent] == [200] * 5 + [429]  # past the people's 2, up to intake's 5
    refused = sent[-1].json()["error"]
    assert refused["code"] == "rate_limited"
    assert "send mentions in batches (up to 1,000 a request)" in refused["message"]
    assert refused["details"]["per_minute"] == 5
    assert refused["details"]["retry_after_seconds"] == int(sent[-1].headers["retry-after"]) >= 1
    assert [answer.status_code for answer in reading] == [200, 200]  # the person's own budget is untouched


def test_the_default_intake_budget_takes_an_outages_burst_one_mention_per_request(make_floor: Any) -> None:
    floor: Floor = make_floor()  # the defaults: 600 a minute for people, 36,000 for intake

    codes = {
        floor.http.post(
            "/v1/mentions", json=mention(f"b{number}", handle="@burst"), headers=floor.auth("alice")
        ).status_code
        for number in range(700)
    }

    assert codes == {200}


def test_health_readiness_and_metrics_are_not_rate_limited(make_floor: Any) -> None:
    floor: Floor = make_floor(rate_limit_per_minute=1)

    codes = {floor.http.get(path).status_code for path in ("/healthz", "/metrics") for _ in range(3)}

    assert codes == {200}


def test_a_bucket_refills_at_the_limits_pace() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])

    assert [limiter.take("a") for _ in range(60)] == [None] * 60
    assert limiter.take("a") == pytest.approx(1.0)
    now[0] += 1.0
    assert limiter.take("a") is None
    assert limiter.take("a") is not None


def test_a_limit_of_zero_never_limits() -> None:
    limiter = RateLimiter(0)

    assert all(limiter.take("a") is None for _ in range(10_000))


# --- reload -------------------------------------------------------------------------------------------------------


def test_reload_by_a_social_lead_answers_with_the_playbooks_now_loaded(make_floor: Any) -> None:
    floor: Floor = make_floor()
    book = floor.playbooks / "customer-complaint.yaml"
    book.write_text(book.read_text().replace("\nversion: 2\n", "\nversion: 3\n"))

    answer = floor.http.post("/v1/admin/reload", headers=floor.auth("bob"))

    assert answer.status_code == 200, answer.text
    assert "customer-complaint v3" in answer.json()["playbooks"]
    assert answer.json()["people"] == 9


def test_reload_needs_one_of_the_admin_roles(make_floor: Any) -> None:
    floor: Floor = make_floor()

    refused = floor.http.post("/v1/admin/reload", headers=floor.auth("alice"))
    missing = floor.http.post("/v1/admin/reload")

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "role_not_allowed"
    assert "social_lead" in refused.json()["error"]["message"]
    assert missing.status_code == 401


def test_a_running_incident_keeps_the_version_it_opened_under_after_a_reload(make_floor: Any) -> None:
    floor: Floor = make_floor()
    first = floor.http.post("/v1/mentions", json=mention("1"), headers=floor.auth("alice")).json()["results"][0]
    book = floor.playbooks / "customer-complaint.yaml"
    book.write_text(book.read_text().replace("\nversion: 2\n", "\nversion: 3\n"))
    assert floor.http.post("/v1/admin/reload", headers=floor.auth("bob")).status_code == 200

    second = floor.http.post("/v1/mentions", json=mention("2", handle="@bea"), headers=floor.auth("alice"))
    old = floor.http.get(f"/v1/incidents/{first['incident']}", headers=floor.auth("alice")).json()
    new = floor.http.get(f"/v1/incidents/{second.json()['results'][0]['incident']}", headers=floor.auth("alice"))
    acted = floor.http.post(
        f"/v1/incidents/{first['incident']}/actions/assess",
        json={"version": old["version"], "fields": {"severity": "medium"}},
        headers=floor.auth("alice"),
    )

    assert (old["playbook"], old["playbook_version"]) == ("customer-complaint", 2)
    assert new.json()["playbook_version"] == 3
    assert acted.status_code == 200, acted.text


def test_an_invalid_playbook_keeps_the_old_set_and_reload_answers_422_with_every_problem_located(
    make_floor: Any,
) -> None:
    floor: Floor = make_floor()
    (floor.playbooks / "broken.yaml").write_text("playbook: broken\nversion: one\nlimt: 1\n")

    answer = floor.http.post("/v1/admin/reload", headers=floor.auth("bob"))

    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["code"] == "invalid_reload"
    assert "nothing was reloaded" in error["message"]
    located = {(Path(problem["file"]).name, problem["line"]) for problem in error["details"]}
    assert ("broken.yaml", 2) in located
    assert ("broken.yaml", 3) in located
    assert all({"file", "line", "column", "code", "message"} <= set(problem) for problem in error["details"])
    running = {(book.playbook.id, book.playbook.version) for book in floor.daemon.service.library.current}
    assert ("customer-complaint", 2) in running
    assert not any(name == "broken" for name, _ in running)


def test_a_roster_with_problems_keeps_the_old_roster_and_playbooks(make_floor: Any) -> None:
    floor: Floor = make_floor()
    floor.roster.write_text("people:\n  bob: {roles: []}\n  zed: {rolez: [x]}\n")

    answer = floor.http.post("/v1/admin/reload", headers=floor.auth("bob"))

    assert answer.status_code == 422
    assert answer.json()["error"]["details"]
    assert floor.daemon.context.roster.roles_of("bob") == frozenset({"social_lead"})


def test_a_reload_swaps_the_roster_so_new_roles_count_at_once(make_floor: Any) -> None:
    floor: Floor = make_floor()
    floor.roster.write_text(floor.roster.read_text().replace("roles: [community_manager]", "roles: [social_lead]"))

    assert floor.http.post("/v1/admin/reload", headers=floor.auth("bob")).status_code == 200

    assert floor.http.post("/v1/admin/reload", headers=floor.auth("alice")).status_code == 200


# --- metrics ------------------------------------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_metrics_count_incidents_by_playbook_state_and_severity_and_the_outbox(make_floor: Any) -> None:
    floor: Floor = make_floor()
    for number, handle in enumerate(("@a", "@b", "@c")):
        floor.http.post("/v1/mentions", json=mention(str(number), handle=handle), headers=floor.auth("alice"))
    floor.http.post("/v1/admin/clock", json={"advance": "5h"}, headers=floor.auth("bob"))

    answer = floor.http.get("/metrics")

    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found = samples(answer.text)
    labels = (("playbook", "customer-complaint"), ("severity", "medium"), ("state", "detected"))
    assert found[("calmly_incidents", labels)] == 3
    assert found[("calmly_incidents_breached", (("playbook", "customer-complaint"),))] == 3
    assert found[("calmly_outbox_pending", ())] == len(floor.store.outbox(state="pending", limit=1000))
    assert found[("calmly_outbox_pending", ())] > 0


def test_metrics_time_requests_by_route_template_and_status(make_floor: Any) -> None:
    floor: Floor = make_floor()
    floor.http.get("/v1/incidents/inc-404", headers=floor.auth("alice"))

    found = samples(floor.http.get("/metrics").text)

    key = (
        "calmly_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/v1/incidents/{incident_id}"), ("status", "404")),
    )
    assert found[key] >= 1
    assert not any("inc-404" in str(labels) for _, labels in found)


def test_deadlines_fired_by_moving_the_simulated_clock_are_measured_in_the_lateness_metric(make_floor: Any) -> None:
    floor: Floor = make_floor()
    floor.http.post("/v1/mentions", json=mention("late-1"), headers=floor.auth("alice"))
    lateness = "calmly_deadline_lateness_seconds"
    before = samples(floor.http.get("/metrics").text)

    moved = floor.http.post("/v1/admin/clock", json={"advance": "5h"}, headers=floor.auth("bob"))

    after = samples(floor.http.get("/metrics").text)
    assert moved.status_code == 200, moved.text
    fired = moved.json()["fired"]
    assert fired >= 2  # the 75% warnings and the breaches of a 4h limit, five hours on
    assert after[(f"{lateness}_count", ())] == before[(f"{lateness}_count", ())] + fired
    # Each fired an hour or more after it was due (the clock jumped past it): the sum grows by at least that.
    assert after[(f"{lateness}_sum", ())] >= before[(f"{lateness}_sum", ())] + fired * 3600


def test_the_delivery_counters_are_there_for_the_courier_to_count() -> None:
    metrics.DELIVERIES.labels(channel="test", outcome="delivered").inc()
    metrics.DELIVERY_FAILURES.labels(channel="test", retryable="true").inc()

    text = metrics.generate_latest(metrics.REGISTRY).decode()

    assert 'calmly_notification_deliveries_total{channel="test",outcome="delivered"}' in text
    assert 'calmly_notification_delivery_failures_total{channel="test",retryable="true"}' in text


def test_the_scheduler_observes_how_late_each_deadline_fired(make_floor: Any) -> None:
    floor: Floor = make_floor()
    floor.http.post("/v1/mentions", json=mention("1"), headers=floor.auth("alice"))
    before = metrics.DEADLINE_LATENESS.collect()[0]
    counted = {sample.name: sample.value for sample in before.samples}.get("calmly_deadline_lateness_seconds_count", 0)
    clock = floor.daemon.context.simulated
    assert clock is not None
    scheduler = Scheduler(floor.daemon.service, clock.now, True)
    scheduler.start()
    try:
        clock.advance(timedelta(hours=5))
        scheduler.wake()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            after = {s.name: s.value for s in metrics.DEADLINE_LATENESS.collect()[0].samples}
            if after["calmly_deadline_lateness_seconds_count"] > counted:
                break
            time.sleep(0.02)
    finally:
        scheduler.stop()

    after = {s.name: s.value for s in metrics.DEADLINE_LATENESS.collect()[0].samples}
    assert after["calmly_deadline_lateness_seconds_count"] >= counted + 2
    assert after["calmly_deadline_lateness_seconds_sum"] > 0  # fired an hour or more after due
