"""The runtime's hot-path shortcuts give exactly what the plain way gives.

``step`` runs on every command the daemon takes, so a few of its parts take shortcuts: business calendars keep a
year's open spans and bisect them, incidents are copied without ``dataclasses.replace``, ASCII text skips Unicode
normalisation, and a due deadline finds its clock by the clock's name in the key. Each is checked here against a
slow, obviously right reference.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.files import load_file
from engine.incident import (
    Audit,
    BusinessCalendar,
    CancelDeadline,
    DeadlineReached,
    Incident,
    Mention,
    Rulebook,
    Stepped,
    open_incident,
    parse_mention,
    step,
)
from engine.incident._guards import guard_holds
from engine.playbook import Calendar, Failed, Guard, OpeningHours, compile_machine, normalise
from engine.playbook._phrase import normalise_unicode

ROOT = Path(__file__).resolve().parents[2]


@cache
def rulebook(name: str) -> Rulebook:
    loaded = load_file(ROOT / "playbooks" / f"{name}.yaml")
    assert loaded.playbook is not None
    return Rulebook(loaded.playbook)


_WEEKDAYS = {day: ((time(9), time(17, 30)),) for day in range(5)}
_NIGHTS = {day: ((time(22), None),) for day in range(7)}  # open from 22:00 to midnight, every day


def _calendar(zone: str, hours: dict[int, tuple[tuple[time, time | None], ...]], country: str | None) -> Calendar:
    return Calendar(name="office", timezone=zone, hours=OpeningHours(hours), holidays=country)


@cache
def _closed_days(country: str, year: int) -> frozenset[date]:
    import holidays  # noqa: PLC0415 - only the reference needs it

    return frozenset(holidays.country_holidays(country, years=year))


def _is_open(calendar: Calendar, moment: datetime) -> bool:
    """The reference: look the minute up in local time, as a person reading the calendar would."""
    local = moment.astimezone(ZoneInfo(calendar.timezone))
    if calendar.holidays and local.date() in _closed_days(calendar.holidays, local.year):
        return False
    for opens, closes in calendar.hours.days.get(local.weekday(), ()):
        if opens <= local.time() and (closes is None or local.time() < closes):
            return True
    return False


def _add_by_minutes(calendar: Calendar, start: datetime, minutes: int) -> datetime:
    moment = start
    while minutes:
        if _is_open(calendar, moment):
            minutes -= 1
        moment += timedelta(minutes=1)
    while not _is_open(calendar, moment - timedelta(minutes=1)):  # the result is the end of an open minute
        moment -= timedelta(minutes=1)
    return moment


_CALENDARS = [
    _calendar("Pacific/Auckland", _WEEKDAYS, "NZ"),  # a day ahead of UTC over new year, DST in summer
    _calendar("America/Los_Angeles", _WEEKDAYS, "US"),  # behind UTC: its new year starts eight hours late
    _calendar("Europe/London", _NIGHTS, None),  # spans that run to midnight
]


@settings(max_examples=40, deadline=None)
@example(  # 16:30 on New Year's Eve in Los Angeles is already next year in UTC
    calendar=_CALENDARS[1], start=datetime(2027, 1, 1, 0, 30, tzinfo=UTC), minutes=30
)
@given(
    calendar=st.sampled_from(_CALENDARS),
    start=st.datetimes(min_value=datetime(2026, 12, 27), max_value=datetime(2027, 1, 4), timezones=st.just(UTC)).map(
        lambda moment: moment.replace(second=0, microsecond=0)
    ),
    minutes=st.integers(min_value=1, max_value=20 * 60),
)
def test_business_time_across_new_year_matches_counting_open_minutes(
    calendar: Calendar, start: datetime, minutes: int
) -> None:
    counter = BusinessCalendar(calendar)
    expected = _add_by_minutes(calendar, start, minutes)
    assert counter.add(start, timedelta(minutes=minutes)) == expected
    assert counter.elapsed(start, expected) == timedelta(minutes=minutes)


def test_a_moment_given_in_another_zone_counts_the_same_as_in_utc() -> None:
    counter = BusinessCalendar(_CALENDARS[0])
    start = datetime(2027, 1, 1, 23, 0, tzinfo=UTC)
    elsewhere = start.astimezone(ZoneInfo("Pacific/Kiritimati"))  # UTC+14: already 2 January there
    assert counter.add(elsewhere, timedelta(hours=3)) == counter.add(start, timedelta(hours=3))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127)))
def test_ascii_text_is_normalised_as_any_text_would_be(text: str) -> None:
    assert normalise(text) == normalise_unicode(text)


def _opened(incident_id: str) -> Stepped:
    mention = parse_mention(
        {
            "channel": "twitter",
            "external_id": "1",
            "text": "my order arrived broken",
            "author": {"handle": "@ann"},
            "posted_at": "2026-11-23T09:00:00Z",
        }
    )
    assert not isinstance(mention, Failed)
    return open_incident(incident_id, mention, rulebook("customer-complaint"), datetime(2026, 11, 23, 9, tzinfo=UTC))


def test_copying_an_incident_gives_what_dataclasses_replace_gives() -> None:
    incident = _opened("inc-1").incident
    assert incident.evolve(state="assessed", revision=3) == dataclasses.replace(incident, state="assessed", revision=3)
    assert incident.evolve() == incident


def test_the_records_step_makes_are_built_as_their_dataclass_would_build_them_and_stay_frozen() -> None:
    at = datetime(2026, 11, 23, 9, tzinfo=UTC)

    audit = Audit(at, "transition", "assess: detected -> assessed")
    cancelled = CancelDeadline("inc-1/limit:detected/0/0/0", "limit:detected")

    assert (audit.actor, dict(audit.details)) == (None, {})
    assert Audit(at, "note", "n", "alice", {"a": 1}) == Audit(at, "note", "n", actor="alice", details={"a": 1})
    assert type(audit) is Audit
    assert type(cancelled) is CancelDeadline
    assert dataclasses.replace(cancelled, clock="limit:assessed").clock == "limit:assessed"
    with pytest.raises(dataclasses.FrozenInstanceError):
        audit.kind = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError, match="summary"):
        Audit(at, "transition")  # type: ignore[call-arg]


def test_copying_an_incident_with_an_unknown_field_is_an_error() -> None:
    with pytest.raises(TypeError, match="'stat'"):
        _opened("inc-1").incident.evolve(stat="assessed")


@pytest.mark.parametrize("incident_id", ["inc-1", "team/eu/inc-1", "inc/limit:detected/0"])
def test_a_due_deadline_finds_its_clock_whatever_the_incident_id_holds(incident_id: str) -> None:
    opened = _opened(incident_id)
    armed = [effect for effect in opened.effects if type(effect).__name__ == "ArmDeadline"]
    assert armed
    book = rulebook("customer-complaint")
    for deadline in armed:
        outcome = step(opened.incident, DeadlineReached(deadline.key), deadline.at, book)
        assert isinstance(outcome, Stepped)
        assert outcome.incident != opened.incident, deadline.key
    unknown = step(opened.incident, DeadlineReached(f"{incident_id}/nothing/0/0/0"), armed[0].at, book)
    assert isinstance(unknown, Stepped)
    assert (unknown.incident, unknown.effects) == (opened.incident, ())


_ANY = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6,
)


def _mostly(good: st.SearchStrategy[object], odd: st.SearchStrategy[object]) -> st.SearchStrategy[object]:
    """Good values three times in four, so that whole mentions often pass and the odd one out is tested."""
    return st.sampled_from([True, True, True, False]).flatmap(lambda pick: good if pick else odd)


_TEXT = st.text(min_size=1, max_size=8)
_COUNT = st.integers(0, 10**6)
_ODD = _ANY | st.sampled_from(["", "x" * 201, -1, True, 1.0, 1.5, None])
_MENTIONS = st.fixed_dictionaries(
    {
        "channel": _mostly(
            st.sampled_from(["twitter", "instagram", "trustpilot"]), st.sampled_from(["Twitter", "sms"])
        ),
        "external_id": _mostly(_TEXT, _ODD),
        "text": _mostly(st.text(max_size=20), _ODD),
        "posted_at": _mostly(
            st.sampled_from(["2026-11-23T09:00:00Z", "2026-11-23 09:00:00.5+01:00", "2026-11-23t09:00:00z"]),
            st.sampled_from(["2026-02-30T09:00:00Z", "2026-11-23T09:00Z", "yesterday"]) | _ODD,
        ),
        "author": _mostly(
            st.fixed_dictionaries({"handle": _mostly(_TEXT, _ODD)}, optional={"followers": _mostly(_COUNT, _ODD)}),
            _ODD,
        ),
    },
    optional={
        "engagement": _mostly(
            st.dictionaries(st.sampled_from(["likes", "shares", "replies"]), _COUNT, max_size=3),
            st.dictionaries(st.sampled_from(["likes", "views"]), _ODD, max_size=2),
        ),
        "thread_id": _mostly(_TEXT, _ODD),
        "url": _mostly(st.text(max_size=10), _ODD),
        "customer_id": _mostly(_TEXT, _ODD),
        "customer_segment": _mostly(_TEXT, _ODD),  # which needs a customer_id
    },
)
_EXTRA = st.builds(lambda mention, key, value: {**mention, key: value}, _MENTIONS, st.text(max_size=6), _ANY)


@settings(max_examples=400, deadline=None)
@given(st.one_of(_MENTIONS, _MENTIONS, _EXTRA, _ANY))
def test_the_quick_mention_check_never_passes_what_the_schema_refuses(data: object) -> None:
    from engine.incident._mention import _passes_quick_check, _validator  # noqa: PLC0415 - the shortcut itself

    if _passes_quick_check(data):
        assert _validator().is_valid(data), data


class _Stand:
    """What the machine fires on in this check: just a state."""

    def __init__(self, state: str) -> None:
        self.state = state


def _a_mention(book: Rulebook) -> Mention:
    mention = parse_mention(
        {
            "channel": book.playbook.applies_to.channels[0],
            "external_id": "1",
            "text": "hello",
            "author": {"handle": "ann"},
            "posted_at": "2026-01-05T09:00:00Z",
        }
    )
    assert isinstance(mention, Mention)
    return mention


def _guarded(guard: Guard) -> Callable[..., bool]:
    """A guard as the machine's condition: the incident comes with the event."""

    def holds(incident: Incident) -> bool:
        return guard_holds(guard, incident)

    return holds


@pytest.mark.parametrize("name", sorted(path.stem for path in (ROOT / "playbooks").glob("*.yaml")))
def test_the_destination_lookup_gives_what_firing_the_machines_event_gives(name: str) -> None:
    book = rulebook(name)
    machine = compile_machine(book.playbook, _guarded)
    pairs = [(item.trigger, source) for item in book.playbook.transitions for source in item.sources]
    first = open_incident("inc-1", _a_mention(book), book, datetime(2026, 1, 5, 9, tzinfo=UTC)).incident
    assert pairs
    for trigger, source in pairs:
        for level in book.playbook.severity.levels:
            for customer in (None, "c-1"):
                incident = first.evolve(state=source, severity=level, customer_id=customer)
                stand = _Stand(source)
                moved = machine.events[trigger].trigger(stand, incident=incident)
                taken = book.transition(trigger, source, incident)
                assert moved is (taken is not None), (trigger, source, level)
                if taken is not None:
                    assert book.destination(trigger, source, incident) == stand.state, (trigger, source, level)


def test_the_quick_mention_check_refuses_a_segment_without_its_customer_as_the_schema_does() -> None:
    from engine.incident._mention import _passes_quick_check, _validator  # noqa: PLC0415 - the shortcut itself

    mention = {
        "channel": "twitter",
        "external_id": "1",
        "text": "Still broken",
        "posted_at": "2026-11-23T09:00:00Z",
        "author": {"handle": "@ann_b"},
    }

    assert _passes_quick_check(mention)
    assert _passes_quick_check({**mention, "customer_segment": "vip", "customer_id": "c-1"})
    assert not _passes_quick_check({**mention, "customer_segment": "vip"})
    assert not _validator().is_valid({**mention, "customer_segment": "vip"})
