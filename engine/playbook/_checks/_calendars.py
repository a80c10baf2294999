"""Calendars: time zones the IANA database knows, and public holidays a country (or region) keeps."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterator, Mapping
from typing import Any

from engine.playbook._checks._finding import Context, Finding, undefined, written_at
from engine.playbook._holiday_regions import REGIONS
from engine.playbook._model import AROUND_THE_CLOCK
from engine.playbook._problem import Path, rules
from engine.playbook._shape import suggest

__all__ = ["check_calendar_sources", "check_calendars"]


def check_calendars(ctx: Context) -> Iterator[Finding]:
    calendars = ctx.playbook.calendars
    where = "the calendars section"
    if AROUND_THE_CLOCK in calendars:
        yield Finding(
            rules.RESERVED_CALENDAR_NAME,
            ("calendars", AROUND_THE_CLOCK),
            f"a calendar cannot be called {AROUND_THE_CLOCK!r}: a clock's calendar says {AROUND_THE_CLOCK} for "
            "a level that counts round the clock; give this calendar another name",
            at_key=True,
        )
    for section, name in [
        *(("states", n) for n in ctx.playbook.states),
        *(("targets", n) for n in ctx.playbook.targets),
    ]:
        path: Path = (section, name, "calendar")
        written = written_at(ctx.data, path)
        named = [(path, written)] if isinstance(written, str) else []
        if isinstance(written, Mapping):
            named = [((*path, level), value) for level, value in written.items() if value != AROUND_THE_CLOCK]
        for where_named, calendar in named:
            if isinstance(calendar, str) and calendar not in calendars:
                yield undefined(rules.UNDEFINED_CALENDAR, "calendar", where, where_named, calendar, calendars)
    for name, kind in ctx.playbook.offers.kinds.items() if ctx.playbook.offers else ():
        if kind.calendar is not None and kind.calendar not in calendars:
            path = ("offers", "kinds", name, "calendar")
            yield undefined(rules.UNDEFINED_CALENDAR, "calendar", where, path, kind.calendar, calendars)


@functools.cache
def _is_timezone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _has_holidays(country: str, region: str) -> bool:
    """Whether public holidays are known for the country (and region): the table first, the package if need be."""
    if region in REGIONS.get(country, ()) or (not region and country in REGIONS):
        return True
    return region in _holiday_regions(country) if region else country in _holiday_countries()


def _national_only(calendar: str, country: str, path: Path) -> Iterator[Finding]:
    """A warning when the country's national list leaves out days most of its regions keep (GB: Easter Monday)."""
    common = _common_regional_days(country)
    if not common:
        return
    regions = REGIONS[country]
    named = [f"{country}-{region}" for region in regions if " " not in region]
    shown = ", ".join(named[:-1]) + f" or {named[-1]}" if len(named) <= 6 else f"{', '.join(named[:4])} or another"
    yield Finding(
        rules.NATIONAL_HOLIDAYS_ONLY,
        path,
        f"calendars.{calendar}.holidays is {country}, the national list, which leaves out days most of its regions "
        f"keep ({', '.join(common[:3])}{', ...' if len(common) > 3 else ''}); name the region whose days "
        f"the team keeps, such as {shown}",
    )


#: Any ordinary year will do: the days that matter here (Easter Monday, a summer bank holiday) recur every year.
_SAMPLE_YEAR = 2026


@functools.cache
def _common_regional_days(country: str) -> tuple[str, ...]:
    """Holidays kept by at least half of the country's regions that its national list does not have."""
    import holidays  # noqa: PLC0415 - imported only for a playbook that names a country without its region

    national = set(holidays.country_holidays(country, years=_SAMPLE_YEAR))
    regions = REGIONS[country]
    kept: dict[Any, list[str]] = {}
    for region in regions:
        for day, day_name in holidays.country_holidays(country, subdiv=region, years=_SAMPLE_YEAR).items():
            if day not in national:
                kept.setdefault(day, []).append(day_name)
    return tuple(names[0] for day, names in sorted(kept.items()) if 2 * len(names) >= len(regions))


@functools.cache
def _holiday_countries() -> frozenset[str]:
    # Imported here: the holidays package takes a tenth of a second to import, and most playbooks never need it.
    from holidays.registry import EntityLoader  # noqa: PLC0415

    return frozenset(EntityLoader.get_country_codes(include_aliases=False))


@functools.cache
def _holiday_regions(country: str) -> tuple[str, ...]:
    import holidays  # noqa: PLC0415

    return tuple(holidays.list_supported_countries().get(country, ()))


def check_calendar_sources(ctx: Context) -> Iterator[Finding]:
    for name, calendar in ctx.playbook.calendars.items():
        if not _is_timezone(calendar.timezone):
            zones = sorted(zoneinfo.available_timezones())
            yield Finding(
                rules.UNKNOWN_TIMEZONE,
                ("calendars", name, "timezone"),
                f"calendars.{name}.timezone is {calendar.timezone!r}, which is not a time zone"
                f"{suggest(calendar.timezone, zones)} (use a name such as Europe/London)",
            )
        if calendar.holidays is None:
            continue
        country, _, region = calendar.holidays.partition("-")
        path = ("calendars", name, "holidays")
        if _has_holidays(country, region):
            if not region and REGIONS.get(country):
                yield from _national_only(name, country, path)
            continue
        countries = _holiday_countries()
        if country not in countries:
            yield Finding(
                rules.UNKNOWN_HOLIDAYS,
                path,
                f"calendars.{name}.holidays: no public-holiday list for the country {country!r}"
                f"{suggest(country, sorted(countries))}",
            )
        elif region and region not in _holiday_regions(country):
            choices = ", ".join(_holiday_regions(country)) or "none"
            yield Finding(
                rules.UNKNOWN_HOLIDAYS,
                path,
                f"calendars.{name}.holidays: {country} has no region {region!r} (regions: {choices})",
            )
