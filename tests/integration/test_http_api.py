"""The daemon's HTTP API, in process, over a real SQLite store and a simulated clock moved with POST /v1/admin/clock.

What a listening tool and the people on the desk drive: mentions in, incidents listed and shown, actions taken.
Every refusal is JSON (``{"error": {"code", "message"}}``) and writes nothing: each bad-input test counts the rows
of every table before and after.
"""

from __future__ import annotations

import sqlite3
import warnings
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from intake_support import mention
from starlette.exceptions import StarletteDeprecationWarning

from engine.api import create_app
from engine.daemon import Config, Daemon, build
from engine.service import LEARNED_FROM, TOKEN_PREFIX, issue_token, revoke_tokens
from engine.store import IncidentFilter

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)  # it nudges towards httpx2; calmly ships httpx
    from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOKS = ROOT / "playbooks"
ROSTER = ROOT / "examples" / "roster.yaml"
START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday
TABLES = ("incidents", "events", "mentions", "deadlines", "outbox", "tokens", "counters")


class Desk:
    """The daemon's app as ``calmly serve`` builds it, with a token for each person of the example roster."""

    def __init__(self, folder: Path, *, simulated: bool = True, max_body_bytes: int = 1_048_576) -> None:
        config = Config(data=folder, playbooks=(PLAYBOOKS,), roster=ROSTER, max_body_bytes=max_body_bytes)
        self.daemon: Daemon = build(config, START if simulated else None)
        self.store = self.daemon.store
        self.http = TestClient(create_app(self.daemon.context), raise_server_exceptions=True)
        self._tokens = {person: issue_token(self.store, person, START) for person in ("alice", "bob", "carol")}

    def token(self, person: str) -> str:
        return self._tokens[person]

    def auth(self, person: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(person)}"}

    def get(self, path: str, person: str = "alice", **kwargs: Any) -> httpx.Response:
        return self.http.get(path, headers=self.auth(person), **kwargs)

    def post(self, path: str, person: str = "alice", **kwargs: Any) -> httpx.Response:
        return self.http.post(path, headers={**self.auth(person), **kwargs.pop("headers", {})}, **kwargs)

    def ingest(self, *mentions: dict[str, Any]) -> list[dict[str, Any]]:
        answer = self.post("/v1/mentions", json={"mentions": list(mentions)})
        assert answer.status_code == 200, answer.text
        results: list[dict[str, Any]] = answer.json()["results"]
        return results

    def act(self, incident_id: str, trigger: str, person: str, version: int, **fields: Any) -> httpx.Response:
        return self.post(
            f"/v1/incidents/{incident_id}/actions/{trigger}", person, json={"version": version, "fields": fields}
        )

    def advance(self, duration: str) -> dict[str, Any]:
        answer = self.post("/v1/admin/clock", "bob", json={"advance": duration})
        assert answer.status_code == 200, answer.text
        moved: dict[str, Any] = answer.json()
        return moved

    def rows(self) -> dict[str, int]:
        """How many rows each table holds, read through a connection of its own: only what was committed."""
        with sqlite3.connect(f"file:{self.store.path}?mode=ro", uri=True) as db:
            counted = {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in TABLES}
            revisions = db.execute("SELECT COALESCE(SUM(revision), 0) FROM incidents").fetchone()[0]
        db.close()
        return {**counted, "revisions": revisions, **self.store.counts()}

    def close(self) -> None:
        self.http.close()
        self.store.close()


@pytest.fixture
def make_desk(tmp_path: Path) -> Iterator[Callable[..., Desk]]:
    made: list[Desk] = []

    def make(**options: Any) -> Desk:
        desk = Desk(tmp_path / f"data{len(made)}", **options)
        made.append(desk)
        return desk

    yield make
    for desk in made:
        desk.close()


@pytest.fixture
def desk(make_desk: Callable[..., Desk]) -> Desk:
    return make_desk()


def error_of(answer: httpx.Response) -> dict[str, Any]:
    """The machine-readable error every refusal carries; its code and message are always there."""
    body = answer.json()
    assert set(body) == {"error"}, body
    problem: dict[str, Any] = body["error"]
    assert isinstance(problem["code"], str)
    assert isinstance(problem["message"], str)
    assert problem["message"]
    return problem


# --- mentions ---------------------------------------------------------------------------------------------------


def test_a_mention_is_answered_with_the_incident_it_opened_once_that_is_committed(desk: Desk) -> None:
    answer = desk.post("/v1/mentions", json=mention("1"))

    assert answer.status_code == 200
    assert answer.json() == {"results": [{"status": "opened", "incident": "inc-1", "playbook": "customer-complaint"}]}
    # Another connection sees it already: the answer came after the commit.
    with sqlite3.connect(f"file:{desk.store.path}?mode=ro", uri=True) as db:
        state = db.execute("SELECT state FROM incidents WHERE id = 'inc-1'").fetchone()
        outcome = db.execute("SELECT outcome, incident_id FROM mentions WHERE external_id = '1'").fetchone()
    db.close()
    assert state == ("detected",)
    assert outcome == ("opened", "inc-1")


def test_a_second_mention_by_the_same_author_joins_the_incident_already_open(desk: Desk) -> None:
    desk.ingest(mention("1"))

    (joined,) = desk.ingest(mention("2", text="Still waiting on my broken order"))

    assert joined == {"status": "joined", "incident": "inc-1", "playbook": "customer-complaint"}
    shown = desk.get("/v1/incidents/inc-1").json()
    assert [(item["channel"], item["external_id"], item["outcome"]) for item in shown["mentions"]] == [
        ("twitter", "1", "opened"),
        ("twitter", "2", "joined"),
    ]
    assert desk.rows()["incidents"] == 1


def test_a_batch_is_answered_mention_by_mention_in_the_order_sent(desk: Desk) -> None:
    batch = [
        mention("1"),
        mention("2", text="Still nothing about my broken order"),
        {**mention("3", handle="@quiet"), "channel": "email"},  # no shipped playbook takes email
        mention("4", handle="@bea", text="The whole site is down, total outage"),
        mention("5", handle="@cal"),
    ]

    results = desk.ingest(*batch)

    assert [(result["status"], result["incident"], result["playbook"]) for result in results] == [
        ("opened", "inc-1", "customer-complaint"),
        ("joined", "inc-1", "customer-complaint"),
        ("ignored", None, None),
        ("opened", "inc-2", "service-outage"),
        ("opened", "inc-3", "customer-complaint"),
    ]
    assert "message" in results[2]  # says why nothing took it
    assert desk.rows()["mentions"] == 5


def test_a_bare_list_of_mentions_is_a_batch_too(desk: Desk) -> None:
    answer = desk.post("/v1/mentions", json=[mention("1"), mention("2", handle="@bea")])

    assert [result["incident"] for result in answer.json()["results"]] == ["inc-1", "inc-2"]


def test_a_mention_seen_again_on_its_channel_is_a_duplicate_and_changes_nothing(desk: Desk) -> None:
    desk.ingest(mention("1"))
    before = desk.rows()

    (again,) = desk.ingest(mention("1", text="a different text, the same post"))
    (twice,) = desk.ingest(mention("1"))

    assert again["status"] == twice["status"] == "duplicate"
    assert again["incident"] == "inc-1"
    assert desk.rows() == before


def test_the_same_external_id_on_another_channel_is_another_mention(desk: Desk) -> None:
    desk.ingest(mention("1"))

    (other,) = desk.ingest({**mention("1"), "channel": "facebook"})

    assert (other["status"], other["incident"]) == ("opened", "inc-2")


def test_a_mention_repeated_inside_one_batch_is_recorded_once(desk: Desk) -> None:
    results = desk.ingest(mention("1"), mention("1"))

    assert [result["status"] for result in results] == ["opened", "duplicate"]
    assert desk.rows()["mentions"] == 1


# --- bad input to /v1/mentions: a clear error, nothing written ---------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        pytest.param(b'{"channel": "twitter", "external_id": ', 400, "malformed_json", id="malformed-json"),
        pytest.param(b"\xff\xfe not utf-8", 400, "malformed_json", id="not-utf8"),
        pytest.param(b"", 400, "empty_body", id="empty-body"),
        pytest.param(b'{"mentions": []}', 422, "no_mentions", id="empty-batch"),
        pytest.param(b"42", 422, "invalid_mention", id="not-an-object"),
    ],
)
def test_a_body_that_is_not_mentions_is_refused_with_its_code_and_nothing_is_written(
    desk: Desk, body: bytes, status: int, code: str
) -> None:
    desk.ingest(mention("1"))
    before = desk.rows()

    answer = desk.post("/v1/mentions", content=body, headers={"Content-Type": "application/json"})

    assert answer.status_code == status, answer.text
    assert error_of(answer)["code"] == code
    assert desk.rows() == before


def test_malformed_json_is_located_by_line_and_column(desk: Desk) -> None:
    answer = desk.post("/v1/mentions", content=b'{\n  "channel": twitter\n}')

    assert answer.status_code == 400
    assert "line 2, column 14" in error_of(answer)["message"]


def test_a_batch_with_one_mention_failing_its_schema_is_refused_whole_naming_its_index_and_pointer(desk: Desk) -> None:
    before = desk.rows()
    batch = [mention("1"), {**mention("2", handle="@bea"), "channel": "carrier_pigeon"}, mention("3", handle="@cal")]

    answer = desk.post("/v1/mentions", json={"mentions": batch})

    assert answer.status_code == 422
    problem = error_of(answer)
    assert problem["code"] == "invalid_mention"
    assert "1 of 3" in problem["message"]
    assert "nothing was recorded" in problem["message"]
    (invalid,) = problem["details"]
    assert invalid["index"] == 1
    (error,) = invalid["errors"]
    assert error["pointer"] == "/channel"
    assert "carrier_pigeon" in error["message"]
    assert desk.rows() == before
    assert desk.store.mention("twitter", "1") is None


def test_a_mention_missing_fields_names_each_problem_once(desk: Desk) -> None:
    answer = desk.post("/v1/mentions", json={"channel": "twitter", "author": {"followers": -1}})

    (invalid,) = error_of(answer)["details"]
    found = [(error["pointer"], error["message"]) for error in invalid["errors"]]
    assert len(found) == len(set(found)), found
    assert [pointer for pointer, _ in found] == ["", "/author", "/author/followers"]
    assert "'external_id', 'text', 'posted_at'" in found[0][1]


def test_a_body_over_the_cap_is_refused_with_413_before_it_is_read_whole(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(max_body_bytes=2048)
    before = desk.rows()
    big = mention("1", text="broken " * 400)

    declared = desk.post("/v1/mentions", json=big)
    streamed = desk.post("/v1/mentions", content=iter([b'{"channel": "twitter", "text": "', b"x" * 4096, b'"}']))

    for answer in (declared, streamed):
        assert answer.status_code == 413
        problem = error_of(answer)
        assert problem["code"] == "body_too_large"
        assert "2,048 bytes" in problem["message"]
    assert desk.rows() == before
    (small,) = desk.ingest(mention("1"))
    assert small["status"] == "opened"


# --- tokens -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("authorization", "code"),
    [
        pytest.param(None, "missing_token", id="missing"),
        pytest.param("Bearer ", "missing_token", id="empty-bearer"),
        pytest.param("Bearer not-a-calmly-token", "malformed_token", id="malformed"),
        pytest.param(f"Bearer {TOKEN_PREFIX}{'A' * 43}", "unknown_token", id="wrong"),
        pytest.param(f"Bearer {TOKEN_PREFIX}{'A' * 42}", "malformed_token", id="truncated"),
    ],
)
@pytest.mark.parametrize(
    "request_",
    [
        pytest.param(("POST", "/v1/mentions", mention("9")), id="mentions"),
        pytest.param(("GET", "/v1/incidents", None), id="list"),
        pytest.param(("GET", "/v1/incidents/inc-1", None), id="show"),
        pytest.param(("POST", "/v1/incidents/inc-1/actions/assess", {"version": 0, "fields": {}}), id="act"),
        pytest.param(("POST", "/v1/admin/clock", {"advance": "4h"}), id="clock"),
    ],
)
def test_a_request_without_a_good_token_is_refused_with_401_saying_why(
    desk: Desk, authorization: str | None, code: str, request_: tuple[str, str, Any]
) -> None:
    desk.ingest(mention("1"))
    before = desk.rows()
    headers = {} if authorization is None else {"Authorization": authorization}
    method, path, body = request_

    answer = desk.http.request(method, path, headers=headers, json=body)

    assert answer.status_code == 401, answer.text
    problem = error_of(answer)
    assert problem["code"] == code
    assert "calmly token issue" in problem["message"] or "calmly_" in problem["message"]
    assert desk.rows() == before
    assert desk.daemon.context.clock() == START


def test_a_revoked_token_is_refused_and_a_new_one_works(desk: Desk) -> None:
    desk.ingest(mention("1"))
    old = desk.auth("alice")
    assert revoke_tokens(desk.store, "alice", START).tokens == 1
    before = desk.rows()

    refused = desk.http.post("/v1/incidents/inc-1/actions/assess", headers=old, json={"version": 0, "fields": {}})
    fresh = issue_token(desk.store, "alice", START)
    allowed = desk.http.get("/v1/incidents", headers={"Authorization": f"Bearer {fresh}"})

    assert refused.status_code == 401
    assert error_of(refused)["code"] == "revoked_token"
    assert desk.rows() == {**before, "tokens": before["tokens"] + 1}
    assert allowed.status_code == 200


def test_a_token_stops_working_when_the_clock_reaches_its_expiry(desk: Desk) -> None:
    short = issue_token(desk.store, "alice", START, expires_in=timedelta(hours=1))
    headers = {"Authorization": f"Bearer {short}"}
    assert desk.http.get("/v1/incidents", headers=headers).status_code == 200

    desk.advance("59m")
    still = desk.http.get("/v1/incidents", headers=headers)
    desk.advance("1m")
    expired = desk.http.get("/v1/incidents", headers=headers)

    assert still.status_code == 200
    assert expired.status_code == 401
    assert error_of(expired)["code"] == "expired_token"


# --- actions ----------------------------------------------------------------------------------------------------


def test_an_action_moves_the_incident_and_answers_with_its_new_version_and_what_happened(desk: Desk) -> None:
    desk.ingest(mention("1"))

    answer = desk.act("inc-1", "assess", "alice", 0, severity="high")

    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert (done["incident"]["state"], done["incident"]["severity"], done["incident"]["version"]) == (
        "assessed",
        "high",
        1,
    )
    assert done["incident"]["waiting_on"] == ["community_manager", "social_lead"]
    assert [entry["kind"] for entry in done["history"]][:2] == ["transition", "severity"]
    assert all(entry["actor"] == "alice" for entry in done["history"] if entry["kind"] == "transition")
    events = desk.store.events("inc-1")
    assert [(event.kind, event.actor) for event in events] == [("open", None), ("act", "alice")]


def test_a_public_reply_that_keeps_the_house_rules_acknowledges_the_incident(desk: Desk) -> None:
    desk.ingest(mention("1"))
    desk.act("inc-1", "assess", "alice", 0, severity="medium")

    answer = desk.act(
        "inc-1", "acknowledge", "alice", 1, public_reply={"channel": "twitter", "text": "Sorry, we're on it."}
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["incident"]["state"] == "acknowledged"


def _refusal_cases() -> list[Any]:
    reply = {"channel": "twitter", "text": "Please calm down, it is not our fault."}
    return [
        pytest.param("inc-9", "assess", "alice", {"version": 0, "fields": {"severity": "high"}},
                     (404, "unknown_incident"), id="unknown-incident"),
        pytest.param("inc-1", "escalate_to_ceo", "alice", {"version": 1, "fields": {}}, (404, "unknown_action"),
                     id="unknown-trigger"),
        pytest.param("inc-1", "acknowledge", "alice", {"version": 0, "fields": {"public_reply": reply}},
                     (409, "stale"), id="stale-version"),
        pytest.param("inc-1", "do_not_engage", "alice", {"version": 1, "fields": {"reason": "troll"}},
                     (403, "role_not_allowed"), id="role-not-allowed"),
        pytest.param("inc-1", "acknowledge", "alice", {"version": 1, "fields": {"public_reply": reply}},
                     (422, "house_rule"), id="house-rule"),
        pytest.param("inc-1", "acknowledge", "alice", {"fields": {"public_reply": reply}}, (422, "missing_version"),
                     id="missing-version"),
        pytest.param("inc-1", "acknowledge", "alice", {"version": "1", "fields": {}}, (422, "missing_version"),
                     id="version-as-text"),
        pytest.param("inc-1", "acknowledge", "alice", {"version": True, "fields": {}}, (422, "missing_version"),
                     id="version-as-boolean"),
        pytest.param("inc-1", "acknowledge", "alice", {"version": 1, "fields": {}}, (422, "missing_field"),
                     id="missing-field"),
        pytest.param("inc-1", "resolve", "carol", {"version": 1, "fields": {"outcome": "refunded"}},
                     (422, "not_available"), id="not-from-this-state"),
        pytest.param("inc-1", "acknowledge", "alice", {"version": 1, "fields": [1]}, (422, "bad_action"),
                     id="fields-not-an-object"),
        pytest.param("inc-1", "acknowledge", "alice", {"version": 1, "extra": 1}, (422, "bad_action"),
                     id="unknown-key"),
        pytest.param("inc-1", "acknowledge", "alice", b"{version: 1}", (400, "malformed_json"), id="malformed-json"),
        pytest.param("inc-1", "acknowledge", "alice", b"", (400, "empty_body"), id="empty-body"),
    ]  # fmt: skip


@pytest.mark.parametrize(("incident_id", "trigger", "person", "body", "refusal"), _refusal_cases())
def test_a_refused_action_says_why_with_its_status_and_changes_nothing(
    desk: Desk, *, incident_id: str, trigger: str, person: str, body: Any, refusal: tuple[int, str]
) -> None:
    desk.ingest(mention("1"))
    assert desk.act("inc-1", "assess", "alice", 0, severity="medium").status_code == 200
    before = desk.rows()
    shown = desk.get("/v1/incidents/inc-1").json()
    path = f"/v1/incidents/{incident_id}/actions/{trigger}"

    sent = {"content": body} if isinstance(body, bytes) else {"json": body}

    answer = desk.post(path, person, **sent)

    assert (answer.status_code, error_of(answer)["code"]) == refusal, answer.text
    now = desk.get("/v1/incidents/inc-1").json()
    if refusal[1] in LEARNED_FROM:  # kept in the history as an attempt; the incident itself is as it was
        assert desk.rows() == {**before, "events": before["events"] + 1}
        assert [entry["kind"] for entry in now.pop("history")] == [
            *(entry["kind"] for entry in shown.pop("history")),
            "refused",
        ]
        assert now == shown
    else:
        assert desk.rows() == before
        assert now == shown


def test_a_house_rule_refusal_names_the_phrase_and_the_field(desk: Desk) -> None:
    desk.ingest(mention("1"))
    desk.act("inc-1", "assess", "alice", 0, severity="medium")

    answer = desk.act("inc-1", "acknowledge", "alice", 1, public_reply={"channel": "twitter", "text": "Calm down!"})

    problem = error_of(answer)
    assert "'calm down'" in problem["message"]
    assert problem["details"] == {"field": "public_reply"}


def test_after_a_stale_refusal_the_current_version_is_accepted(desk: Desk) -> None:
    desk.ingest(mention("1"))
    desk.act("inc-1", "assess", "alice", 0, severity="medium")
    stale = desk.act("inc-1", "do_not_engage", "bob", 0, reason="troll")

    current = desk.get("/v1/incidents/inc-1").json()["version"]
    done = desk.act("inc-1", "do_not_engage", "bob", current, reason="troll")

    assert stale.status_code == 409
    assert "version" in error_of(stale)["message"] or "revision" in error_of(stale)["message"]
    assert done.status_code == 200
    assert done.json()["incident"]["final"] is True


# --- reading incidents ------------------------------------------------------------------------------------------


@pytest.fixture
def floor(desk: Desk) -> Desk:
    """Five incidents: one breached, one assessed, one outage, one closed, one new.

    inc-1 (customer-complaint, medium) opens at 09:00 and breaches at 13:00; then at 13:00 inc-2 (low, assessed by
    alice), inc-3 (service-outage), inc-4 (closed by bob: a troll) and inc-5 (low, detected) open.
    """
    desk.ingest(mention("1"))
    desk.advance("4h")
    desk.ingest(
        mention("2", handle="@bea", text="Not impressed with the service today"),
        mention("3", handle="@cal", text="The website is down"),
        mention("4", handle="@troll", text="lol whatever"),
        mention("5", handle="@dee", text="Hmm, the colour is not what I expected"),
    )
    assert desk.act("inc-2", "assess", "alice", 0, severity="low").status_code == 200
    assert desk.act("inc-4", "do_not_engage", "bob", 0, reason="troll").status_code == 200
    return desk


def listed(desk: Desk, query: str) -> list[str]:
    answer = desk.get(f"/v1/incidents?{query}")
    assert answer.status_code == 200, answer.text
    return [item["id"] for item in answer.json()["incidents"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        pytest.param("", ["inc-1", "inc-2", "inc-3", "inc-4", "inc-5"], id="all-oldest-first"),
        pytest.param("state=detected", ["inc-1", "inc-3", "inc-5"], id="state"),
        pytest.param("state=assessed,not_engaged", ["inc-2", "inc-4"], id="states-comma"),
        pytest.param("state=assessed&state=not_engaged", ["inc-2", "inc-4"], id="states-repeated"),
        pytest.param("severity=medium", ["inc-1", "inc-3"], id="severity"),
        pytest.param("playbook=service-outage", ["inc-3"], id="playbook"),
        pytest.param("breached=true", ["inc-1"], id="breached"),
        pytest.param("breached=false", ["inc-2", "inc-3", "inc-4", "inc-5"], id="not-breached"),
        pytest.param("open=true", ["inc-1", "inc-2", "inc-3", "inc-5"], id="open"),
        pytest.param("waiting_on=incident_commander", ["inc-3"], id="waiting-on"),
        pytest.param("waiting_on=customer_care", [], id="waiting-on-nobody"),
        pytest.param("playbook=customer-complaint&severity=low&open=true", ["inc-2", "inc-5"], id="together"),
    ],
)
def test_incidents_are_listed_by_what_the_desk_filters_on(floor: Desk, query: str, expected: list[str]) -> None:
    assert listed(floor, query) == expected


def test_a_listed_incident_shows_what_the_desk_needs_at_a_glance(floor: Desk) -> None:
    (first, *_) = floor.get("/v1/incidents").json()["incidents"]

    assert first["id"] == "inc-1"
    assert (first["state"], first["severity"], first["playbook"], first["channel"], first["author"]) == (
        "detected",
        "medium",
        "customer-complaint",
        "twitter",
        "@ann",
    )
    assert first["breached"] == ["first_response", "limit:detected"]
    assert first["final"] is False


def test_pages_follow_one_another_through_next_until_none_is_left(floor: Desk) -> None:
    seen: list[str] = []
    pages = 0
    after: str | None = None
    while True:
        query = "limit=2" + (f"&after={after}" if after else "")
        page = floor.get(f"/v1/incidents?{query}").json()
        pages += 1
        assert len(page["incidents"]) <= 2
        seen += [item["id"] for item in page["incidents"]]
        after = page["next"]
        if after is None:
            break
        assert pages < 10

    assert seen == ["inc-1", "inc-2", "inc-3", "inc-4", "inc-5"]
    assert floor.get("/v1/incidents?limit=2").json()["next"] == "inc-2"
    assert listed(floor, "limit=2&after=inc-2&open=true") == ["inc-3", "inc-5"]


@pytest.mark.parametrize("query", ["breached=maybe", "open=yes", "limit=0", "limit=501", "limit=ten"])
def test_a_bad_query_is_refused_with_422_saying_what_is_allowed(floor: Desk, query: str) -> None:
    answer = floor.get(f"/v1/incidents?{query}")

    assert answer.status_code == 422
    problem = error_of(answer)
    assert problem["code"] == "bad_query"
    assert query.split("=", maxsplit=1)[0] in problem["message"]


def test_an_incident_shows_its_running_clocks_with_deadlines_the_actions_open_and_its_whole_history(
    desk: Desk,
) -> None:
    desk.ingest(mention("1"), mention("2", text="Still waiting for a reply about my broken order"))
    desk.advance("3h")  # the 75% warnings
    desk.act("inc-1", "assess", "alice", 1, severity="high")  # high: a first response within 1h, so overdue
    overdue = desk.advance("0s")

    shown = desk.get("/v1/incidents/inc-1").json()

    assert (shown["id"], shown["state"], shown["severity"], shown["version"]) == ("inc-1", "assessed", "high", 2)
    clocks = {clock["name"]: clock for clock in shown["clocks"]}
    # The second mention is a follow-up from the same author: the next response runs until the team answers.
    assert set(clocks) == {"limit:assessed", "first_response", "resolution", "next_response"}
    assert clocks["first_response"]["due_at"] == "2026-11-23T10:00:00+00:00"  # high: an hour from 09:00
    assert clocks["first_response"]["breached"] is True
    assert overdue["fired"] >= 1
    assert clocks["limit:assessed"]["breached"] is False
    assert shown["finished_clocks"] == []  # no target met yet; the detected limit stopped with the state
    assert shown["deadlines"], "pending deadlines are listed"
    assert {deadline["clock"] for deadline in shown["deadlines"]} <= set(clocks)
    assert all(deadline["due_at"] >= "2026-11-23T12:00:00+00:00" for deadline in shown["deadlines"])
    assert [(action["trigger"], action["by"], action["requires"]) for action in shown["actions"]] == [
        ("acknowledge", ["community_manager"], ["public_reply"]),
        ("do_not_engage", ["social_lead"], ["reason"]),
    ]
    kinds = [entry["kind"] for entry in shown["history"]]
    assert kinds[0] == "opened"
    assert kinds[1] == "mention"
    assert "escalation" in kinds
    assert "transition" in kinds
    assert kinds.index("escalation") < kinds.index("transition")
    assert [entry["event"] for entry in shown["history"]] == sorted(entry["event"] for entry in shown["history"])


def test_a_closed_incident_offers_no_actions(floor: Desk) -> None:
    shown = floor.get("/v1/incidents/inc-4").json()

    assert shown["state"] == "not_engaged"
    assert shown["final"] is True
    assert shown["actions"] == []


def test_an_unknown_incident_is_404_unknown_incident(desk: Desk) -> None:
    answer = desk.get("/v1/incidents/inc-404")

    assert answer.status_code == 404
    problem = error_of(answer)
    assert problem["code"] == "unknown_incident"
    assert "inc-404" in problem["message"]


def test_an_unknown_path_is_a_json_404(desk: Desk) -> None:
    answer = desk.get("/v1/incident")

    assert answer.status_code == 404
    assert error_of(answer)["code"] == "not_found"


# --- operations -------------------------------------------------------------------------------------------------


def test_healthz_answers_without_a_token(desk: Desk) -> None:
    answer = desk.http.get("/healthz")

    assert (answer.status_code, answer.json()) == (200, {"status": "ok"})


def test_readyz_is_ready_only_once_the_scheduler_runs_and_names_the_playbooks(desk: Desk) -> None:
    desk.ingest(mention("1"))
    starting = desk.http.get("/readyz")

    desk.daemon.scheduler.start()
    try:
        ready = desk.http.get("/readyz")
    finally:
        desk.daemon.scheduler.stop()

    assert starting.status_code == 503
    assert error_of(starting)["code"] == "not_ready"
    assert error_of(starting)["details"] == {"store": "reachable"}
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "ready"
    assert "customer-complaint v2" in body["playbooks"]
    assert (body["incidents"], body["open_incidents"]) == (1, 1)
    assert body["details"] == {"store": {"backend": "sqlite"}}  # one daemon's store: no clock to check it against


def test_moving_the_simulated_clock_fires_due_deadlines_escalates_and_fills_the_outbox(desk: Desk) -> None:
    desk.ingest(mention("1"))  # medium: assess within 4h; warn at 75%, the social lead hears of the breach
    early = desk.advance("2h")
    assert desk.store.outbox() == []

    moved = desk.advance("2h")

    assert early == {"now": "2026-11-23T11:00:00+00:00", "fired": 0}
    assert moved["now"] == "2026-11-23T13:00:00+00:00"
    assert moved["fired"] >= 2
    shown = desk.get("/v1/incidents/inc-1").json()
    assert shown["breached"] == ["first_response", "limit:detected"]
    breaches = [entry for entry in shown["history"] if entry["kind"] == "breach"]
    assert {entry["summary"].split(" ")[0] for entry in breaches} == {"limit:detected", "first_response"}
    assert all(entry["at"] == "2026-11-23T13:00:00+00:00" for entry in breaches)
    notices = [row.body for row in desk.store.outbox() if row.incident_id == "inc-1"]
    assert {(notice["clock"], notice["kind"], tuple(notice["roles"])) for notice in notices} == {
        ("limit:detected", "warning", ("community_manager",)),
        ("limit:detected", "breach", ("social_lead",)),
        ("first_response", "warning", ("community_manager",)),
        ("first_response", "breach", ("social_lead",)),
    }
    assert desk.advance("0s")["fired"] == 0  # nothing fires twice


def test_the_clock_can_be_set_to_a_moment_but_never_back(desk: Desk) -> None:
    forward = desk.post("/v1/admin/clock", "bob", json={"to": "2026-11-23T10:00:00Z"})
    back = desk.post("/v1/admin/clock", "bob", json={"to": "2026-11-23T09:30:00Z"})
    nonsense = desk.post("/v1/admin/clock", "bob", json={"advance": "soon"})
    neither = desk.post("/v1/admin/clock", "bob", json={"by": "1h"})

    assert forward.json()["now"] == "2026-11-23T10:00:00+00:00"
    for answer in (back, nonsense, neither):
        assert answer.status_code == 422
        assert error_of(answer)["code"] == "bad_clock"
    assert desk.daemon.context.clock() == START + timedelta(hours=1)


def test_the_clock_cannot_be_moved_when_the_daemon_runs_on_the_system_clock(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(simulated=False)

    answer = desk.post("/v1/admin/clock", "bob", json={"advance": "4h"})

    assert answer.status_code == 404
    assert error_of(answer)["code"] == "not_found"
    assert "/v1/admin/clock" not in desk.http.get("/openapi.json").json()["paths"]


def test_the_openapi_document_describes_the_versioned_routes(desk: Desk) -> None:
    paths = desk.http.get("/openapi.json").json()["paths"]

    assert {
        "/v1/mentions",
        "/v1/incidents",
        "/v1/incidents/{incident_id}",
        "/v1/incidents/{incident_id}/actions/{trigger}",
        "/healthz",
        "/readyz",
    } <= set(paths)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/incidents?limit=%C2%B2", None),  # a superscript two: a digit to str.isdigit, not to int()
        ("/v1/admin/clock", {"to": "2026-11-23T13:00:00"}),  # no time zone
        ("/v1/admin/clock", {"advance": "3000000d"}),  # past the last date there is
        ("/v1/admin/clock", {"advance": "9999999999999999999999s"}),
    ],
)
def test_odd_values_get_a_422_never_a_500(desk: Desk, path: str, body: dict[str, str] | None) -> None:
    answer = desk.get(path) if body is None else desk.post(path, "bob", json=body)
    assert answer.status_code == 422, answer.text
    assert error_of(answer)["code"] in {"bad_query", "bad_clock"}


def test_a_commit_that_fails_is_rolled_back_and_the_store_keeps_working(desk: Desk) -> None:
    class FailingCommit:
        """The connection, but the first COMMIT fails as on a full disk."""

        def __init__(self, connection: sqlite3.Connection) -> None:
            self.connection = connection
            self.failed = False

        def __getattr__(self, name: str) -> Any:
            return getattr(self.connection, name)

        def execute(self, sql: str, *args: Any) -> Any:
            if sql == "COMMIT" and not self.failed:
                self.failed = True
                raise sqlite3.OperationalError("database or disk is full")
            return self.connection.execute(sql, *args)

    real = desk.store._db
    desk.store._db = FailingCommit(real)  # type: ignore[assignment]
    try:
        with pytest.raises(sqlite3.OperationalError):
            desk.daemon.service.ingest([mention("1")])
        assert not real.in_transaction
        assert desk.daemon.service.incidents(IncidentFilter()) == []
        (result,) = desk.daemon.service.ingest([mention("2")])
        assert result.status == "opened"
    finally:
        desk.store._db = real


# --- what people read --------------------------------------------------------------------------------------------


def test_an_incident_shows_each_mention_with_its_words_author_link_time_and_engagement_in_order(desk: Desk) -> None:
    first = mention(
        "1",
        text="My order arrived broken and nobody answers",
        url="https://x.com/ann/status/1",
        engagement={"likes": 12, "shares": 3, "replies": 1},
    )
    second = mention("2", text="Still waiting. Day two.", posted_at="2026-11-23T10:30:00Z")
    desk.ingest(first)
    desk.advance("90m")
    desk.ingest(second)

    shown = desk.get("/v1/incidents/inc-1").json()

    assert [(item["channel"], item["external_id"]) for item in shown["mentions"]] == [
        ("twitter", "1"),
        ("twitter", "2"),
    ]
    one, two = shown["mentions"]
    assert one["text"] == "My order arrived broken and nobody answers"
    assert one["author"] == {"handle": "@ann", "followers": 10}
    assert one["url"] == "https://x.com/ann/status/1"
    assert one["posted_at"] == "2026-11-23T09:00:00+00:00"
    assert one["engagement"] == {"likes": 12, "shares": 3, "replies": 1}
    assert one["outcome"] == "opened"
    assert (two["text"], two["outcome"], two["url"]) == ("Still waiting. Day two.", "joined", None)
    assert two["received_at"] == "2026-11-23T10:30:00+00:00"


def test_a_reply_awaiting_approval_is_shown_with_the_incident(desk: Desk) -> None:
    desk.ingest(mention("1", text="My son had an allergic reaction to your cereal bar", handle="@mum"))
    desk.act("inc-1", "assess", "alice", 0, severity="critical")
    text = "We're so sorry. Please DM us so our safety team can call you."
    drafted = desk.post(
        "/v1/incidents/inc-1/actions/acknowledge/draft",
        json={"revision": 1, "public_reply": {"channel": "twitter", "text": text}},
    )
    assert drafted.status_code == 200, drafted.text

    shown = desk.get("/v1/incidents/inc-1").json()

    assert shown["state"] == "assessed"
    assert shown["revision"] == 2
    approval = shown["approval"]
    assert (approval["action"], approval["stage"], approval["text"], approval["drafted_by"]) == (
        "acknowledge",
        "pending",
        text,
        "alice",
    )
    assert approval["digest"].startswith("sha256:")
    (acknowledge,) = [action for action in shown["actions"] if action["trigger"] == "acknowledge"]
    assert acknowledge["approval"] == {"by": ["legal_counsel", "comms_director"]}


def test_mentions_are_read_by_incident_through_an_index(desk: Desk) -> None:
    desk.ingest(mention("1"))

    with sqlite3.connect(f"file:{desk.store.path}?mode=ro", uri=True) as db:
        plan = db.execute(
            "EXPLAIN QUERY PLAN SELECT body FROM mentions WHERE incident_id = ? ORDER BY received_at", ("inc-1",)
        ).fetchall()
    db.close()

    assert any("mentions_by_incident" in str(row) for row in plan), plan
    assert [item.external_id for item in desk.store.mentions_of("inc-1")] == ["1"]


def test_an_incident_and_a_page_say_the_daemons_now_and_the_zone_each_clock_is_kept_in(desk: Desk) -> None:
    desk.ingest(mention("1"))
    desk.advance("30m")
    desk.act("inc-1", "assess", "alice", 0, severity="medium")

    shown = desk.get("/v1/incidents/inc-1").json()
    page = desk.get("/v1/incidents").json()

    assert shown["now"] == page["now"] == "2026-11-23T09:30:00+00:00"  # the simulated clock's, not the wall's
    zones = {clock["name"]: clock["timezone"] for clock in shown["clocks"]}
    assert zones == {"limit:assessed": "Europe/London", "first_response": "UTC", "resolution": "UTC"}
    (listed,) = page["incidents"]
    assert listed["next_due"] == {
        "clock": "first_response",
        "due_at": "2026-11-23T13:00:00+00:00",
        "timezone": "UTC",
    }


# --- the promise ledger -----------------------------------------------------------------------------------------


def _acknowledged_by_alice(desk: Desk) -> None:
    desk.ingest(mention("1"))
    assert desk.act("inc-1", "assess", "alice", 0, severity="medium").status_code == 200
    reply = {"channel": "twitter", "text": "Sorry about this, we're on it."}
    assert desk.act("inc-1", "acknowledge", "alice", 1, public_reply=reply).status_code == 200


def test_an_offer_over_the_cap_is_refused_and_one_within_it_shows_as_a_promise(desk: Desk) -> None:
    _acknowledged_by_alice(desk)
    over = desk.act(
        "inc-1",
        "offer_resolution",
        "carol",
        2,
        offer={"kind": "refund", "amount": 90},
        contact_route="dm",
        contact="Carol",
    )

    made = desk.act(
        "inc-1",
        "offer_resolution",
        "carol",
        2,
        offer={"kind": "refund", "amount": 30},
        contact_route="dm",
        contact="Carol Lindqvist",
    )
    shown = desk.get("/v1/incidents/inc-1").json()

    assert over.status_code == 422
    assert error_of(over)["code"] == "over_cap"
    assert "ask social_lead (up to 200 GBP)" in error_of(over)["message"]
    assert made.status_code == 200, made.text
    (promise,) = shown["promises"]
    assert promise["id"] == "refund-1"
    assert (promise["amount"], promise["currency"], promise["promised_by"]) == (30, "GBP", "carol")
    assert (promise["kept"], promise["breached"], promise["contact"]) == (False, False, "Carol Lindqvist")
    assert shown["drafts"]["offer"] == "refund of 30 GBP"
    assert shown["facts"]["offer"] == {"kind": "refund", "amount": 30, "currency": "GBP"}
    assert "promise:refund-1" in [clock["name"] for clock in shown["clocks"]]
    assert [clock["timezone"] for clock in shown["clocks"] if clock["name"] == "promise:refund-1"] == ["Europe/London"]
    deliver = [action for action in shown["actions"] if action["trigger"] == "deliver"]
    assert deliver == [
        {
            "trigger": "deliver",
            "to": "resolution_offered",
            "by": sorted(deliver[0]["by"]),
            "requires": ["note", "promise"],
            "promises": ["refund-1"],
        }
    ]


def test_deliver_over_http_records_the_promise_kept_and_resolve_is_refused_until_then(desk: Desk) -> None:
    _acknowledged_by_alice(desk)
    desk.act("inc-1", "offer_resolution", "carol", 2, offer="call_back", contact_route="phone", contact="Carol")
    early = desk.act("inc-1", "resolve", "carol", 3, outcome="Called her.")

    kept = desk.act("inc-1", "deliver", "alice", 3, promise="call_back-1", note="Carol called her at 11:00.")
    resolved = desk.act("inc-1", "resolve", "carol", 4, outcome="Called her.")

    assert early.status_code == 422
    assert error_of(early)["code"] == "open_promise"
    assert kept.status_code == 200, kept.text
    assert [entry["kind"] for entry in kept.json()["history"]] == ["delivered"]
    assert resolved.status_code == 200, resolved.text
    (promise,) = desk.get("/v1/incidents/inc-1").json()["promises"]
    assert (promise["kept"], promise["kept_by"], promise["kept_note"]) == (True, "alice", "Carol called her at 11:00.")
