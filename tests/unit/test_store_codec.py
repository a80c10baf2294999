"""The store's codec: commands, history entries and notifications keep the shapes existing data folders hold."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.incident import (
    Act,
    Actor,
    ClockState,
    DeadlineReached,
    Draft,
    DraftReply,
    DraftStage,
    DraftStep,
    Incident,
    LinkIncident,
    LinkRelation,
    Promise,
)
from engine.store import (
    JoinCommand,
    OpenCommand,
    PassedOnCommand,
    decode_command,
    decode_incident,
    encode_command,
    encode_incident,
    plain,
)

_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(),
    st.datetimes(timezones=st.just(UTC)),
    st.timedeltas(),
    st.sampled_from(list(LinkRelation)),
    st.frozensets(st.integers(), max_size=3),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.tuples(inner, inner),
        st.dictionaries(st.one_of(st.text(), st.integers(), st.booleans()), inner, max_size=3),
    ),
    max_leaves=12,
)


@given(_VALUES)
def test_a_value_made_plain_is_what_a_json_round_trip_with_str_for_the_rest_gives(value: Any) -> None:
    assert plain(value) == json.loads(json.dumps(value, default=str))


def test_every_command_reads_back_as_it_was_written_in_the_logs_own_shape() -> None:
    at = datetime(2026, 11, 23, 9, tzinfo=UTC) + timedelta(minutes=5)
    commands = [
        OpenCommand("inc-1", {"channel": "twitter", "external_id": "1"}, ("inc-0", "customer-complaint")),
        OpenCommand("inc-2", {"channel": "twitter", "external_id": "2"}),
        JoinCommand({"channel": "twitter", "external_id": "3"}),
        Act("acknowledge", Actor("alice", frozenset({"b", "a"})), {"note": "on it"}, 3),
        DeadlineReached(f"inc-1/limit:new/1/0/{at.minute}"),
        LinkIncident("inc-2", "safety-and-legal"),
        JoinCommand({"channel": "twitter", "external_id": "4"}, via="inc-5"),
        PassedOnCommand("twitter", "4", "inc-1"),
    ]
    assert [decode_command(encode_command(command)) for command in commands] == commands
    assert encode_command(commands[3]) == {
        "type": "act",
        "trigger": "acknowledge",
        "person": "alice",
        "roles": ["a", "b"],
        "fields": {"note": "on it"},
        "expected_revision": 3,
    }
    assert encode_command(commands[0])["follows"] == {"incident": "inc-0", "playbook": "customer-complaint"}
    assert "follows" not in encode_command(commands[1])
    assert "via" not in encode_command(commands[2])  # a join of the incident's own thread is written as before


def test_an_incidents_promises_and_an_actors_roster_name_read_back_as_they_were() -> None:
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    kept = Promise(
        "refund-1",
        "refund",
        "carol",
        at,
        at + timedelta(hours=16),
        30,
        "GBP",
        "kettle",
        "Carol",
        at + timedelta(hours=2),
        "dave",
        "Refunded to the card.",
    )
    still = Promise("call_back-2", "call_back", "carol", at, at + timedelta(hours=4))
    incident = Incident(
        "inc-1",
        "customer-complaint",
        1,
        "sha256:x",
        "resolution_offered",
        "medium",
        "twitter",
        "@ann",
        at,
        at,
        at,
        promises=(kept, still),
    )
    act = Act("offer_resolution", Actor("carol", frozenset({"customer_care"}), "Carol Lindqvist"), {"contact": "Carol"})

    body = json.loads(json.dumps(encode_incident(incident)))

    assert decode_incident(body) == incident
    assert body["promises"][0]["kept_at"] == "2026-11-23T11:00:00.000000Z"
    assert decode_command(encode_command(act)) == act
    assert encode_command(act)["name"] == "Carol Lindqvist"
    old = {key: value for key, value in body.items() if key != "promises"}
    assert decode_incident(old).promises == ()  # a body written before the ledger has none


def test_a_draft_command_and_an_incidents_draft_read_back_as_they_were_written() -> None:
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    grace = Actor("grace", frozenset({"legal_counsel"}))
    commands = [
        DraftReply(DraftStep.SUBMIT, "acknowledge", grace, {"public_reply": {"channel": "x", "text": "Hi"}}, 2),
        DraftReply(DraftStep.RETURN, "acknowledge", grace, {"note": "Shorter."}, 3),
    ]
    incident = Incident(
        "inc-1",
        "safety-and-legal",
        1,
        "sha256:0",
        "assessed",
        "high",
        "twitter",
        "@kim",
        at,
        at,
        at,
        draft=Draft(
            "acknowledge",
            "Hi",
            "twitter",
            "sha256:1",
            DraftStage.APPROVED,
            "priya",
            at,
            "grace",
            at + timedelta(minutes=2),
            "Fine.",
        ),
    )

    assert [decode_command(encode_command(command)) for command in commands] == commands
    assert encode_command(commands[1])["type"] == "draft"
    assert decode_incident(encode_incident(incident)) == incident
    assert "draft" not in encode_incident(replace(incident, draft=None))  # rows written before drafts stay as they were


def test_a_clock_standing_still_reads_back_with_its_pauses_and_one_stored_before_pauses_as_never_paused() -> None:
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)
    hour = timedelta(hours=1)
    standing_still = ClockState("resolution", at, 0, at + 24 * hour, paused_at=at + 5 * hour, pauses=((at, at + hour),))
    running = ClockState("first_response", at, 0, at + 4 * hour)
    incident = Incident(
        "inc-1",
        "customer-complaint",
        2,
        "sha256:x",
        "awaiting_customer",
        "medium",
        "twitter",
        "@ann",
        at,
        at,
        at,
        clocks=(standing_still, running),
    )

    body = json.loads(json.dumps(encode_incident(incident)))

    assert decode_incident(body) == incident
    assert body["clocks"][0]["paused_at"] == "2026-11-23T14:00:00.000000Z"
    assert body["clocks"][0]["pauses"] == [["2026-11-23T09:00:00.000000Z", "2026-11-23T10:00:00.000000Z"]]
    assert set(body["clocks"][1]) == {"name", "started_at", "epoch", "due_at", "fired", "next"}  # as before pauses
    older = decode_incident({**body, "clocks": [body["clocks"][1]]})
    assert (older.clocks[0].paused_at, older.clocks[0].pauses) == (None, ())


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(alphabet=st.characters(exclude_categories=()), max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


@given(st.lists(_JSON, min_size=1, max_size=4))
def test_a_stored_log_reads_back_as_json_reads_it_whatever_it_holds(values: list[Any]) -> None:
    from engine.store.sqlite._recorded import _decoded  # noqa: PLC0415 - the reader of the store's log texts

    text = "[" + ",".join(json.dumps(value) for value in values) + "]"

    assert json.dumps(_decoded(text)) == json.dumps(json.loads(text))


def test_an_action_read_for_a_replay_is_taken_as_meant_not_as_of_the_revision_its_person_saw() -> None:
    person = Actor("carol", frozenset({"customer_care"}))
    act = Act("acknowledge", person, {"public_reply": "Sorry"}, expected_revision=3)
    draft = DraftReply(DraftStep.SUBMIT, "acknowledge", person, {"public_reply": "Sorry"}, expected_revision=3)

    assert decode_command(encode_command(act)) == act
    assert decode_command(encode_command(act), revisions=False) == replace(act, expected_revision=None)
    assert decode_command(encode_command(draft), revisions=False) == replace(draft, expected_revision=None)
