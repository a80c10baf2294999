"""Bad input through the terminal commands and a running daemon: a located error, never a traceback or a 500.

``calmly ingest`` on a file that is not UTF-8, or holds hostile JSON; ``calmly serve``, ``calmly token issue``,
``POST /v1/admin/reload`` and SIGHUP on playbooks and rosters built to break a reader (a duration of ``500000w``,
nesting a thousand deep, a 5,000-digit number, a named pipe). ``calmly`` itself fails any test whose output holds a
traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import START, ServedDaemon, free_port
from test_daemon_commands import PLAYBOOKS, ROSTER, calmly

MINIMAL = Path(__file__).resolve().parents[1] / "fixtures" / "playbooks" / "good" / "minimal.good.yaml"

#: Each a playbook (or roster) text built to break a reader, and the problem code it must get.
HOSTILE = {
    "duration-500000w": (MINIMAL.read_text().replace("limit: {default: 1w}", "limit: {default: 500000w}"), "E208"),
    "duration-99999999999w": (MINIMAL.read_text().replace("default: 1h}", "default: 99999999999w}"), "E208"),
    "nested-1000-deep": (MINIMAL.read_text() + "description: " + "[" * 1000 + "]" * 1000 + "\n", "E112"),
    "number-5000-digits": (MINIMAL.read_text().replace("version: 1\n", "version: " + "9" * 5000 + "\n"), "E113"),
}


class Served(ServedDaemon):
    """``calmly serve`` over copies of the shipped playbooks and the example roster, logging JSON lines."""

    def __init__(self, folder: Path) -> None:
        self.playbooks = folder / "playbooks"
        shutil.copytree(PLAYBOOKS, self.playbooks)
        self.roster = folder / "roster.yaml"
        shutil.copy(ROSTER, self.roster)
        super().__init__(folder, playbooks=self.playbooks, roster=self.roster, people=("bob", "alice"))
        self.bob = self.tokens["bob"]  # a social lead: may reload
        self.alice = self.tokens["alice"]

    def ingest(self, source: Path) -> subprocess.CompletedProcess[str]:
        return calmly("ingest", str(source), env={**self.env, "CALMLY_URL": self.url, "CALMLY_TOKEN": self.alice})

    def reload(self) -> httpx.Response:
        return httpx.post(f"{self.url}/v1/admin/reload", headers={"Authorization": f"Bearer {self.bob}"}, timeout=10)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    daemon = Served(tmp_path_factory.mktemp("served"))
    yield daemon
    daemon.stop()


def _line(external_id: str, **extra: object) -> str:
    item = {
        "channel": "twitter",
        "external_id": external_id,
        "text": "My order arrived broken",
        "posted_at": START,
        "author": {"handle": f"@{external_id}", "followers": 10},
        **extra,
    }
    return json.dumps(item)


# --- calmly ingest ---------------------------------------------------------------------------------------------


def test_ingest_names_the_line_and_column_of_a_byte_that_is_not_utf8(served: Served, tmp_path: Path) -> None:
    source = tmp_path / "latin1.jsonl"
    latin1 = _line("u2").replace("My order", "Caf\u00e9 order").encode("latin-1")  # what an old export writes
    source.write_bytes(_line("u1").encode() + b"\n" + latin1 + b"\n")

    refused = served.ingest(source)

    assert refused.returncode == 1
    assert "nothing was sent" in refused.stderr
    assert f"{source.as_posix()}:2:" in refused.stderr
    assert "byte 0xe9 is not UTF-8" in refused.stderr


def test_ingest_keeps_a_mention_with_a_lone_surrogate(served: Served, tmp_path: Path) -> None:
    source = tmp_path / "cut.jsonl"
    source.write_text(_line("cut-e2e", text="refund now \ud83d") + "\n")  # json.dumps escapes it: \ud83d
    assert "\\ud83d" in source.read_text()

    done = served.ingest(source)

    assert done.returncode == 0, done.stderr
    assert ": opened inc-" in done.stdout


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (
            _line("deep", extra=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]),
            "nested more than 32",
        ),
        ('{"extra": ' + "[" * 5000 + "]" * 5000 + "}", "nested far more than 32"),
        (_line("huge").replace('"followers": 10', '"followers": ' + "9" * 5000), "/author/followers"),
        (_line("late", posted_at="9999-12-31T23:59:59-23:59"), "posted_at: '9999-12-31T23:59:59-23:59' is not a valid"),
    ],
    ids=["nested-40", "nested-5000", "number-5000-digits", "posted-at-out-of-range"],
)
def test_ingest_refuses_hostile_json_with_the_line_and_sends_nothing(
    served: Served, tmp_path: Path, line: str, says: str
) -> None:
    source = tmp_path / "hostile.jsonl"
    source.write_text(line + "\n")

    refused = served.ingest(source)

    assert refused.returncode == 1
    assert f"{source.as_posix()}:1" in refused.stderr
    assert says in refused.stderr


# --- the daemon's files -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_reload_of_a_hostile_playbook_is_a_422_invalid_reload_located_and_the_old_set_stays(
    served: Served, case: str
) -> None:
    text, code = HOSTILE[case]
    broken = served.playbooks / "broken.yaml"
    broken.write_text(text)
    try:
        answer = served.reload()
    finally:
        broken.unlink()

    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_reload"
    assert [(problem["file"], problem["code"]) for problem in error["details"]] == [(broken.as_posix(), code)]
    assert httpx.get(f"{served.url}/readyz").status_code == 200


def test_a_reload_with_a_named_pipe_for_a_playbook_is_refused_instead_of_waiting(served: Served) -> None:
    pipe = served.playbooks / "pipe.yaml"
    os.mkfifo(pipe)
    try:
        answer = served.reload()
    finally:
        pipe.unlink()

    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["error"]["details"]
    assert problem["code"] == "E100"
    assert "named pipe" in problem["message"]


def test_sighup_with_a_hostile_roster_logs_reload_refused_and_keeps_serving(served: Served) -> None:
    kept = served.roster.read_text()
    served.roster.write_text(kept + "extra: " + "[" * 1000 + "]" * 1000 + "\n")
    seen = len(served.entries())
    try:
        served.process.send_signal(signal.SIGHUP)
        refused = served.wait_for_log("reload refused: the roster has problems", seen)
    finally:
        served.roster.write_text(kept)

    assert [problem["code"] for problem in refused["problems"]] == ["E112"]  # type: ignore[union-attr]
    assert "Traceback" not in served.log.read_text()
    assert served.process.poll() is None


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_serve_on_a_hostile_playbook_says_where_and_exits_1(tmp_path: Path, case: str) -> None:
    text, code = HOSTILE[case]
    (tmp_path / "broken.yaml").write_text(text)

    refused = calmly(
        "serve",
        "--data",
        str(tmp_path / "data"),
        "--playbooks",
        str(tmp_path),
        "--roster",
        str(ROSTER),
        "--listen",
        f"127.0.0.1:{free_port()}",
    )

    assert refused.returncode == 1
    assert f"{(tmp_path / 'broken.yaml').as_posix()}:" in refused.stderr
    assert code in refused.stderr


@pytest.mark.parametrize("command", ["serve", "token"])
def test_serve_and_token_issue_on_a_hostile_roster_say_where_and_exit_1(tmp_path: Path, command: str) -> None:
    roster = tmp_path / "roster.yaml"
    roster.write_text(ROSTER.read_text() + "extra: " + "9" * 5000 + "\n")
    args = ["--data", str(tmp_path / "data"), "--roster", str(roster)]
    if command == "serve":
        refused = calmly("serve", *args, "--playbooks", str(PLAYBOOKS), "--listen", f"127.0.0.1:{free_port()}")
    else:
        refused = calmly("token", "issue", "alice", *args)

    assert refused.returncode == 1
    assert f"{roster.as_posix()}:" in refused.stderr
    assert "E113" in refused.stderr


def test_serve_with_a_named_pipe_for_its_roster_refuses_instead_of_waiting(tmp_path: Path) -> None:
    pipe = tmp_path / "roster.yaml"
    os.mkfifo(pipe)

    refused = calmly(
        "serve",
        "--data",
        str(tmp_path / "data"),
        "--roster",
        str(pipe),
        "--playbooks",
        str(PLAYBOOKS),
        "--listen",
        f"127.0.0.1:{free_port()}",
    )

    assert refused.returncode == 1
    assert "named pipe" in refused.stderr


@pytest.mark.parametrize("expires", ["99999999999w", "53w"])
def test_token_issue_with_an_expiry_over_the_cap_is_a_usage_error(tmp_path: Path, expires: str) -> None:
    refused = calmly("token", "issue", "alice", "--roster", str(ROSTER), "--data", str(tmp_path), "--expires", expires)

    assert refused.returncode == 2
    assert "at most 52w" in refused.stderr
