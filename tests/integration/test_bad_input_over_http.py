"""Bad input over HTTP: never a 500, never a traceback, nothing lost.

What listening tools really send (a cut emoji's lone surrogate, a clock running fast) is kept or refused with a
4xx naming the field; what a hostile client sends (JSON nested a thousand deep, a 5,000-digit number) is refused
the same way; and what nobody foresaw still answers in the JSON error shape, with the stack trace in the log.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from intake_support import mention
from test_http_api import Desk, error_of

from engine.daemon import configure_logging
from engine.service import Service
from engine.store import IncidentFilter, IncidentRow


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    made = Desk(tmp_path / "data")
    yield made
    made.close()


MENDED = "replaced a lone surrogate (half of a character, such as a cut emoji) with U+FFFD"
CUT = "\ud83d"  # the first half of 😀 (U+1F600): what a tool that cuts a post at a fixed length sends


def _post(desk: Desk, body: bytes) -> Any:
    return desk.post("/v1/mentions", content=body, headers={"content-type": "application/json"})


def test_keeps_a_mention_whose_text_has_a_lone_surrogate_and_says_what_was_mended(desk: Desk) -> None:
    broken = mention("cut-1", text=f"Still no refund {CUT}", handle=f"@ann{CUT}")
    whole = mention("whole-2", text="My order arrived broken", handle="@bea")
    body = json.dumps({"mentions": [broken, whole]}).encode()  # ensure_ascii: the half travels as \ud83d
    assert b"\\ud83d" in body

    answer = _post(desk, body)

    assert answer.status_code == 200, answer.text
    assert [result["status"] for result in answer.json()["results"]] == ["opened", "opened"]
    incident = desk.get(f"/v1/incidents/{answer.json()['results'][0]['incident']}").json()
    (post,) = incident["mentions"]
    assert post["text"] == "Still no refund \ufffd"
    assert post["author"]["handle"] == "@ann\ufffd"
    assert post["repairs"] == [{"pointer": "/text", "what": MENDED}, {"pointer": "/author/handle", "what": MENDED}]


def test_a_batch_with_a_lone_surrogate_sent_again_is_duplicates_not_a_failure(desk: Desk) -> None:
    body = json.dumps([mention("cut-1", text=f"{CUT} help"), mention("cut-2", text=f"a{CUT}")]).encode()
    assert _post(desk, body).status_code == 200

    again = _post(desk, body)

    assert again.status_code == 200, again.text
    assert [result["status"] for result in again.json()["results"]] == ["duplicate", "duplicate"]


def test_a_lone_surrogate_in_a_key_is_mended_before_the_mention_is_refused_for_it(desk: Desk) -> None:
    body = json.dumps({**mention("1"), f"te{CUT}xt": "x"}).encode()

    answer = _post(desk, body)

    assert answer.status_code == 422
    assert "te\ufffdxt" in error_of(answer)["details"][0]["errors"][0]["message"]


def test_an_action_with_a_lone_surrogate_in_a_field_is_a_422_naming_it_and_changes_nothing(desk: Desk) -> None:
    (opened,) = desk.ingest(mention("act-1"))
    before = desk.rows()
    body = json.dumps({"version": 0, "fields": {"severity": "low", "note": f"sorry {CUT}"}}).encode()

    answer = desk.post(
        f"/v1/incidents/{opened['incident']}/actions/assess", content=body, headers={"content-type": "application/json"}
    )

    assert answer.status_code == 422, answer.text
    problem = error_of(answer)
    assert (problem["code"], problem["details"]) == ("bad_text", {"pointer": "/fields/note"})
    assert desk.rows() == before


def _nested(depth: int) -> bytes:
    return json.dumps(mention("deep"))[:-1].encode() + b', "extra": ' + b"[" * depth + b"]" * depth + b"}"


@pytest.mark.parametrize("depth", [40, 500, 1000, 100_000])
def test_json_nested_deep_is_a_4xx_in_the_error_shape_and_nothing_is_written(desk: Desk, depth: int) -> None:
    before = desk.rows()

    answer = _post(desk, _nested(depth))

    assert answer.status_code == 422, answer.text
    problem = error_of(answer)
    assert problem["code"] == "too_deep"
    assert "more than 32 levels deep" in problem["message"]
    if depth < 900:
        assert problem["details"]["pointer"].startswith("/extra/0/0/")
    assert desk.rows() == before


@pytest.mark.parametrize(
    ("field", "body"),
    [
        ("/author/followers", lambda text: text.replace('"followers": 10', '"followers": ' + "9" * 5000)),
        ("/author/followers", lambda text: text.replace('"followers": 10', '"followers": 9223372036854775808')),
        ("/engagement/likes", lambda text: text[:-1] + ', "engagement": {"likes": -' + "1" * 4301 + "}}"),
        ("/author/followers", lambda text: text.replace('"followers": 10', '"followers": 1e999')),
    ],
    ids=["5000-digits", "just-over-64-bits", "negative-4301-digits", "float-overflow"],
)
def test_a_number_too_large_is_a_422_naming_the_field(desk: Desk, field: str, body: Any) -> None:
    answer = _post(desk, body(json.dumps(mention("huge"))).encode())

    assert answer.status_code == 422, answer.text
    problem = error_of(answer)
    assert problem["code"] == "number_too_large"
    assert problem["details"] == {"pointer": field}
    assert field in problem["message"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(desk: Desk, constant: str) -> None:
    answer = _post(desk, json.dumps(mention("nan")).replace('"followers": 10', f'"followers": {constant}').encode())

    assert answer.status_code == 400
    assert error_of(answer)["code"] == "malformed_json"


@pytest.mark.parametrize(
    "posted_at", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-11-25T09:00:00Z"]
)
def test_a_posted_at_out_of_range_or_a_day_ahead_is_a_422_naming_posted_at(desk: Desk, posted_at: str) -> None:
    before = desk.rows()

    answer = _post(desk, json.dumps([mention("ok"), mention("bad", posted_at=posted_at)]).encode())

    assert answer.status_code == 422, answer.text
    problem = error_of(answer)
    assert problem["code"] == "invalid_mention"
    (refused,) = problem["details"]
    assert refused["index"] == 1
    assert [error["pointer"] for error in refused["errors"]] == ["/posted_at"]
    assert desk.rows() == before


def test_a_posted_at_a_little_ahead_of_the_daemons_clock_is_kept(desk: Desk) -> None:
    # The daemon's clock is at 09:00Z; a tool whose clock runs fast, or that labels UTC+10 local time as UTC.
    (result,) = desk.ingest(mention("fast", posted_at="2026-11-23T19:00:00Z"))

    assert result["status"] == "opened"


# --- what nobody foresaw -------------------------------------------------------------------------------------


@pytest.fixture
def log(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """Restores logging after a test that sets up the daemon's (in its body: its standard error is the captured one)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield capsys
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level


class BrokenService(Service):
    """The service with a bug: listing incidents raises a plain RuntimeError."""

    def incidents(self, where: IncidentFilter) -> list[IncidentRow]:
        raise RuntimeError("the listing broke")


def test_an_unforeseen_error_answers_500_in_the_error_shape_and_logs_its_stack_trace(
    desk: Desk, log: pytest.CaptureFixture[str]
) -> None:
    configure_logging("json", "info")
    service = desk.daemon.service
    desk.daemon.context.service = BrokenService(service.store, service.library, service.clock)

    answer = desk.get("/v1/incidents")

    assert answer.status_code == 500
    assert error_of(answer)["code"] == "internal"
    assert "listing broke" not in answer.text, "the answer says nothing of the inside"
    lines = [json.loads(line) for line in log.readouterr().err.splitlines() if line.startswith("{")]
    (logged,) = [line for line in lines if line["event"] == "unexpected error"]
    assert logged["path"] == "/v1/incidents"
    assert logged["level"] == "error"
    assert "Traceback (most recent call last)" in logged["exception"]
    assert 'raise RuntimeError("the listing broke")' in logged["exception"]
    assert "<traceback object" not in json.dumps(lines)


def test_a_library_logging_an_exception_logs_its_stack_trace_not_a_traceback_object(
    log: pytest.CaptureFixture[str],
) -> None:
    configure_logging("json", "info")
    try:
        raise ValueError("inside a library")
    except ValueError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")

    (line,) = [json.loads(line) for line in log.readouterr().err.splitlines() if line.startswith("{")]
    assert "Traceback (most recent call last)" in line["exception"]
    assert "ValueError: inside a library" in line["exception"]
    assert "<traceback object" not in json.dumps(line)


# --- the class stays closed ------------------------------------------------------------------------------------

HOSTILE_TEXT = st.text(
    st.one_of(st.characters(), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"])),
    max_size=12,
)
HOSTILE_VALUES = st.one_of(
    HOSTILE_TEXT,
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from(["9999-12-31T23:59:59-23:59", "2026-11-30T09:00:00Z", "0001-01-01T00:00:00+23:59"]),
    st.recursive(st.none() | HOSTILE_TEXT, lambda inner: st.lists(inner, max_size=2), max_leaves=4),
)


@st.composite
def _hostile_body(draw: Any) -> bytes:
    item: dict[str, Any] = mention(f"fuzz-{draw(st.integers(0, 10**6))}")
    for key in draw(st.lists(st.sampled_from(["text", "external_id", "posted_at", "thread_id", "url"]), max_size=2)):
        item[key] = draw(HOSTILE_VALUES)
    item["author"]["handle"] = draw(st.one_of(st.just("@ann"), HOSTILE_TEXT))
    text = json.dumps(draw(st.sampled_from([item, [item], {"mentions": [item, mention("fuzz-ok")]}])))
    depth = draw(st.integers(0, 1500))
    if depth:
        text = text[:-1] + ', "x": ' + "[" * depth + "]" * depth + text[-1]
    digits = draw(st.integers(0, 6000))
    if digits:
        text = text.replace('"followers": 10', '"followers": ' + "9" * digits)
    return text.encode()


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    made = Desk(tmp_path_factory.mktemp("fuzzed") / "data")
    yield made
    made.close()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(_hostile_body())
def test_hostile_mentions_never_get_a_5xx(fuzzed: Desk, body: bytes) -> None:
    answer = _post(fuzzed, body)

    assert answer.status_code < 500, answer.text
    if answer.status_code != 200:
        assert error_of(answer)["code"]


def test_a_client_that_hangs_up_before_its_body_came_is_no_unexpected_error_and_nothing_is_written(desk: Desk) -> None:
    before = desk.rows()
    sent: list[dict[str, Any]] = []
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/mentions",
        "raw_path": b"/v1/mentions",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", f"Bearer {desk.token('alice')}".encode()),
            (b"content-type", b"application/json"),
            (b"content-length", b"200"),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.disconnect"}  # the connection closed: the body never comes

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    with structlog.testing.capture_logs() as logged:
        asyncio.run(desk.http.app(scope, receive, send))  # type: ignore[arg-type]

    assert [line for line in logged if line["event"] == "unexpected error"] == []
    assert [message for message in sent if message["type"] == "http.response.start"] == []
    assert desk.rows() == before
