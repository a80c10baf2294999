"""The shape check: a playbook against schemas/playbook.schema.json, in words a comms lead can act on.

The JSON Schema is the single source of truth for shape; this module only translates jsonschema's errors into
located problems with stable codes, suggestions ("did you mean") and the schema's own descriptions.
"""

from __future__ import annotations

import difflib
import functools
import json
import pkgutil
import re
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from engine.playbook._duration import (
    MAX_BUSINESS_DAYS,
    MAX_DURATION,
    MAX_PERCENTAGE,
    business_days,
    duration_fits,
    format_duration,
    limit_fits,
    percentage_fits,
)
from engine.playbook._problem import Path, Problem, Rule, dotted, rules
from engine.playbook._yaml import Document

__all__ = ["check_shape", "playbook_schema", "shipped_schema", "suggest"]

#: Keys that belong in another section, by (section, key): said with the unknown key, so the author can move it.
_ELSEWHERE = {
    ("states", "paused_in"): "; a state's own limit runs only while the incident is in that state, so it has nothing "
    "to pause: put paused_in on the target that should stand still there (targets.<name>.paused_in)",
}

_KINDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "array": "a list",
    "object": "a mapping of keys and values",
    "boolean": "true or false",
    "null": "empty",
}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


@functools.cache
def shipped_schema(name: str) -> Mapping[str, Any]:
    """A JSON Schema shipped with the package, such as ``playbook`` or ``timeline`` (read once, on first use)."""
    # pkgutil rather than importlib.resources: the same package-data read, at a tenth of the import cost.
    data = pkgutil.get_data("engine", f"schemas/{name}.schema.json")
    if data is None:  # pragma: no cover - only a broken installation lacks its schemas
        raise RuntimeError(f"calmly is installed without its {name} schema; reinstall it")
    schema: dict[str, Any] = json.loads(data)
    return schema


def playbook_schema() -> Mapping[str, Any]:
    """The playbook JSON Schema shipped with the package."""
    return shipped_schema("playbook")


#: The language's own formats (the schemas name them ``calmly-...``, which editors leave alone): the caps on
#: durations and percentages, which a pattern cannot say.
_FORMATS = FormatChecker(formats=())
_FORMATS.checks("calmly-duration")(duration_fits)
_FORMATS.checks("calmly-limit-duration")(limit_fits)
_FORMATS.checks("calmly-percentage")(percentage_fits)


@functools.cache
def _validator(name: str) -> Draft202012Validator:
    return Draft202012Validator(shipped_schema(name), format_checker=_FORMATS)


def suggest(word: str, choices: Iterator[str] | list[str] | tuple[str, ...]) -> str:
    """'; did you mean X?' when a close choice exists, otherwise ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _kind_of(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return "an empty value"


#: The value kinds whose problems get messages of their own; a limit's duration is a duration that may also be
#: written in business days.
_NAMED_DEFS = ("duration", "limit_duration", "percentage", "hours_range", "name")


class _Translator:
    def __init__(self, doc: Document, source: str, schema: Mapping[str, Any]) -> None:
        self._doc = doc
        self._source = source
        defs = schema.get("$defs", {})
        self._defs = {name: defs[name] for name in _NAMED_DEFS if name in defs}

    def _problem(self, rule: Rule, path: Path, message: str, *, at_key: bool = False) -> Problem:
        marks = self._doc.marks
        pos = marks.key(path) if at_key else marks.value(path)
        return Problem(rule, self._source, pos.line, pos.column, message, path)

    def _def(self, error: ValidationError) -> str | None:
        for name, schema in self._defs.items():
            if error.schema == schema:
                return name
        return None

    def translate(self, error: ValidationError) -> Iterator[Problem]:
        path: Path = tuple(error.absolute_path)
        schema: Any = error.schema
        instance: Any = error.instance
        expected: Any = error.validator_value
        where = dotted(path)
        validator = error.validator
        if validator in ("oneOf", "anyOf") and error.context:
            yield from self.translate(_likeliest(error))
            return
        if "propertyNames" in error.absolute_schema_path:
            yield self._bad_key(path, str(instance), error)
            return
        if validator == "additionalProperties":
            allowed = sorted(schema.get("properties", {}))
            for key in instance:
                if key not in allowed:
                    yield self._problem(
                        rules.UNKNOWN_KEY,
                        (*path, key),
                        f"unknown key {key!r} in {where}{suggest(key, allowed)} (allowed here: {', '.join(allowed)})"
                        + _ELSEWHERE.get((str(path[0]) if path else "", key), ""),
                        at_key=True,
                    )
            return
        if validator == "required":
            props = schema.get("properties", {})
            for key in expected:
                if key not in instance:
                    help_text = props.get(key, {}).get("description", "")
                    yield self._problem(
                        rules.MISSING_KEY,
                        path,
                        f"{where} needs {key!r}" + (f": {_lower_first(help_text)}" if help_text else ""),
                        at_key=True,
                    )
            return
        kind = self._def(error)
        if validator == "format":
            yield self._problem(rules.INVALID_VALUE, path, _over_cap_message(where, instance, kind))
        elif kind == "duration":
            yield self._problem(rules.BAD_DURATION, path, _duration_message(where, instance))
        elif kind == "limit_duration":
            yield self._problem(rules.BAD_DURATION, path, _duration_message(where, instance, limit=True))
        elif kind == "percentage":
            yield self._problem(
                rules.BAD_PERCENTAGE,
                path,
                f"{where} is {_kind_of(instance)}; write a percentage such as 75%, 100% or 200%",
            )
        elif kind == "hours_range":
            yield self._problem(
                rules.BAD_HOURS,
                path,
                f"{where} is {_kind_of(instance)}; write opening hours as HH:MM-HH:MM, such as 09:00-18:00",
            )
        elif kind == "name" and validator == "pattern":
            yield self._problem(rules.BAD_NAME, path, _name_message(where, str(instance)))
        elif validator == "type":
            names = [expected] if isinstance(expected, str) else list(expected)
            wanted = " or ".join(_KINDS.get(name, name) for name in names)
            yield self._problem(rules.WRONG_TYPE, path, f"{where} must be {wanted}, not {_kind_of(instance)}")
        elif validator == "enum":
            allowed = [str(choice) for choice in expected]
            yield self._problem(
                rules.NOT_ALLOWED,
                path,
                f"{where} is {instance!r}, which is not allowed{suggest(str(instance), allowed)} "
                f"(allowed: {', '.join(allowed)})",
            )
        elif validator == "pattern" and path == ("playbook",):
            yield self._problem(
                rules.BAD_NAME,
                path,
                f"the playbook id {instance!r} must be lower-case words joined by hyphens, such as customer-complaint",
            )
        elif validator == "pattern" and path[-1:] == ("rate",):
            yield self._problem(
                rules.INVALID_VALUE,
                path,
                f"{where} is {instance!r}; write how many times the earlier rate, such as 5x or 2.5x",
            )
        elif validator == "pattern" and path[-1:] == ("holidays",):
            yield self._problem(
                rules.UNKNOWN_HOLIDAYS,
                path,
                f"{where} is {instance!r}; write a country code such as GB or US, "
                "optionally with a region such as GB-SCT or US-CA",
            )
        else:
            yield self._problem(rules.INVALID_VALUE, path, _limit_message(where, error))

    def _bad_key(self, path: Path, key: str, error: ValidationError) -> Problem:
        child = (*path, key)
        if path and path[-1] == "hours":
            return self._problem(
                rules.BAD_HOURS,
                child,
                f"{key!r} in {dotted(path)} is not a day; use mon, tue, wed, thu, fri, sat, sun "
                "or a range such as mon-fri",
                at_key=True,
            )
        message = _name_message(f"the name {key!r} in {dotted(path)}", key)
        if error.validator == "maxLength":
            message = f"the name {key!r} in {dotted(path)} is too long; keep names under 64 characters"
        return self._problem(rules.BAD_NAME, child, message, at_key=True)


def _likeliest(error: ValidationError) -> ValidationError:
    """Of a oneOf's branches, the error from the branch the author most likely meant.

    A branch that failed only because the value has another type (text where a list is allowed) is least likely;
    among the rest, the error deepest in the document says the most.
    """
    depth = len(error.absolute_path)
    candidates = [
        sub for sub in error.context or [] if not (sub.validator == "type" and len(sub.absolute_path) == depth)
    ]
    pool = candidates or list(error.context or [])
    best = max(pool, key=lambda sub: len(sub.absolute_path))
    if best.validator in ("oneOf", "anyOf") and best.context:
        return _likeliest(best)
    return best


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text else text


def _duration_message(where: str, value: Any, *, limit: bool = False) -> str:
    base = "write a duration such as 30s, 15m, 4h, 1d, 1w or 1h30m (units w, d, h, m, s, largest first)"
    days = business_days(value) if isinstance(value, str) else None
    if limit:
        base += ", or working days of the clock's calendar such as 2bd"
    elif days is not None:
        return (
            f"{where} is {value}, in business days, which only a state's limit or a target's time on a calendar "
            f"may use; write it in hours or days here, such as {days.days}d"
        )
    if isinstance(value, bool) or value is None:
        return f"{where} is {_kind_of(value)}; {base}"
    if isinstance(value, int | float):
        return f"{where} is the number {value} with no unit; write {value}m for minutes or {value}h for hours"
    clock = _CLOCK.match(str(value))
    if clock:
        hours, minutes = int(clock.group(1)), int(clock.group(2))
        better = f"{hours}h{minutes}m" if minutes else f"{hours}h"
        if not hours:
            better = f"{minutes}m"
        return f"{where} is {value!r}, a clock time, not a duration; write {better} instead"
    return f"{where} is {_kind_of(value)}, not a duration; {base}"


def _over_cap_message(where: str, value: Any, kind: str | None) -> str:
    if kind == "percentage":
        return (
            f"{where} is {value}; an escalation waits at most {MAX_PERCENTAGE:.0%} of the running limit "
            "(ten times it): write a smaller share, such as 200%"
        )
    longest = format_duration(MAX_DURATION)
    if isinstance(value, str) and business_days(value) is not None:
        return (
            f"{where} is {value}, more than {MAX_BUSINESS_DAYS}bd (a year of working days), the longest limit "
            "calmly takes; write a shorter one, such as 5bd"
        )
    return (
        f"{where} is {value}, longer than {longest} (a year), the longest duration calmly takes; "
        "write a shorter one, such as 1d or 4w"
    )


def _name_message(where: str, value: str) -> str:
    example = re.sub(r"[^a-z0-9_]+", "_", value.lower()).strip("_")
    if example and not example[0].isalpha():
        example = f"x_{example}"
    hint = f", such as {example!r}" if example and example != value else ""
    return f"{where} must be lower-case letters, digits and underscores, starting with a letter{hint}"


def _limit_message(where: str, error: ValidationError) -> str:
    validator, limit = error.validator, error.validator_value
    if validator == "minItems":
        return f"{where} must list at least {limit} item{'s' if limit != 1 else ''}"
    if validator == "minProperties":
        return f"{where} must not be empty"
    if validator == "uniqueItems":
        return f"{where} lists the same item twice; keep each once"
    if validator == "minimum":
        return f"{where} must be at least {limit}, not {error.instance}"
    if validator == "minLength":
        return f"{where} must not be empty"
    if validator == "maxLength":
        return f"{where} is too long (at most {limit} characters)"
    return f"{where}: {error.message}"


def check_shape(doc: Document, source: str, schema: str = "playbook") -> list[Problem]:
    """Every shape problem in the document against a shipped schema, in document order."""
    translator = _Translator(doc, source, shipped_schema(schema))
    # dict.fromkeys: jsonschema reports 'required' once per missing key, and each of those errors lists them all.
    validator = _validator(schema)
    found = (problem for error in validator.iter_errors(doc.data) for problem in translator.translate(error))
    problems = list(dict.fromkeys(found))
    problems.sort(key=lambda problem: (problem.line, problem.column, problem.code))
    return problems
