"""Working days on business calendars: days and weeks that count open hours (say so, and offer business days),
business days where no calendar gives them a meaning, and business days on a calendar whose days differ."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta

from engine.playbook._build import DAYS
from engine.playbook._checks._finding import Context, Finding, written_at
from engine.playbook._duration import business_days, format_duration
from engine.playbook._model import Calendar, Limit, OfferKind, State, Target
from engine.playbook._problem import Path, dotted, rules

__all__ = ["check_business_days", "check_days_in_open_hours"]

_WALL_DAYS = re.compile(r"^(?:(\d+)w)?(?:(\d+)d)?(.*)$")


@dataclass(frozen=True, slots=True)
class _Counted:
    """A limit or a target's time, where it is written, what it belongs to, and the calendar each value counts on:
    a clock's calendar may differ by level (``{critical: around_the_clock, default: office}``)."""

    path: Path
    owner: str
    limit: Limit
    clock: State | Target | OfferKind
    levels: tuple[str, ...]

    def calendar_name(self, key: str) -> str | None:
        """The calendar the value written under ``key`` (a level, or ``default``) counts on."""
        return self.clock.calendar if key == "default" else self.clock.calendar_for(key)

    def around_the_clock_at(self, key: str) -> str | None:
        """A level that the value under ``key`` counts around the clock at, if any."""
        levels = [key] if key != "default" else [level for level in self.levels if level not in self.limit.per_level]
        return next((level for level in levels if self.clock.calendar_for(level) is None), None)


def _counted(ctx: Context) -> Iterator[_Counted]:
    playbook = ctx.playbook
    levels = playbook.severity.levels
    for name, state in playbook.states.items():
        if state.limit is not None:
            yield _Counted(("states", name, "limit"), f"the state {name!r}", state.limit, state, levels)
    for name, target in playbook.targets.items():
        yield _Counted(("targets", name, "within"), f"the target {name!r}", target.within, target, levels)
    for name, kind in playbook.offers.kinds.items() if playbook.offers else ():
        path = ("offers", "kinds", name, "deliver_within")
        yield _Counted(path, f"the offer {name!r}", kind.deliver_within, kind, levels)


def _values(ctx: Context, counted: _Counted) -> Iterator[tuple[Path, str]]:
    """Each value of the limit as written, with its path."""
    written = written_at(ctx.data, counted.path)
    if isinstance(written, Mapping):
        for level, value in written.items():
            if isinstance(value, str):
                yield (*counted.path, level), value


def _around_the_clock(calendar: Calendar) -> bool:
    lengths = calendar.hours.day_lengths()
    return len(lengths) == 7 and all(length >= timedelta(days=1) for length in lengths.values())


def _in_business_days(value: str, calendar: Calendar) -> str | None:
    """``3d`` as business days on ``calendar`` (``3bd``); a week is as many business days as the calendar opens days
    a week. None when the value has no days or weeks in it."""
    match = _WALL_DAYS.match(value)
    if match is None or not (match.group(1) or match.group(2)):
        return None
    weeks, days, rest = int(match.group(1) or 0), int(match.group(2) or 0), match.group(3)
    return f"{weeks * len(calendar.hours.day_lengths()) + days}bd{rest}"


def check_days_in_open_hours(ctx: Context) -> Iterator[Finding]:
    """A limit written in days or weeks counts open hours on a calendar with opening hours: ``1d`` there is 24 open
    hours, nearly three working days of nine hours, which surprises the people who wrote it."""
    for counted in _counted(ctx):
        for path, value in _values(ctx, counted):
            level = path[-1]
            calendar_name = counted.calendar_name(str(level))
            calendar = ctx.playbook.calendars.get(calendar_name) if calendar_name else None
            if calendar is None or _around_the_clock(calendar):
                continue
            day = calendar.business_day()
            meant = _in_business_days(value, calendar)
            length = counted.limit.default if level == "default" else counted.limit.per_level.get(str(level))
            if meant is None or business_days(value) is not None or length is None or not day:
                continue
            open_hours = length.total_seconds() / 3600
            yield Finding(
                rules.DAYS_IN_OPEN_HOURS,
                path,
                f"{dotted(path)} is {value} on the calendar {calendar_name!r}, which counts only its open "
                f"hours: {value} is {open_hours:g} open hours there, {length / day:.3g} working days of "
                f"{format_duration(day)}, not {value} on the wall clock; if working days are meant, write {meant}",
            )


def _day_summary(calendar: Calendar) -> str:
    """``9h mon-thu, 7h fri``: each open day's length, days of one length together (runs of days as ranges)."""
    by_length: dict[timedelta, list[int]] = {}
    for day, length in calendar.hours.day_lengths().items():
        by_length.setdefault(length, []).append(day)
    return "; ".join(f"{format_duration(length)} {_day_runs(days)}" for length, days in by_length.items())


def _day_runs(days: list[int]) -> str:
    runs: list[list[int]] = []
    for day in days:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(DAYS[run[0]] if len(run) == 1 else f"{DAYS[run[0]]}-{DAYS[run[-1]]}" for run in runs)


def check_business_days(ctx: Context) -> Iterator[Finding]:
    """Business days (``2bd``) count working days of a calendar: on a clock counted around the clock they mean
    nothing (an error); on a calendar whose open days differ in length, each is as long as its usual day (a warning,
    once for each calendar)."""
    warned: set[str] = set()
    names = sorted(ctx.playbook.calendars)
    for counted in _counted(ctx):
        for path, value in _values(ctx, counted):
            if business_days(value) is None:
                continue
            calendar_name = counted.calendar_name(str(path[-1]))
            calendar = ctx.playbook.calendars.get(calendar_name) if calendar_name else None
            bare = counted.around_the_clock_at(str(path[-1]))
            if bare is not None:
                owner = counted.owner if calendar_name is None else f"{counted.owner} at {bare}"
                yield Finding(
                    rules.BUSINESS_DAYS_AROUND_THE_CLOCK,
                    path,
                    f"{dotted(path)} is {value}, in business days, but {owner} counts around the clock, "
                    f"where a working day has no meaning; {_fix(counted, names, value)}",
                )
            elif calendar is not None and calendar_name is not None and calendar_name not in warned:
                lengths = set(calendar.hours.day_lengths().values())
                if len(lengths) > 1:
                    warned.add(calendar_name)
                    day = format_duration(calendar.business_day())
                    yield Finding(
                        rules.UNEVEN_BUSINESS_DAYS,
                        path,
                        f"{dotted(path)} is {value} on the calendar {calendar_name!r}, whose open days are "
                        f"not all as long ({_day_summary(calendar)}): every business day there counts {day} of "
                        f"open time (its usual day), so 1bd from a shorter day ends later than the same time on "
                        "the next; if that is not meant, write the time in hours",
                    )


def _fix(counted: _Counted, names: list[str], value: str) -> str:
    """How to mend business days on a clock with no calendar: name one, or count days on the wall clock."""
    owner = counted.path[-2]  # the state, target or kind of offer that holds the limit
    wall = f"write {value.replace('bd', 'd')} to count days on the wall clock"
    if names:
        return f"add calendar: {names[0]} to {owner} to count working days, or {wall}"
    return (
        f"add a calendar with opening hours under calendars and calendar: <its name> to {owner} to count "
        f"working days, or {wall}"
    )
