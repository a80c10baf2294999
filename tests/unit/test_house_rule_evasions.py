"""House rules and keywords match what a text reads as, so dressing a phrase up or disguising it does not slip past."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from incident_support import T0, accepted, act, book, mention, opened

from engine.incident import RefusalReason, Refused
from engine.playbook import PhraseSet, normalise

NEVER_SAY = PhraseSet(["calm down", "you are wrong", "not our fault"])

EVASIONS = {
    "a hyphen": "Please calm-down, we are on it",
    "an underscore": "Please calm_down, we are on it",
    "a dot": "Please calm.down",
    "shouting": "PLEASE CALM DOWN",
    "a zero-width space in a word": "Please ca\u200blm down",
    "a zero-width joiner": "Please calm d\u200down",
    "a soft hyphen": "Please cal\u00adm down",
    "a word joiner between words": "Please calm\u2060 down",
    "a Cyrillic a": "Please c\u0430lm down",
    "a Greek o": "Please calm d\u03bfwn",
    "full-width letters": "Please \uff43\uff41\uff4c\uff4d down",
    "mathematical bold letters": "Please \U0001d41c\U0001d41a\U0001d425\U0001d426 down",
    "an accent": "Please c\u00e0lm down",
    "a line break and tabs": "Please calm\n\t down",
    "a dash and quotes": "\u201cyou \u2014 are \u2014 wrong\u201d",
    "an ellipsis": "It is not\u2026 our fault",
    "Cyrillic o and u in one phrase": "It is n\u043et \u043eur fault",
}


@pytest.mark.parametrize("text", EVASIONS.values(), ids=EVASIONS.keys())
def test_a_disguised_house_rule_phrase_is_still_found(text: str) -> None:
    assert NEVER_SAY.find(text) is not None


INNOCENT = {
    "a longer word": "Sorry for the wait in our calm downtown branch",
    "a word inside another": "We hope the recalm downgrade went well",
    "a different phrase": "We are not wrong to check, and we are sorry",
    "the words apart": "Stay calm; we will not let you down",
    "not our fault's neighbour": "It is not our faultless service, clearly",
}


@pytest.mark.parametrize("text", INNOCENT.values(), ids=INNOCENT.keys())
def test_innocent_text_that_only_looks_close_still_passes(text: str) -> None:
    assert NEVER_SAY.find(text) is None


def test_a_reply_with_a_disguised_phrase_is_refused_by_the_house_rules() -> None:
    incident = accepted(act(opened().incident, "assess", ["community_manager"], T0, severity="low")).incident
    reply = {"channel": incident.channel, "text": "Hi, please c\u0430lm-d\u200bown, we are on it."}

    refused = act(incident, "acknowledge", ["community_manager"], T0, public_reply=reply)

    assert isinstance(refused, Refused)
    assert refused.reason is RefusalReason.HOUSE_RULE
    assert refused.phrase == "calm down"


@pytest.mark.parametrize("text", ["INJURY", "inj\u200bury", "\u00ecnjury", "\uff49\uff4e\uff4a\uff55\uff52\uff59"])
def test_a_severity_keyword_is_found_however_it_is_written(text: str) -> None:
    # customer-complaint: critical when the text says "injury" (among others).
    assert book("customer-complaint").severity_of(mention(f"My {text} from your kettle")) == "critical"


def test_a_digit_is_not_read_as_a_letter() -> None:
    # confusables.txt maps 1 to l, not i; calmly folds only letters of other scripts, never plain ASCII.
    assert normalise("1njury") == "1njury"
    assert book("customer-complaint").severity_of(mention("My 1njury from your kettle")) != "critical"


def test_a_phrase_written_with_punctuation_matches_the_same_phrase_without() -> None:
    phrases = PhraseSet(["i'll find you"])

    assert phrases.find("I\u2019ll find you") == "i'll find you"
    assert phrases.find("ill find you") is None  # "i'll" reads as "i ll", not as "ill"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_takes_the_quick_path_to_the_same_result(text: str) -> None:
    from engine.playbook._phrase import normalise_unicode  # noqa: PLC0415

    assert normalise(text) == normalise_unicode(text)
