"""``calmly serve --store postgresql://…`` end to end: a daemon process on a schema of its own in the test database
takes a mention over HTTP and an action on it, stops, and a daemon started again on the same database shows both;
the terminal commands reach the same store with ``--store``. Skips, saying how to enable it, without
CALMLY_TEST_POSTGRES_URL."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import CALMLY, ServedDaemon, environment

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
ROSTER = ROOT / "examples" / "roster.yaml"
POSTGRES_URL_VARIABLE = "CALMLY_TEST_POSTGRES_URL"


@pytest.fixture
def store_url() -> Iterator[str]:
    """A schema of its own in the test database, as a store URL; dropped after."""
    base = os.environ.get(POSTGRES_URL_VARIABLE, "")
    if not base:
        pytest.skip(f"the PostgreSQL store's tests need a database: set {POSTGRES_URL_VARIABLE} (.ci/run sets it)")
    import psycopg  # noqa: PLC0415 - only when there is a database to test in

    schema = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as db:
        db.execute(f"CREATE SCHEMA {schema}")
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base, autocommit=True) as db:
            db.execute(f"DROP SCHEMA {schema} CASCADE")


def _mention() -> str:
    return json.dumps(
        {
            "channel": "twitter",
            "external_id": "tw-pg-1",
            "text": "My blender arrived broken",
            "posted_at": "2026-11-23T09:00:00Z",
            "author": {"handle": "@ann", "followers": 10},
        }
    )


def test_a_daemon_on_postgresql_keeps_a_mention_and_an_action_over_a_restart(tmp_path: Path, store_url: str) -> None:
    (tmp_path / "first").mkdir()
    first = ServedDaemon(
        tmp_path / "first", playbooks=PLAYBOOKS, roster=ROSTER, people=["alice"], CALMLY_STORE=store_url
    )
    try:
        taken = httpx.post(
            f"{first.url}/v1/mentions",
            content=_mention(),
            headers={**first.auth("alice"), "content-type": "application/json"},
        )
        assert taken.status_code == 200, taken.text
        (listed,) = httpx.get(f"{first.url}/v1/incidents", headers=first.auth("alice")).json()["incidents"]
        acted = httpx.post(
            f"{first.url}/v1/incidents/{listed['id']}/actions/assess",
            json={"version": listed["version"], "fields": {"severity": "medium"}},
            headers=first.auth("alice"),
        )
        assert acted.status_code == 200, acted.text
    finally:
        assert first.stop() == 0
    assert not (tmp_path / "first" / "data").exists()  # nothing of the store went to a data folder

    (tmp_path / "second").mkdir()  # started again with the flag, as the README shows
    second = ServedDaemon(tmp_path / "second", playbooks=PLAYBOOKS, roster=ROSTER, flags=("--store", store_url))
    issued = subprocess.run(
        [str(CALMLY), "token", "issue", "alice", "--roster", str(ROSTER), "--store", store_url],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment(),
        check=False,
    )
    alice = {"Authorization": f"Bearer {issued.stdout.strip()}"}
    try:
        shown = httpx.get(f"{second.url}/v1/incidents/{listed['id']}", headers=alice)
        again = httpx.post(
            f"{second.url}/v1/mentions", content=_mention(), headers={**alice, "content-type": "application/json"}
        )
    finally:
        assert second.stop() == 0

    assert issued.returncode == 0, issued.stderr
    assert shown.status_code == 200, shown.text
    assert (shown.json()["state"], shown.json()["severity"]) == ("assessed", "medium")
    assert again.json()["results"][0]["status"] == "duplicate"


def test_the_terminal_commands_take_the_store_by_url(store_url: str) -> None:
    env = environment()

    def calmly(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CALMLY), *args, "--store", store_url], capture_output=True, text=True, timeout=60, env=env, check=False
        )

    before = calmly("outbox", "list")
    issued = calmly("token", "issue", "alice", "--roster", str(ROSTER))
    listed = calmly("outbox", "list", "--state", "all", "--format", "json")

    assert before.returncode == 1
    assert "no store in the database at" in before.stderr
    assert "Traceback" not in before.stderr
    assert issued.returncode == 0, issued.stderr
    assert "made a new store at postgresql://" in issued.stderr
    assert listed.returncode == 0, listed.stderr


def test_a_database_that_does_not_answer_ends_the_command_with_where_and_what_to_check() -> None:
    done = subprocess.run(
        [str(CALMLY), "outbox", "list", "--store", "postgresql://calmly:s3cret@127.0.0.1:9/calmly"],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment(),
        check=False,
    )

    assert done.returncode == 1
    assert "cannot reach the database at 127.0.0.1:9" in done.stderr
    assert "check the URL and that the server runs" in done.stderr
    assert "Traceback" not in done.stderr
    assert "s3cret" not in done.stderr


def _sqlite_store_with_history(folder: Path) -> None:
    """A data folder whose store has open and acted-on incidents, fired deadlines, notifications and a token."""
    from engine.service import Library, Service, issue_token  # noqa: PLC0415
    from engine.store import SQLiteStore  # noqa: PLC0415
    from engine.testing import FakeClock  # noqa: PLC0415

    store = SQLiteStore(folder)
    store.migrate()
    clock = FakeClock("2026-11-23T09:00:00+00:00")
    library = Library(store)
    library.install([PLAYBOOKS], clock.now())
    service = Service(store, library, clock.now)
    texts = ("My blender arrived broken", "refund now please", "I got food poisoning from your sandwich")
    for number, text in enumerate(texts * 3):
        mention = json.loads(_mention())
        service.ingest([{**mention, "external_id": f"tw-{number}", "text": text, "author": {"handle": f"@c{number}"}}])
    alice = {"person": "alice", "roles": frozenset({"community_manager"})}
    assert service.act("inc-1", "assess", **alice, fields={"severity": "high"}, version=0).refused is None
    clock.advance("30h")
    service.fire_due()
    issue_token(store, "alice", clock.now())
    store.close()


def test_migrate_store_copies_a_data_folder_into_postgresql_and_checks_every_incident(
    tmp_path: Path, store_url: str
) -> None:
    from engine.store import SQLiteStore  # noqa: PLC0415
    from engine.store.postgresql import PostgreSQLStore  # noqa: PLC0415

    data = tmp_path / "data"
    _sqlite_store_with_history(data)

    def migrate() -> subprocess.CompletedProcess[str]:
        command = [str(CALMLY), "migrate-store", "--data", str(data), "--store", store_url]
        return subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment(), check=False)

    done = migrate()
    again = migrate()

    assert done.returncode == 0, done.stderr
    assert "copied 9 incidents" in done.stdout.splitlines()
    assert "rebuilt all 9 incidents from their events: each equals its row" in done.stderr
    assert again.returncode == 1
    assert "holds rows already" in again.stderr
    source, target = SQLiteStore(data), PostgreSQLStore(store_url, pool_size=1)
    try:
        assert list(target.recorded(None, None, closed_only=False)) == list(
            source.recorded(None, None, closed_only=False)
        )
        assert target.counts() == source.counts()
        assert target.deliveries(None, 1000) == source.deliveries(None, 1000)
        assert target.outbox(None, 1000) == source.outbox(None, 1000)
        with target.write() as tx:  # ids carry on after the copied ones
            assert tx.incidents.new_id() == "inc-10"
    finally:
        source.close()
        target.close()


def test_migrate_store_from_a_folder_without_a_store_says_so_and_makes_nothing(tmp_path: Path) -> None:
    typo = tmp_path / "dtaa"
    command = [str(CALMLY), "migrate-store", "--data", str(typo), "--store", "postgresql://calmly@127.0.0.1:9/calmly"]

    done = subprocess.run(command, capture_output=True, text=True, timeout=60, env=environment(), check=False)

    assert done.returncode == 1
    assert f"no store in {typo}: is --data right" in done.stderr
    assert not typo.exists()
