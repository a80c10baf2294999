"""Who may do what, over HTTP: guards, do-not-engage reasons by role and the direct route, through the JSON API
and the desk of one daemon (a real SQLite store, a simulated clock). What the API refuses, the desk never offers.
"""

from __future__ import annotations

import re
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
from engine.daemon import Config, Daemon, build
from engine.desk import create_web_app
from engine.service import issue_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)  # it nudges towards httpx2; calmly ships httpx
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
ROSTER = """
people:
  ann: {name: Ann Agent, roles: [agent]}
  lee: {name: Lee Lead, roles: [lead]}
"""


class Team:
    """The JSON API and the desk of one daemon, with a token for each person named."""

    def __init__(self, daemon: Daemon, people: tuple[str, ...]) -> None:
        self.daemon = daemon
        self.api = TestClient(create_app(daemon.context))
        self.tokens = {person: issue_token(daemon.store, person, START) for person in people}

    def ingest(self, *mentions: dict[str, Any]) -> list[str]:
        answer = self.api.post(
            "/v1/mentions", json={"mentions": list(mentions)}, headers=self._auth(next(iter(self.tokens)))
        )
        assert answer.status_code == 200, answer.text
        return [result["incident"] for result in answer.json()["results"]]

    def _auth(self, person: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[person]}"}

    def show(self, incident_id: str, person: str) -> dict[str, Any]:
        answer = self.api.get(f"/v1/incidents/{incident_id}", headers=self._auth(person))
        assert answer.status_code == 200, answer.text
        found: dict[str, Any] = answer.json()
        return found

    def act(self, incident_id: str, trigger: str, person: str, **fields: Any) -> httpx.Response:
        revision = self.show(incident_id, person)["revision"]
        return self.api.post(
            f"/v1/incidents/{incident_id}/actions/{trigger}",
            headers=self._auth(person),
            json={"revision": revision, "fields": fields},
        )

    def page(self, incident_id: str, person: str) -> str:
        """The incident's desk page as ``person`` sees it, signed in in a browser of their own."""
        browser = TestClient(create_web_app(self.daemon.context), follow_redirects=False)
        signed = browser.post("/signin", data={"token": self.tokens[person]})
        assert signed.status_code == 303, signed.text
        return browser.get(f"/incidents/{incident_id}").text


def _offered(page: str, incident_id: str) -> set[str]:
    return set(re.findall(rf'action="/incidents/{incident_id}/actions/([a-z_]+)"', page))


def _choices(page: str, incident_id: str, trigger: str, control: str) -> list[str]:
    form = page.split(f'action="/incidents/{incident_id}/actions/{trigger}"', 1)[1].split("</form>", 1)[0]
    select = form.split(f'name="{control}"', 1)[1].split("</select>", 1)[0]
    return [value for value in re.findall(r'<option value="([^"]*)"', select) if value]


@pytest.fixture
def guarded(tmp_path: Path) -> Iterator[Team]:
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    shutil.copy(ROOT / "tests" / "fixtures" / "incident" / "guards.good.yaml", playbooks / "guards.yaml")
    roster = tmp_path / "roster.yaml"
    roster.write_text(ROSTER, encoding="utf-8")
    daemon = build(Config(data=tmp_path / "data", playbooks=(playbooks,), roster=roster), START)
    yield Team(daemon, ("ann", "lee"))
    daemon.store.close()


@pytest.fixture
def shipped(tmp_path: Path) -> Iterator[Team]:
    config = Config(data=tmp_path, playbooks=(ROOT / "playbooks",), roster=ROOT / "examples" / "roster.yaml")
    daemon = build(config, START)
    yield Team(daemon, ("alice", "bob"))
    daemon.store.close()


def _acknowledged(team: Team, severity: str, **extra: Any) -> str:
    (incident_id,) = team.ingest(mention("tw-1", "My parcel never came", **extra))
    assert team.act(incident_id, "assess", "lee", severity=severity).status_code == 200
    assert team.act(incident_id, "acknowledge", "ann").status_code == 200
    return incident_id


def test_refuses_an_action_whose_guard_does_not_hold_and_the_desk_does_not_offer_it(guarded: Team) -> None:
    incident_id = _acknowledged(guarded, "low")

    answer = guarded.act(incident_id, "call_back", "ann", contact_route="phone")

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "guard"
    assert "needs a known customer" in answer.json()["error"]["message"]
    assert "call_back" not in {action["trigger"] for action in guarded.show(incident_id, "ann")["actions"]}
    assert _offered(guarded.page(incident_id, "ann"), incident_id) == {"offer_resolution"}


def test_offers_the_guarded_action_and_the_direct_route_once_the_customer_is_known(guarded: Team) -> None:
    incident_id = _acknowledged(guarded, "low", customer_id="c-42")
    shown = guarded.show(incident_id, "ann")
    page = guarded.page(incident_id, "ann")

    assert shown["customer_id"] == "c-42"
    assert {"call_back", "offer_resolution"} <= _offered(page, incident_id)
    assert _choices(page, incident_id, "offer_resolution", "contact_route") == ["dm", "phone", "email", "direct"]
    assert (
        guarded.act(incident_id, "offer_resolution", "ann", offer="a refund", contact_route="direct").status_code == 200
    )


def test_refuses_the_direct_route_for_an_unknown_customer_and_the_desk_does_not_offer_it(guarded: Team) -> None:
    incident_id = _acknowledged(guarded, "low")

    answer = guarded.act(incident_id, "offer_resolution", "ann", offer="a refund", contact_route="direct")

    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "customer_unknown"
    assert _choices(guarded.page(incident_id, "ann"), incident_id, "offer_resolution", "contact_route") == [
        "dm",
        "phone",
        "email",
    ]


def test_the_desk_offers_a_serious_case_to_the_lead_only_as_the_api_refuses_the_agent(guarded: Team) -> None:
    incident_id = _acknowledged(guarded, "critical")

    answer = guarded.act(incident_id, "offer_resolution", "ann", offer="a refund", contact_route="dm")

    assert answer.status_code == 403
    assert "offer_resolution" not in _offered(guarded.page(incident_id, "ann"), incident_id)
    assert "offer_resolution" in _offered(guarded.page(incident_id, "lee"), incident_id)


def test_a_community_manager_is_offered_and_may_give_only_her_reasons(shipped: Team) -> None:
    (incident_id,) = shipped.ingest(mention("tw-9", "Free followers, check my bio", handle="@bot_1"))
    assert shipped.show(incident_id, "alice")["playbook"] == "abuse-and-trolls"

    refused = shipped.act(incident_id, "do_not_engage", "alice", reason="troll")

    assert refused.status_code == 403
    assert refused.json()["error"]["message"].startswith("the reason 'troll' is for social_lead to give")
    assert _choices(shipped.page(incident_id, "alice"), incident_id, "do_not_engage", "reason") == ["spam", "bot"]
    history = shipped.show(incident_id, "alice")["history"]
    assert [entry["details"]["reason"] for entry in history if entry["kind"] == "refused"] == ["role_not_allowed"]
    assert shipped.act(incident_id, "do_not_engage", "alice", reason="spam").status_code == 200


def test_a_real_complaint_inside_abuse_is_not_offered_to_the_community_manager_to_close(shipped: Team) -> None:
    (incident_id,) = shipped.ingest(mention("tw-10", "Scumbags, where is my refund", handle="@pat"))

    refused = shipped.act(incident_id, "do_not_engage", "alice", reason="spam")

    assert refused.status_code == 403
    assert "do_not_engage" not in _offered(shipped.page(incident_id, "alice"), incident_id)
    assert "do_not_engage" in _offered(shipped.page(incident_id, "bob"), incident_id)
