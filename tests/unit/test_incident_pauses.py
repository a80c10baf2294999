"""Clocks that stand still: a target paused while the incident waits on the customer, resumed where it stopped.

The fixture ``pauses`` has three targets paused in ``waiting``: ``answer`` (4h, or 1h when high, around the clock),
``office_answer`` (8h, or 2h when high, in the office's 09:00-17:00 on weekdays) and ``reply_time`` (2h from each
follow-up). Its escalation warns the lead at 50% and tells the director at 100%. T0 is Monday 09:00 in London.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from incident_support import T0, accepted, act, book, mention, of_type, opened

from engine.incident import (
    ArmDeadline,
    AroundTheClock,
    Audit,
    BusinessCalendar,
    CancelDeadline,
    ClockState,
    DeadlineReached,
    Effect,
    Incident,
    JoinMention,
    Notify,
    Stepped,
    deadline_key,
    standing,
    step,
)
from engine.incident._pauses import PausedCounter

NAME = "pauses"
H = timedelta(hours=1)
M = timedelta(minutes=1)


def _open() -> Incident:
    return opened(NAME, T0).incident


def _key(incident_id: str, clock: ClockState) -> str:
    assert clock.next is not None, f"{clock.name} has nothing armed"
    return deadline_key(incident_id, clock, clock.next)


def _do(incident: Incident, trigger: str, at: datetime, **fields: object) -> Stepped:
    return accepted(act(incident, trigger, ["lead"], at, NAME, **fields))


def _clock(incident: Incident, name: str) -> ClockState:
    found = incident.clock(name)
    assert found is not None, f"{name} is not running"
    return found


def _armed(effects: tuple[Effect, ...], clock: str) -> list[ArmDeadline]:
    return [effect for effect in of_type(effects, ArmDeadline) if effect.clock == clock]


def _cancelled(effects: tuple[Effect, ...], clock: str) -> list[CancelDeadline]:
    return [effect for effect in of_type(effects, CancelDeadline) if effect.clock == clock]


def _fire(incident: Incident, clock: str, at: datetime) -> Stepped:
    outcome = step(incident, DeadlineReached(_key(incident.id, _clock(incident, clock))), at, book(NAME))
    assert isinstance(outcome, Stepped)
    return outcome


def _reply() -> dict[str, str]:
    return {"channel": "twitter", "text": "Sorry about this, we're on it."}


def _history(effects: tuple[Effect, ...], kind: str) -> list[Audit]:
    return [effect for effect in of_type(effects, Audit) if effect.kind == kind]


# --- pausing and resuming ---------------------------------------------------------------------------------------


def test_waiting_on_the_customer_cancels_the_targets_deadlines_and_keeps_what_they_counted() -> None:
    incident = _open()
    first = _clock(incident, "answer")

    waited = _do(incident, "wait", T0 + H)

    assert [item.key for item in _cancelled(waited.effects, "answer")] == [_key("inc-1", first)]
    assert _armed(waited.effects, "answer") == []
    assert _armed(waited.effects, "office_answer") == []
    paused = _clock(waited.incident, "answer")
    assert (paused.paused_at, paused.next) == (T0 + H, None)
    assert standing(book(NAME), paused, "low", T0 + 30 * H) == (H, 3 * H)  # a day later it still has 3h left
    (said,) = [entry for entry in _history(waited.effects, "paused") if entry.details["clock"] == "answer"]
    assert (
        said.summary == "answer paused in waiting: 1h counted, 3h left; it does not count while the incident is there"
    )


def test_leaving_the_wait_resumes_with_the_time_left_and_the_wait_not_counted() -> None:
    waiting = _do(_open(), "wait", T0 + H).incident

    back = _do(waiting, "back", T0 + 25 * H)

    resumed = _clock(back.incident, "answer")
    assert resumed.paused_at is None
    assert resumed.pauses == ((T0 + H, T0 + 25 * H),)
    assert resumed.due_at == T0 + 28 * H  # the 3h left, from the resume
    (armed,) = _armed(back.effects, "answer")
    assert armed.at == T0 + 26 * H  # the warning at 50% (2h counted): 1h after the resume
    (said,) = [entry for entry in _history(back.effects, "resumed") if entry.details["clock"] == "answer"]
    assert said.summary == "answer resumes in assessed after 1d paused: 1h counted, 3h left"


def test_a_resumed_clock_arms_new_deadline_keys_and_its_key_from_before_the_pause_changes_nothing() -> None:
    incident = _open()
    before = _clock(incident, "answer")
    old_key = _key(incident.id, before)
    back = _do(_do(incident, "wait", T0 + H).incident, "back", T0 + 2 * H).incident

    late = step(back, DeadlineReached(old_key), T0 + 2 * H, book(NAME))

    resumed = _clock(back, "answer")
    assert _key(back.id, resumed) != old_key
    assert resumed.epoch == back.revision
    assert isinstance(late, Stepped)
    assert (late.incident, late.effects) == (back, ())


def test_pause_resume_pause_counts_only_the_spans_the_clock_ran() -> None:
    incident = _open()
    incident = _do(incident, "wait", T0 + 30 * M).incident
    incident = _do(incident, "back", T0 + 90 * M).incident
    incident = _do(incident, "wait", T0 + 2 * H).incident  # 30m + 30m counted

    again = _clock(incident, "answer")
    assert standing(book(NAME), again, "low", T0 + 4 * H) == (H, 3 * H)
    back = _do(incident, "back", T0 + 5 * H)

    resumed = _clock(back.incident, "answer")
    assert len(resumed.pauses) == 2
    assert resumed.due_at == T0 + 8 * H
    (armed,) = _armed(back.effects, "answer")
    assert armed.at == T0 + 6 * H  # 2h counted: 1h before the first pause and after it, 1h after the second


def test_a_clock_standing_still_fires_nothing_however_long_the_wait() -> None:
    waiting = _do(_open(), "wait", T0 + H).incident

    assert all(clock.next is None for clock in waiting.clocks if clock.name in {"answer", "office_answer"})
    assert waiting.breached == frozenset()
    assert _clock(waiting, "answer").paused


# --- office hours -----------------------------------------------------------------------------------------------


def test_on_office_hours_the_time_left_counts_from_the_resume_in_open_hours_only() -> None:
    waiting = _do(_open(), "wait", T0 + 2 * H).incident  # Monday 11:00: 2h of the 8 open hours counted

    back = _do(waiting, "back", datetime(2026, 1, 7, 16, 0, tzinfo=UTC))  # Wednesday 16:00

    resumed = _clock(back.incident, "office_answer")
    assert resumed.due_at == datetime(2026, 1, 8, 14, 0, tzinfo=UTC)  # Wednesday's last hour, then Thursday 09-14
    (armed,) = _armed(back.effects, "office_answer")
    assert armed.at == datetime(2026, 1, 8, 10, 0, tzinfo=UTC)  # 4h counted: 2h more after the resume


def test_a_resume_outside_open_hours_counts_from_the_next_opening() -> None:
    waiting = _do(_open(), "wait", T0 + 2 * H).incident

    back = _do(waiting, "back", datetime(2026, 1, 10, 12, 0, tzinfo=UTC))  # Saturday noon

    assert _clock(back.incident, "office_answer").due_at == datetime(2026, 1, 12, 15, 0, tzinfo=UTC)  # Monday 15:00


# --- severity changes while paused ------------------------------------------------------------------------------


def test_a_raise_while_paused_that_puts_the_clock_over_its_time_breaches_it_at_once_and_arms_nothing_more() -> None:
    waiting = _do(_open(), "wait", T0 + 90 * M).incident  # answer has counted 1h30m; high allows 1h

    raised = _do(waiting, "raise", T0 + 3 * H, severity="high")

    (armed,) = _armed(raised.effects, "answer")
    assert armed.at <= T0 + 90 * M  # due already: its steps fell due before the pause
    # office_answer has counted 1h30m of the 2h high allows: its warning at 1h is due, its breach waits.
    assert [item.at for item in _armed(raised.effects, "office_answer")] == [T0 + H]
    fired = _fire(raised.incident, "answer", T0 + 3 * H)
    assert "answer" in fired.incident.breached
    notices = of_type(fired.effects, Notify)
    assert {role for notice in notices for role in notice.roles} == {"lead", "director"}
    assert all(notice.late_by == timedelta(0) for notice in notices)  # told as soon as the raise made it due
    assert _armed(fired.effects, "answer") == []
    assert _clock(fired.incident, "answer").next is None


def test_a_raise_while_paused_counts_the_new_time_left_from_the_resume() -> None:
    raised = _do(_do(_open(), "wait", T0 + 90 * M).incident, "raise", T0 + 3 * H, severity="high").incident

    due_at_once = _key(raised.id, _clock(raised, "office_answer"))  # its warning, due since the raise

    back = _do(raised, "back", T0 + 5 * H)  # Monday 14:00, in open hours

    assert _clock(back.incident, "office_answer").due_at == T0 + 5 * H + 30 * M  # 2h less the 1h30m counted
    assert _clock(back.incident, "answer").due_at == T0 + H  # over its time since before the pause
    assert due_at_once in [item.key for item in _cancelled(back.effects, "office_answer")]
    (armed,) = _armed(back.effects, "office_answer")
    assert armed.key != due_at_once
    assert armed.at == T0 + H  # the warning, still due: it fires at once, under the resumed run's key


# --- verdicts ----------------------------------------------------------------------------------------------------


def test_a_target_met_while_paused_is_met_on_time_not_counting_the_wait() -> None:
    waiting = _do(_open(), "wait", T0 + H).incident

    done = _do(waiting, "acknowledge", T0 + 24 * H, public_reply=_reply())

    (met,) = [entry for entry in _history(done.effects, "target_met") if entry.details["clock"] == "answer"]
    assert met.summary == "answer met (on time, not counting 23h paused)"
    assert met.details["late"] is False
    assert met.details["paused_for"] == 23 * 3600


def test_a_target_late_before_the_pause_is_judged_late_by_the_time_it_ran_only() -> None:
    incident = _open()
    incident = _fire(incident, "answer", T0 + 4 * H).incident  # the breach at 4h
    incident = _do(incident, "wait", T0 + 5 * H).incident  # 1h late
    incident = _do(incident, "back", T0 + 29 * H).incident  # a day waiting

    done = _do(incident, "acknowledge", T0 + 29 * H + 30 * M, public_reply=_reply())

    (met,) = [entry for entry in _history(done.effects, "target_met") if entry.details["clock"] == "answer"]
    assert met.summary == "answer met (1h30m late, not counting 1d paused)"
    assert met.details["late"] is True


def test_a_follow_up_while_waiting_starts_its_reply_clock_standing_still() -> None:
    waiting = _do(_open(), "wait", T0 + H).incident

    joined = step(
        waiting, JoinMention(mention("Here it is", external_id="m-2", posted_at=T0 + 2 * H)), T0 + 2 * H, book(NAME)
    )

    assert isinstance(joined, Stepped)
    assert _clock(joined.incident, "reply_time").paused
    assert _armed(joined.effects, "reply_time") == []
    back = _do(joined.incident, "back", T0 + 3 * H)
    (armed,) = _armed(back.effects, "reply_time")
    assert armed.at == T0 + 4 * H  # 50% of its 2h, counted from the resume


# --- the rulebook ------------------------------------------------------------------------------------------------


def test_the_rulebook_knows_in_advance_which_targets_stand_still_in_each_state() -> None:
    assert book(NAME).pausable == {"answer", "office_answer", "reply_time"}
    assert book(NAME).paused_in("waiting") == {"answer", "office_answer", "reply_time"}
    assert book(NAME).paused_in("assessed") == frozenset()
    assert book("customer-complaint").paused_in("awaiting_customer") == {"resolution"}
    assert book("clock-rules").pausable == frozenset()


# --- counting around the spans a clock stood still in -------------------------------------------------------------

_MINUTES = st.integers(min_value=0, max_value=14 * 24 * 60)


@st.composite
def _spans(draw: st.DrawFn) -> tuple[tuple[datetime, datetime], ...]:
    cuts = sorted(set(draw(st.lists(_MINUTES, max_size=6))))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    moments = [T0 + minutes * M for minutes in cuts]
    return tuple(zip(moments[::2], moments[1::2], strict=True))


_OFFICE = BusinessCalendar(book(NAME).playbook.calendars["office"])


@given(_spans(), _MINUTES, st.integers(min_value=0, max_value=20 * 60), st.sampled_from(["around", "office"]))
def test_time_counted_to_the_moment_a_paused_counter_gives_is_the_time_asked_for(
    spans: tuple[tuple[datetime, datetime], ...], start: int, amount: int, kind: str
) -> None:
    counter = PausedCounter(AroundTheClock() if kind == "around" else _OFFICE, spans)
    begin, length = T0 + start * M, amount * M

    moment = counter.add(begin, length)

    assert moment >= begin
    assert counter.elapsed(begin, moment) == length
    assert not any(began < moment < ended for began, ended in spans if length)  # never inside a pause
