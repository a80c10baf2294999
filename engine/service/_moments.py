"""How moments read to people: ``due in 3h12m (14:20 Europe/London)`` rather than an ISO stamp.

A clock's times are shown in its calendar's time zone when it counts on a playbook calendar (that is the clock the
team keeps), otherwise in UTC, to the minute, and without the date when it is the same day as "now" in that zone. A
story is told in its timeline's own offset, with seconds where a time has them. "Now" is always passed in: the
daemon's, when it runs on a simulated clock. Machine-readable output keeps ISO stamps; this is for people only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.incident import ClockId, ClockKind
from engine.playbook import Playbook, State, Target, format_duration

__all__ = [
    "Zone",
    "clock_time",
    "clock_zone_name",
    "day_time",
    "due_phrase",
    "offset_zone",
    "since_phrase",
    "wall_time",
    "zone",
]


class Zone:
    """A time zone with the name people read after a time: ``Europe/London``, ``UTC`` or ``+01:00``."""

    __slots__ = ("label", "tz")

    def __init__(self, tz: tzinfo, label: str) -> None:
        self.tz = tz
        self.label = label


_UTC = Zone(UTC, "UTC")


def zone(name: str | None) -> Zone:
    """The zone named (an IANA name, as calendars give it), or UTC for none or a name this machine lacks."""
    if not name or name == "UTC":
        return _UTC
    try:
        return Zone(ZoneInfo(name), name)
    except (ZoneInfoNotFoundError, ValueError):
        return _UTC


def clock_zone_name(playbook: Playbook, clock: str, severity: str | None = None) -> str:
    """The time zone a clock is kept in: its calendar's when it counts a playbook calendar's open hours, else UTC.

    ``clock`` is a clock's text form: ``limit:<state>`` for a state's limit, ``promise:<id>`` for a promise's,
    else a target's name; ``severity`` the incident's level, for a clock whose calendar differs by level."""
    named = ClockId.parse(clock)
    calendar = None
    if named.kind is ClockKind.PROMISE:
        kinds = playbook.offers.kinds if playbook.offers is not None else {}
        offer = kinds.get(named.offer_kind or "")
        calendar = offer.calendar if offer is not None else None
    else:
        specs: Mapping[str, State] | Mapping[str, Target] = (
            playbook.states if named.kind is ClockKind.LIMIT else playbook.targets
        )
        spec = specs.get(named.name)
        if spec is not None:
            calendar = spec.calendar if severity is None else spec.calendar_for(severity)
    found = playbook.calendars.get(calendar) if calendar else None
    return found.timezone if found is not None else "UTC"


def offset_zone(moment: datetime) -> Zone:
    """The fixed offset ``moment`` was written with (a timeline's start): ``Z`` for UTC, else ``+01:00``."""
    offset = moment.utcoffset() or timedelta(0)
    if not offset:
        return Zone(UTC, "Z")
    return Zone(timezone(offset), moment.isoformat()[-6:])


def _clock(local: datetime) -> str:
    return f"{local:%H:%M:%S}" if local.second or local.microsecond else f"{local:%H:%M}"


def wall_time(moment: datetime, where: Zone) -> str:
    """``2026-11-23 10:00+01:00`` (``…:30`` with seconds when there are any): a full local time and its zone."""
    local = moment.astimezone(where.tz)
    gap = "" if where.label[0] in "+-Z" else " "
    return f"{local:%Y-%m-%d} {_clock(local)}{gap}{where.label}"


def day_time(moment: datetime, where: Zone) -> str:
    """``Mon 23 Nov 10:00+01:00``: a story line's time, with its weekday, in the story's zone."""
    local = moment.astimezone(where.tz)
    gap = "" if where.label[0] in "+-Z" else " "
    return f"{local:%a %d %b} {_clock(local)}{gap}{where.label}"


def clock_time(moment: datetime, where: Zone, now: datetime) -> str:
    """``14:20 Europe/London`` on the same local day as ``now``, else ``Tue 24 Nov 14:20 Europe/London``; to the
    minute (a story's times, :func:`wall_time` and :func:`day_time`, keep their seconds)."""
    local = moment.astimezone(where.tz)
    today = now.astimezone(where.tz).date()
    day = "" if local.date() == today else f"{local:%a %d %b}" + (f" {local:%Y}" if local.year != today.year else "")
    gap = "" if where.label[0] in "+-Z" else " "
    return f"{day + ' ' if day else ''}{local:%H:%M}{gap}{where.label}"  # to the minute: a clock people keep


def _span(delta: timedelta) -> str:
    """A duration as people say it: to the second under a minute, to the minute under a day, and beyond a day in
    days and hours (``8d13h``, not ``1w1d13h4m``): nobody counts a week-old post's minutes."""
    if delta >= timedelta(days=1):
        hours = round(delta.total_seconds() / 3600)
        days, hours = divmod(hours, 24)
        return f"{days}d{hours}h" if hours else f"{days}d"
    if delta >= timedelta(minutes=1):
        delta = timedelta(minutes=round(delta.total_seconds() / 60))
    else:
        delta = timedelta(seconds=int(delta.total_seconds()))
    return format_duration(delta) if delta else "0s"


def due_phrase(due_at: datetime, now: datetime, where: Zone) -> str:
    """``due in 3h12m (14:20 Europe/London)``, ``due now (…)`` or ``due 12m ago (…)``."""
    delta = due_at - now
    when = clock_time(due_at, where, now)
    if abs(delta) < timedelta(seconds=1):
        return f"due now ({when})"
    if delta > timedelta(0):
        return f"due in {_span(delta)} ({when})"
    return f"due {_span(-delta)} ago ({when})"


def since_phrase(moment: datetime, now: datetime, where: Zone = _UTC) -> str:
    """``3h12m ago (09:00 UTC)``: how long ago something happened, and when."""
    delta = now - moment
    when = clock_time(moment, where, now)
    if delta < timedelta(seconds=1):
        return f"just now ({when})" if delta > -timedelta(seconds=1) else f"in {_span(-delta)} ({when})"
    return f"{_span(delta)} ago ({when})"
