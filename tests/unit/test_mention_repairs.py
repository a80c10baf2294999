"""Mending a mention a listening tool sent broken, so it is kept: lone surrogates and NULs become U+FFFD, noted."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from engine.incident import MAX_AHEAD, Mention, Repair, mend_mention, parse_mention
from engine.playbook import Failed

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
HALF = "replaced a lone surrogate (half of a character, such as a cut emoji) with U+FFFD"


def _data(**changes: Any) -> dict[str, Any]:
    return {
        "channel": "twitter",
        "external_id": "1",
        "text": "My order arrived broken",
        "posted_at": "2026-11-23T09:00:00Z",
        "author": {"handle": "@ann", "followers": 10},
        **changes,
    }


def test_keeps_a_mention_whose_text_has_a_lone_surrogate_and_notes_the_repair() -> None:
    parsed = parse_mention(_data(text="refund \ud83d", author={"handle": "\udc00ann"}))

    assert isinstance(parsed, Mention)
    assert (parsed.text, parsed.author.handle) == ("refund \ufffd", "\ufffdann")
    assert parsed.repairs == (Repair("/text", HALF), Repair("/author/handle", HALF))


def test_the_mended_mention_is_valid_utf8_json_and_reads_back_with_its_repairs() -> None:
    kept = mend_mention(_data(text="a\ud83d\ud83db"))
    stored = json.dumps(kept, ensure_ascii=False).encode("utf-8")

    again = parse_mention(json.loads(stored))

    assert isinstance(again, Mention)
    assert again.text == "a\ufffd\ufffdb"
    (repair,) = again.repairs
    assert repair.pointer == "/text"
    assert "2 lone surrogates" in repair.what
    assert mend_mention(kept) == kept, "mending twice changes nothing more"


def test_a_nul_character_is_mended_too() -> None:
    parsed = parse_mention(_data(text="a\x00b"))

    assert isinstance(parsed, Mention)
    assert parsed.text == "a\ufffdb"
    assert [repair.pointer for repair in parsed.repairs] == ["/text"]


def test_a_whole_mention_is_kept_as_it_came() -> None:
    data = _data()

    assert mend_mention(data) is data
    parsed = parse_mention(data)
    assert isinstance(parsed, Mention)
    assert parsed.repairs == ()


@pytest.mark.parametrize(
    ("posted_at", "kept"),
    [
        ((NOW + MAX_AHEAD).isoformat(), True),
        ((NOW + MAX_AHEAD + timedelta(seconds=1)).isoformat(), False),
        ((NOW + timedelta(days=1)).isoformat(), False),
        ("1970-01-01T00:00:00Z", True),
    ],
)
def test_posted_at_may_be_at_most_fourteen_hours_after_now(posted_at: str, kept: bool) -> None:
    parsed = parse_mention(_data(posted_at=posted_at), now=NOW)

    assert isinstance(parsed, Mention) is kept
    if not kept:
        assert isinstance(parsed, Failed)
        assert [error.pointer for error in parsed.problems] == ["/posted_at"]
        assert "14 hours after the daemon's clock" in parsed.problems[0].message


@pytest.mark.parametrize("posted_at", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"])
def test_a_posted_at_past_the_calendars_ends_in_utc_is_refused_without_a_clock(posted_at: str) -> None:
    parsed = parse_mention(_data(posted_at=posted_at))

    assert isinstance(parsed, Failed)
    assert [error.pointer for error in parsed.problems] == ["/posted_at"]
