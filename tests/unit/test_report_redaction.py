"""A redacted export masks what people wrote and pseudonymises who they are, and touches nothing else: a handle
of two letters stays out of every word that happens to hold it, and the same person keeps one pseudonym."""

from __future__ import annotations

from typing import Any

from engine.report._export import MASK, _Redactor


def _line() -> dict[str, Any]:
    mention = {
        "channel": "twitter",
        "external_id": "1861",
        "thread_id": "t-9",
        "url": "https://x.com/al/status/1861",
        "text": "@brand my order from last week is broken",
        "author": {"handle": "@al", "followers": 12},
        "customer_id": "c-1042",
    }
    return {
        "type": "incident",
        "final": True,
        "incident": {"id": "inc-1", "author": "@al", "playbook_digest": "sha256:x", "facts": {}},
        "events": [
            {
                "seq": 1,
                "kind": "open",
                "actor": None,
                "command": {"mention": mention},
                "history": [{"kind": "opened", "summary": "opened: a mention on twitter by @al", "details": {}}],
            },
            {
                "seq": 2,
                "kind": "act",
                "actor": "alice",
                "command": {"fields": {"review": {"avoidable": "yes", "missed_opportunity": "Al was upset"}}},
                "history": [
                    {
                        "kind": "escalation",
                        "summary": "escalation to social_lead about AL's post, for alice",
                        "details": {"roles": ["social_lead"], "author": "al", "key": "inc-1/limit:detected/0/1/0"},
                    },
                    {"kind": "note", "summary": "Called Al back at 07700 900123", "actor": "alice", "details": {}},
                ],
            },
        ],
    }


def test_a_short_handle_is_replaced_as_a_whole_word_and_kinds_roles_and_people_acting_are_kept() -> None:
    redacted = _Redactor(b"secret", lambda digest: frozenset({"missed_opportunity"})).line(_line())

    opened, acted = redacted["events"]
    escalation, note = acted["history"]
    pseudonym = redacted["incident"]["author"]
    assert pseudonym.startswith("author-")
    assert escalation["kind"] == "escalation"
    assert escalation["details"]["roles"] == ["social_lead"]
    assert escalation["details"]["key"] == "inc-1/limit:detected/0/1/0"
    assert acted["actor"] == "alice"
    assert escalation["summary"] == f"escalation to social_lead about {pseudonym}'s post, for alice"
    assert opened["history"][0]["summary"] == f"opened: a mention on twitter by {pseudonym}"
    # The same author is the same pseudonym everywhere, so a replay still joins their posts into one incident.
    assert opened["command"]["mention"]["author"] == {"handle": pseudonym, "followers": 12}
    assert escalation["details"]["author"] == pseudonym
    assert note["summary"] == MASK


def test_posts_ids_links_customers_and_free_text_answers_are_masked_or_pseudonymised() -> None:
    redacted = _Redactor(b"secret", lambda digest: frozenset({"missed_opportunity"})).line(_line())

    mention = redacted["events"][0]["command"]["mention"]
    assert mention["text"] == MASK
    assert mention["channel"] == "twitter"
    for key, kind in (("external_id", "post"), ("thread_id", "thread"), ("url", "link"), ("customer_id", "customer")):
        assert mention[key].startswith(f"{kind}-"), (key, mention[key])
    review = redacted["events"][1]["command"]["fields"]["review"]
    assert review == {"avoidable": "yes", "missed_opportunity": MASK}


def test_without_the_playbook_every_answer_in_words_but_yes_and_no_is_masked() -> None:
    redacted = _Redactor(b"secret", lambda digest: None).line(_line())

    assert redacted["events"][1]["command"]["fields"]["review"] == {"avoidable": "yes", "missed_opportunity": MASK}


def test_two_exports_give_one_person_different_pseudonyms() -> None:
    first = _Redactor(b"one", lambda digest: None).line(_line())["incident"]["author"]
    second = _Redactor(b"two", lambda digest: None).line(_line())["incident"]["author"]

    assert first != second
