"""Two ``calmly serve`` processes on one PostgreSQL schema, as behind a load balancer: a token issued with ``calmly
token issue --store`` works on both, one revoked with ``calmly token revoke --store`` is refused by both, and a
reload asked of one (POST /v1/admin/reload) is followed by the other, which reads its own playbook and roster files
again. Skips, saying how to enable it, without CALMLY_TEST_POSTGRES_URL.

The reload reaches the other daemon over the network, so the case polls for it with a timeout."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import CALMLY, ServedDaemon, environment
from test_daemon_on_postgresql import store_url  # noqa: F401 - the fixture: a fresh schema

ROOT = Path(__file__).resolve().parents[2]
FOLLOWED_WITHIN_S = 10.0


def _calmly(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CALMLY), *args], capture_output=True, text=True, timeout=60, env=environment(), check=False
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """The playbooks and the roster both daemons read, as one deployment puts them on each machine."""
    playbooks = tmp_path / "playbooks"
    shutil.copytree(ROOT / "playbooks", playbooks)
    roster = tmp_path / "roster.yaml"
    shutil.copyfile(ROOT / "examples" / "roster.yaml", roster)
    return playbooks, roster


@pytest.fixture
def daemons(tmp_path: Path, store_url: str, files: tuple[Path, Path]) -> Iterator[tuple[ServedDaemon, ServedDaemon]]:  # noqa: F811
    playbooks, roster = files
    served: list[ServedDaemon] = []
    try:
        for name in ("first", "second"):
            (tmp_path / name).mkdir()
            served.append(
                ServedDaemon(tmp_path / name, playbooks=playbooks, roster=roster, flags=("--store", store_url))
            )
        yield served[0], served[1]
    finally:
        codes = [daemon.stop() for daemon in served]
    assert codes == [0, 0]


def _listed(daemon: ServedDaemon, token: str) -> httpx.Response:
    return httpx.get(f"{daemon.url}/v1/incidents", headers={"Authorization": f"Bearer {token}"})


def test_a_token_issued_for_the_database_works_on_every_daemon_and_once_revoked_on_none(
    daemons: tuple[ServedDaemon, ServedDaemon],
    store_url: str,  # noqa: F811
    files: tuple[Path, Path],
) -> None:
    first, second = daemons
    _, roster = files
    issued = _calmly("token", "issue", "alice", "--roster", str(roster), "--store", store_url)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()

    before = [_listed(daemon, token).status_code for daemon in (first, second)]
    revoked = _calmly("token", "revoke", "alice", "--store", store_url)
    after = [_listed(daemon, token) for daemon in (first, second)]

    assert before == [200, 200]
    assert revoked.returncode == 0, revoked.stderr
    assert revoked.stdout.strip() == "revoked 1 token of alice; ended 0 desk sessions"
    assert [answer.status_code for answer in after] == [401, 401]
    assert [answer.json()["error"]["code"] for answer in after] == ["revoked_token", "revoked_token"]


def test_a_reload_asked_of_one_daemon_is_followed_by_the_other_from_its_own_files(
    daemons: tuple[ServedDaemon, ServedDaemon],
    store_url: str,  # noqa: F811
    files: tuple[Path, Path],
) -> None:
    first, second = daemons
    playbooks, roster = files
    issued = _calmly("token", "issue", "bob", "--roster", str(roster), "--store", store_url)  # bob: social lead
    assert issued.returncode == 0, issued.stderr
    bob = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    book = playbooks / "customer-complaint.yaml"
    book.write_text(book.read_text().replace("\nversion: 2\n", "\nversion: 3\n", 1))
    roster.write_text(roster.read_text().replace("people:\n", "people:\n  zoe:\n    roles: [customer_care]\n", 1))
    logged = len(second.entries())

    reloaded = httpx.post(f"{first.url}/v1/admin/reload", headers=bob)
    followed = second.wait_for_log("reloaded", logged)
    ends, shown = time.monotonic() + FOLLOWED_WITHIN_S, []
    while "customer-complaint v3" not in shown and time.monotonic() < ends:
        shown = httpx.get(f"{second.url}/readyz").json()["playbooks"]
        time.sleep(0.05)

    assert reloaded.status_code == 200, reloaded.text
    assert "customer-complaint v3" in reloaded.json()["playbooks"]
    assert "customer-complaint v3" in shown
    assert followed["asked_by"] == "another daemon on the database"
    assert followed["people"] == reloaded.json()["people"]
