"""Grouping and surge rules (``group``, ``surges``): what each names is defined, every rule can fire and does
something when it does, and the windows are ones a surge can be counted in."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from engine.playbook._checks._finding import Context, Finding, undefined
from engine.playbook._duration import format_duration
from engine.playbook._model import SurgeRule
from engine.playbook._phrase import normalise
from engine.playbook._problem import Path, dotted, rules

__all__ = ["MAX_SURGE_RATE", "MIN_SURGE_WINDOW", "check_grouping", "check_surges"]

#: The shortest window a surge is counted in: it is counted in steps of a tenth of its window, a second at least.
MIN_SURGE_WINDOW = timedelta(seconds=10)

#: More mentions a second than any listening tool delivers for one brand: a count that needs more is a typo.
MAX_SURGE_RATE = 1000


def check_grouping(ctx: Context) -> Iterator[Finding]:
    group = ctx.playbook.group
    if group is None:
        return
    if not group.within:
        yield Finding(
            rules.ZERO_DURATION,
            ("group", "within"),
            "group.within is zero, so no mention could ever join a group's incident; give it a time such as 30m",
        )
    seen: dict[str, tuple[str, int]] = {}
    for topic, phrases in group.topics.items():
        for position, phrase in enumerate(phrases):
            path = ("group", "topics", topic, position)
            key = normalise(phrase)
            if not key:
                yield Finding(
                    rules.TOPIC_PHRASE_EMPTY,
                    path,
                    f"{dotted(path)} is {phrase!r}, which has no letters or digits, so no mention ever names it; "
                    "write a word or phrase people post, or remove it",
                )
                continue
            earlier = seen.get(key)
            if earlier is not None:
                other, at = earlier
                where = f"topic {other!r}" if other != topic else "this topic"
                yield Finding(
                    rules.TOPIC_PHRASE_REPEATED,
                    path,
                    f"{dotted(path)} is {phrase!r}, already listed under {where} "
                    f"(group.topics.{other}[{at}]); a mention naming it joins the first topic that lists it, so "
                    "list each phrase under one topic only",
                )
                continue
            seen[key] = (topic, position)


def _needs_group(ctx: Context) -> Iterator[Finding]:
    if ctx.playbook.surges and ctx.playbook.group is None:
        yield Finding(
            rules.SURGE_WITHOUT_GROUP,
            ("surges",),
            "surges count the mentions of a group's incident, but this playbook has no group section, so every "
            "mention opens its own incident and none could surge; add group: {within: 30m} (see "
            "docs/playbook-language.md, group)",
            at_key=True,
        )


def _references(ctx: Context, index: int, rule: SurgeRule) -> Iterator[Finding]:
    playbook = ctx.playbook
    roles, levels = playbook.roles, playbook.severity.levels
    for position, role in enumerate(rule.notify):
        if role not in roles:
            told: Path = ("surges", index, "notify", position)
            yield undefined(rules.UNDEFINED_ROLE, "role", "the roles section", told, role, roles)
    if rule.raise_to is not None and rule.raise_to not in levels:
        raised: Path = ("surges", index, "raise_to")
        yield undefined(rules.UNDEFINED_LEVEL, "level", "severity.levels", raised, rule.raise_to, levels)
    elif rule.raise_to is not None and rule.raise_to == levels[0]:
        yield Finding(
            rules.SURGE_NEVER_RAISES,
            ("surges", index, "raise_to"),
            f"surges[{index}] ({rule.name}) raises to {rule.raise_to}, the lowest level, so it never raises "
            f"anything; name a higher level, such as {levels[-1]}",
        )
    if rule.open is not None and rule.open == playbook.id:
        yield Finding(
            rules.SURGE_OPENS_OWN_PLAYBOOK,
            ("surges", index, "open", "playbook"),
            f"surges[{index}] ({rule.name}) opens its crisis incident under {playbook.id}, this very playbook, "
            "whose incidents are what surged; name the crisis playbook the team escalates to",
        )


def _windows(index: int, rule: SurgeRule) -> Iterator[Finding]:
    here = f"surges[{index}] ({rule.name})"
    if rule.within < MIN_SURGE_WINDOW:
        yield Finding(
            rules.SURGE_WINDOW_TOO_SHORT,
            ("surges", index, "within"),
            f"{here} counts mentions within {format_duration(rule.within)}; a surge is counted in steps of a "
            f"tenth of its window, so give it at least {format_duration(MIN_SURGE_WINDOW)}, such as 1m or 10m",
        )
    elif rule.count > rule.within.total_seconds() * MAX_SURGE_RATE:
        yield Finding(
            rules.SURGE_OUT_OF_REACH,
            ("surges", index, "count"),
            f"{here} needs {rule.count:,} mentions within {format_duration(rule.within)}, more than "
            f"{MAX_SURGE_RATE:,} a second, which no group ever reaches; check the count and the window (within: "
            "is a time such as 10m)",
        )
    if (rule.rate is None) != (rule.over is None):
        given, missing = ("rate", "over") if rule.over is None else ("over", "rate")
        yield Finding(
            rules.RATE_WITHOUT_BASELINE,
            ("surges", index, given),
            f"{here} gives {given} but not {missing}: a rate is compared with the rate over a time before the "
            "window, so give both, such as rate: 5x and over: 1h, or neither",
            at_key=True,
        )
        return
    if rule.rate is not None and rule.rate <= 1:
        yield Finding(
            rules.RATE_NOT_ABOVE_BASELINE,
            ("surges", index, "rate"),
            f"{here} fires at {rule.rate:g}x the earlier rate, which is no rise at all; a surge is several times "
            "the usual rate, such as 3x or 5x",
        )
    if rule.over is not None and rule.over < rule.within:
        yield Finding(
            rules.BASELINE_SHORTER_THAN_WINDOW,
            ("surges", index, "over"),
            f"{here} compares {format_duration(rule.within)} with the {format_duration(rule.over)} before it; a "
            "baseline shorter than the window says little about the usual rate: make over longer, such as "
            f"{format_duration(rule.within * 6)}",
        )


def check_surges(ctx: Context) -> Iterator[Finding]:
    yield from _needs_group(ctx)
    names: dict[str, int] = {}
    for index, rule in enumerate(ctx.playbook.surges):
        if rule.name in names:
            yield Finding(
                rules.SURGE_NAME_REPEATED,
                ("surges", index, "name"),
                f"surges[{index}] is named {rule.name!r}, as surges[{names[rule.name]}] is; the history and the "
                "tests tell surges apart by name, so give each its own",
            )
        names.setdefault(rule.name, index)
        if rule.raise_to is None and rule.open is None and not rule.notify:
            yield Finding(
                rules.SURGE_DOES_NOTHING,
                ("surges", index),
                f"surges[{index}] ({rule.name}) does nothing when it fires; give it raise_to (a severity level), "
                "open (a crisis playbook) or notify (roles), or remove it",
                at_key=True,
            )
        yield from _references(ctx, index, rule)
        yield from _windows(index, rule)
