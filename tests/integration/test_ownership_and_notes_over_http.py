"""Who has an incident, the team's notes on it, and the attempts the rules refused, over the daemon's API.

Taking, assigning, releasing and noting are recorded in the incident's history and its log (a rebuild gives the
same owner) without changing its state or revision. A refused attempt is kept in the history too; the incident
stays as it was.
"""

from __future__ import annotations

from typing import Any

from intake_support import mention
from test_http_api import Desk, desk, error_of, make_desk

from engine.service import issue_token

__all__ = ["desk", "make_desk"]  # the fixtures, shared with the API's own tests

REPLY_WITH_CALM_DOWN = {"channel": "twitter", "text": "Please calm down, we are looking into it."}


def _opened(desk: Desk) -> dict[str, Any]:
    desk.ingest(mention("1"))
    shown: dict[str, Any] = desk.get("/v1/incidents/inc-1").json()
    return shown


def _history(desk: Desk, kind: str) -> list[dict[str, Any]]:
    return [entry for entry in desk.get("/v1/incidents/inc-1").json()["history"] if entry["kind"] == kind]


def test_taking_an_incident_makes_it_yours_in_its_history_without_a_new_revision(desk: Desk) -> None:
    before = _opened(desk)

    answer = desk.post("/v1/incidents/inc-1/take", "alice")

    assert answer.status_code == 200, answer.text
    assert answer.json()["incident"]["owner"] == "alice"
    assert [entry["summary"] for entry in answer.json()["history"]] == ["alice took it"]
    after = desk.get("/v1/incidents/inc-1").json()
    assert (after["owner"], after["state"], after["revision"]) == ("alice", before["state"], before["revision"])
    assert desk.daemon.context.service.rebuild("inc-1") == desk.store.incident("inc-1").incident


def test_a_second_person_taking_the_same_incident_is_told_who_has_it(desk: Desk) -> None:
    _opened(desk)
    desk.post("/v1/incidents/inc-1/take", "alice")
    before = desk.rows()

    answer = desk.post("/v1/incidents/inc-1/take", "bob")

    assert answer.status_code == 409
    problem = error_of(answer)
    assert problem["code"] == "taken"
    assert "alice has this incident already" in problem["message"]
    assert desk.rows() == before


def test_assigning_hands_the_incident_to_a_colleague_and_release_gives_it_back_to_the_team(desk: Desk) -> None:
    _opened(desk)
    desk.post("/v1/incidents/inc-1/take", "alice")

    assigned = desk.post("/v1/incidents/inc-1/assign", "bob", json={"owner": "carol"})
    released = desk.post("/v1/incidents/inc-1/release", "carol")

    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["incident"]["owner"] == "carol"
    assert released.json()["incident"]["owner"] is None
    assert [entry["summary"] for entry in _history(desk, "owner")] == [
        "alice took it",
        "bob assigned it to carol (it was alice's)",
        "carol released it",
    ]


def test_assigning_to_someone_not_in_the_roster_or_the_playbooks_team_is_refused_and_changes_nothing(
    desk: Desk,
) -> None:
    _opened(desk)
    before = desk.rows()

    stranger = desk.post("/v1/incidents/inc-1/assign", "bob", json={"owner": "zed"})
    outsider = desk.post("/v1/incidents/inc-1/assign", "bob", json={"owner": "erin"})
    shapeless = desk.post("/v1/incidents/inc-1/assign", "bob", json={"person": "carol"})

    assert (stranger.status_code, error_of(stranger)["code"]) == (422, "unknown_person")
    assert "zed is not in the roster" in error_of(stranger)["message"]
    assert (outsider.status_code, error_of(outsider)["code"]) == (422, "invalid_field")
    assert "erin has no role in customer-complaint" in error_of(outsider)["message"]
    assert (shapeless.status_code, error_of(shapeless)["code"]) == (422, "bad_action")
    assert desk.rows() == before


def test_mine_lists_only_the_incidents_the_caller_has(desk: Desk) -> None:
    desk.ingest(mention("1", handle="@ann"), mention("2", handle="@ben"), mention("3", handle="@cat"))
    desk.post("/v1/incidents/inc-1/take", "alice")
    desk.post("/v1/incidents/inc-3/assign", "bob", json={"owner": "alice"})
    desk.post("/v1/incidents/inc-2/take", "bob")

    mine = desk.get("/v1/incidents", "alice", params={"mine": "true"}).json()["incidents"]
    bobs = desk.get("/v1/incidents", "alice", params={"owner": "bob"}).json()["incidents"]
    clash = desk.get("/v1/incidents", "alice", params={"mine": "true", "owner": "bob"})

    assert [item["id"] for item in mine] == ["inc-1", "inc-3"]
    assert [item["id"] for item in bobs] == ["inc-2"]
    assert clash.status_code == 422


def test_a_note_is_kept_in_the_history_for_the_team_and_changes_nothing_else(desk: Desk) -> None:
    before = _opened(desk)

    answer = desk.post("/v1/incidents/inc-1/notes", "bob", json={"text": "Ann wrote to us last month as well."})

    assert answer.status_code == 201, answer.text
    assert _history(desk, "note") == [
        {
            "at": answer.json()["history"][0]["at"],
            "kind": "note",
            "summary": "Ann wrote to us last month as well.",
            "actor": "bob",
            "details": {"text": "Ann wrote to us last month as well."},
            "event": 2,
        }
    ]
    after = desk.get("/v1/incidents/inc-1").json()
    assert (after["state"], after["revision"]) == (before["state"], before["revision"])


def test_an_empty_note_or_one_without_text_is_refused_and_changes_nothing(desk: Desk) -> None:
    _opened(desk)
    before = desk.rows()

    empty = desk.post("/v1/incidents/inc-1/notes", "bob", json={"text": "  "})
    not_text = desk.post("/v1/incidents/inc-1/notes", "bob", json={"text": 7})

    assert (empty.status_code, error_of(empty)["code"]) == (422, "missing_field")
    assert (not_text.status_code, error_of(not_text)["code"]) == (422, "bad_action")
    assert desk.rows() == before


def test_someone_outside_the_playbooks_team_can_neither_take_nor_note(desk: Desk) -> None:
    _opened(desk)
    token = issue_token(desk.store, "erin", desk.daemon.context.clock())  # on-call engineer: not in this playbook
    headers = {"Authorization": f"Bearer {token}"}
    before = desk.rows()

    took = desk.http.post("/v1/incidents/inc-1/take", headers=headers)
    noted = desk.http.post("/v1/incidents/inc-1/notes", headers=headers, json={"text": "hello"})

    assert (took.status_code, error_of(took)["code"]) == (403, "role_not_allowed")
    assert (noted.status_code, error_of(noted)["code"]) == (403, "role_not_allowed")
    assert desk.rows() == before


def test_a_reply_stopped_by_a_house_rule_is_kept_as_an_attempt_and_the_incident_stays_as_it_was(desk: Desk) -> None:
    _opened(desk)
    desk.act("inc-1", "assess", "alice", 0, severity="medium")
    before = desk.get("/v1/incidents/inc-1").json()

    answer = desk.act("inc-1", "acknowledge", "alice", 1, public_reply=REPLY_WITH_CALM_DOWN)

    assert error_of(answer)["code"] == "house_rule"
    [attempt] = _history(desk, "refused")
    assert attempt["actor"] == "alice"
    assert attempt["summary"].startswith("acknowledge refused, nothing changed: ")
    assert "'calm down'" in attempt["summary"]
    assert attempt["details"]["reason"] == "house_rule"
    assert attempt["details"]["fields"] == {"public_reply": REPLY_WITH_CALM_DOWN}
    after = desk.get("/v1/incidents/inc-1").json()
    assert {key: value for key, value in after.items() if key != "history"} == {
        key: value for key, value in before.items() if key != "history"
    }
    assert desk.daemon.context.service.rebuild("inc-1") == desk.store.incident("inc-1").incident


def test_an_action_by_the_wrong_role_is_kept_as_an_attempt_but_a_stale_one_is_not(desk: Desk) -> None:
    _opened(desk)
    desk.act("inc-1", "assess", "alice", 0, severity="medium")

    wrong_role = desk.act("inc-1", "do_not_engage", "alice", 1, reason="troll")
    stale = desk.act("inc-1", "do_not_engage", "bob", 0, reason="troll")

    assert error_of(wrong_role)["code"] == "role_not_allowed"
    assert error_of(stale)["code"] == "stale"
    assert [(entry["actor"], entry["details"]["reason"]) for entry in _history(desk, "refused")] == [
        ("alice", "role_not_allowed")
    ]
