"""Building the typed model from a document whose shape the schema has accepted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import time, timedelta
from typing import Any

from engine.playbook._channel import canonical_channel
from engine.playbook._duration import business_days, parse_duration, parse_percentage
from engine.playbook._model import (
    AROUND_THE_CLOCK,
    DEFAULT_JOIN_WINDOW,
    AnswerKind,
    AppliesTo,
    Approval,
    Calendar,
    Condition,
    ContactKind,
    ContactRule,
    Customer,
    EscalationStep,
    EventKind,
    EventRule,
    Grouping,
    Guard,
    HouseRules,
    Limit,
    OfferKind,
    Offers,
    OpeningHours,
    Playbook,
    Requirement,
    ReviewQuestion,
    Role,
    SeverityRule,
    SeverityScheme,
    State,
    SurgeRule,
    Target,
    Transition,
)

__all__ = ["DAYS", "build", "content_digest", "day_span", "parse_hours_range"]

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def content_digest(data: Mapping[str, Any]) -> str:
    """A digest of what the playbook says, not how it is laid out: comments and key order do not change it."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def day_span(spec: str) -> list[int]:
    """``"mon-fri"`` -> [0, 1, 2, 3, 4]; a range may wrap round the week (``"fri-mon"``)."""
    first, _, last = spec.partition("-")
    start = DAYS.index(first)
    end = DAYS.index(last) if last else start
    return [(start + offset) % 7 for offset in range((end - start) % 7 + 1)]


def parse_hours_range(text: str) -> tuple[time, time | None]:
    """``"09:00-18:00"`` -> (09:00, 18:00); an end of 24:00 is midnight, written ``None``."""
    opens, closes = text.split("-")
    end = None if closes == "24:00" else time.fromisoformat(closes)
    return time.fromisoformat(opens), end


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(item) for item in value)


def _channels(value: Any) -> tuple[str, ...]:
    """Channel names as calmly keeps them: ``[twitter, x]`` is one channel, listed once."""
    return tuple(dict.fromkeys(canonical_channel(name) for name in _strings(value)))


def _condition(raw: Mapping[str, Any]) -> Condition:
    return Condition(
        keywords_any=_strings(raw.get("keywords_any")),
        keywords_all=_strings(raw.get("keywords_all")),
        channels=_channels(raw.get("channels")),
        author_followers_at_least=raw.get("author_followers_at_least"),
        likes_at_least=raw.get("likes_at_least"),
        shares_at_least=raw.get("shares_at_least"),
        replies_at_least=raw.get("replies_at_least"),
        customer=Customer(raw["customer"]) if "customer" in raw else None,
        customer_segments_any=_strings(raw.get("customer_segments_any")),
    )


def _guard(raw: Mapping[str, Any]) -> Guard:
    return Guard(
        severities=_strings(raw.get("severities")),
        channels=_channels(raw.get("channels")),
        customer=Customer(raw["customer"]) if "customer" in raw else None,
        customer_segments_any=_strings(raw.get("customer_segments_any")),
    )


def _house_rules(raw: Mapping[str, Any]) -> HouseRules:
    """A do-not-engage reason is a name, or ``{reason: name, by: [roles]}`` when only some roles may give it."""
    reasons: list[str] = []
    roles: dict[str, tuple[str, ...]] = {}
    for entry in raw.get("do_not_engage_reasons", ()):
        if isinstance(entry, Mapping):
            reasons.append(entry["reason"])
            roles[entry["reason"]] = _strings(entry["by"])
        else:
            reasons.append(str(entry))
    return HouseRules(
        never_say=_strings(raw.get("never_say")), do_not_engage_reasons=tuple(reasons), reason_roles=roles
    )


#: What a business day comes to where a clock counts around the clock: only so the model can be built; such a
#: limit is an error (E510), and a playbook with one never runs.
_AROUND_THE_CLOCK_DAY = timedelta(days=1)


def _counted(text: str, calendar: Calendar | None) -> timedelta:
    """A limit's value as counted time: business days (``2bd``) as so many of the calendar's business days."""
    days = business_days(text)
    if days is None:
        return parse_duration(text)
    return days.on(_AROUND_THE_CLOCK_DAY if calendar is None else calendar.business_day())


def _calendar(name: str, raw: Mapping[str, Any]) -> Calendar:
    days: dict[int, list[tuple[time, time | None]]] = {}
    for spec, ranges in raw["hours"].items():
        for day in day_span(spec):
            days.setdefault(day, []).extend(parse_hours_range(text) for text in _strings(ranges))
    hours = OpeningHours({day: tuple(sorted(spans, key=lambda span: span[0])) for day, spans in days.items()})
    return Calendar(name=name, timezone=raw["timezone"], hours=hours, holidays=raw.get("holidays"))


def _calendars(raw: Any) -> tuple[str | None, dict[str, str | None]]:
    """A clock's ``calendar``: one name for every level, or a name per level (``around_the_clock`` for none) with
    an optional ``default``; as (the calendar of the levels not listed, the levels' own)."""
    if raw is None or isinstance(raw, str):
        return raw, {}
    named = {key: None if value == AROUND_THE_CLOCK else str(value) for key, value in raw.items()}
    default = named.pop("default", None)
    return default, named


def _clock_limit(raw: Mapping[str, str], calendar: Any, calendars: Mapping[str, Calendar]) -> Limit:
    """A clock's limit with each level's business days counted on the calendar that level counts on."""
    default, named = _calendars(calendar)

    def on(level: str) -> Calendar | None:
        name = default if level == "default" else named.get(level, default)
        return calendars.get(name) if name else None

    per_level = {key: _counted(value, on(key)) for key, value in raw.items() if key != "default"}
    fallback = _counted(raw["default"], on("default")) if "default" in raw else None
    return Limit(per_level=per_level, default=fallback, written={str(key): str(value) for key, value in raw.items()})


def _optional(raw: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    return _strings(raw[key]) if key in raw else None


def _offers(raw: Mapping[str, Any] | None, calendars: Mapping[str, Calendar]) -> Offers | None:
    if raw is None:
        return None
    kinds = {
        name: OfferKind(
            name=name,
            description=kind["description"],
            by=_strings(kind["by"]),
            deliver_within=_clock_limit(kind["deliver_within"], kind.get("calendar"), calendars),
            max_amount={role: float(cap) for role, cap in kind.get("max_amount", {}).items()},
            calendar=kind.get("calendar"),
        )
        for name, kind in raw["kinds"].items()
    }
    return Offers(kinds=kinds, currency=raw.get("currency"))


def _contact(raw: Mapping[str, Any] | None) -> ContactRule:
    if raw is None:
        return ContactRule()
    return ContactRule(
        accept=tuple(ContactKind(item) for item in raw["accept"]), email_domains=_strings(raw.get("email_domains"))
    )


def _grouping(raw: Mapping[str, Any] | None) -> Grouping | None:
    if raw is None:
        return None
    return Grouping(
        within=parse_duration(raw["within"]),
        topics={name: _strings(phrases) for name, phrases in raw.get("topics", {}).items()},
        per_channel=bool(raw.get("per_channel", False)),
        description=raw.get("description"),
    )


def _surge(raw: Mapping[str, Any]) -> SurgeRule:
    return SurgeRule(
        name=raw["name"],
        count=int(raw["count"]),
        within=parse_duration(raw["within"]),
        rate=float(raw["rate"][:-1]) if "rate" in raw else None,
        over=parse_duration(raw["over"]) if "over" in raw else None,
        raise_to=raw.get("raise_to"),
        open=raw["open"]["playbook"] if "open" in raw else None,
        notify=_strings(raw.get("notify")),
        description=raw.get("description"),
    )


def build(data: Mapping[str, Any]) -> Playbook:
    """The model of a shape-valid document. References between sections are checked afterwards."""
    applies = data["applies_to"]
    severity = data["severity"]
    house = data.get("house_rules", {})
    calendars = {name: _calendar(name, raw) for name, raw in data.get("calendars", {}).items()}
    return Playbook(
        id=data["playbook"],
        version=int(data["version"]),  # JSON Schema counts 1.0 as an integer; the model holds a true int
        owner=data["owner"],
        description=data.get("description"),
        digest=content_digest(data),
        applies_to=AppliesTo(
            channels=_channels(applies["channels"]),
            when=_condition(applies["when"]) if "when" in applies else None,
            priority=int(applies.get("priority", 0)),
            join_window=parse_duration(applies["join_window"]) if "join_window" in applies else DEFAULT_JOIN_WINDOW,
        ),
        roles={name: Role(name, raw["description"]) for name, raw in data["roles"].items()},
        calendars=calendars,
        severity=SeverityScheme(
            levels=_strings(severity["levels"]),
            default=severity["default"],
            rules=tuple(
                SeverityRule(level=rule["level"], when=_condition(rule["when"])) for rule in severity.get("rules", [])
            ),
        ),
        house_rules=_house_rules(house),
        states={
            name: State(
                name=name,
                description=raw.get("description"),
                limit=_clock_limit(raw["limit"], raw.get("calendar"), calendars) if "limit" in raw else None,
                calendar=_calendars(raw.get("calendar"))[0],
                final=raw.get("final", False),
                level_calendars=_calendars(raw.get("calendar"))[1],
                reopen_on_follow_up=raw.get("reopen_on_follow_up"),
            )
            for name, raw in data["states"].items()
        },
        targets={
            name: Target(
                name=name,
                start=raw["from"],
                until=_strings(raw["until"]),
                within=_clock_limit(raw["within"], raw.get("calendar"), calendars),
                calendar=_calendars(raw.get("calendar"))[0],
                description=raw.get("description"),
                stops_on=_strings(raw.get("stops_on")),
                level_calendars=_calendars(raw.get("calendar"))[1],
                paused_in=_strings(raw.get("paused_in")),
            )
            for name, raw in data.get("targets", {}).items()
        },
        transitions=tuple(
            Transition(
                trigger=raw["trigger"],
                sources=_strings(raw["from"]),
                dest=raw["to"],
                by=_strings(raw["by"]),
                requires=frozenset(Requirement(item) for item in raw.get("requires", [])),
                description=raw.get("description"),
                when=_guard(raw["when"]) if "when" in raw else None,
                approval=Approval(by=_strings(raw["approval"]["by"])) if "approval" in raw else None,
                responses_required=raw.get("responses_required"),
                mutes_author=parse_duration(raw["mutes_author"]) if "mutes_author" in raw else None,
            )
            for raw in data["transitions"]
        ),
        escalation=tuple(
            EscalationStep(
                after=parse_percentage(raw["after"]),
                notify=_strings(raw["notify"]),
                repeat_every=parse_duration(raw["repeat_every"]) if "repeat_every" in raw else None,
                clocks=_strings(raw["clocks"]) if "clocks" in raw else None,
                severities=_strings(raw["severities"]) if "severities" in raw else None,
                description=raw.get("description"),
                merge_repeats=raw.get("merge_repeats", True),
            )
            for raw in data.get("escalation", [])
        ),
        notify_on=tuple(
            EventRule(
                event=EventKind(raw["event"]),
                notify=_strings(raw["notify"]),
                states=_optional(raw, "states"),
                severities=_optional(raw, "severities"),
                clocks=_optional(raw, "clocks"),
                description=raw.get("description"),
            )
            for raw in data.get("notify_on", [])
        ),
        group=_grouping(data.get("group")),
        surges=tuple(_surge(raw) for raw in data.get("surges", [])),
        responses={trigger: _strings(texts) for trigger, texts in data.get("responses", {}).items()},
        responses_required=bool(data.get("responses_required", False)),
        review_questions=tuple(
            ReviewQuestion(
                id=raw["id"],
                ask=raw["ask"],
                answer=AnswerKind(raw["answer"]),
                choices=_strings(raw.get("choices")),
            )
            for raw in data.get("review", {}).get("questions", [])
        ),
        offers=_offers(data.get("offers"), calendars),
        contact=_contact(data.get("contact")),
    )
