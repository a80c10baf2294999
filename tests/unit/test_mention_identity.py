"""One author, one channel, one post: however listening tools spell a handle, name a channel or copy a link."""

from __future__ import annotations

from typing import Any

import pytest
from incident_support import SHIPPED, T0, accepted, act, audits, book, mention, opened, public_reply

from engine.incident import Mention, Rulebook, joins, open_incident, parse_mention
from engine.incident._url import url_key
from engine.playbook import Failed, canonical_channel, handle_key, load


def _parsed(**extra: Any) -> Mention:
    data = {
        "channel": "twitter",
        "external_id": "1",
        "text": "My order arrived broken",
        "posted_at": T0.isoformat(),
        "author": {"handle": "@zed"},
        **extra,
    }
    parsed = parse_mention(data)
    assert isinstance(parsed, Mention), parsed
    return parsed


# --- authors --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("handle", ["zed", "@zed", "Zed", "@ZED", " @Zed ", "@@zed"])
def test_a_handle_is_one_author_with_or_without_at_and_whatever_its_case(handle: str) -> None:
    assert handle_key("twitter", handle) == "zed"


def test_on_a_forum_the_name_is_kept_as_written_apart_from_the_at() -> None:
    # A forum or blog shows a name the site chose rules for; calmly cannot know that case does not matter there.
    assert handle_key("forum", "@Zed") == "Zed"
    assert handle_key("forum", "zed") != handle_key("forum", "Zed")


def test_a_mention_by_zed_joins_the_incident_opened_by_at_zed() -> None:
    incident = opened(handle="@zed").incident
    later = mention("Still nothing.", external_id="m-2", handle="Zed", posted_at=T0)

    assert joins(incident, later, book("customer-complaint"))


def test_the_incident_keeps_the_handle_as_the_first_mention_wrote_it() -> None:
    assert opened(handle="@Zed").incident.author == "@Zed"


# --- channels -------------------------------------------------------------------------------------------------


def test_x_is_kept_as_twitter_and_the_channel_as_sent_is_recorded() -> None:
    on_x = _parsed(channel="x")

    assert (on_x.channel, on_x.sent_channel) == ("twitter", "x")
    assert on_x.key == ("twitter", "1")
    assert _parsed().sent_channel is None
    assert canonical_channel("facebook") == "facebook"


def test_a_mention_on_x_joins_an_incident_opened_on_twitter() -> None:
    incident = opened(channel="twitter", handle="@zed").incident
    later = mention("Still nothing.", channel="x", external_id="m-2", handle="zed", posted_at=T0)

    assert joins(incident, later, book("customer-complaint"))


def test_a_playbook_that_lists_only_x_applies_to_twitter_mentions() -> None:
    source = (SHIPPED / "customer-complaint.yaml").read_text(encoding="utf-8")
    listed = "channels: [twitter, x, facebook, instagram, threads, tiktok, trustpilot, google_reviews]"
    assert listed in source
    result = load(source.replace(listed, "channels: [x]"), "only-x.yaml")
    assert result.playbook is not None, result.problems

    assert result.playbook.applies_to.channels == ("twitter",)
    assert Rulebook(result.playbook).applies(_parsed(channel="twitter"))
    assert Rulebook(result.playbook).applies(_parsed(channel="x"))


def test_a_public_reply_on_x_is_on_the_channel_of_a_complaint_on_twitter() -> None:
    incident = accepted(act(opened().incident, "assess", ["community_manager"], T0, severity="low")).incident
    reply = {**public_reply(incident), "channel": "x"}

    acknowledged = accepted(act(incident, "acknowledge", ["community_manager"], T0, public_reply=reply)).incident

    assert acknowledged.facts["public_reply"]["channel"] == "twitter"


# --- the listening tool ---------------------------------------------------------------------------------------


def test_a_mention_says_which_listening_tool_sent_it() -> None:
    assert _parsed(source="brandwatch").source == "brandwatch"
    assert _parsed().source is None


def test_the_opening_history_names_the_listening_tool() -> None:
    stepped = open_incident("inc-1", _parsed(source="brandwatch", channel="x"), book("customer-complaint"), T0)
    (entry,) = audits(stepped.effects, "opened")

    assert "(from brandwatch)" in entry.summary
    assert (entry.details["source"], entry.details["sent_channel"]) == ("brandwatch", "x")


def test_an_empty_source_is_refused_with_its_field() -> None:
    found = parse_mention({**_raw(), "source": ""})

    assert isinstance(found, Failed)
    errors = found.problems
    assert errors[0].pointer == "/source"


def _raw() -> dict[str, Any]:
    return {
        "channel": "twitter",
        "external_id": "1",
        "text": "t",
        "posted_at": T0.isoformat(),
        "author": {"handle": "a"},
    }


# --- links ----------------------------------------------------------------------------------------------------

POST = "x.com/zed/status/1861"


@pytest.mark.parametrize(
    "link",
    [
        "https://x.com/zed/status/1861",
        "http://x.com/zed/status/1861",
        "HTTPS://X.COM/zed/status/1861",
        "https://x.com/zed/status/1861/",
        "https://x.com:443/zed/status/1861",
        "https://x.com/zed/status/1861?utm_source=brandwatch&utm_medium=social",
        "https://x.com/zed/status/1861?UTM_Campaign=a&fbclid=IwAR0",
        "https://x.com/zed/status/1861#replies",
        "  https://x.com/zed/status/1861  ",
    ],
)
def test_one_post_has_one_link_key_however_the_tool_copied_it(link: str) -> None:
    assert url_key(link) == POST


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://x.com/zed/status/1861", "https://x.com/zed/status/1862"),
        ("https://x.com/zed/status/1861", "https://x.com/Zed/status/1861x"),
        ("https://forum.example/t?id=1", "https://forum.example/t?id=2"),
        ("https://x.com/zed/status/1861", "https://x.com:8443/zed/status/1861"),
    ],
)
def test_different_posts_keep_different_link_keys(one: str, other: str) -> None:
    assert url_key(one) != url_key(other)


def test_a_query_that_names_the_post_is_kept() -> None:
    assert url_key("https://forum.example/t?id=1&utm_source=x") == "forum.example/t?id=1"


@pytest.mark.parametrize("link", [None, "", "not a link", "mailto:ann@example.com", "https://", "https://[::1"])
def test_what_is_not_a_web_address_has_no_link_key(link: str | None) -> None:
    assert url_key(link) is None


def test_a_mention_offers_its_link_key_for_dedupe() -> None:
    assert _parsed(url="https://X.com/zed/status/1861/?utm_source=a").url_key == POST
    assert _parsed().url_key is None
