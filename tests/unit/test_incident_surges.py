"""Groups and surges in the pure core: a mention's group key, and a group's incident counting its mentions until a
surge rule fires (once), raising it, asking for a crisis and telling roles; all on the time passed in."""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

from incident_support import ROOT, T0, accepted, audits, mention, notices, of_type

from engine.files import load_file
from engine.incident import Incident, JoinMention, Mention, OpenCrisis, Rulebook, Stepped, open_incident, step
from engine.store import decode_incident, encode_incident

S = timedelta(seconds=1)
M = timedelta(minutes=1)


@functools.cache
def outage() -> Rulebook:
    result = load_file(ROOT / "tests" / "fixtures" / "playbooks" / "surges" / "login-outage.yaml")
    assert result.playbook is not None, result.problems
    return Rulebook(result.playbook)


def _say(number: int, at: datetime, text: str = "The app is down? I can't log in") -> Mention:
    return mention(text, external_id=f"m-{number}", posted_at=at, handle=f"user{number}")


def _burst(count: int, every: timedelta, start: datetime = T0) -> tuple[Incident, list[Stepped]]:
    """An incident opened by the first of ``count`` mentions ``every`` apart, and each later one's step."""
    book = outage()
    incident = open_incident("inc-1", _say(1, start), book, start).incident
    steps: list[Stepped] = []
    for number in range(2, count + 1):
        at = start + every * (number - 1)
        stepped = accepted(step(incident, JoinMention(_say(number, at)), at, book))
        incident = stepped.incident
        steps.append(stepped)
    return incident, steps


# --- the group key -----------------------------------------------------------------------------------------------


def test_a_mention_naming_a_topic_is_grouped_under_the_first_topic_it_names() -> None:
    grouper = outage().grouper
    assert grouper is not None
    assert grouper.key(_say(1, T0)) == "login-outage about login"
    both = _say(2, T0, "payment failed and now I can't log in")
    assert grouper.key(both) == "login-outage about login"


def test_a_mention_naming_no_topic_is_in_the_playbooks_own_group() -> None:
    grouper = outage().grouper
    assert grouper is not None
    assert grouper.key(_say(1, T0, "total outage here")) == "login-outage"


def test_an_incident_opened_under_a_grouping_playbook_gathers_its_mentions_group() -> None:
    opened = open_incident("inc-1", _say(1, T0), outage(), T0).incident
    assert opened.group == "login-outage about login"
    assert opened.arrivals == ((int(T0.timestamp()) // 60, 1),)


def test_a_group_takes_a_mention_within_its_window_of_the_latest_one_and_not_after() -> None:
    grouper = outage().grouper
    assert grouper is not None
    opened = open_incident("inc-1", _say(1, T0), outage(), T0).incident
    assert grouper.takes(opened, _say(2, T0 + 30 * M))
    assert not grouper.takes(opened, _say(2, T0 + 30 * M + S))
    assert not grouper.takes(opened, _say(2, T0, "payment failed"))


# --- counting and firing -------------------------------------------------------------------------------------------


def test_four_mentions_do_not_surge_and_the_fifth_within_ten_minutes_raises_to_critical_and_notifies() -> None:
    incident, steps = _burst(5, M)
    fourth, fifth = steps[-2], steps[-1]
    assert not audits(fourth.effects, "surge")
    assert incident.severity == "critical"
    assert incident.surged == ("spike",)
    (surge,) = audits(fifth.effects, "surge")
    assert surge.summary == "surge spike: 5 mentions within 10m: raise to critical, notify director"
    (severity,) = audits(fifth.effects, "severity")
    assert severity.summary == "severity low -> critical (surge spike)"
    told = {(notice.event, notice.roles) for notice in notices(fifth.effects)}
    assert ("surge", ("director",)) in told
    assert ("severity_raised", ("director",)) in told  # the notify_on rule for a raise, as any raise tells


def test_a_surge_notification_is_keyed_by_incident_and_rule_so_it_is_told_once() -> None:
    _, steps = _burst(5, M)
    (notice,) = [n for n in notices(steps[-1].effects) if n.event == "surge"]
    assert notice.key == "inc-1/event/surge/spike/r0"
    assert notice.step == 0
    assert notice.severity == "critical"


def test_mentions_spread_wider_than_the_window_never_surge() -> None:
    incident, steps = _burst(12, 3 * M)  # four mentions in any ten minutes
    assert incident.surged == ()
    assert incident.severity == "low"
    assert not any(audits(stepped.effects, "surge") for stepped in steps)


def test_a_rule_fires_once_for_an_incident_however_many_more_mentions_come() -> None:
    incident, steps = _burst(15, 10 * S)
    fired = [stepped for stepped in steps if audits(stepped.effects, "surge")]
    assert len(fired) == 1
    assert incident.surged == ("spike",)


def test_a_rate_rule_with_no_earlier_mentions_fires_on_its_count_and_asks_for_a_crisis() -> None:
    incident, steps = _burst(20, 10 * S)
    assert incident.surged == ("spike", "crisis")
    last = steps[-1]
    (crisis,) = of_type(last.effects, OpenCrisis)
    assert crisis == OpenCrisis("brand-crisis", "crisis")
    (surge,) = audits(last.effects, "surge")
    assert "(none before; the rule fires at 3x the earlier rate)" in surge.summary


def test_a_rate_rule_does_not_fire_while_the_rate_is_under_its_multiple_of_the_hour_before() -> None:
    # An hour of one mention a minute (60 in the baseline), then 20 within ten minutes: 2 a minute, only twice the
    # earlier rate, against a rule that wants three times it.
    book = outage()
    incident = open_incident("inc-1", _say(1, T0), book, T0).incident
    number = 1
    for minute in range(1, 70):
        for _ in range(1 if minute < 60 else 2):
            number += 1
            at = T0 + minute * M
            incident = accepted(step(incident, JoinMention(_say(number, at)), at, book)).incident
    assert "spike" in incident.surged
    assert "crisis" not in incident.surged


def test_the_counts_are_part_of_the_incident_and_survive_its_store_encoding() -> None:
    incident, _ = _burst(7, M)
    assert decode_incident(encode_incident(incident)) == incident
    assert incident.arrivals[-1][1] >= 1


def test_a_mention_posted_out_of_order_is_counted_at_its_own_time() -> None:
    book = outage()
    counter = book.surges
    assert counter is not None
    incident = open_incident("inc-1", _say(1, T0 + 5 * M), book, T0 + 5 * M).incident
    earlier = counter.counted(incident, _say(2, T0 + 2 * M))
    base = int(T0.timestamp()) // 60
    assert earlier.arrivals == ((base + 2, 1), (base + 5, 1))
