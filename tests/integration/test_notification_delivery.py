"""Notifications delivered for real on loopback: a signed webhook, Slack, email through an SMTP server, the log.

Each test builds the daemon's parts on a store in a temporary folder (the service on a clock moved by hand, the
roster read from a YAML file, a dispatcher with the real channels and a fixed jitter), lets a deadline fire, and
reads what a small HTTP receiver and an aiosmtpd server got. Retries are driven by moving the clock to the time the
store says, never by sleeping.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import structlog
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook

from engine.notify import Channel, Dispatcher, EmailChannel, LogChannel, RetryPolicy, SlackChannel, WebhookChannel
from engine.notify._dispatcher import Outcome
from engine.service import Library, Roster, Service, load_roster
from engine.store import Delivery, SQLiteStore
from engine.testing import FakeClock

ROOT = Path(__file__).resolve().parents[2]
CALMLY = Path(sys.executable).with_name("calmly")
# A Monday well before the wall clock, so nothing here works only because the two clocks happen to agree.
START = "2025-11-24T09:00:00+00:00"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
JITTER = 0.5  # every wait is 3/4 of its nominal length
BREACH = "inc-1/limit:detected/0/1/0"  # the limit for detected (4h for a medium complaint) runs out
LINK = "https://desk.example.com/incidents/{incident}"


# --- receivers ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST and answers as told: a list of statuses (or "hang", to
    answer nothing until released) taken one per request, then 200."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.answers: list[int | str] = []
        self.released = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {name.lower(): value for name, value in self.headers.items()}
                receiver.requests.append(Request(self.path, headers, body))
                answer = receiver.answers.pop(0) if receiver.answers else 200
                if answer == "hang":
                    receiver.released.wait(10)
                    return
                self.send_response(int(answer))
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), name="receiver", daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def on(self, path: str) -> list[Request]:
        return [request for request in self.requests if request.path == path]

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """An aiosmtpd handler that keeps every message and answers DATA as told (then 250)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []
        self.answers: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return self.answers.pop(0) if self.answers else "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [message for recipients, message in self.messages if address in recipients]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    made = Receiver()
    yield made
    made.close()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    handler = Mailbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield handler, controller.port
    controller.stop()


# --- the floor: store, library, service, roster, dispatcher --------------------------------------------------------


@dataclass
class Floor:
    folder: Path
    clock: FakeClock
    store: SQLiteStore
    service: Service
    roster: Roster
    dispatcher: Dispatcher
    policy: RetryPolicy
    environment: dict[str, str] = field(default_factory=dict)

    def escalate(self, text: str = "My order arrived broken", channel: str = "twitter", by: str = "4h12m") -> None:
        """A complaint comes in, nobody acts, the clock moves ``by``: what fell due fires and is routed."""
        self.service.ingest(
            [
                {
                    "channel": channel,
                    "external_id": "m-1",
                    "text": text,
                    "posted_at": self.clock.now().isoformat(),
                    "author": {"handle": "@ann_b", "followers": 10},
                }
            ]
        )
        self.clock.advance(by)
        assert self.service.fire_due()
        assert self.dispatcher.route() > 0

    def delivery(self, key: str, destination: str) -> Delivery:
        (found,) = [
            item
            for item in self.store.deliveries(None, 1000)
            if (item.outbox_key, item.destination) == (key, destination)
        ]
        return found


FloorMaker = Callable[..., Floor]


@pytest.fixture
def make_floor(tmp_path: Path, mailbox: tuple[Mailbox, int]) -> Iterator[FloorMaker]:
    made: list[Floor] = []

    def make(roster_yaml: str, policy: RetryPolicy | None = None, **environment: str) -> Floor:
        clock = FakeClock(START)
        roster_file = tmp_path / "roster.yaml"
        roster_file.write_text(roster_yaml.replace("SMTP_PORT", str(mailbox[1])))
        roster = load_roster(roster_file)
        assert isinstance(roster, Roster), roster
        store = SQLiteStore(tmp_path / "data")
        store.migrate()
        library = Library(store)
        library.install([ROOT / "playbooks"], clock.now())
        env = {"HOOK_SECRET": SECRET, **environment}
        channels: dict[str, Channel] = {
            "log": LogChannel(),
            "webhook": WebhookChannel(env, lambda: datetime.now(UTC), timeout=0.5),
            "slack": SlackChannel(env, timeout=0.5),
            "email": EmailChannel(roster.smtp, env),
        }
        chosen = policy or RetryPolicy()
        dispatcher = Dispatcher(
            store, library, lambda: roster, channels, clock.now, policy=chosen, jitter=lambda: JITTER
        )
        floor = Floor(
            tmp_path / "data", clock, store, Service(store, library, clock.now), roster, dispatcher, chosen, env
        )
        made.append(floor)
        return floor

    yield make
    for floor in made:
        floor.store.close()


def webhook_roster(receiver: Receiver, path: str = "/hook", secret: bool = True, more_roles: str = "") -> str:
    signed = ", secret_env: HOOK_SECRET" if secret else ""
    return f"""
people:
  alice: {{name: Alice Moreau, email: alice@example.com, roles: [community_manager]}}
  bob:   {{name: Bob Okafor, email: bob@example.com, roles: [social_lead]}}
roles:
  social_lead:
    notify:
      - {{channel: webhook, url: "{receiver.url(path)}"{signed}}}
{more_roles}incident_link: "{LINK}"
"""


def sent(outcomes: list[Outcome]) -> list[Outcome]:
    """The outcomes of deliveries that left the process (not the log lines of roles nobody wired)."""
    return [outcome for outcome in outcomes if outcome.delivery.channel != "log"]


def calmly(*args: str) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("CALMLY_")}
    return subprocess.run([str(CALMLY), *args], capture_output=True, text=True, timeout=30, check=False, env=clean)


# --- what arrives --------------------------------------------------------------------------------------------------


def test_a_breach_arrives_as_a_webhook_signed_so_the_reference_library_accepts_it_keyed_by_the_notification(
    make_floor: FloorMaker, receiver: Receiver
) -> None:
    floor = make_floor(webhook_roster(receiver))
    floor.escalate()

    outcomes = floor.dispatcher.deliver_due()

    assert {outcome.error for outcome in outcomes} == {None}
    keys = [request.headers["webhook-id"] for request in receiver.on("/hook")]
    assert sorted(keys) == ["inc-1/first_response/0/1/0", BREACH]  # social_lead's two breaches, nothing else
    (request,) = [request for request in receiver.on("/hook") if request.headers["webhook-id"] == BREACH]
    payload = Webhook(SECRET).verify(request.body, request.headers)
    assert payload["type"] == "incident.breach"
    assert payload["key"] == BREACH
    assert payload["data"]["incident"] == "inc-1"
    assert payload["data"]["link"] == "https://desk.example.com/incidents/inc-1"
    assert payload["data"]["late_by_seconds"] == 12 * 60
    assert floor.delivery(BREACH, f"webhook:{receiver.url('/hook')}").state == "delivered"
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24=").verify(request.body, request.headers)


def test_the_message_says_what_happened_to_which_incident_under_which_rule_how_late_and_what_can_be_done_next(
    make_floor: FloorMaker, receiver: Receiver
) -> None:
    floor = make_floor(webhook_roster(receiver))
    floor.escalate()
    floor.dispatcher.deliver_due()

    (request,) = [request for request in receiver.on("/hook") if request.headers["webhook-id"] == BREACH]
    text = request.json()["text"]

    assert request.json()["subject"] == "[calmly] Breach: inc-1 limit:detected (medium)"
    assert "The time limit for detected of inc-1 has run out: 12m overdue (it was due 13:00 UTC)." in text
    assert "medium customer complaint incident on twitter by @ann_b, now detected" in text
    assert "Rule: escalation step 2 of customer-complaint v2 (at 100% of the time); notifying social_lead." in text
    assert "Next: assess (community_manager, social_lead); do_not_engage (social_lead)." in text
    assert text.rstrip().endswith("https://desk.example.com/incidents/inc-1")


def test_slack_gets_text_and_blocks_with_the_incident_the_clock_how_late_and_the_link(
    make_floor: FloorMaker, receiver: Receiver
) -> None:
    floor = make_floor(
        f"""
people:
  bob: {{email: bob@example.com, roles: [social_lead]}}
roles:
  social_lead:
    notify: [{{channel: slack, url_env: SLACK_URL}}]
incident_link: "{LINK}"
""",
        SLACK_URL=receiver.url("/slack"),
    )
    floor.escalate()

    floor.dispatcher.deliver_due()

    bodies = [request.json() for request in receiver.on("/slack")]
    assert len(bodies) == 2  # the two breaches; the warnings went to community_manager's log
    (body,) = [body for body in bodies if "limit:detected" in body["text"]]
    assert "inc-1" in body["text"]
    assert "12m overdue" in body["text"]
    blocks = json.dumps(body["blocks"])
    for expected in ("inc-1", "limit:detected", "12m overdue", "https://desk.example.com/incidents/inc-1", BREACH):
        assert expected in blocks
    assert floor.delivery(BREACH, "slack:SLACK_URL").state == "delivered"
    assert all(request.headers.get("content-type") == "application/json" for request in receiver.on("/slack"))


def test_an_email_goes_to_each_person_of_the_role_with_an_address_and_to_listed_addresses_in_text_and_html(
    make_floor: FloorMaker, mailbox: tuple[Mailbox, int]
) -> None:
    floor = make_floor("""
people:
  alice: {email: alice@example.com, roles: [community_manager]}
  bob:   {email: bob@example.com, roles: [social_lead]}
  bea:   {email: bea@example.com, roles: [social_lead]}
  noel:  {roles: [social_lead]}
roles:
  social_lead:
    notify: [{channel: email}]
  community_manager:
    notify: [{channel: email, to: [desk@example.com]}]
smtp: {host: 127.0.0.1, port: SMTP_PORT, from: calmly@example.com, starttls: auto}
incident_link: "https://desk.example.com/incidents/{incident}"
""")
    floor.escalate()

    outcomes = floor.dispatcher.deliver_due()

    assert [outcome.error for outcome in outcomes if outcome.error] == []
    box = mailbox[0]
    assert sorted({address for recipients, _ in box.messages for address in recipients}) == [
        "bea@example.com",
        "bob@example.com",
        "desk@example.com",  # community_manager's own list, not alice
    ]
    (to_bob,) = [message for message in box.to("bob@example.com") if message["X-Calmly-Key"] == BREACH]
    assert to_bob["Subject"] == "[calmly] Breach: inc-1 limit:detected (medium)"
    assert to_bob["From"] == "calmly@example.com"
    plain = to_bob.get_body(("plain",))
    rich = to_bob.get_body(("html",))
    assert plain is not None
    assert rich is not None
    assert "12m overdue" in plain.get_content()
    assert "https://desk.example.com/incidents/inc-1" in plain.get_content()
    assert 'href="https://desk.example.com/incidents/inc-1"' in rich.get_content()
    (to_bea,) = [message for message in box.to("bea@example.com") if message["X-Calmly-Key"] == BREACH]
    ids = {message["Message-ID"] for _, message in box.messages}
    assert len(ids) == len(box.messages)  # one per notification and address
    assert to_bob["Message-ID"] != to_bea["Message-ID"]
    assert len(box.to("desk@example.com")) == 2  # the two warnings


def test_a_mail_server_that_defers_is_tried_again_with_the_same_message_id_and_one_that_refuses_is_given_up(
    make_floor: FloorMaker, mailbox: tuple[Mailbox, int]
) -> None:
    floor = make_floor("""
people:
  bob: {email: bob@example.com, roles: [social_lead]}
roles:
  social_lead:
    notify: [{channel: email}]
smtp: {host: 127.0.0.1, port: SMTP_PORT, from: calmly@example.com}
""")
    box = mailbox[0]
    box.answers = ["451 try again later", "550 no such mailbox"]  # taken in delivery order
    floor.escalate()

    first = sent(floor.dispatcher.deliver_due())
    deferred, refused = (outcome.delivery.outbox_key for outcome in first)
    assert floor.delivery(deferred, "email:bob@example.com").state == "pending"
    assert floor.delivery(refused, "email:bob@example.com").state == "dead"
    assert floor.delivery(refused, "email:bob@example.com").last_error == "the mail server answered 550"
    floor.clock.set(floor.delivery(deferred, "email:bob@example.com").next_attempt_at)
    floor.dispatcher.deliver_due()

    assert floor.delivery(deferred, "email:bob@example.com").state == "delivered"
    tries = [message for message in box.to("bob@example.com") if message["X-Calmly-Key"] == deferred]
    assert len(tries) == 2
    assert tries[0]["Message-ID"] == tries[1]["Message-ID"]


def test_two_roles_sharing_an_address_get_one_email_and_a_role_without_channels_is_told_in_the_log(
    make_floor: FloorMaker, mailbox: tuple[Mailbox, int]
) -> None:
    floor = make_floor("""
people:
  grace: {email: grace@example.com, roles: [legal_counsel, comms_director]}
  priya: {email: priya@example.com, roles: [product_safety]}
roles:
  legal_counsel:  {notify: [{channel: email}]}
  comms_director: {notify: [{channel: email}]}
  product_safety: {notify: []}
smtp: {host: 127.0.0.1, port: SMTP_PORT, from: calmly@example.com}
""")
    # Critical safety case: legal, comms and safety are told the moment it opens (a notify_on rule).
    floor.escalate(
        text="My daughter had an allergic reaction to your cereal bar and we ended up in A&E",
        channel="instagram",
        by="3m",
    )

    with structlog.testing.capture_logs() as logged:
        outcomes = floor.dispatcher.deliver_due()

    first_call, half_way = "inc-1/event/opened/0/r0", "inc-1/limit:detected/0/0/0"
    assert sorted((outcome.delivery.outbox_key, outcome.delivery.destination) for outcome in outcomes) == [
        (first_call, "email:grace@example.com"),  # legal_counsel, comms_director and product_safety at 0m
        (first_call, "log:product_safety"),
        (half_way, "email:grace@example.com"),  # legal_counsel and comms_director at 2.5m
    ]
    assert sorted(message["X-Calmly-Key"] for message in mailbox[0].to("grace@example.com")) == [first_call, half_way]
    assert mailbox[0].to("priya@example.com") == []
    assert floor.delivery(first_call, "log:product_safety").state == "delivered"
    (line,) = [entry for entry in logged if entry["event"] == "notification"]
    assert (line["key"], line["role"], line["incident_id"]) == (first_call, "product_safety", "inc-1")
    assert "legal_counsel, comms_director, product_safety" in line["text"]


def test_a_burst_of_notifications_is_routed_in_one_go_each_to_its_destinations_once(make_floor: FloorMaker) -> None:
    floor = make_floor("people:\n  alice: {roles: [community_manager]}\n")
    floor.service.ingest(
        [
            {
                "channel": "twitter",
                "external_id": f"m-{number}",
                "text": "My order arrived broken",
                "posted_at": floor.clock.now().isoformat(),
                "author": {"handle": f"@customer{number}", "followers": 10},
            }
            for number in range(40)
        ]
    )
    floor.clock.advance("3h")  # the warnings of the detected limit and of the first response, for each complaint
    while floor.service.fire_due():
        pass

    routed = floor.dispatcher.route()

    assert routed == 80
    assert floor.dispatcher.route() == 0
    deliveries = floor.store.deliveries(None, 1000)
    assert sorted(item.outbox_key for item in deliveries) == sorted(row.key for row in floor.store.outbox(limit=1000))
    assert {item.destination for item in deliveries} == {"log:community_manager"}
    assert len(floor.dispatcher.deliver_due(limit=1000)) == 80


# --- retries, giving up, the dead-letter list ------------------------------------------------------------------------


def test_a_receiver_failing_then_answering_gets_the_same_webhook_id_again_after_the_backoff(
    make_floor: FloorMaker, receiver: Receiver
) -> None:
    floor = make_floor(webhook_roster(receiver))
    receiver.answers = [500]  # the first request fails, everything after succeeds
    floor.escalate()
    destination = f"webhook:{receiver.url('/hook')}"
    failed_at = floor.clock.now()

    floor.dispatcher.deliver_due()

    (failed,) = floor.store.deliveries("pending", 100)
    assert (failed.attempts, failed.last_error) == (1, "HTTP 500 from the receiver")
    backoff = floor.policy.delay(1, JITTER)
    assert backoff == timedelta(seconds=3.75)  # 5 s, scaled by 0.5 + jitter / 2
    assert failed.next_attempt_at == failed_at + backoff
    assert floor.dispatcher.next_due() == failed_at + backoff

    floor.clock.advance(backoff - timedelta(milliseconds=1))
    assert floor.dispatcher.deliver_due() == []  # not yet
    floor.clock.advance(timedelta(milliseconds=1))
    (retried,) = floor.dispatcher.deliver_due()

    assert retried.error is None
    done = floor.delivery(failed.outbox_key, destination)
    assert (done.state, done.attempts, done.last_error) == ("delivered", 2, None)
    ids = [request.headers["webhook-id"] for request in receiver.on("/hook")]
    assert ids.count(failed.outbox_key) == 2
    for request in receiver.on("/hook"):
        Webhook(SECRET).verify(request.body, request.headers)  # the retry is signed afresh


def test_a_refused_request_goes_straight_to_the_dead_letter_list(make_floor: FloorMaker, receiver: Receiver) -> None:
    floor = make_floor(webhook_roster(receiver))
    receiver.answers = [400, 400]
    floor.escalate()

    outcomes = sent(floor.dispatcher.deliver_due())

    assert [outcome.retry_at for outcome in outcomes] == [None, None]
    dead = floor.store.deliveries("dead", 100)
    assert [(item.attempts, item.last_error) for item in dead] == [(1, "HTTP 400 from the receiver")] * 2
    assert floor.store.deliveries("pending", 100) == []
    assert floor.dispatcher.next_due() is None


@pytest.mark.parametrize(
    ("answer", "error"),
    [(429, "HTTP 429 from the receiver"), ("hang", "the receiver did not answer in time (ReadTimeout)")],
    ids=["too-many-requests", "timeout"],
)
def test_a_busy_or_silent_receiver_is_tried_again_later(
    make_floor: FloorMaker, receiver: Receiver, answer: int | str, error: str
) -> None:
    floor = make_floor(webhook_roster(receiver))
    floor.escalate()
    receiver.answers = [answer]
    failed_at = floor.clock.now()

    first, second = sent(floor.dispatcher.deliver_due())

    assert first.error is not None
    assert (first.error.reason, first.retry_at) == (error, failed_at + floor.policy.delay(1, JITTER))
    assert second.error is None
    assert first.retry_at is not None
    floor.clock.set(first.retry_at)
    (again,) = floor.dispatcher.deliver_due()
    assert again.error is None
    assert floor.delivery(first.delivery.outbox_key, first.delivery.destination).state == "delivered"


def test_a_missing_signing_secret_is_not_retried(make_floor: FloorMaker, receiver: Receiver) -> None:
    floor = make_floor(webhook_roster(receiver).replace("HOOK_SECRET", "UNSET_SECRET"))
    floor.escalate()

    floor.dispatcher.deliver_due()

    assert receiver.requests == []  # never sent unsigned
    assert {item.last_error for item in floor.store.deliveries("dead", 100)} == {
        "the signing secret's variable UNSET_SECRET is not set"
    }


def test_after_the_last_attempt_a_delivery_is_dead_listed_and_put_back_by_the_outbox_commands(
    make_floor: FloorMaker, receiver: Receiver
) -> None:
    policy = RetryPolicy(attempts=3)
    floor = make_floor(webhook_roster(receiver), policy=policy)
    floor.escalate()
    receiver.answers = [503] * 6  # both breaches fail every time
    destination = f"webhook:{receiver.url('/hook')}"

    waits = []
    for _ in range(policy.attempts):
        before = floor.clock.now()
        assert len(sent(floor.dispatcher.deliver_due())) == 2
        due = floor.dispatcher.next_due()
        if due is not None:
            waits.append(due - before)
            floor.clock.set(due)

    assert waits == [policy.delay(1, JITTER), policy.delay(2, JITTER)]  # 3.75 s, then 7.5 s
    dead = floor.delivery(BREACH, destination)
    assert (dead.state, dead.attempts, dead.last_error) == ("dead", 3, "HTTP 503 from the receiver")
    assert len(receiver.on("/hook")) == 6
    assert floor.dispatcher.deliver_due() == []

    listed = calmly("outbox", "list", "--data", str(floor.folder), "--state", "dead")
    assert listed.returncode == 0, listed.stderr
    assert BREACH in listed.stdout
    assert "HTTP 503 from the receiver" in listed.stdout
    retried = calmly("outbox", "retry", BREACH, "--data", str(floor.folder))
    assert retried.returncode == 0, retried.stderr
    assert retried.stdout.strip() == "1 dead delivery queued again"
    assert floor.delivery(BREACH, destination).state == "pending"

    (resent,) = floor.dispatcher.deliver_due()  # on the daemon's own clock, whatever the wall clock says

    assert resent.error is None
    assert floor.delivery(BREACH, destination).state == "delivered"
    assert receiver.on("/hook")[-1].headers["webhook-id"] == BREACH
    assert floor.delivery("inc-1/first_response/0/1/0", destination).state == "dead"  # only the one named


def test_an_address_that_is_not_a_url_is_dead_listed_and_the_other_deliveries_still_go(
    make_floor: FloorMaker, receiver: Receiver
) -> None:
    floor = make_floor(
        webhook_roster(receiver, more_roles="  community_manager: {notify: [{channel: slack, url_env: SLACK_URL}]}\n"),
        SLACK_URL="http://[::1/broken",  # a variable set by hand, wrongly
    )
    floor.escalate()

    outcomes = floor.dispatcher.deliver_due()

    broken = [outcome for outcome in outcomes if outcome.delivery.channel == "slack"]
    assert len(broken) == 2  # the two warnings
    assert {(outcome.retry_at, outcome.delivery.destination) for outcome in broken} == {(None, "slack:SLACK_URL")}
    dead = floor.store.deliveries("dead", 100)
    assert {item.destination for item in dead} == {"slack:SLACK_URL"}
    assert all("[::1" not in (item.last_error or "") for item in dead)  # the address is a secret
    assert len(receiver.on("/hook")) == 2  # the breaches went out all the same


def test_a_role_wired_to_email_with_nobody_having_an_address_is_told_in_the_log_not_dropped(
    make_floor: FloorMaker, mailbox: tuple[Mailbox, int]
) -> None:
    floor = make_floor("""
people:
  bob: {name: Bob Okafor, roles: [social_lead]}
roles:
  social_lead: {notify: [{channel: email}]}
smtp: {host: 127.0.0.1, port: SMTP_PORT, from: calmly@example.com}
""")
    floor.escalate()

    floor.dispatcher.deliver_due()

    assert mailbox[0].messages == []
    assert floor.delivery(BREACH, "log:social_lead").state == "delivered"


# --- the customer's words ------------------------------------------------------------------------------------------


def test_a_notification_quotes_the_latest_post_shortened_with_its_link(
    make_floor: FloorMaker, receiver: Receiver
) -> None:
    floor = make_floor(webhook_roster(receiver))
    long_post = "My order arrived broken. " + " ".join(f"word{number}" for number in range(100))
    floor.service.ingest(
        [
            {
                "channel": "twitter",
                "external_id": "m-0",
                "text": long_post,
                "posted_at": floor.clock.now().isoformat(),
                "url": "https://x.com/ann_b/status/1",
                "author": {"handle": "@ann_b", "followers": 12000},
            }
        ]
    )
    floor.clock.advance("4h12m")
    floor.service.fire_due()
    floor.dispatcher.route()

    floor.dispatcher.deliver_due()

    (request,) = [request for request in receiver.on("/hook") if request.headers["webhook-id"] == BREACH]
    payload = request.json()
    quoted = payload["data"]["latest_post"]
    assert quoted["text"].startswith("My order arrived broken. word0 word1")
    assert quoted["text"].endswith("…")
    assert len(quoted["text"]) <= 280
    assert quoted["url"] == "https://x.com/ann_b/status/1"
    assert quoted["author"] == {"handle": "@ann_b", "followers": 12000}
    assert f'Latest post, by @ann_b (12,000 followers) on twitter: "{quoted["text"]}"' in payload["text"]
    assert "Post: https://x.com/ann_b/status/1" in payload["text"]


def test_slack_and_email_carry_the_post_and_slack_keeps_its_markup_out_of_it(
    make_floor: FloorMaker, receiver: Receiver, mailbox: tuple[Mailbox, int]
) -> None:
    floor = make_floor(
        f"""
people:
  bob: {{email: bob@example.com, roles: [social_lead]}}
roles:
  social_lead:
    notify: [{{channel: slack, url_env: SLACK_URL}}, {{channel: email}}]
smtp: {{host: 127.0.0.1, port: SMTP_PORT, from: calmly@example.com, starttls: never}}
incident_link: "{LINK}"
""",
        SLACK_URL=receiver.url("/slack"),
    )
    floor.escalate(text="Broken again <!channel> & no refund")

    floor.dispatcher.deliver_due()

    slack = next(request.json() for request in receiver.on("/slack"))
    assert "Broken again &lt;!channel&gt; &amp; no refund" in slack["text"]
    assert "<!channel>" not in json.dumps(slack)
    (message, *_) = mailbox[0].to("bob@example.com")
    plain = message.get_body(("plain",))
    rich = message.get_body(("html",))
    assert plain is not None
    assert rich is not None
    assert 'Latest post, by @ann_b (10 followers) on twitter: "Broken again <!channel> & no refund"' in (
        plain.get_content()
    )
    assert "Broken again &lt;!channel&gt; &amp; no refund" in rich.get_content()


def test_after_a_jump_past_the_warning_and_the_breach_each_notification_is_titled_by_what_it_is(
    make_floor: FloorMaker, receiver: Receiver
) -> None:
    more = f'  community_manager:\n    notify:\n      - {{channel: webhook, url: "{receiver.url("/cm")}"}}\n'
    floor = make_floor(webhook_roster(receiver, more_roles=more))
    floor.escalate(by="4h12m")  # one jump past 75% (3h) and 100% (4h) of the 4h limit

    floor.dispatcher.deliver_due()

    titles = {
        request.headers["webhook-id"]: (request.json()["subject"], request.json()["type"])
        for request in receiver.requests
    }
    assert titles["inc-1/limit:detected/0/0/0"] == (
        "[calmly] Warning: inc-1 limit:detected (medium)",
        "incident.warning",
    )
    assert titles[BREACH] == ("[calmly] Breach: inc-1 limit:detected (medium)", "incident.breach")
