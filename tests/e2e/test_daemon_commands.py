"""`calmly serve` as a real process on a loopback port, and the commands people run against it.

The daemon runs on a simulated clock (``--simulated-clock``) that only moves with ``POST /v1/admin/clock``, so no
test waits for a deadline; the only waiting is for ``/readyz`` after start-up.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CALMLY = Path(sys.executable).with_name("calmly")
PLAYBOOKS = ROOT / "playbooks"
ROSTER = ROOT / "examples" / "roster.yaml"
START = "2026-11-23T09:00:00Z"  # a Monday
READY_WITHIN = 20.0  # seconds; start-up takes well under one


def environment(**extra: str) -> dict[str, str]:
    """The test's environment without any CALMLY_ variable of the machine running it, plus ``extra``."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("CALMLY_")}
    return {**clean, **extra}


def calmly(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [str(CALMLY), *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env or environment(),
    )
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    return done


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


class Daemon:
    """One ``calmly serve`` process, its data folder and its log (standard error, not a terminal)."""

    def __init__(self, folder: Path, port: int | None = None, *extra: str) -> None:
        self.folder = folder
        self.data = folder / "data"
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "daemon.log"
        self.out = folder / "daemon.out"
        with self.log.open("w") as log, self.out.open("w") as out:
            self.process = subprocess.Popen(
                [
                    str(CALMLY),
                    "serve",
                    "--simulated-clock",
                    START,
                    "--listen",
                    f"127.0.0.1:{self.port}",
                    "--data",
                    str(self.data),
                    "--playbooks",
                    str(PLAYBOOKS),
                    "--roster",
                    str(ROSTER),
                    *extra,
                ],
                cwd=folder,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=log,
                env=environment(),
            )

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"calmly serve exited with {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        pytest.fail(f"calmly serve was not ready within {READY_WITHIN}s:\n{self.log.read_text()}")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def log_lines(self) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if line.strip()]

    def token(self, person: str) -> str:
        issued = calmly("token", "issue", person, "--data", str(self.data), "--roster", str(ROSTER))
        assert issued.returncode == 0, issued.stderr
        return issued.stdout.strip()

    def advance(self, duration: str, token: str) -> dict[str, Any]:
        moved = httpx.post(
            f"{self.url}/v1/admin/clock", json={"advance": duration}, headers={"Authorization": f"Bearer {token}"}
        )
        assert moved.status_code == 200, moved.text
        answer: dict[str, Any] = moved.json()
        return answer


class Desk:
    """The running daemon with tokens for alice (community manager) and bob (social lead)."""

    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.alice = daemon.token("alice")
        self.bob = daemon.token("bob")
        self._ids = count(1)

    def as_alice(self) -> dict[str, str]:
        return environment(CALMLY_URL=self.daemon.url, CALMLY_TOKEN=self.alice)

    def run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """A command as alice, who set CALMLY_URL and CALMLY_TOKEN once, as the README suggests."""
        return calmly(*args, stdin=stdin, env=self.as_alice())

    def mention(self, handle: str, text: str = "My order arrived broken", channel: str = "twitter") -> str:
        """A mention by ``handle`` with an external id no other test uses, as one JSON line."""
        item = {
            "channel": channel,
            "external_id": f"e2e-{next(self._ids)}",
            "text": text,
            "posted_at": "2026-11-23T09:00:00Z",
            "author": {"handle": handle, "followers": 10},
        }
        return json.dumps(item)

    def open(self, handle: str, text: str = "My order arrived broken") -> str:
        """A new incident by ``handle``; its id."""
        done = self.run("ingest", "-", "--format", "json", stdin=self.mention(handle, text) + "\n")
        assert done.returncode == 0, done.stderr
        (result,) = json.loads(done.stdout)["results"]
        assert result["status"] == "opened", result
        incident: str = result["incident"]
        return incident


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    daemon = Daemon(tmp_path_factory.mktemp("daemon"))
    try:
        daemon.wait_ready()
        yield Desk(daemon)
    finally:
        code = daemon.stop()
        log = daemon.log.read_text()
        assert "Traceback" not in log, log
        assert code == 0, log


# --- tokens -----------------------------------------------------------------------------------------------------


def test_token_issue_prints_the_token_alone_on_stdout_and_the_advice_on_stderr(desk: Desk) -> None:
    issued = calmly("token", "issue", "carol", "--data", str(desk.daemon.data), "--roster", str(ROSTER))

    assert issued.returncode == 0
    lines = issued.stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("calmly_")
    assert "carol (customer_care)" in issued.stderr
    assert "shown this once" in issued.stderr
    works = httpx.get(f"{desk.daemon.url}/v1/incidents", headers={"Authorization": f"Bearer {lines[0]}"})
    assert works.status_code == 200


def test_an_intake_only_token_from_token_issue_sends_mentions_and_reads_nothing(desk: Desk) -> None:
    issued = calmly(
        "token", "issue", "carol", "--intake-only", "--data", str(desk.daemon.data), "--roster", str(ROSTER)
    )
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    assert "intake-only token for carol" in issued.stderr
    assert "nothing else" in issued.stderr

    sent = calmly(
        "ingest",
        "-",
        stdin=desk.mention("@listened") + "\n",
        env=environment(CALMLY_URL=desk.daemon.url, CALMLY_TOKEN=token),
    )
    listed = httpx.get(f"{desk.daemon.url}/v1/incidents", headers={"Authorization": f"Bearer {token}"})

    assert sent.returncode == 0, sent.stderr
    assert listed.status_code == 403
    assert listed.json()["error"]["code"] == "intake_only_token"


def test_token_issue_refuses_a_person_not_in_the_roster(desk: Desk) -> None:
    refused = calmly("token", "issue", "mallory", "--data", str(desk.daemon.data), "--roster", str(ROSTER))

    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "'mallory' is not in the roster" in refused.stderr
    assert "alice" in refused.stderr  # it lists who is


# --- ingest -----------------------------------------------------------------------------------------------------


def test_ingest_a_file_reports_each_line_and_a_summary(desk: Desk, tmp_path: Path) -> None:
    first = desk.mention("@ingest_file")
    lines = [first, "", desk.mention("@ingest_file", "Still waiting, still broken"), first]
    source = tmp_path / "mentions.jsonl"
    source.write_text("\n".join(lines) + "\n")

    done = desk.run("ingest", str(source))

    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    name = source.as_posix()
    assert out[0].startswith(f"{name}:1: opened inc-")
    incident = out[0].rsplit(" ", 1)[1]
    assert out[1:] == [
        f"{name}:3: joined {incident}",
        f"{name}:4: duplicate {incident}",
        "3 mentions: 1 duplicate, 1 joined, 1 opened",
    ]


def test_ingest_reads_standard_input_given_as_a_dash(desk: Desk) -> None:
    done = desk.run("ingest", "-", stdin=desk.mention("@ingest_stdin") + "\n")

    assert done.returncode == 0, done.stderr
    opened, summary = done.stdout.splitlines()
    assert opened.startswith("<stdin>:1: opened inc-")
    assert summary == "1 mention: 1 opened"


def test_ingest_a_file_with_one_bad_line_sends_nothing_and_names_the_line(desk: Desk, tmp_path: Path) -> None:
    good = desk.mention("@ingest_bad")
    bad = json.dumps({**json.loads(desk.mention("@ingest_bad")), "channel": "carrier_pigeon"})
    source = tmp_path / "mixed.jsonl"
    source.write_text(f"{good}\n{bad}\n")

    refused = desk.run("ingest", str(source))
    sent_alone = desk.run("ingest", "-", stdin=good + "\n")

    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "nothing was sent" in refused.stderr
    assert f"{source.as_posix()}:2: channel is 'carrier_pigeon'" in refused.stderr
    assert ":1:" not in refused.stderr
    assert ": opened inc-" in sent_alone.stdout  # the good line was not recorded the first time


def test_ingest_names_a_line_that_is_not_json_with_its_column(desk: Desk, tmp_path: Path) -> None:
    source = tmp_path / "broken.jsonl"
    source.write_text(desk.mention("@ingest_json") + "\n{'single': 'quotes'}\n")

    refused = desk.run("ingest", str(source))

    assert refused.returncode == 1
    assert f"{source.as_posix()}:2:2: not valid JSON" in refused.stderr


def test_ingest_without_a_token_says_how_to_get_one(desk: Desk) -> None:
    refused = calmly("ingest", "-", "--url", desk.daemon.url, stdin=desk.mention("@no_token") + "\n")

    assert refused.returncode == 1
    assert "calmly token issue" in refused.stderr
    assert "(missing_token)" in refused.stderr


def test_a_command_says_so_when_the_daemon_cannot_be_reached() -> None:
    refused = calmly("incidents", "list", "--url", f"http://127.0.0.1:{free_port()}", "--token", "calmly_x")

    assert refused.returncode == 1
    assert "cannot reach calmly" in refused.stderr
    assert "calmly serve" in refused.stderr


# --- incidents --------------------------------------------------------------------------------------------------


def test_a_newcomer_lists_shows_and_acts_on_an_incident_in_text(desk: Desk) -> None:
    incident = desk.open("@newcomer")

    listed = desk.run("incidents", "list", "--state", "detected")
    shown = desk.run("incidents", "show", incident)
    assessed = desk.run("incidents", "act", incident, "assess", "--field", "severity=high")
    replied = desk.run(
        "incidents",
        "act",
        incident,
        "acknowledge",
        "--field",
        "public_reply.text=Hi, we're so sorry: we're looking into it now.",
        "--field",
        "public_reply.channel=twitter",
    )
    after = desk.run("incidents", "show", incident)

    assert listed.returncode == shown.returncode == assessed.returncode == replied.returncode == 0
    header = listed.stdout.splitlines()[0].split()
    assert header[:4] == ["ID", "STATE", "SEVERITY", "PLAYBOOK"]
    row = next(line for line in listed.stdout.splitlines() if line.startswith(f"{incident} "))
    assert row.split()[1:4] == ["detected", "medium", "customer-complaint"]
    assert f"{incident}  customer-complaint v2  revision 0" in shown.stdout
    assert "state     detected  severity medium  on twitter by @newcomer" in shown.stdout
    assert "clock     first_response: due in 4h (" in shown.stdout  # the daemon's now, not this machine's
    assert "can do    assess -> assessed (by community_manager, social_lead) requires severity" in shown.stdout
    assert assessed.stdout.splitlines()[0] == f"{incident}: assessed (revision 1)"
    assert "transition: assess: detected -> assessed" in assessed.stdout
    assert replied.stdout.splitlines()[0] == f"{incident}: acknowledged (revision 2)"
    assert "state     acknowledged  severity high" in after.stdout
    assert "acknowledge: assessed -> acknowledged by alice" in after.stdout


def test_a_person_takes_assigns_notes_and_releases_an_incident_from_the_terminal(desk: Desk) -> None:
    incident = desk.open("@owned")

    taken = desk.run("incidents", "take", incident)
    mine = desk.run("incidents", "list", "--mine", "--format", "json")
    noted = desk.run("incidents", "note", incident, "Ann called as well; she is waiting for a refund.")
    assigned = desk.run("incidents", "assign", incident, "carol")
    stranger = desk.run("incidents", "assign", incident, "zed")
    released = desk.run("incidents", "release", incident, "--format", "json")
    shown = desk.run("incidents", "show", incident)

    assert taken.returncode == noted.returncode == assigned.returncode == released.returncode == 0
    assert taken.stdout.splitlines() == [f"{incident}: detected (revision 0, owner alice)", "  owner: alice took it"]
    assert [item["id"] for item in json.loads(mine.stdout)["incidents"]] == [incident]
    assert "note: Ann called as well; she is waiting for a refund." in noted.stdout
    assert "owner: alice assigned it to carol" in assigned.stdout
    assert stranger.returncode == 1
    assert "zed is not in the roster; assign it to someone who is" in stranger.stderr
    assert json.loads(released.stdout)["incident"]["owner"] is None
    assert "  owner     nobody (calmly incidents take " in shown.stdout
    assert "note           Ann called as well" in shown.stdout


def test_incidents_commands_give_json_for_scripts(desk: Desk) -> None:
    incident = desk.open("@scripted")

    page = json.loads(desk.run("incidents", "list", "--format", "json", "--limit", "500").stdout)
    shown = json.loads(desk.run("incidents", "show", incident, "--format", "json").stdout)
    done = json.loads(
        desk.run("incidents", "act", incident, "assess", "--field", "severity=low", "--format", "json").stdout
    )

    assert incident in [item["id"] for item in page["incidents"]]
    assert page["next"] is None
    assert (shown["id"], shown["state"], shown["version"]) == (incident, "detected", 0)
    assert {clock["name"] for clock in shown["clocks"]} == {"limit:detected", "first_response", "resolution"}
    assert [action["trigger"] for action in shown["actions"]] == ["assess", "do_not_engage"]
    assert shown["history"][0]["kind"] == "opened"
    assert (done["incident"]["state"], done["incident"]["severity"], done["incident"]["version"]) == (
        "assessed",
        "low",
        1,
    )


def test_incidents_list_pages_with_after(desk: Desk) -> None:
    desk.open("@pager_one")
    desk.open("@pager_two")

    first = desk.run("incidents", "list", "--limit", "1")
    following = first.stdout.splitlines()[-1]
    second = desk.run("incidents", "list", "--limit", "1", *following.removeprefix("more: ").split())

    assert following.startswith("more: --after inc-")
    assert second.returncode == 0
    assert second.stdout.splitlines()[1].split()[0] != first.stdout.splitlines()[1].split()[0]


def test_a_refused_action_exits_1_saying_why_and_changes_nothing(desk: Desk) -> None:
    incident = desk.open("@rude_reply")
    desk.run("incidents", "act", incident, "assess", "--field", "severity=medium")

    refused = desk.run(
        "incidents",
        "act",
        incident,
        "acknowledge",
        "--field",
        "public_reply.text=Calm down, it is not our fault",
        "--field",
        "public_reply.channel=twitter",
    )
    wrong_role = desk.run("incidents", "act", incident, "do_not_engage", "--field", "reason=troll")
    shown = json.loads(desk.run("incidents", "show", incident, "--format", "json").stdout)

    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "'calm down'" in refused.stderr
    assert "(house_rule)" in refused.stderr
    assert wrong_role.returncode == 1
    assert "(role_not_allowed)" in wrong_role.stderr
    assert (shown["state"], shown["version"]) == ("assessed", 1)


def test_acting_on_a_version_already_gone_is_refused_as_stale(desk: Desk) -> None:
    incident = desk.open("@stale")
    desk.run("incidents", "act", incident, "assess", "--field", "severity=medium")

    # An action alice may take: a role that may never take it is refused for its role first, whatever the version.
    stale = desk.run("incidents", "act", incident, "acknowledge", "--version", "0")

    assert stale.returncode == 1
    assert "(stale)" in stale.stderr


def test_showing_an_unknown_incident_exits_1(desk: Desk) -> None:
    missing = desk.run("incidents", "show", "inc-99999")

    assert missing.returncode == 1
    assert missing.stdout == ""
    assert "there is no incident inc-99999 (unknown_incident)" in missing.stderr


def test_a_bad_field_is_a_usage_error(desk: Desk) -> None:
    usage = desk.run("incidents", "act", "inc-1", "assess", "--field", "severity")

    assert usage.returncode == 2
    assert "KEY=VALUE" in usage.stderr


def test_an_escalation_after_moving_the_clock_shows_in_the_history(desk: Desk) -> None:
    incident = desk.open("@escalated")  # medium: assess within 4h, the social lead hears of the breach

    moved = desk.daemon.advance("4h", desk.bob)
    shown = desk.run("incidents", "show", incident)
    listed = desk.run("incidents", "list", "--breached", "--format", "json")

    assert moved["fired"] >= 2
    assert "clock     limit:detected: due" in shown.stdout
    assert "BREACHED" in shown.stdout
    history = shown.stdout.split("  history\n", 1)[1]
    assert "breach         limit:detected breached" in history
    assert "escalation     breach on limit:detected: notify social_lead" in history
    assert incident in [item["id"] for item in json.loads(listed.stdout)["incidents"]]


def test_the_listening_line_says_which_build_of_the_runtime_serves(desk: Desk) -> None:
    from engine import _compiled  # noqa: PLC0415 - what this checkout has built decides what the daemon runs

    listening = [json.loads(line) for line in desk.daemon.log_lines() if '"listening"' in line]

    compiled = _compiled._state()[0] and not os.environ.get("CALMLY_PURE_PYTHON")
    assert [entry["runtime"] for entry in listening] == ["compiled" if compiled else "python"]


def test_logs_are_json_lines_and_an_action_is_logged_with_its_incident(desk: Desk) -> None:
    incident = desk.open("@logged")
    desk.run("incidents", "act", incident, "assess", "--field", "severity=low")

    entries = [json.loads(line) for line in desk.daemon.log_lines()]

    assert entries[0]["event"] == "ready to start"
    assert entries[0]["clock"] == "simulated"
    assert any(entry["event"] == "listening" for entry in entries)
    assert all({"event", "level", "timestamp"} <= set(entry) for entry in entries)
    actions = [entry for entry in entries if entry["event"] == "action" and entry.get("incident_id") == incident]
    assert [(entry["trigger"], entry["person"], entry["state"]) for entry in actions] == [
        ("assess", "alice", "assessed")
    ]
    assert any(entry["event"] == "mention" and entry["incident_id"] == incident for entry in entries)
    assert all(desk.alice not in line for line in desk.daemon.log_lines())  # tokens never reach the log


# --- the daemon's life ------------------------------------------------------------------------------------------


def test_a_second_daemon_on_the_same_port_exits_1_saying_it_cannot_listen(desk: Desk, tmp_path: Path) -> None:
    second = Daemon(tmp_path, desk.daemon.port)

    code = second.process.wait(timeout=30)

    log = second.log.read_text()
    assert code == 1, log
    assert "cannot listen" in log
    assert "Traceback" not in log
    assert httpx.get(f"{desk.daemon.url}/healthz").status_code == 200  # the first one carries on


def test_a_second_daemon_on_the_same_data_folder_refuses_to_start_naming_the_first_ones_pid(
    desk: Desk, tmp_path: Path
) -> None:
    second = Daemon(tmp_path, None, "--data", str(desk.daemon.data))

    code = second.process.wait(timeout=30)

    log = second.log.read_text()
    assert code == 1, log
    assert f"PID {desk.daemon.process.pid}" in log
    assert str(desk.daemon.data) in log
    assert "Traceback" not in log
    assert (desk.daemon.data / "calmly.pid").read_text().strip() == str(desk.daemon.process.pid)
    assert httpx.get(f"{desk.daemon.url}/healthz").status_code == 200  # the first one carries on


def test_commands_on_the_store_still_work_while_the_daemon_runs(desk: Desk) -> None:
    data = str(desk.daemon.data)

    issued = calmly("token", "issue", "carol", "--data", data, "--roster", str(ROSTER))
    listed = calmly("outbox", "list", "--data", data)
    retried = calmly("outbox", "retry", "--all", "--data", data)

    assert issued.returncode == 0, issued.stderr
    assert "made a new store" not in issued.stderr
    assert listed.returncode == 0, listed.stderr
    assert retried.returncode == 0, retried.stderr


def test_a_command_that_only_reads_says_there_is_no_store_and_makes_none(tmp_path: Path) -> None:
    empty = tmp_path / "typo"

    listed = calmly("outbox", "list", "--data", str(empty))

    assert listed.returncode == 1
    assert f"no store in {empty}" in listed.stderr
    assert "--data" in listed.stderr
    assert not empty.exists()


def test_token_issue_where_there_is_no_store_makes_one_and_says_where(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh"

    issued = calmly("token", "issue", "alice", "--data", str(fresh), "--roster", str(ROSTER))

    assert issued.returncode == 0, issued.stderr
    assert f"made a new store at {(fresh / 'calmly.sqlite3').as_posix()}" in issued.stderr
    assert issued.stdout.startswith("calmly_")


def test_a_daemon_that_cannot_listen_still_logs_only_json_lines(desk: Desk, tmp_path: Path) -> None:
    second = Daemon(tmp_path, desk.daemon.port)
    second.process.wait(timeout=30)

    for line in second.log_lines():
        json.loads(line)


def test_sigterm_stops_the_daemon_with_exit_code_0_and_a_last_log_line_saying_stopped(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path)
    daemon.wait_ready()

    code = daemon.stop()

    assert code == 0
    last = json.loads(daemon.log_lines()[-1])
    assert last["event"] == "stopped"
    assert "Traceback" not in daemon.log.read_text()
    assert daemon.out.read_text() == ""  # logs go to standard error, nothing else is printed


def serve(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``calmly serve`` that is expected to refuse to start (it would otherwise run until the timeout)."""
    base = ["serve", "--simulated-clock", START, "--data", str(folder / "data"), "--playbooks", str(PLAYBOOKS)]
    return calmly(*base, *args, env=env)


def test_serve_refuses_a_config_file_with_an_unknown_key_naming_file_line_and_column(tmp_path: Path) -> None:
    config = tmp_path / "calmly.yaml"
    config.write_text(f"roster: {ROSTER}\nlisten: 127.0.0.1:8642\nlisen: 127.0.0.1:9000\n")

    refused = serve(tmp_path, "--config", str(config))

    assert refused.returncode == 1
    assert f"{config.as_posix()}:3:1: E200 unknown key 'lisen'" in refused.stderr
    assert "did you mean 'listen'?" in refused.stderr


def test_serve_refuses_a_config_file_with_a_port_out_of_range(tmp_path: Path) -> None:
    config = tmp_path / "calmly.yaml"
    config.write_text(f"roster: {ROSTER}\nlisten: 127.0.0.1:99999\n")

    refused = serve(tmp_path, "--config", str(config))

    assert refused.returncode == 1
    assert f"{config.as_posix()}:2:9:" in refused.stderr
    assert "listen" in refused.stderr


def test_serve_refuses_a_bad_environment_variable_naming_it(tmp_path: Path) -> None:
    refused = serve(tmp_path, "--roster", str(ROSTER), env=environment(CALMLY_LISTEN="nonsense"))

    assert refused.returncode == 1
    assert "CALMLY_LISTEN: listen is 'nonsense'" in refused.stderr
    assert "127.0.0.1:8642" in refused.stderr  # an example of what to write


def test_serve_reports_every_bad_setting_at_once(tmp_path: Path) -> None:
    refused = serve(
        tmp_path,
        "--roster",
        str(ROSTER),
        "--max-body-bytes",
        "12",
        env=environment(CALMLY_LISTEN="nonsense", CALMLY_LOG_LEVEL="loud"),
    )

    assert refused.returncode == 1
    for name in ("CALMLY_LISTEN", "CALMLY_LOG_LEVEL", "--max-body-bytes"):
        assert name in refused.stderr


def test_serve_refuses_a_roster_with_problems_naming_their_positions(tmp_path: Path) -> None:
    roster = tmp_path / "roster.yaml"
    roster.write_text("people:\n  alice:\n    roles: []\n  Bob:\n    roles: [social_lead]\n    nickname: b\n")

    refused = serve(tmp_path, "--roster", str(roster), "--listen", f"127.0.0.1:{free_port()}")

    assert refused.returncode == 1
    assert "the roster has problems" in refused.stderr
    name = roster.as_posix()
    located = [line.strip() for line in refused.stderr.splitlines() if line.strip().startswith(f"{name}:")]
    assert any(line.startswith(f"{name}:3:12:") for line in located), refused.stderr
    assert any(line.startswith(f"{name}:4:3:") for line in located), refused.stderr
    assert any(line.startswith(f"{name}:6:5:") for line in located), refused.stderr


def test_incidents_show_gives_the_customers_words_who_wrote_them_where_and_how_far_they_went(desk: Desk) -> None:
    post = {
        "channel": "twitter",
        "external_id": "e2e-words-1",
        "text": "Third time my parcel is lost. Done with you.",
        "posted_at": "2026-11-23T09:00:00Z",
        "url": "https://x.com/sam/status/77",
        "author": {"handle": "@sam_words", "followers": 2500},
        "engagement": {"likes": 40, "shares": 6},
    }
    done = desk.run("ingest", "-", "--format", "json", stdin=json.dumps(post) + "\n")
    (result,) = json.loads(done.stdout)["results"]

    shown = desk.run("incidents", "show", result["incident"])
    data = json.loads(desk.run("incidents", "show", result["incident"], "--format", "json").stdout)

    assert shown.returncode == 0, shown.stderr
    assert "@sam_words (2500 followers) on twitter" in shown.stdout
    assert "40 likes, 6 shares" in shown.stdout
    assert '"Third time my parcel is lost. Done with you."' in shown.stdout
    assert "https://x.com/sam/status/77" in shown.stdout
    (mentioned,) = data["mentions"]
    assert mentioned["text"] == "Third time my parcel is lost. Done with you."
    assert (mentioned["author"], mentioned["url"]) == ({"handle": "@sam_words", "followers": 2500}, post["url"])


def test_incidents_show_and_list_read_times_against_the_daemons_clock_in_each_clocks_own_zone(desk: Desk) -> None:
    incident = desk.open("@zoned")
    desk.run("incidents", "act", incident, "assess", "--field", "severity=medium")

    shown = desk.run("incidents", "show", incident).stdout
    data = json.loads(desk.run("incidents", "show", incident, "--format", "json").stdout)
    listed = desk.run("incidents", "list", "--state", "assessed").stdout

    clocks = {clock["name"]: clock for clock in data["clocks"]}
    assert clocks["limit:assessed"]["timezone"] == "Europe/London"  # it counts the office calendar's hours
    assert clocks["first_response"]["timezone"] == "UTC"
    assert clocks["first_response"]["due_at"].endswith("+00:00")  # JSON keeps machine-readable stamps
    (assessed,) = [line for line in shown.splitlines() if "clock     limit:assessed:" in line]
    assert re.search(r"due in \w+ \(.*\d\d:\d\d Europe/London\)$", assessed), assessed
    (row,) = [line for line in listed.splitlines() if line.startswith(f"{incident} ")]
    assert "first_response due in" in row or "limit:assessed due in" in row
    assert re.search(r"(just now|\w+ ago) \(\d\d:\d\d UTC\)$", row), row  # opened, by the daemon's clock


def test_a_safety_reply_is_drafted_approved_and_posted_from_the_terminal(desk: Desk) -> None:
    incident = desk.open("@kettle", "I was injured by your kettle")
    grace = environment(CALMLY_URL=desk.daemon.url, CALMLY_TOKEN=desk.daemon.token("grace"))
    reply = [
        "--field",
        "public_reply.text=Hi @kettle, please send us a direct message.",
        "--field",
        "public_reply.channel=twitter",
    ]
    desk.run("incidents", "act", incident, "assess", "--field", "severity=high")

    direct = desk.run("incidents", "act", incident, "acknowledge", *reply)
    drafted = desk.run("incidents", "act", incident, "acknowledge", "--draft", "submit", *reply)
    approved = calmly("incidents", "act", incident, "acknowledge", "--draft", "approve", env=grace)
    shown = desk.run("incidents", "show", incident).stdout
    posted = desk.run("incidents", "act", incident, "acknowledge", *reply)

    assert direct.returncode == 1
    assert "needs approval by legal_counsel or comms_director; submit it as a draft first" in direct.stderr
    assert drafted.returncode == 0, drafted.stderr
    assert f"{incident}: assessed (revision 2" in drafted.stdout
    assert "  draft: draft reply for acknowledge submitted for approval" in drafted.stdout
    assert approved.returncode == 0, approved.stderr
    assert "  approved: draft reply for acknowledge approved (sha256:" in approved.stdout
    assert "  approval  acknowledge: approved by grace (drafted by alice)" in shown
    assert "    Hi @kettle, please send us a direct message." in shown
    assert posted.returncode == 0, posted.stderr
    assert f"{incident}: acknowledged" in posted.stdout
