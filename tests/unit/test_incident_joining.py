"""Joining: a later mention in the same thread, or by the same author soon after, belongs to the open incident."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from incident_support import T0, accepted, act, audits, book, mention, opened

from engine.incident import Incident, JoinMention, Mention, RefusalReason, Refused, joins, step
from engine.store import encode_incident

COMPLAINT = "customer-complaint"  # the default join window: 24h
RULES = "clock-rules"  # join_window: 2h
H = timedelta(hours=1)
M = timedelta(minutes=1)


def _open(name: str = COMPLAINT, **kwargs: Any) -> Incident:
    return opened(name, handle="ann", thread_id="t-1", **kwargs).incident


def _later(after: timedelta, **kwargs: Any) -> Mention:
    """A later mention by the opening author, posted ``after`` the opening one."""
    values: dict[str, Any] = {"external_id": "m-2", "posted_at": T0 + after, "handle": "ann"}
    values.update(kwargs)
    return mention("Still waiting.", **values)


# --- which mentions join --------------------------------------------------------------------------------------


def test_a_reply_in_the_same_thread_joins_whoever_writes_it() -> None:
    assert joins(_open(), _later(H, handle="bob", thread_id="t-1"), book(COMPLAINT))


def test_a_reply_in_the_same_thread_joins_even_after_the_join_window() -> None:
    # The window is for the same author's separate posts; a thread is one conversation however long it runs.
    assert joins(_open(RULES), _later(30 * H, handle="bob", thread_id="t-1"), book(RULES))


def test_the_same_author_within_the_join_window_joins() -> None:
    assert joins(_open(), _later(23 * H + 59 * M), book(COMPLAINT))


def test_the_same_author_exactly_at_the_end_of_the_window_still_joins() -> None:
    assert joins(_open(), _later(24 * H), book(COMPLAINT))


def test_the_same_author_after_the_join_window_does_not_join() -> None:
    assert not joins(_open(), _later(24 * H + M), book(COMPLAINT))


def test_a_playbook_can_set_a_shorter_join_window() -> None:
    incident = _open(RULES)

    assert joins(incident, _later(2 * H), book(RULES))
    assert not joins(incident, _later(2 * H + M), book(RULES))


def test_a_different_author_outside_the_thread_does_not_join() -> None:
    assert not joins(_open(), _later(M, handle="bob"), book(COMPLAINT))


def test_the_same_author_on_another_channel_does_not_join() -> None:
    assert not joins(_open(), _later(M, channel="facebook", thread_id="t-1"), book(COMPLAINT))


def test_a_mention_without_a_thread_does_not_join_an_incident_without_one_by_thread_alone() -> None:
    incident = opened(COMPLAINT, handle="ann").incident

    assert incident.thread_id is None
    assert not joins(incident, _later(30 * H, handle="bob"), book(COMPLAINT))


def test_the_window_counts_from_the_latest_mention_not_from_opening() -> None:
    incident = _open(RULES)
    first = accepted(step(incident, JoinMention(_later(90 * M)), T0 + 90 * M, book(RULES))).incident

    third = _later(3 * H, external_id="m-3")

    assert not joins(incident, third, book(RULES))
    assert joins(first, third, book(RULES))


def test_a_closed_incident_is_joined_by_nothing_not_even_its_own_thread() -> None:
    closed = accepted(act(_open(), "do_not_engage", ["social_lead"], T0 + M, reason="spam")).incident

    assert not joins(closed, _later(M, thread_id="t-1"), book(COMPLAINT))
    assert not joins(closed, _later(M), book(COMPLAINT))


# --- what joining does ----------------------------------------------------------------------------------------


def test_a_joining_mention_is_added_to_the_incident_and_recorded() -> None:
    incident = _open()

    joined = accepted(step(incident, JoinMention(_later(H)), T0 + H, book(COMPLAINT)))

    assert joined.incident.mention_count == 2
    assert joined.incident.last_mention_at == T0 + H
    assert joined.incident.revision == incident.revision + 1
    assert joined.incident.state == incident.state
    (entry,) = audits(joined.effects, "mention")
    assert entry.summary == "mention twitter/m-2 joined"


def test_a_joining_mention_posted_earlier_does_not_move_the_last_mention_back() -> None:
    incident = _open(at=T0 + 2 * H)

    joined = accepted(step(incident, JoinMention(_later(H)), T0 + 2 * H, book(COMPLAINT)))

    assert joined.incident.last_mention_at == T0 + 2 * H


def test_what_an_incident_stores_does_not_grow_with_the_mentions_that_join_it() -> None:
    incident = _open()
    sizes = []
    for number in range(2, 202):
        later = mention("Me too", handle=f"u{number}", thread_id="t-1", external_id=f"m-{number}")
        incident = accepted(step(incident, JoinMention(later), T0 + H, book(COMPLAINT))).incident
        sizes.append(len(json.dumps(encode_incident(incident))))

    assert incident.mention_count == 201
    assert max(sizes) - min(sizes) <= 4  # the digits of the count and the revision, nothing per mention


def test_a_joining_mention_with_a_higher_severity_raises_the_incident() -> None:
    incident = _open()

    joined = accepted(
        step(incident, JoinMention(mention("I got food poisoning", external_id="m-2")), T0 + M, book(COMPLAINT))
    )

    assert joined.incident.severity == "critical"
    assert [entry.summary for entry in audits(joined.effects, "severity")] == [
        "severity low -> critical (a new mention)"
    ]


def test_a_joining_mention_with_a_lower_severity_leaves_the_severity_alone() -> None:
    incident = opened(COMPLAINT, text="injury", handle="ann").incident

    joined = accepted(step(incident, JoinMention(_later(M)), T0 + M, book(COMPLAINT)))

    assert joined.incident.severity == "critical"
    assert audits(joined.effects, "severity") == []


def test_a_mention_cannot_join_a_closed_incident() -> None:
    closed = accepted(act(_open(), "do_not_engage", ["social_lead"], T0 + M, reason="spam")).incident
    before = repr(closed)

    outcome = step(closed, JoinMention(_later(H, thread_id="t-1")), T0 + H, book(COMPLAINT))

    assert isinstance(outcome, Refused)
    assert outcome.reason is RefusalReason.CLOSED
    assert "open a new one" in outcome.message
    assert repr(closed) == before
