"""Muted authors: what a muting verdict records, and which later posts the mute takes."""

from __future__ import annotations

from datetime import timedelta

from incident_support import T0, accepted, act, audits, book, mention, opened

from engine.incident import MUTED_UNTIL, muted_until, silences

ABUSE = "abuse-and-trolls"
D = timedelta(days=1)


def _muted() -> object:
    incident = opened(ABUSE, text="@brand scumbags, the lot of you").incident
    return accepted(act(incident, "do_not_engage", ["social_lead"], T0 + timedelta(minutes=5), ABUSE, reason="troll"))


def test_a_verdict_that_mutes_records_until_when_and_says_so_in_the_history() -> None:
    closed = _muted()

    assert closed.incident.state == "not_engaged"  # type: ignore[attr-defined]
    assert closed.incident.facts[MUTED_UNTIL] == (T0 + timedelta(minutes=5) + 7 * D).isoformat()  # type: ignore[attr-defined]
    (entry,) = audits(closed.effects, "muted")  # type: ignore[attr-defined]
    assert entry.summary.startswith("ann muted on twitter until ")


def test_the_mute_takes_posts_as_urgent_as_the_verdicts_and_lets_worse_ones_through() -> None:
    incident = _muted().incident  # type: ignore[attr-defined]
    abuse = book(ABUSE)
    same = mention("scumbags again", external_id="m-2")
    threat = mention("I know where you live", external_id="m-3")

    assert muted_until(incident) == T0 + timedelta(minutes=5) + 7 * D
    assert silences(incident, abuse, same, abuse, T0 + D)
    assert not silences(incident, abuse, threat, abuse, T0 + D)  # critical against low
    assert not silences(incident, abuse, same, abuse, T0 + 8 * D)  # the week is up


def test_the_mute_lets_a_higher_priority_playbook_through_and_silences_a_lower_one() -> None:
    incident = _muted().incident  # type: ignore[attr-defined]
    injury = mention("I was injured by your product", external_id="m-4")
    complaint = mention("my order is late", external_id="m-5")

    assert not silences(incident, book(ABUSE), injury, book("safety-and-legal"), T0 + D)
    assert silences(incident, book(ABUSE), complaint, book("customer-complaint"), T0 + D)
