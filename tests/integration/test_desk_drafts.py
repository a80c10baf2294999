"""A public reply checked as it is typed (``POST /incidents/{id}/actions/{trigger}/check``): the house rule it
breaks, in the words a send would be refused in, and nothing changed; over the daemon's app and a real store."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from intake_support import mention
from starlette.exceptions import StarletteDeprecationWarning

from engine.daemon import Config, Daemon, build
from engine.desk import create_web_app
from engine.service import issue_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)  # it nudges towards httpx2; calmly ships httpx
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[Daemon]:
    config = Config(data=tmp_path, playbooks=(ROOT / "playbooks",), roster=ROOT / "examples" / "roster.yaml")
    built = build(config, START)
    yield built
    built.store.close()


@pytest.fixture
def assessed(daemon: Daemon) -> str:
    """An incident waiting for its public acknowledgement."""
    (opened,) = daemon.service.ingest([mention("draft-1")])
    incident_id = str(opened.incident_id)
    result = daemon.service.act(
        incident_id, "assess", person="bob", roles=frozenset({"social_lead"}), fields={"severity": "low"}, version=0
    )
    assert result.refused is None
    return incident_id


def _signed_in(daemon: Daemon, person: str) -> tuple[TestClient, str]:
    client = TestClient(create_web_app(daemon.context), follow_redirects=False)
    answer = client.post("/signin", data={"token": issue_token(daemon.store, person, START)})
    assert answer.status_code == 303, answer.text
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text)
    assert found is not None
    return client, found.group(1)


def _revision(daemon: Daemon, incident_id: str) -> int:
    row = daemon.store.incident(incident_id)
    assert row is not None
    return row.incident.revision


def test_flags_a_reply_the_house_rules_forbid_in_the_rules_words_and_changes_nothing(
    daemon: Daemon, assessed: str
) -> None:
    client, csrf = _signed_in(daemon, "alice")
    before = _revision(daemon, assessed)

    answer = client.post(
        f"/incidents/{assessed}/actions/acknowledge/check", data={"csrf": csrf, "public_reply": "Calm down, please"}
    )

    assert answer.status_code == 200
    assert "'calm down'" in answer.json()["problem"]
    assert "house rules forbid" in answer.json()["problem"]
    assert _revision(daemon, assessed) == before


def test_says_nothing_of_a_reply_that_breaks_no_house_rule(daemon: Daemon, assessed: str) -> None:
    client, csrf = _signed_in(daemon, "alice")

    answer = client.post(
        f"/incidents/{assessed}/actions/acknowledge/check", data={"csrf": csrf, "public_reply": "We're sorry, Ann."}
    )

    assert answer.json() == {"problem": None}


def test_checks_a_draft_only_for_a_signed_in_page_of_the_desk(daemon: Daemon, assessed: str) -> None:
    client, _ = _signed_in(daemon, "alice")
    stranger = TestClient(create_web_app(daemon.context), follow_redirects=False)
    path = f"/incidents/{assessed}/actions/acknowledge/check"

    assert client.post(path, data={"csrf": "forged", "public_reply": "calm down"}).status_code == 403
    assert stranger.post(path, data={"public_reply": "calm down"}).status_code == 401
