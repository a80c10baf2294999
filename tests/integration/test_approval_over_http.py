"""Approval through the daemon's JSON API: a draft submitted, returned, redrafted and approved by legal, the reply
posted word for word, each step in the history and the log; and an action's replies read filled in."""

from __future__ import annotations

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
from engine.service import issue_token

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)  # it nudges towards httpx2; calmly ships httpx
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REPLY = (
    "Hi @mum, thank you for telling us about this. We're looking into it urgently. Please email safety@example.com, "
    "or send us a direct message, so a member of our team can speak to you personally."
)


class Api:
    def __init__(self, folder: Path) -> None:
        config = Config(data=folder, playbooks=(ROOT / "playbooks",), roster=ROOT / "examples" / "roster.yaml")
        self.daemon: Daemon = build(config, START)
        self.http = TestClient(create_app(self.daemon.context), raise_server_exceptions=True)
        self.tokens = {who: issue_token(self.daemon.store, who, START) for who in ("alice", "bob", "dana", "grace")}

    def post(self, path: str, person: str, body: dict[str, Any]) -> httpx.Response:
        return self.http.post(path, headers={"Authorization": f"Bearer {self.tokens[person]}"}, json=body)

    def get(self, path: str, person: str = "alice") -> httpx.Response:
        return self.http.get(path, headers={"Authorization": f"Bearer {self.tokens[person]}"})

    def revision(self) -> int:
        revision: int = self.get("/v1/incidents/inc-1").json()["revision"]
        return revision

    def draft(self, step: str, person: str, **body: Any) -> httpx.Response:
        return self.post(
            f"/v1/incidents/inc-1/actions/acknowledge/{step}", person, {"revision": self.revision(), **body}
        )

    def acknowledge(self, text: str) -> httpx.Response:
        fields = {"public_reply": {"channel": "twitter", "text": text}}
        return self.post(
            "/v1/incidents/inc-1/actions/acknowledge", "alice", {"revision": self.revision(), "fields": fields}
        )


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    made = Api(tmp_path / "data")
    made.post(
        "/v1/mentions", "alice", {"mentions": [mention("1", text="My son had an allergic reaction", handle="@mum")]}
    )
    assessed = made.post("/v1/incidents/inc-1/actions/assess", "bob", {"revision": 0, "fields": {"severity": "high"}})
    assert assessed.status_code == 200, assessed.text
    try:
        yield made
    finally:
        made.http.close()
        made.daemon.store.close()


def _error(answer: httpx.Response) -> dict[str, Any]:
    error: dict[str, Any] = answer.json()["error"]
    return error


def test_a_reply_that_needs_approval_is_refused_until_drafted_and_approved(api: Api) -> None:
    refused = api.acknowledge(REPLY)

    assert refused.status_code == 422
    assert _error(refused)["code"] == "needs_approval"
    assert _error(refused)["message"] == (
        "this reply needs approval by legal_counsel or comms_director; submit it as a draft first"
    )
    assert _error(refused)["details"] == {"field": "public_reply"}


def test_a_draft_returned_redrafted_approved_and_posted_word_for_word_is_recorded_at_each_step(api: Api) -> None:
    submitted = api.draft("draft", "alice", public_reply={"channel": "twitter", "text": "Hi @mum, please DM us."})
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["approval"]["stage"] == "pending"
    returned = api.draft("return", "grace", note="Use the safety@ template.")
    assert returned.json()["approval"]["stage"] == "returned"
    api.draft("draft", "alice", public_reply={"channel": "twitter", "text": REPLY})
    approved = api.draft("approve", "grace")
    assert approved.status_code == 200, approved.text

    changed = api.acknowledge(REPLY.replace("urgently", "now"))
    posted = api.acknowledge(REPLY.replace(" Please", "\nPlease"))

    assert changed.status_code == 422
    assert _error(changed)["code"] == "not_as_approved"
    assert "differs from the approved text at word 14" in _error(changed)["message"]
    assert posted.status_code == 200, posted.text
    shown = api.get("/v1/incidents/inc-1").json()
    assert shown["state"] == "acknowledged"
    assert shown["approval"] is None
    kinds = [entry["kind"] for entry in shown["history"] if entry["kind"] in ("draft", "returned", "approved")]
    assert kinds == ["draft", "returned", "draft", "approved"]
    (moved,) = [
        entry
        for entry in shown["history"]
        if entry["kind"] == "transition" and entry["details"]["to"] == "acknowledged"
    ]
    assert moved["details"]["approval"]["approved_by"] == "grace"
    assert moved["details"]["approval"]["digest"] == approved.json()["approval"]["digest"]
    row = api.daemon.store.incident("inc-1")
    assert row is not None
    assert api.daemon.context.service.rebuild("inc-1") == row.incident  # the log replays to the same draft and state


def test_an_approver_cannot_approve_her_own_draft(api: Api) -> None:
    api.draft("draft", "dana", public_reply={"channel": "twitter", "text": REPLY})

    own = api.draft("approve", "dana")
    not_approver = api.draft("approve", "alice")

    assert (own.status_code, _error(own)["code"]) == (422, "own_draft")
    assert (not_approver.status_code, _error(not_approver)["code"]) == (403, "role_not_allowed")
    row = api.daemon.store.incident("inc-1")
    assert row is not None
    assert row.incident.draft is not None
    assert api.daemon.context.service.rebuild("inc-1") == row.incident  # the draft, pending, replays from the log


def test_a_decision_needs_the_revision_seen_and_nothing_else(api: Api) -> None:
    api.draft("draft", "alice", public_reply={"channel": "twitter", "text": REPLY})

    stale = api.post("/v1/incidents/inc-1/actions/acknowledge/approve", "grace", {"revision": 0})
    extra = api.post(
        "/v1/incidents/inc-1/actions/acknowledge/approve", "grace", {"revision": api.revision(), "fields": {}}
    )

    assert (stale.status_code, _error(stale)["code"]) == (409, "stale")
    assert extra.status_code == 422


def test_the_replies_of_an_action_come_filled_in_for_the_incident(api: Api) -> None:
    answer = api.get("/v1/incidents/inc-1/replies/acknowledge")
    unknown = api.get("/v1/incidents/inc-1/replies/apologise")
    nobody = api.http.get("/v1/incidents/inc-1/replies/acknowledge")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["incident"], body["action"], body["required"]) == ("inc-1", "acknowledge", False)
    assert len(body["replies"]) == 4
    assert body["replies"][1] == REPLY
    assert all("{author}" not in text for text in body["replies"])
    assert (unknown.status_code, _error(unknown)["code"]) == (404, "unknown_action")
    assert nobody.status_code == 401


def test_the_openapi_document_describes_drafts_and_replies(api: Api) -> None:
    paths = api.http.get("/openapi.json").json()["paths"]

    for step in ("draft", "approve", "return"):
        assert "post" in paths[f"/v1/incidents/{{incident_id}}/actions/{{trigger}}/{step}"]
    assert "get" in paths["/v1/incidents/{incident_id}/replies/{trigger}"]


def test_under_required_templates_a_reply_must_be_one_of_the_replies_the_api_gives(tmp_path: Path) -> None:
    playbooks = tmp_path / "playbooks"
    playbooks.mkdir()
    fixture = ROOT / "tests" / "fixtures" / "incident" / "required-replies.good.yaml"
    (playbooks / "required-replies.yaml").write_text(fixture.read_text(encoding="utf-8"), encoding="utf-8")
    config = Config(data=tmp_path / "data", playbooks=(playbooks,), roster=tmp_path / "roster.yaml")
    (tmp_path / "roster.yaml").write_text("people:\n  ann: {roles: [agent, lead]}\n", encoding="utf-8")
    daemon = build(config, START)
    http = TestClient(create_app(daemon.context))
    auth = {"Authorization": f"Bearer {issue_token(daemon.store, 'ann', START)}"}
    try:
        http.post("/v1/mentions", headers=auth, json={"mentions": [mention("1", handle="@kim")]})
        http.post("/v1/incidents/inc-1/actions/assess", headers=auth, json={"revision": 0})
        listed = http.get("/v1/incidents/inc-1/replies/acknowledge", headers=auth).json()

        def acknowledge(text: str) -> httpx.Response:
            fields = {"public_reply": {"channel": "twitter", "text": text}}
            return http.post(
                "/v1/incidents/inc-1/actions/acknowledge", headers=auth, json={"revision": 1, "fields": fields}
            )

        own = acknowledge("Hi @kim, we're on it!")
        template = acknowledge(listed["replies"][1])
    finally:
        http.close()
        daemon.store.close()

    assert listed["required"] is True
    assert listed["replies"] == [
        "Hi @kim, thank you for telling us. We're looking into it now.",
        "Hi @kim, we're sorry. Please send us a direct message.",
    ]
    assert (own.status_code, _error(own)["code"]) == (422, "not_a_template")
    assert template.status_code == 200, template.text
