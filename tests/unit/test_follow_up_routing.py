"""A follow-up that matches a higher-priority playbook is not swallowed by the everyday incident it follows."""

from __future__ import annotations

from datetime import timedelta

from incident_support import SHIPPED_NAMES, T0, accepted, audits, book, mention, opened

from engine.incident import (
    Incident,
    JoinInto,
    LinkIncident,
    LinkRelation,
    NoMatch,
    OpenUnder,
    Rulebook,
    open_incident,
    route,
    step,
)

COMPLAINT = "customer-complaint"
LEGAL = "safety-and-legal"
H = timedelta(hours=1)


def _shipped() -> list[Rulebook]:
    return [book(name) for name in SHIPPED_NAMES]


def _complaint() -> Incident:
    return opened(COMPLAINT, text="My order arrived late.", handle="@ann").incident


def test_an_injury_claim_after_an_everyday_complaint_opens_a_legal_incident_linked_to_it() -> None:
    complaint = _complaint()
    injury = mention("The kettle burned my hand, I have an injury", external_id="m-2", handle="ann", posted_at=T0 + H)

    where = route(injury, [(complaint, book(COMPLAINT))], _shipped())

    assert isinstance(where, OpenUnder)
    assert where.book.playbook.id == LEGAL
    assert where.follows is complaint


def test_an_everyday_follow_up_still_joins_the_complaint() -> None:
    complaint = _complaint()
    later = mention("Still waiting for my order.", external_id="m-2", handle="ann", posted_at=T0 + H)

    where = route(later, [(complaint, book(COMPLAINT))], _shipped())

    assert isinstance(where, JoinInto)
    assert where.incident is complaint


def test_a_follow_up_no_playbook_applies_to_still_joins_its_thread() -> None:
    complaint = _complaint()
    later = mention("???", channel="twitter", external_id="m-2", handle="ann", posted_at=T0 + H)

    assert isinstance(route(later, [(complaint, book(COMPLAINT))], []), JoinInto)


def test_a_second_injury_post_joins_the_legal_incident_not_the_complaint() -> None:
    complaint = _complaint()
    legal = opened(LEGAL, text="I have an injury", handle="ann", external_id="m-2", incident_id="inc-2").incident
    again = mention("My injury is worse today", external_id="m-3", handle="ann", posted_at=T0 + H)

    where = route(again, [(complaint, book(COMPLAINT)), (legal, book(LEGAL))], _shipped())

    assert isinstance(where, JoinInto)
    assert where.incident is legal


def test_a_mention_with_nothing_to_join_opens_under_the_best_playbook_or_is_ignored() -> None:
    first = mention("My order arrived late.")

    opening = route(first, [], _shipped())
    assert isinstance(opening, OpenUnder)
    assert (opening.book.playbook.id, opening.follows) == (COMPLAINT, None)
    assert isinstance(route(first, [], []), NoMatch)


def test_the_new_incident_is_linked_to_the_one_it_follows_and_its_history_says_so() -> None:
    injury = mention("I have an injury", external_id="m-2", handle="ann", posted_at=T0 + H)

    stepped = open_incident("inc-7", injury, book(LEGAL), T0 + H, follows=("inc-3", COMPLAINT))

    assert stepped.incident.links == (("inc-3", "follow_up_of"),)
    (entry,) = audits(stepped.effects, "link")
    assert entry.summary.startswith("follow-up from inc-3's author")
    assert entry.details["incident"] == "inc-3"


def test_the_older_incident_records_the_link_once_and_says_why() -> None:
    complaint = _complaint()

    linked = accepted(step(complaint, LinkIncident("inc-7", LEGAL), T0 + H, book(COMPLAINT)))
    again = accepted(step(linked.incident, LinkIncident("inc-7", LEGAL), T0 + H, book(COMPLAINT)))

    assert linked.incident.links == (("inc-7", LinkRelation.FOLLOWED_UP_BY.value),)
    assert linked.incident.revision == complaint.revision + 1
    (entry,) = audits(linked.effects, "link")
    assert entry.summary == f"opened inc-7 under {LEGAL}: this post matches a higher-priority playbook"
    assert (again.incident, again.effects) == (linked.incident, ())
