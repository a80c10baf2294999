"""`calmly serve` as operators run it: signed intake, SIGHUP reloads, /metrics, and a log that never holds a secret.

One daemon process on a loopback port with intake secrets in its environment, debug logs, and real receivers on
loopback for its notifications (an HTTP server standing in for Slack and a webhook, aiosmtpd asking for a login);
the test drives intake, actions, refusals, reloads and deliveries through it, then reads every line it logged.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from serving import CALMLY, START, ServedDaemon, free_port

from engine.service import signature_headers

# The mail server asks for a login over plain loopback on purpose: the credentials must still stay out of the log.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2Vjb25kLXNlY3JldC1mb3Itcm90YXRpb24=")
# The notification secrets, each distinct enough that any trace of one in the log is found.
SLACK_PATH = "/services/T0CALMLY1/B0CALMLY2/slackPathSecretX7q9Zr2mKw"
HOOK_SECRET = "whsec_aG9vay1zaWduaW5nLXNlY3JldC1mb3ItdGhlLWxvZw=="
HOOK_PASSWORD = "urlPasswordQ4v8Lm2x"
HOOK_TOKEN = "queryTokenR7k3Wp9s"
SMTP_USER = "mailerUserJ5d2Hn8c"
SMTP_PASSWORD = "smtpPasswordT6f1Bq4z"


def calmly(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CALMLY), *args], input=stdin, capture_output=True, text=True, timeout=60, check=False, env=env
    )


class Receiver:
    """An HTTP server on 127.0.0.1 that answers 200 to every POST and keeps the paths it was sent."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        paths = self.paths

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", "0")))
                paths.append(self.path)
                self.send_response(200)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def port(self) -> int:
        port: int = self.server.server_address[1]
        return port

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    """aiosmtpd that asks for a login (over plain loopback) and counts what it is given."""

    def __init__(self) -> None:
        self.messages = 0
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=free_port(),
            authenticator=self.authenticate,
            auth_required=True,
            auth_require_tls=False,
        )
        self.controller.start()

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        good = isinstance(data, LoginPassword) and (data.login, data.password) == (
            SMTP_USER.encode(),
            SMTP_PASSWORD.encode(),
        )
        return AuthResult(success=good)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages += 1
        return "250 OK"


def notifying_roster(receiver: Receiver, mailbox: Mailbox) -> str:
    """The example roster, with the warning going to a signed webhook (its address holding a password and a token)
    and the breach to Slack and to email through a server that needs a login."""
    hook = f"http://hooker:{HOOK_PASSWORD}@127.0.0.1:{receiver.port}/hook?token={HOOK_TOKEN}"
    return (
        (ROOT / "examples" / "roster.yaml").read_text()
        + f"""
roles:
  community_manager:
    notify:
      - {{channel: webhook, url: "{hook}", secret_env: HOOK_SECRET}}
  social_lead:
    notify:
      - {{channel: slack, url_env: SLACK_URL}}
      - {{channel: email, to: [bob@example.com]}}
smtp:
  host: 127.0.0.1
  port: {mailbox.controller.port}
  from: calmly@example.com
  starttls: never
  username_env: SMTP_USER
  password_env: SMTP_PASSWORD
"""
    )


class Operated(ServedDaemon):
    """A daemon run with signed intake (two secrets, as while rotating), debug logs, notifications delivered for
    real, and copies of the playbooks and roster it may reload."""

    def __init__(self, folder: Path) -> None:
        self.playbooks = folder / "playbooks"
        shutil.copytree(ROOT / "playbooks", self.playbooks)
        self.receiver = Receiver()
        self.mailbox = Mailbox()
        self.roster = folder / "roster.yaml"
        self.roster.write_text(notifying_roster(self.receiver, self.mailbox))
        super().__init__(
            folder,
            playbooks=self.playbooks,
            roster=self.roster,
            people=("alice", "bob", "carol"),
            SLACK_URL=f"http://127.0.0.1:{self.receiver.port}{SLACK_PATH}",
            HOOK_SECRET=HOOK_SECRET,
            SMTP_USER=SMTP_USER,
            SMTP_PASSWORD=SMTP_PASSWORD,
            CALMLY_INTAKE_SECRETS=",".join(SECRETS),
            CALMLY_LOG_LEVEL="debug",
        )

    def signed(self, body: bytes, message_id: str, secret: str) -> httpx.Response:
        headers = {"content-type": "application/json", **signature_headers(secret, message_id, datetime.now(UTC), body)}
        return httpx.post(f"{self.url}/v1/mentions", content=body, headers=headers)

    def stop(self) -> int:
        code = super().stop()
        self.receiver.close()
        self.mailbox.controller.stop()
        return code


@pytest.fixture(scope="module")
def operated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Operated]:
    daemon = Operated(tmp_path_factory.mktemp("operated"))
    try:
        yield daemon
    finally:
        daemon.stop()


def mention(external_id: str, handle: str) -> bytes:
    item = {
        "channel": "twitter",
        "external_id": external_id,
        "text": "My order arrived broken",
        "posted_at": START,
        "author": {"handle": handle, "followers": 10},
    }
    return json.dumps(item).encode()


def test_calmly_ingest_signs_with_the_intake_secret_from_its_environment(operated: Operated) -> None:
    line = mention("cli-1", "@cli").decode() + "\n"
    env = {**operated.env, "CALMLY_URL": operated.url, "CALMLY_INTAKE_SECRET": SECRETS[0]}

    done = calmly("ingest", "-", "--format", "json", env=env, stdin=line)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"][0]["status"] == "opened"


def test_sighup_reloads_the_playbooks_and_a_broken_one_is_refused_with_the_old_set_kept(operated: Operated) -> None:
    book = operated.playbooks / "customer-complaint.yaml"
    book.write_text(book.read_text().replace("\nversion: 1\n", "\nversion: 2\n"))
    seen = len(operated.entries())

    operated.process.send_signal(signal.SIGHUP)

    reloaded = operated.wait_for_log("reloaded", seen)
    assert reloaded["asked_by"] == "SIGHUP"
    assert "customer-complaint v2" in reloaded["playbooks"]  # type: ignore[operator]

    (operated.playbooks / "broken.yaml").write_text("playbook: broken\nversion: one\n")
    seen = len(operated.entries())
    operated.process.send_signal(signal.SIGHUP)
    refused = operated.wait_for_log("reload refused: the playbooks have errors", seen)
    (operated.playbooks / "broken.yaml").unlink()

    assert any(problem["line"] == 2 for problem in refused["problems"])  # type: ignore[attr-defined]
    ready = httpx.get(f"{operated.url}/readyz").json()
    assert "customer-complaint v2" in ready["playbooks"]
    assert operated.process.poll() is None


def test_no_secret_or_token_ever_reaches_the_log(operated: Operated) -> None:
    # Intake: signed with each secret, replayed, badly signed, unsigned with a token.
    assert operated.signed(mention("log-1", "@one"), "msg_log_1", SECRETS[0]).status_code == 200
    assert operated.signed(mention("log-2", "@two"), "msg_log_2", SECRETS[1]).status_code == 200
    assert operated.signed(mention("log-2", "@two"), "msg_log_2", SECRETS[1]).status_code == 409
    assert operated.signed(mention("log-3", "@three"), "msg_log_3", "whsec_d3JvbmctYnV0LXdlbGwtZm9ybWVk").status_code
    unsigned = httpx.post(
        f"{operated.url}/v1/mentions", content=mention("log-4", "@four"), headers=operated.auth("bob")
    )
    assert unsigned.status_code == 401
    # Actions: allowed, refused for the role, with a revoked-looking and a malformed token.
    listed = httpx.get(f"{operated.url}/v1/incidents", headers=operated.auth("alice")).json()["incidents"]
    incident = listed[0]["id"]
    acted = httpx.post(
        f"{operated.url}/v1/incidents/{incident}/actions/assess",
        json={"version": listed[0]["version"], "fields": {"severity": "medium"}},
        headers=operated.auth("alice"),
    )
    assert acted.status_code == 200, acted.text
    refused = httpx.post(
        f"{operated.url}/v1/incidents/{incident}/actions/review",
        json={"version": acted.json()["incident"]["version"], "fields": {}},
        headers=operated.auth("carol"),
    )
    assert refused.status_code in (403, 422)
    forged = operated.tokens["alice"][:-4] + "AAAA"
    assert httpx.get(f"{operated.url}/v1/incidents", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    assert httpx.get(f"{operated.url}/v1/incidents", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    # Operations: a reload by the social lead, one refused for alice, and a scrape.
    assert httpx.post(f"{operated.url}/v1/admin/reload", headers=operated.auth("bob")).status_code == 200
    assert httpx.post(f"{operated.url}/v1/admin/reload", headers=operated.auth("alice")).status_code == 403
    assert httpx.get(f"{operated.url}/metrics").status_code == 200
    seen = len(operated.entries())
    operated.process.send_signal(signal.SIGHUP)
    operated.wait_for_log("reloaded", seen)
    # Notifications: nobody acts on the next complaints, so the warning (webhook) and the breach (Slack, email) go out.
    assert operated.signed(mention("log-5", "@five"), "msg_log_5", SECRETS[0]).status_code == 200
    moved = httpx.post(f"{operated.url}/v1/admin/clock", json={"advance": "5h"}, headers=operated.auth("bob"))
    assert moved.status_code == 200, moved.text
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not (
        operated.mailbox.messages
        and any(path.startswith("/hook") for path in operated.receiver.paths)
        and SLACK_PATH in operated.receiver.paths
    ):
        time.sleep(0.05)
    operated.wait_for_log("delivered", seen)  # recorded (and logged) once the round's sending is done

    log = operated.log.read_text()

    assert operated.mailbox.messages, log  # delivered, so the log had every chance to say too much
    assert SLACK_PATH in operated.receiver.paths
    assert any(path.startswith("/hook") for path in operated.receiver.paths)
    assert operated.entries()  # the log is there, as JSON lines
    assert '"event": "delivered"' in log
    for secret in SECRETS:
        assert secret not in log
        assert secret.removeprefix("whsec_") not in log
    for token in [*operated.tokens.values(), forged]:
        assert token not in log
        assert token.removeprefix("calmly_") not in log
    for secret in (SLACK_PATH, HOOK_SECRET, HOOK_SECRET.removeprefix("whsec_"), HOOK_PASSWORD, HOOK_TOKEN):
        assert secret not in log
    for secret in (SMTP_USER, SMTP_PASSWORD):
        assert secret not in log
    assert "replayed request refused" in log
