"""A mention about an incident a merge closed goes to the open incident at the end of its merges."""

from __future__ import annotations

from datetime import timedelta
from types import MappingProxyType
from typing import Any

from incident_support import T0, book, mention, opened

from engine.incident import Incident, JoinInto, Merged, OpenUnder, belongs, merge_target, merged_into, route

OUTAGE = "service-outage"
H = timedelta(hours=1)


def _incident(incident_id: str, *, state: str = "detected", into: str | None = None, **kwargs: Any) -> Incident:
    made = opened(OUTAGE, incident_id=incident_id, text="The app is down", **kwargs).incident
    facts = MappingProxyType({} if into is None else {"merged_into": into})
    return made.evolve(state=state, facts=facts)


def _closed(incident: Incident) -> bool:
    return book(OUTAGE).is_final(incident.state)


def test_the_merge_target_is_the_incident_merged_into() -> None:
    lead = _incident("inc-1")
    dup = _incident("inc-2", state="merged", into="inc-1")

    assert merged_into(dup) == "inc-1"
    assert merged_into(lead) is None
    assert merge_target(dup, {"inc-1": lead}.get, _closed) is lead


def test_a_chain_of_merges_leads_to_the_open_incident_at_its_end() -> None:
    lead = _incident("inc-1")
    middle = _incident("inc-2", state="merged", into="inc-1")
    dup = _incident("inc-3", state="merged", into="inc-2")

    assert merge_target(dup, {"inc-1": lead, "inc-2": middle}.get, _closed) is lead


def test_merges_that_come_round_in_a_loop_lead_nowhere() -> None:
    one = _incident("inc-1", state="merged", into="inc-2")
    two = _incident("inc-2", state="merged", into="inc-1")

    assert merge_target(one, {"inc-1": one, "inc-2": two}.get, _closed) is None


def test_a_merge_into_an_incident_gone_or_closed_for_another_reason_leads_nowhere() -> None:
    dup = _incident("inc-2", state="merged", into="inc-1")
    reviewed = _incident("inc-1", state="reviewed")

    assert merge_target(dup, {}.get, _closed) is None
    assert merge_target(dup, {"inc-1": reviewed}.get, _closed) is None


def test_a_closed_incident_still_has_what_belongs_to_it_by_thread_or_by_author_in_time() -> None:
    dup = _incident("inc-2", state="merged", into="inc-1", handle="jo", thread_id="t2")
    outage = book(OUTAGE)

    assert belongs(dup, mention("any news?", handle="lee", thread_id="t2", posted_at=T0 + 100 * H), outage)
    assert belongs(dup, mention("still down", handle="@Jo", posted_at=T0 + H), outage)
    assert not belongs(dup, mention("still down", handle="jo", posted_at=T0 + 100 * H), outage)


def test_a_mention_about_a_merged_incident_joins_the_one_it_was_merged_into() -> None:
    lead = _incident("inc-1", handle="mo", thread_id="t1")
    dup = _incident("inc-2", state="merged", into="inc-1", handle="jo", thread_id="t2")
    reply = mention("any news?", handle="lee", thread_id="t2", posted_at=T0 + H)

    where = route(reply, [], [book(OUTAGE)], [Merged(lead, book(OUTAGE), dup)])

    assert isinstance(where, JoinInto)
    assert (where.incident, where.via) == (lead, dup)


def test_an_open_incident_the_mention_joins_itself_comes_before_one_a_merge_leads_to() -> None:
    own = _incident("inc-3", handle="lee", thread_id="t3")
    lead = _incident("inc-1", handle="mo", thread_id="t1")
    dup = _incident("inc-2", state="merged", into="inc-1", handle="jo", thread_id="t2")
    reply = mention("The app is down still", handle="lee", thread_id="t2", posted_at=T0 + H)

    where = route(reply, [(own, book(OUTAGE))], [book(OUTAGE)], [Merged(lead, book(OUTAGE), dup)])

    assert isinstance(where, JoinInto)
    assert (where.incident, where.via) == (own, None)


def test_a_mention_matching_a_higher_priority_playbook_still_opens_its_own_incident() -> None:
    lead = _incident("inc-1", handle="mo", thread_id="t1")
    dup = _incident("inc-2", state="merged", into="inc-1", handle="jo", thread_id="t2")
    injury = mention("The app is down and I have an injury", handle="jo", thread_id="t2", posted_at=T0 + H)

    where = route(injury, [], [book(OUTAGE), book("safety-and-legal")], [Merged(lead, book(OUTAGE), dup)])

    assert isinstance(where, OpenUnder)
    assert (where.book.playbook.id, where.follows) == ("safety-and-legal", lead)
