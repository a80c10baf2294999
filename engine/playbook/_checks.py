"""Semantic checks: what the schema cannot see, such as references between sections and the machine's shape.

Each check is a small function from the playbook (and its document, for where things are written) to findings.
They run only on a playbook whose shape is valid, so they can rely on the typed model.
"""

from __future__ import annotations

import functools
import itertools
import string
import zoneinfo
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from engine.playbook._build import day_span, parse_hours_range
from engine.playbook._holiday_regions import REGIONS
from engine.playbook._model import LIFECYCLE, LIMIT_CLOCK, Limit, Playbook, Requirement
from engine.playbook._phrase import PhraseSet
from engine.playbook._problem import Path, Rule, dotted, rules
from engine.playbook._shape import suggest

__all__ = ["CHECKS", "PLACEHOLDERS", "Finding", "run_checks"]

#: What a reply template may fill in. The runtime provides each of these when it renders a reply.
PLACEHOLDERS = ("author", "channel", "incident_id", "severity", "playbook", "offer", "contact_route")

_MIN_REPEAT = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem before it has a file position: where (a document path) and what."""

    rule: Rule
    path: Path
    message: str
    at_key: bool = False


@dataclass(frozen=True, slots=True)
class _Context:
    playbook: Playbook
    data: Mapping[str, Any]


Check = Callable[[_Context], Iterator[Finding]]


def _listed(data: Mapping[str, Any], path: Path) -> list[tuple[Path, str]]:
    """Each name in a one-or-many field, with its own path: ``from: a`` or ``from: [a, b]``."""
    node: Any = data
    for part in path:
        node = node[part]
    if isinstance(node, str):
        return [(path, node)]
    return [((*path, index), name) for index, name in enumerate(node)]


def _undefined(rule: Rule, what: str, section: str, path: Path, name: str, known: Iterable[str]) -> Finding:  # noqa: PLR0917
    known = list(known)
    return Finding(
        rule,
        path,
        f"{dotted(path)} names the {what} {name!r}, which {section} does not define{suggest(name, known)}",
    )


# --- references ---------------------------------------------------------------------------------------------


def check_roles(ctx: _Context) -> Iterator[Finding]:
    roles = ctx.playbook.roles
    where = "the roles section"
    if ctx.playbook.owner not in roles:
        yield _undefined(rules.UNDEFINED_ROLE, "role", where, ("owner",), ctx.playbook.owner, roles)
    for index, transition in enumerate(ctx.playbook.transitions):
        for position, role in enumerate(transition.by):
            if role not in roles:
                yield _undefined(
                    rules.UNDEFINED_ROLE, "role", where, ("transitions", index, "by", position), role, roles
                )
    for index, step in enumerate(ctx.playbook.escalation):
        for position, role in enumerate(step.notify):
            if role not in roles:
                path = ("escalation", index, "notify", position)
                yield _undefined(rules.UNDEFINED_ROLE, "role", where, path, role, roles)


def check_states(ctx: _Context) -> Iterator[Finding]:
    states = ctx.playbook.states
    where = "the states section"
    for index, _ in enumerate(ctx.playbook.transitions):
        for path, name in [
            *_listed(ctx.data, ("transitions", index, "from")),
            (("transitions", index, "to"), ctx.data["transitions"][index]["to"]),
        ]:
            if name not in states:
                yield _undefined(rules.UNDEFINED_STATE, "state", where, path, name, states)
    for target in ctx.playbook.targets:
        for path, name in [
            (("targets", target, "from"), ctx.data["targets"][target]["from"]),
            *_listed(ctx.data, ("targets", target, "until")),
        ]:
            if name not in states:
                yield _undefined(rules.UNDEFINED_STATE, "state", where, path, name, states)


def _limit_levels(ctx: _Context) -> Iterator[tuple[Path, Limit]]:
    for name, state in ctx.playbook.states.items():
        if state.limit is not None:
            yield ("states", name, "limit"), state.limit
    for name, target in ctx.playbook.targets.items():
        yield ("targets", name, "within"), target.within


def check_levels(ctx: _Context) -> Iterator[Finding]:
    levels = ctx.playbook.severity.levels
    where = "severity.levels"
    if ctx.playbook.severity.default not in levels:
        yield _undefined(
            rules.UNDEFINED_LEVEL,
            "level",
            where,
            ("severity", "default"),
            ctx.playbook.severity.default,
            levels,
        )
    for index, rule in enumerate(ctx.playbook.severity.rules):
        if rule.level not in levels:
            yield _undefined(
                rules.UNDEFINED_LEVEL,
                "level",
                where,
                ("severity", "rules", index, "level"),
                rule.level,
                levels,
            )
    for path, limit in _limit_levels(ctx):
        for level in limit.per_level:
            if level not in levels:
                finding = _undefined(rules.UNDEFINED_LEVEL, "level", where, (*path, level), level, levels)
                yield Finding(
                    finding.rule,
                    finding.path,
                    finding.message + " (use 'default' for every level not listed)",
                    at_key=True,
                )
    for index, step in enumerate(ctx.playbook.escalation):
        for position, level in enumerate(step.severities or ()):
            if level not in levels:
                path = ("escalation", index, "severities", position)
                yield _undefined(rules.UNDEFINED_LEVEL, "level", where, path, level, levels)


def check_calendars(ctx: _Context) -> Iterator[Finding]:
    calendars = ctx.playbook.calendars
    where = "the calendars section"
    users: list[tuple[Path, str | None]] = [
        *((("states", name, "calendar"), state.calendar) for name, state in ctx.playbook.states.items()),
        *((("targets", name, "calendar"), target.calendar) for name, target in ctx.playbook.targets.items()),
    ]
    for path, name in users:
        if name is not None and name not in calendars:
            yield _undefined(rules.UNDEFINED_CALENDAR, "calendar", where, path, name, calendars)


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


def check_calendar_sources(ctx: _Context) -> Iterator[Finding]:
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


def check_responses(ctx: _Context) -> Iterator[Finding]:
    triggers = sorted(ctx.playbook.triggers)
    for trigger in ctx.playbook.responses:
        if trigger not in ctx.playbook.triggers:
            yield Finding(
                rules.UNDEFINED_TRIGGER,
                ("responses", trigger),
                f"responses.{trigger} is a reply for the action {trigger!r}, which no transition has"
                f"{suggest(trigger, triggers)}",
                at_key=True,
            )


def check_clocks(ctx: _Context) -> Iterator[Finding]:
    clocks = [LIMIT_CLOCK, *ctx.playbook.targets]
    for index, step in enumerate(ctx.playbook.escalation):
        for position, clock in enumerate(step.clocks or ()):
            if clock not in clocks:
                yield Finding(
                    rules.UNDEFINED_CLOCK,
                    ("escalation", index, "clocks", position),
                    f"escalation[{index}].clocks names {clock!r}, which is neither 'limit' (the state "
                    f"time limits) nor a target{suggest(clock, clocks)}",
                )


# --- the state machine --------------------------------------------------------------------------------------


def check_lifecycle(ctx: _Context) -> Iterator[Finding]:
    missing = [state for state in LIFECYCLE if state not in ctx.playbook.states]
    if missing:
        yield Finding(
            rules.MISSING_LIFECYCLE_STATE,
            ("states",),
            f"states lacks the lifecycle state{'s' if len(missing) > 1 else ''} {', '.join(missing)}; "
            f"every playbook has {' -> '.join(LIFECYCLE)}",
            at_key=True,
        )
    if not ctx.playbook.final_states:
        yield Finding(
            rules.NO_FINAL_STATE,
            ("states",),
            "no state is marked 'final: true', so no incident could ever close; mark reviewed final",
            at_key=True,
        )


def _edges(playbook: Playbook) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {name: set() for name in playbook.states}
    for transition in playbook.transitions:
        for source in transition.sources:
            if source in edges and transition.dest in playbook.states:
                edges[source].add(transition.dest)
    return edges


def _reach(start: Iterable[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for following in edges.get(todo.pop(), ()):
            if following not in seen:
                seen.add(following)
                todo.append(following)
    return seen


def check_reachability(ctx: _Context) -> Iterator[Finding]:
    playbook = ctx.playbook
    edges = _edges(playbook)
    if LIFECYCLE[0] in playbook.states:
        reached = _reach([LIFECYCLE[0]], edges)
        for name in playbook.states:
            if name not in reached:
                yield Finding(
                    rules.UNREACHABLE_STATE,
                    ("states", name),
                    f"no transition leads from detected to the state {name!r}; add one that ends in "
                    f"{name!r}, or remove the state",
                    at_key=True,
                )
    finals = playbook.final_states
    if not finals:
        return
    backwards: dict[str, set[str]] = {name: set() for name in playbook.states}
    for source, targets in edges.items():
        for target in targets:
            backwards[target].add(source)
    closing = _reach(finals, backwards)
    for name, state in playbook.states.items():
        if not state.final and name not in closing:
            yield Finding(
                rules.DEAD_END_STATE,
                ("states", name),
                f"an incident in {name!r} can never reach a final state ({', '.join(sorted(finals))}); "
                "add a transition out of it, or mark it 'final: true'",
                at_key=True,
            )


def check_transitions(ctx: _Context) -> Iterator[Finding]:
    playbook = ctx.playbook
    seen: dict[tuple[str, str], int] = {}
    for index, transition in enumerate(playbook.transitions):
        for path, source in _listed(ctx.data, ("transitions", index, "from")):
            key = (transition.trigger, source)
            if key in seen:
                yield Finding(
                    rules.DUPLICATE_TRANSITION,
                    path,
                    f"the action {transition.trigger!r} from {source!r} is already defined by "
                    f"transitions[{seen[key]}]; an action must lead to one state only",
                )
            else:
                seen[key] = index
            state = playbook.states.get(source)
            if state is not None and state.final:
                yield Finding(
                    rules.FINAL_STATE_LEFT,
                    path,
                    f"{source!r} is final, so no action may leave it; remove it from 'from', or drop "
                    "'final: true' from the state",
                )
        if Requirement.REVIEW in transition.requires and not playbook.review_questions:
            yield Finding(
                rules.REVIEW_WITHOUT_QUESTIONS,
                ("transitions", index, "requires"),
                f"the action {transition.trigger!r} requires a review, but review.questions is empty; "
                "add the questions the review must answer",
            )
        if Requirement.REASON in transition.requires and not playbook.house_rules.do_not_engage_reasons:
            yield Finding(
                rules.REASON_WITHOUT_HOUSE_RULES,
                ("transitions", index, "requires"),
                f"the action {transition.trigger!r} requires a reason, but "
                "house_rules.do_not_engage_reasons lists none; add the reasons people may give",
            )
        if transition.dest == "reviewed" and Requirement.REVIEW not in transition.requires:
            yield Finding(
                rules.REVIEW_NOT_REQUIRED,
                ("transitions", index),
                f"the action {transition.trigger!r} closes the incident as reviewed without asking the "
                "review questions; add 'review' to its 'requires'",
            )
    for name, state in playbook.states.items():
        if state.final and state.limit is not None:
            yield Finding(
                rules.FINAL_STATE_LIMIT,
                ("states", name, "limit"),
                f"{name!r} is final, so its clock never runs; remove its limit",
                at_key=True,
            )


# --- clocks -------------------------------------------------------------------------------------------------


def check_limits(ctx: _Context) -> Iterator[Finding]:
    levels = ctx.playbook.severity.levels
    for path, limit in _limit_levels(ctx):
        if limit.default is None:
            missing = [level for level in levels if level not in limit.per_level]
            if missing:
                yield Finding(
                    rules.LIMIT_MISSING_LEVEL,
                    path,
                    f"{dotted(path)} has no time for {', '.join(missing)} and no 'default'; add "
                    f"{missing[0]}: <duration> or default: <duration>",
                    at_key=True,
                )
        for level, value in [*limit.per_level.items(), ("default", limit.default)]:
            if value is not None and not value:
                yield Finding(
                    rules.ZERO_DURATION,
                    (*path, level),
                    f"{dotted((*path, level))} is zero; a limit must give people some time",
                )
    if not ctx.playbook.applies_to.join_window:
        yield Finding(
            rules.ZERO_DURATION,
            ("applies_to", "join_window"),
            "applies_to.join_window is zero, so no later mention could join an incident; leave it out for 24h",
        )
    for index, step in enumerate(ctx.playbook.escalation):
        if step.repeat_every is not None and step.repeat_every < _MIN_REPEAT:
            problem = rules.ZERO_DURATION if not step.repeat_every else rules.REPEAT_TOO_OFTEN
            yield Finding(
                problem,
                ("escalation", index, "repeat_every"),
                f"escalation[{index}].repeat_every repeats more than once a minute; people stop reading "
                "alerts that come that often; use 1m or more",
            )
        if not step.after:
            yield Finding(
                rules.ZERO_DURATION,
                ("escalation", index, "after"),
                f"escalation[{index}].after is 0%, the moment the clock starts; use a share such as 75%",
            )


def _overlaps(one: tuple[str, ...] | None, other: tuple[str, ...] | None) -> bool:
    return one is None or other is None or bool(set(one) & set(other))


def check_escalation_order(ctx: _Context) -> Iterator[Finding]:
    """Steps that can fire for the same clock and level must go forward in time.

    Steps with disjoint filters (other clocks or other levels) are separate ladders and may interleave.
    """
    steps = ctx.playbook.escalation
    for index, step in enumerate(steps):
        earlier = [
            (position, other)
            for position, other in enumerate(steps[:index])
            if _overlaps(step.clocks, other.clocks) and _overlaps(step.severities, other.severities)
        ]
        later = [(position, other) for position, other in earlier if other.after > step.after]
        same = [(position, other) for position, other in earlier if other.after == step.after]
        path = ("escalation", index, "after")
        if later:
            position, other = later[0]
            yield Finding(
                rules.ESCALATION_ORDER,
                path,
                f"escalation[{index}] fires at {step.after:.0%}, before escalation[{position}] above it "
                f"({other.after:.0%}) for the same clocks; list the steps from the earliest to the latest",
            )
        elif same:
            position, _ = same[0]
            yield Finding(
                rules.ESCALATION_ORDER,
                path,
                f"escalation[{index}] fires at {step.after:.0%} like escalation[{position}] for the same clocks; "
                "merge the two into one step that notifies all the roles",
            )


def check_opening_hours(ctx: _Context) -> Iterator[Finding]:
    for name in ctx.playbook.calendars:
        hours: Mapping[str, Any] = ctx.data["calendars"][name]["hours"]
        taken: dict[int, str] = {}
        for spec, ranges in hours.items():
            path: Path = ("calendars", name, "hours", spec)
            for day in day_span(spec):
                if day in taken:
                    yield Finding(
                        rules.BAD_OPENING_HOURS,
                        path,
                        f"{dotted(path)} repeats a day that {taken[day]!r} already covers; give each "
                        "day once (several ranges in a day go in a list)",
                        at_key=True,
                    )
                    break
                taken[day] = spec
            texts = [ranges] if isinstance(ranges, str) else list(ranges)
            spans = sorted(parse_hours_range(text) for text in texts if isinstance(text, str))
            for opens, closes in spans:
                if closes is not None and closes <= opens:
                    yield Finding(
                        rules.BAD_OPENING_HOURS,
                        path,
                        f"{dotted(path)}: {opens:%H:%M}-{closes:%H:%M} ends before it starts; split hours "
                        "past midnight across two days, ending the first at 24:00",
                    )
            for (_, first_close), (second_open, _) in itertools.pairwise(spans):
                if first_close is None or second_open < first_close:
                    yield Finding(
                        rules.BAD_OPENING_HOURS,
                        path,
                        f"{dotted(path)} has ranges that overlap; make them follow one another",
                    )


def check_state_limits(ctx: _Context) -> Iterator[Finding]:
    for name, state in ctx.playbook.states.items():
        if not state.final and state.limit is None:
            yield Finding(
                rules.NO_TIME_LIMIT,
                ("states", name),
                f"{name!r} has no time limit, so an incident could wait there with nobody told; add "
                "limit: {default: <duration>}",
                at_key=True,
            )


# --- replies ------------------------------------------------------------------------------------------------


def check_templates(ctx: _Context) -> Iterator[Finding]:
    forbidden = PhraseSet(ctx.playbook.house_rules.never_say)
    for trigger, texts in ctx.playbook.responses.items():
        for index, text in enumerate(texts):
            path: Path = (
                ("responses", trigger)
                if isinstance(ctx.data["responses"][trigger], str)
                else ("responses", trigger, index)
            )
            where = dotted(path)
            phrase = forbidden.find(text)
            if phrase is not None:
                yield Finding(
                    rules.HOUSE_RULE_BROKEN,
                    path,
                    f"{where} says {phrase!r}, which house_rules.never_say forbids; rephrase the reply",
                )
            try:
                fields = list(string.Formatter().parse(text))
            except ValueError:
                yield Finding(
                    rules.MALFORMED_TEMPLATE,
                    path,
                    f"{where} has a '{{' or '}}' without its pair; placeholders look like {{author}}",
                )
                continue
            for _, field, spec, conversion in fields:
                if field is None:
                    continue
                if spec or conversion or field not in PLACEHOLDERS:
                    shown = field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
                    yield Finding(
                        rules.UNKNOWN_PLACEHOLDER,
                        path,
                        f"{where} uses the placeholder {{{shown}}}, which calmly cannot fill"
                        f"{suggest(field, PLACEHOLDERS)} (placeholders: "
                        f"{', '.join('{' + name + '}' for name in PLACEHOLDERS)})",
                    )


# --- what is declared and never used ------------------------------------------------------------------------


def check_unused(ctx: _Context) -> Iterator[Finding]:
    playbook = ctx.playbook
    used = {playbook.owner}
    used.update(role for transition in playbook.transitions for role in transition.by)
    used.update(role for step in playbook.escalation for role in step.notify)
    for name in playbook.roles:
        if name not in used:
            yield Finding(
                rules.UNUSED_ROLE,
                ("roles", name),
                f"the role {name!r} takes no action, gets no escalation and owns nothing; use it in a "
                "transition's 'by' or an escalation's 'notify', or remove it",
                at_key=True,
            )
    calendars = {state.calendar for state in playbook.states.values()}
    calendars.update(target.calendar for target in playbook.targets.values())
    for name in playbook.calendars:
        if name not in calendars:
            yield Finding(
                rules.UNUSED_CALENDAR,
                ("calendars", name),
                f"no state or target counts in the calendar {name!r}; give a limit 'calendar: {name}' or remove it",
                at_key=True,
            )


CHECKS: tuple[Check, ...] = (
    check_roles,
    check_states,
    check_levels,
    check_calendars,
    check_calendar_sources,
    check_responses,
    check_clocks,
    check_lifecycle,
    check_reachability,
    check_transitions,
    check_limits,
    check_escalation_order,
    check_opening_hours,
    check_state_limits,
    check_templates,
    check_unused,
)


def run_checks(playbook: Playbook, data: Mapping[str, Any]) -> list[Finding]:
    """Every semantic finding for a shape-valid playbook."""
    context = _Context(playbook, data)
    return [finding for check in CHECKS for finding in check(context)]
