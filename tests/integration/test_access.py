"""Who may do what over HTTP: the roster as it stands since the last reload, token scopes, the admin-only clock,
and the order refusals come in (role and action before version).

The daemon's app as ``calmly serve`` builds it, in process, over a real store, with a roster file of its own that a
test may rewrite and reload.
"""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from intake_support import mention
from starlette.exceptions import StarletteDeprecationWarning

from engine.api import create_app
from engine.daemon import Config, build
from engine.service import TokenScope, issue_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Floor:
    def __init__(self, folder: Path) -> None:
        self.roster = folder / "roster.yaml"
        shutil.copy(ROOT / "examples" / "roster.yaml", self.roster)
        config = Config(data=folder / "data", playbooks=(ROOT / "playbooks",), roster=self.roster)
        self.daemon = build(config, START)
        self.store = self.daemon.store
        self.http = TestClient(create_app(self.daemon.context))
        self.tokens = {person: issue_token(self.store, person, START) for person in ("alice", "bob", "carol")}
        self.tokens["listener"] = issue_token(self.store, "alice", START, scope=TokenScope.INTAKE)

    def call(self, method: str, path: str, who: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[who]}"}
        return self.http.request(method, path, headers=headers, json=body)

    def opened(self) -> dict[str, Any]:
        answer = self.call("POST", "/v1/mentions", "alice", mention("m-1"))
        assert answer.status_code == 200, answer.text
        incident: dict[str, Any] = self.call(
            "GET", f"/v1/incidents/{answer.json()['results'][0]['incident']}", "alice"
        ).json()
        return incident

    def assessed_after_version_0(self) -> dict[str, Any]:
        """An incident alice has assessed, so version 0 is stale."""
        incident = self.opened()
        body = {"version": 0, "fields": {"severity": "medium"}}
        done = self.call("POST", f"/v1/incidents/{incident['id']}/actions/assess", "alice", body)
        assert done.status_code == 200, done.text
        return incident


@pytest.fixture
def floor(tmp_path: Path) -> Iterator[Floor]:
    made = Floor(tmp_path)
    yield made
    made.http.close()
    made.store.close()


def code_of(answer: httpx.Response) -> str:
    code: str = answer.json()["error"]["code"]
    return code


# --- the roster -------------------------------------------------------------------------------------------------


def test_a_person_taken_off_the_roster_and_reloaded_can_no_longer_read_or_act(floor: Floor) -> None:
    incident = floor.opened()
    floor.roster.write_text(floor.roster.read_text().replace("  alice:\n", "  alicia:\n"))

    assert floor.call("POST", "/v1/admin/reload", "bob").status_code == 200

    for method, path, body in (
        ("GET", "/v1/incidents", None),
        ("GET", f"/v1/incidents/{incident['id']}", None),
        ("POST", f"/v1/incidents/{incident['id']}/actions/assess", {"version": 0, "fields": {"severity": "high"}}),
        ("POST", "/v1/mentions", mention("m-2")),
    ):
        answer = floor.call(method, path, "alice", body)
        assert answer.status_code == 403, (path, answer.text)
        assert code_of(answer) == "not_in_roster"
        assert "alice" in answer.json()["error"]["message"]
    assert floor.call("GET", "/v1/incidents", "bob").status_code == 200  # everyone else carries on


# --- an intake-only token ---------------------------------------------------------------------------------------


def test_an_intake_only_token_sends_mentions(floor: Floor) -> None:
    answer = floor.call("POST", "/v1/mentions", "listener", mention("m-9"))

    assert answer.status_code == 200, answer.text
    assert answer.json()["results"][0]["status"] == "opened"


def test_an_intake_only_token_can_do_nothing_else(floor: Floor) -> None:
    incident = floor.opened()

    for method, path, body in (
        ("GET", "/v1/incidents", None),
        ("GET", f"/v1/incidents/{incident['id']}", None),
        ("POST", f"/v1/incidents/{incident['id']}/actions/assess", {"version": 0, "fields": {"severity": "high"}}),
        ("POST", "/v1/admin/clock", {"advance": "1h"}),
        ("POST", "/v1/admin/reload", None),
    ):
        answer = floor.call(method, path, "listener", body)
        assert answer.status_code == 403, (path, answer.text)
        assert code_of(answer) == "intake_only_token"
    assert floor.daemon.context.clock() == START


# --- the simulated clock ----------------------------------------------------------------------------------------


def test_moving_the_clock_needs_an_admin_role(floor: Floor) -> None:
    refused = floor.call("POST", "/v1/admin/clock", "alice", {"advance": "1h"})

    assert refused.status_code == 403
    assert code_of(refused) == "role_not_allowed"
    assert "social_lead" in refused.json()["error"]["message"]
    assert floor.daemon.context.clock() == START


@pytest.mark.parametrize("body", [{"advance": "53w"}, {"to": "2027-11-23T09:00:00Z"}, {"advance": "3000000d"}])
def test_the_clock_refuses_a_jump_beyond_52_weeks_naming_the_bound(floor: Floor, body: dict[str, str]) -> None:
    refused = floor.call("POST", "/v1/admin/clock", "bob", body)

    assert refused.status_code == 422, refused.text
    assert "52w" in refused.json()["error"]["message"]
    assert floor.daemon.context.clock() == START


def test_a_jump_to_a_moment_too_far_ahead_says_it_is_too_far(floor: Floor) -> None:
    refused = floor.call("POST", "/v1/admin/clock", "bob", {"to": "2028-01-01T00:00:00Z"})

    assert code_of(refused) == "clock_jump_too_far"
    assert refused.json()["error"]["details"] == {"max_days": 364}


def test_the_clock_moves_52_weeks_at_once(floor: Floor) -> None:
    moved = floor.call("POST", "/v1/admin/clock", "bob", {"advance": "52w"})

    assert moved.status_code == 200, moved.text


# --- the order of refusals --------------------------------------------------------------------------------------


def test_a_stale_version_with_a_role_that_may_never_take_the_action_is_403_not_409(floor: Floor) -> None:
    incident = floor.assessed_after_version_0()

    answer = floor.call(
        "POST", f"/v1/incidents/{incident['id']}/actions/acknowledge", "carol", {"version": 0, "fields": {}}
    )

    assert answer.status_code == 403, answer.text
    assert code_of(answer) == "role_not_allowed"


def test_a_stale_version_with_an_unknown_action_is_404_not_409(floor: Floor) -> None:
    incident = floor.assessed_after_version_0()

    answer = floor.call(
        "POST", f"/v1/incidents/{incident['id']}/actions/teleport", "alice", {"version": 0, "fields": {}}
    )

    assert answer.status_code == 404, answer.text
    assert code_of(answer) == "unknown_action"


def test_a_stale_version_with_a_role_that_may_act_is_409(floor: Floor) -> None:
    incident = floor.assessed_after_version_0()

    answer = floor.call(
        "POST", f"/v1/incidents/{incident['id']}/actions/acknowledge", "alice", {"version": 0, "fields": {}}
    )

    assert answer.status_code == 409, answer.text
