"""Opening an incident: which playbook a mention falls under, its severity, and the record it starts as."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from incident_support import SHIPPED_NAMES, T0, arms, audits, book, mention, opened

from engine.incident import Mention, MentionProblem, NoMatch, Rulebook, match_playbook, open_incident, parse_mention
from engine.playbook import LIFECYCLE, Failed

ALL_SHIPPED = [book(name) for name in SHIPPED_NAMES]


def _matched(found: Rulebook | NoMatch) -> str:
    assert isinstance(found, Rulebook), found
    return found.playbook.id


# --- matching a mention to a playbook --------------------------------------------------------------------------


def test_an_everyday_complaint_falls_under_the_customer_complaint_playbook() -> None:
    found = match_playbook(mention("My parcel is two weeks late and nobody answers."), ALL_SHIPPED)

    assert _matched(found) == "customer-complaint"


def test_a_safety_claim_goes_to_safety_and_legal_although_the_complaint_playbook_also_applies() -> None:
    claim = mention("Your kettle caused an injury to my hand")

    assert book("customer-complaint").applies(claim)
    assert _matched(match_playbook(claim, ALL_SHIPPED)) == "safety-and-legal"


def test_a_threat_during_an_outage_goes_to_abuse_and_trolls_which_has_the_higher_priority() -> None:
    threat = mention("Your app is not working again. I know where you live.")

    assert book("service-outage").applies(threat)
    assert _matched(match_playbook(threat, ALL_SHIPPED)) == "abuse-and-trolls"


def test_an_outage_report_goes_to_service_outage_over_the_complaint_playbook() -> None:
    assert _matched(match_playbook(mention("The site is down for everyone"), ALL_SHIPPED)) == "service-outage"


def test_the_order_the_playbooks_are_given_in_does_not_change_the_winner() -> None:
    threat = mention("The app is down again and I will find you")

    assert _matched(match_playbook(threat, ALL_SHIPPED)) == _matched(match_playbook(threat, ALL_SHIPPED[::-1]))


def test_playbooks_with_equal_priority_are_decided_by_their_id_whatever_the_order() -> None:
    base = book("customer-complaint").playbook
    first = Rulebook(replace(base, id="aaa-complaints"))
    second = Rulebook(replace(base, id="zzz-complaints"))

    assert _matched(match_playbook(mention(), [second, first])) == "aaa-complaints"
    assert _matched(match_playbook(mention(), [first, second])) == "aaa-complaints"


def test_a_playbook_whose_keywords_do_not_occur_does_not_apply() -> None:
    assert not book("service-outage").applies(mention("You let me down, sit down and think about it"))


def test_a_mention_on_a_channel_no_playbook_listens_to_gives_a_clear_no_match() -> None:
    found = match_playbook(mention("Nice pins", channel="pinterest"), ALL_SHIPPED)

    assert isinstance(found, NoMatch)
    assert "pinterest" in found.message
    for name in SHIPPED_NAMES:
        assert name in found.message


def test_with_no_playbooks_loaded_the_no_match_says_so() -> None:
    found = match_playbook(mention(), [])

    assert isinstance(found, NoMatch)
    assert "none are loaded" in found.message


# --- severity by rules ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "I got an injury from your kettle",
        "INJURY!!!",
        "Ïnjury, thanks to you",
        "pre-injury I was happy",
        "I'm filing a lawsuit.",
        "I got FOOD   POISONING from your sandwich",
        "food\npoisoning from your sandwich",
    ],
)
def test_critical_words_and_phrases_match_whatever_the_case_accents_and_spacing(text: str) -> None:
    assert book("customer-complaint").severity_of(mention(text)) == "critical"


@pytest.mark.parametrize(
    "text",
    [
        "injuryx is the name of my band",
        "I am uninjured but annoyed",
        "lawsuits are for lawyers",
        "seafood poisoning of the mind",
    ],
)
def test_keywords_match_only_on_word_boundaries(text: str) -> None:
    assert book("customer-complaint").severity_of(mention(text)) == "low"


@pytest.mark.parametrize("text", ["injury_report attached", "food, poisoning the mood", "food-poisoning!"])
def test_punctuation_reads_as_a_space_in_keywords_as_in_house_rules(text: str) -> None:
    # One matcher for keywords and house rules: `calm_down` must not slip past a house rule, so `injury_report`
    # names an injury too. A person assesses the incident; a keyword only sets where it starts.
    assert book("customer-complaint").severity_of(mention(text)) == "critical"


def test_a_curly_apostrophe_matches_a_phrase_written_with_a_straight_one() -> None:
    assert book("service-outage").severity_of(mention("I can\u2019t log in to the app")) == "critical"


def test_the_first_matching_rule_wins_over_later_ones() -> None:
    both = mention("I want a refund for this injury", followers=50_000)

    assert book("customer-complaint").severity_of(both) == "critical"


@pytest.mark.parametrize(("followers", "level"), [(0, "low"), (9_999, "low"), (10_000, "high"), (2_000_000, "high")])
def test_an_author_with_at_least_the_follower_threshold_raises_the_severity(followers: int, level: str) -> None:
    assert book("customer-complaint").severity_of(mention("Meh.", followers=followers)) == level


@pytest.mark.parametrize(("shares", "level"), [(499, "low"), (500, "high")])
def test_a_mention_shared_at_least_the_threshold_raises_the_severity(shares: int, level: str) -> None:
    assert book("customer-complaint").severity_of(mention("Meh.", shares=shares)) == level


def test_likes_and_replies_do_not_count_towards_a_shares_threshold() -> None:
    busy = mention("Meh.", likes=100_000, replies=100_000, shares=0)

    assert book("customer-complaint").severity_of(busy) == "low"


def test_a_later_keyword_rule_still_applies_when_earlier_rules_miss() -> None:
    assert book("customer-complaint").severity_of(mention("Never again. I want a refund.")) == "medium"


def test_with_no_rule_matching_the_playbook_default_applies() -> None:
    assert book("safety-and-legal").severity_of(mention("This tastes unsafe")) == "high"


# --- the opened incident --------------------------------------------------------------------------------------


def test_a_new_incident_opens_in_detected_with_the_severity_from_the_rules() -> None:
    result = opened(text="My child got food poisoning", handle="ann", channel="instagram", thread_id="t-9")
    incident = result.incident

    assert incident.state == LIFECYCLE[0] == "detected"
    assert incident.severity == "critical"
    assert (incident.channel, incident.author, incident.thread_id) == ("instagram", "ann", "t-9")
    assert incident.opened_at == incident.entered_at == T0
    assert incident.revision == 0
    assert incident.mention_count == 1


def test_an_incident_is_pinned_to_the_playbook_version_and_digest_it_opened_under() -> None:
    incident = opened().incident
    playbook = book("customer-complaint").playbook

    assert (incident.playbook, incident.playbook_version) == ("customer-complaint", playbook.version)
    assert incident.playbook_digest == playbook.digest
    assert incident.playbook_digest.startswith("sha256:")


def test_an_incident_keeps_its_pin_when_a_newer_version_of_the_playbook_is_loaded() -> None:
    old = book("customer-complaint")
    newer = Rulebook(replace(old.playbook, version=old.playbook.version + 1, digest="sha256:" + "0" * 64))

    before = opened().incident
    fresh = open_incident("inc-2", mention(), newer, T0).incident

    assert (before.playbook_version, before.playbook_digest) == (old.playbook.version, old.playbook.digest)
    assert (fresh.playbook_version, fresh.playbook_digest) == (old.playbook.version + 1, "sha256:" + "0" * 64)


def test_opening_records_an_audit_entry_and_arms_the_detected_limit_and_the_targets() -> None:
    result = opened(text="My order arrived late.")

    (entry,) = audits(result.effects, "opened")
    assert entry.at == T0
    assert "customer-complaint v2" in entry.summary
    assert "severity low" in entry.summary
    assert set(arms(result.effects)) == {"limit:detected", "first_response", "resolution"}
    assert {clock.name for clock in result.incident.clocks} == {"limit:detected", "first_response", "resolution"}


def test_the_detected_limit_follows_the_severity_the_rules_gave() -> None:
    low = opened(text="Late again.").incident.clock("limit:detected")
    critical = opened(text="Injury!").incident.clock("limit:detected")

    assert low is not None
    assert critical is not None
    assert low.due_at - T0 == timedelta(hours=24)
    assert critical.due_at - T0 == timedelta(minutes=15)


# --- malformed mentions ---------------------------------------------------------------------------------------


def _good() -> dict[str, object]:
    return {
        "channel": "twitter",
        "external_id": "1",
        "text": "Late again",
        "posted_at": "2026-01-05T09:00:00Z",
        "author": {"handle": "ann", "followers": 3},
    }


def _errors(data: object) -> list[MentionProblem]:
    parsed = parse_mention(data)
    assert isinstance(parsed, Failed), parsed
    found = list(parsed.problems)
    assert found
    assert all(isinstance(error, MentionProblem) for error in found)
    return found


def test_a_good_mention_parses_with_defaults_for_what_it_leaves_out() -> None:
    parsed = parse_mention(_good())

    assert isinstance(parsed, Mention)
    assert parsed.posted_at == T0
    assert parsed.author.followers == 3
    assert (parsed.engagement.likes, parsed.engagement.shares, parsed.engagement.replies) == (0, 0, 0)
    assert parsed.thread_id is None
    assert parsed.key == ("twitter", "1")


def test_counts_written_as_whole_floats_are_kept_as_whole_numbers() -> None:
    parsed = parse_mention({**_good(), "author": {"handle": "x", "followers": 10.0}, "engagement": {"likes": 1.0}})

    assert isinstance(parsed, Mention)
    assert (parsed.author.followers, parsed.engagement.likes) == (10, 1)
    assert (type(parsed.author.followers), type(parsed.engagement.likes)) == (int, int)


def test_a_mention_with_a_utc_offset_keeps_the_moment_it_names() -> None:
    parsed = parse_mention({**_good(), "posted_at": "2026-01-05T10:00:00+01:00"})

    assert isinstance(parsed, Mention)
    assert parsed.posted_at == T0


@pytest.mark.parametrize(
    "posted_at",
    ["2026-01-05T09:00:00Z", "2026-01-05t09:00:00z", "2026-01-05 09:00:00Z", "2026-01-05T11:00:00+02:00"],
)
def test_every_rfc_3339_spelling_of_the_same_moment_reads_as_that_moment(posted_at: str) -> None:
    parsed = parse_mention({**_good(), "posted_at": posted_at})

    assert isinstance(parsed, Mention)
    assert parsed.posted_at == T0


@pytest.mark.parametrize(
    ("change", "pointer", "words"),
    [
        ({"channel": "twittr"}, "/channel", "did you mean 'twitter'"),
        ({"posted_at": "yesterday"}, "/posted_at", "RFC 3339"),
        ({"posted_at": "2026-02-30T09:00:00Z"}, "/posted_at", "not a valid date"),
        ({"text": 42}, "/text", "must be text"),
        ({"author": {"handle": "ann", "followers": -1}}, "/author/followers", "followers"),
        ({"author": {"followers": 3}}, "/author", "needs 'handle'"),
        ({"engagement": {"likes": "many"}}, "/engagement/likes", "whole number"),
        ({"colour": "red"}, "", "unknown field 'colour'"),
        ({"external_id": ""}, "/external_id", "external_id"),
    ],
)
def test_a_malformed_mention_gives_an_error_with_a_pointer_and_a_message(
    change: dict[str, object], pointer: str, words: str
) -> None:
    errors = _errors({**_good(), **change})

    assert any(error.pointer == pointer and words in error.message for error in errors), errors


def test_a_mention_missing_required_fields_names_each_of_them() -> None:
    errors = _errors({"channel": "twitter"})

    assert {error.pointer for error in errors} == {""}
    said = " ".join(error.message for error in errors)
    for name in ("external_id", "text", "posted_at", "author"):
        assert repr(name) in said


def test_every_problem_in_a_mention_is_reported_at_once() -> None:
    errors = _errors({**_good(), "channel": "fax", "text": None, "posted_at": "soon"})

    assert {error.pointer for error in errors} == {"/channel", "/text", "/posted_at"}


@pytest.mark.parametrize("data", [None, [], "a mention", 7])
def test_something_that_is_not_a_mapping_is_refused_with_a_message(data: object) -> None:
    (error,) = _errors(data)

    assert error.pointer == ""
    assert "mapping" in error.message
