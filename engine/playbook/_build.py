"""Building the typed model from a document whose shape the schema has accepted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import time
from typing import Any

from engine.playbook._channel import canonical_channel
from engine.playbook._duration import parse_duration, parse_percentage
from engine.playbook._model import (
    DEFAULT_JOIN_WINDOW,
    AnswerKind,
    AppliesTo,
    Approval,
    Calendar,
    Condition,
    EscalationStep,
    HouseRules,
    Limit,
    OpeningHours,
    Playbook,
    Requirement,
    ReviewQuestion,
    Role,
    SeverityRule,
    SeverityScheme,
    State,
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
    )


def _limit(raw: Mapping[str, str]) -> Limit:
    per_level = {key: parse_duration(value) for key, value in raw.items() if key != "default"}
    default = parse_duration(raw["default"]) if "default" in raw else None
    return Limit(per_level=per_level, default=default)


def _calendar(name: str, raw: Mapping[str, Any]) -> Calendar:
    days: dict[int, list[tuple[time, time | None]]] = {}
    for spec, ranges in raw["hours"].items():
        for day in day_span(spec):
            days.setdefault(day, []).extend(parse_hours_range(text) for text in _strings(ranges))
    hours = OpeningHours({day: tuple(sorted(spans, key=lambda span: span[0])) for day, spans in days.items()})
    return Calendar(name=name, timezone=raw["timezone"], hours=hours, holidays=raw.get("holidays"))


def build(data: Mapping[str, Any]) -> Playbook:
    """The model of a shape-valid document. References between sections are checked afterwards."""
    applies = data["applies_to"]
    severity = data["severity"]
    house = data.get("house_rules", {})
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
        calendars={name: _calendar(name, raw) for name, raw in data.get("calendars", {}).items()},
        severity=SeverityScheme(
            levels=_strings(severity["levels"]),
            default=severity["default"],
            rules=tuple(
                SeverityRule(level=rule["level"], when=_condition(rule["when"])) for rule in severity.get("rules", [])
            ),
        ),
        house_rules=HouseRules(
            never_say=_strings(house.get("never_say")),
            do_not_engage_reasons=_strings(house.get("do_not_engage_reasons")),
        ),
        states={
            name: State(
                name=name,
                description=raw.get("description"),
                limit=_limit(raw["limit"]) if "limit" in raw else None,
                calendar=raw.get("calendar"),
                final=raw.get("final", False),
            )
            for name, raw in data["states"].items()
        },
        targets={
            name: Target(
                name=name,
                start=raw["from"],
                until=_strings(raw["until"]),
                within=_limit(raw["within"]),
                calendar=raw.get("calendar"),
                description=raw.get("description"),
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
                approval=Approval(by=_strings(raw["approval"]["by"])) if "approval" in raw else None,
                responses_required=raw.get("responses_required"),
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
            )
            for raw in data.get("escalation", [])
        ),
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
    )
