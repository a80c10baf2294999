"""An action names the revision of the incident it was decided on: ``{"revision": N}``, or ``{"version": N}`` as
scripts written before sent it. Both spellings are taken, both at once must agree, and the incident shows both;
``playbook_version`` stays the playbook's. A write the store refuses as stale reaches the client as JSON 409.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from intake_support import mention
from test_http_api import Desk, error_of

from engine.api._context import get_service
from engine.service import ActResult, Service
from engine.store import Conflict


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    made = Desk(tmp_path / "data")
    made.ingest(mention("1"))
    yield made
    made.close()


def _act(desk: Desk, body: dict[str, Any], trigger: str = "assess", person: str = "alice") -> Any:
    return desk.post(f"/v1/incidents/inc-1/actions/{trigger}", person, json=body)


def test_an_action_naming_the_revision_it_saw_is_taken(desk: Desk) -> None:
    answer = _act(desk, {"revision": 0, "fields": {"severity": "high"}})

    assert answer.status_code == 200, answer.text
    assert (answer.json()["incident"]["state"], answer.json()["incident"]["revision"]) == ("assessed", 1)


def test_an_action_sent_with_the_old_name_version_is_still_taken(desk: Desk) -> None:
    answer = _act(desk, {"version": 0, "fields": {"severity": "high"}})

    assert answer.status_code == 200, answer.text
    assert answer.json()["incident"]["revision"] == 1


def test_revision_and_version_sent_together_are_taken_when_they_agree(desk: Desk) -> None:
    answer = _act(desk, {"revision": 0, "version": 0, "fields": {"severity": "high"}})

    assert answer.status_code == 200, answer.text


def test_revision_and_version_that_disagree_are_refused_with_422_and_change_nothing(desk: Desk) -> None:
    before = desk.rows()

    answer = _act(desk, {"revision": 0, "version": 1, "fields": {"severity": "high"}})

    assert (answer.status_code, error_of(answer)["code"]) == (422, "revision_mismatch")
    assert "send revision alone" in error_of(answer)["message"]
    assert desk.rows() == before


def test_a_stale_revision_is_refused_with_409(desk: Desk) -> None:
    assert _act(desk, {"revision": 0, "fields": {"severity": "high"}}).status_code == 200

    answer = _act(desk, {"revision": 0, "fields": {"reason": "troll"}}, "do_not_engage", "bob")

    assert (answer.status_code, error_of(answer)["code"]) == (409, "stale")


def test_an_incident_shows_its_revision_under_both_names_apart_from_its_playbooks_version(desk: Desk) -> None:
    _act(desk, {"revision": 0, "fields": {"severity": "high"}})

    shown = desk.get("/v1/incidents/inc-1").json()
    (listed,) = desk.get("/v1/incidents").json()["incidents"]

    assert (shown["revision"], shown["version"], shown["playbook_version"]) == (1, 1, 2)
    assert (listed["revision"], listed["version"]) == (1, 1)


def test_the_document_names_revision_and_marks_version_deprecated(desk: Desk) -> None:
    document = desk.http.get("/openapi.json").json()
    body = document["paths"]["/v1/incidents/{incident_id}/actions/{trigger}"]["post"]["requestBody"]
    properties = body["content"]["application/json"]["schema"]["properties"]

    assert set(properties) == {"revision", "version", "fields"}
    assert properties["version"]["deprecated"] is True


class _Raced(Service):
    """The daemon's service, whose every action loses a race: another writer moved the incident between the
    action's read and its write, and the store refuses the write."""

    def act(self, incident_id: str, trigger: str, **_: Any) -> ActResult:
        raise Conflict(f"incident {incident_id} changed since revision 0; read it again and act on what it shows now")


def test_a_write_the_store_refuses_as_stale_reaches_the_client_as_json_409(desk: Desk) -> None:
    real = desk.daemon.service
    raced = _Raced(real.store, real.library, real.clock)
    desk.http.app.dependency_overrides[get_service] = lambda: raced  # type: ignore[attr-defined]
    before = desk.rows()

    answer = _act(desk, {"revision": 0, "fields": {"severity": "high"}})

    assert answer.status_code == 409, answer.text
    assert answer.headers["content-type"] == "application/json"
    assert error_of(answer)["code"] == "stale"
    assert "read it again" in error_of(answer)["message"]
    assert desk.rows() == before
