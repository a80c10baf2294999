"""Strict YAML reading: YAML 1.2 core semantics, and the position of every node.

PyYAML resolves plain scalars by YAML 1.1 rules (``yes`` is true, ``1:30`` is 90). Editors and check-jsonschema
read YAML 1.2, so this module never lets PyYAML construct anything: it walks the parser's events and builds plain
data itself, resolving scalars by the 1.2 core schema. Anchors, aliases and tags are refused at the event where they
appear, so an alias bomb is never expanded and no tag is ever acted on.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.playbook._problem import Path, Problem, Rule, rules

__all__ = ["MAX_BYTES", "Document", "Marks", "Position", "position_of_index", "read_yaml"]

#: Playbooks are hand-written; anything larger is a mistake or an attack, and is refused before parsing.
MAX_BYTES = 512 * 1024

_Parser: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


@dataclass(frozen=True, slots=True)
class Position:
    """A 1-based line and column (columns count Unicode code points)."""

    line: int
    column: int


@dataclass(slots=True)
class Marks:
    """Where each node of a document starts: its value, and for mapping entries its key."""

    values: dict[Path, Position] = field(default_factory=dict)
    keys: dict[Path, Position] = field(default_factory=dict)

    def value(self, path: Path) -> Position:
        """The value at ``path``, or the nearest enclosing node that exists."""
        return self._nearest(self.values, path)

    def key(self, path: Path) -> Position:
        """The key of the entry at ``path`` (its value for list items), or the nearest enclosing node."""
        while path:
            if path in self.keys:
                return self.keys[path]
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), Position(1, 1))

    @staticmethod
    def _nearest(table: dict[Path, Position], path: Path) -> Position:
        while path and path not in table:
            path = path[:-1]
        return table.get(path, Position(1, 1))


@dataclass(frozen=True, slots=True)
class Document:
    """Plain data (dicts, lists, str, int, float, bool, None) and the marks of its nodes."""

    data: Any
    marks: Marks


def _at(mark: Any) -> Position:
    return Position(mark.line + 1, mark.column + 1)


def _resolve_plain(text: str) -> Any:
    """Resolve a plain scalar by the YAML 1.2 core schema."""
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT10.match(text):
        return int(text)
    if _INT8.match(text):
        return int(text[2:], 8)
    if _INT16.match(text):
        return int(text[2:], 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.match(text):
        return math.nan
    return text


class _Refused(Exception):
    """Reading stops: the document cannot be built safely."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Builder:
    """Builds plain data from a stream of parser events, recording marks and problems."""

    def __init__(self, events: Iterator[Any], source: str) -> None:
        self._events = events
        self._source = source
        self.marks = Marks()
        self.problems: list[Problem] = []

    def problem(self, rule: Rule, pos: Position, message: str, path: Path = ()) -> Problem:
        return Problem(rule=rule, file=self._source, line=pos.line, column=pos.column, message=message, path=path)

    def _next(self) -> Any:
        event = next(self._events)
        anchor = getattr(event, "anchor", None)
        if isinstance(event, yaml.AliasEvent) or anchor:
            kind = "alias *" if isinstance(event, yaml.AliasEvent) else "anchor &"
            raise _Refused(
                self.problem(
                    rules.ANCHOR,
                    _at(event.start_mark),
                    f"YAML {kind}{anchor} is not allowed in a playbook: write the value out in full, "
                    "so every reader sees the same thing",
                )
            )
        return event

    def document(self) -> Any:
        event = self._next()  # StreamStart
        event = self._next()
        if isinstance(event, yaml.StreamEndEvent):
            return _EMPTY
        data = self._node(self._next(), ())
        self._next()  # DocumentEnd
        event = self._next()
        if not isinstance(event, yaml.StreamEndEvent):
            raise _Refused(
                self.problem(
                    rules.YAML_SYNTAX,
                    _at(event.start_mark),
                    "this file holds more than one YAML document (a second '---'); keep one playbook per file",
                )
            )
        return data

    def _check_tag(self, event: Any, path: Path) -> None:
        # The parser reports a tag only when the text names one; implicit resolution happens here, later.
        tag = getattr(event, "tag", None)
        if tag is not None:
            tag = tag.replace("tag:yaml.org,2002:", "!!", 1)
            self.problems.append(
                self.problem(
                    rules.TAG,
                    _at(event.start_mark),
                    f"the YAML tag {tag} is not allowed in a playbook: remove it and write a plain value",
                    path,
                )
            )

    def _node(self, event: Any, path: Path) -> Any:
        self.marks.values[path] = _at(event.start_mark)
        self._check_tag(event, path)
        if isinstance(event, yaml.ScalarEvent):
            if event.style in (None, "") and event.implicit[0]:
                return _resolve_plain(event.value)
            return event.value
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Any] = []
            while not isinstance(event := self._next(), yaml.SequenceEndEvent):
                items.append(self._node(event, (*path, len(items))))
            return items
        if isinstance(event, yaml.MappingStartEvent):
            return self._mapping(path)
        raise _Refused(  # pragma: no cover - the parser emits no other node events
            self.problem(rules.YAML_SYNTAX, _at(event.start_mark), "unexpected YAML construct")
        )

    def _mapping(self, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Position] = {}
        while not isinstance(event := self._next(), yaml.MappingEndEvent):
            key_pos = _at(event.start_mark)
            if not isinstance(event, yaml.ScalarEvent):
                raise _Refused(
                    self.problem(
                        rules.YAML_SYNTAX,
                        key_pos,
                        "a key must be a plain word, not a list or a mapping",
                        path,
                    )
                )
            self._check_tag(event, path)
            key = event.value
            child = (*path, key)
            value = self._node(self._next(), child)
            if key in first_seen:
                first = first_seen[key]
                self.problems.append(
                    self.problem(
                        rules.DUPLICATE_KEY,
                        key_pos,
                        f"key {key!r} appears twice here (first at line {first.line}, column {first.column}); "
                        "keep one and merge what the two say",
                        child,
                    )
                )
                continue
            first_seen[key] = key_pos
            self.marks.keys[child] = key_pos
            result[key] = value
        return result


_EMPTY = object()


def position_of_index(text: str, index: int) -> Position:
    line = text.count("\n", 0, index) + 1
    return Position(line, index - (text.rfind("\n", 0, index) + 1) + 1)


def _non_breaking_space_before(text: str, index: int) -> Position | None:
    """A non-breaking space outside quotes on the lines up to a syntax error: the likely cause of the error."""
    end = text.find("\n", index)
    for number, line in enumerate(text[: len(text) if end < 0 else end].split("\n"), start=1):
        column = line.find("\u00a0")
        if column >= 0 and line[:column].count('"') % 2 == 0 and line[:column].count("'") % 2 == 0:
            return Position(number, column + 1)
    return None


def read_yaml(text: str, source: str) -> tuple[Document | None, list[Problem]]:
    """Read one YAML document strictly; ``None`` when nothing usable could be built."""
    builder = _Builder(iter(yaml.parse(text, Loader=_Parser)), source)
    try:
        data = builder.document()
    except _Refused as refused:
        return None, [*builder.problems, refused.problem]
    except yaml.reader.ReaderError as error:  # a character YAML does not allow, such as Word's vertical tab
        pos = position_of_index(text, error.position)
        name = unicodedata.name(chr(error.character), "a control character") if isinstance(error.character, int) else ""
        code = f"U+{error.character:04X}" if isinstance(error.character, int) else "?"
        message = (
            f"a control character ({code} {name.lower()}) is not allowed in YAML; delete it or retype this part "
            "(word processors insert such characters when text is pasted)"
        )
        return None, [*builder.problems, builder.problem(rules.YAML_SYNTAX, pos, message)]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        pos = _at(mark) if mark is not None else Position(1, 1)
        nbsp = _non_breaking_space_before(text, mark.index if mark is not None else len(text))
        if nbsp is not None:
            message = (
                "a non-breaking space (U+00A0) here; YAML needs ordinary spaces: delete it and type a space "
                "(it often comes from text pasted out of a document or a web page)"
            )
            return None, [*builder.problems, builder.problem(rules.YAML_SYNTAX, nbsp, message)]
        what = error.problem or "the YAML is malformed"
        context = f" ({error.context})" if error.context else ""
        message = f"YAML syntax error: {what}{context}; check indentation, colons and quotes here"
        return None, [*builder.problems, builder.problem(rules.YAML_SYNTAX, pos, message)]
    except yaml.YAMLError as error:  # pragma: no cover - PyYAML's errors are all reader or marked errors
        message = f"the YAML cannot be read: {error}"
        return None, [*builder.problems, builder.problem(rules.YAML_SYNTAX, Position(1, 1), message)]
    if data is _EMPTY or data is None:
        return None, [
            *builder.problems,
            builder.problem(
                rules.EMPTY,
                Position(1, 1),
                "the file holds no playbook (nothing but comments or blank lines); a playbook starts with "
                "'playbook: <name>'",
            ),
        ]
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        return None, [
            *builder.problems,
            builder.problem(
                rules.NOT_A_MAPPING,
                builder.marks.value(()),
                f"the file holds {kind}; a playbook is a mapping of keys such as 'playbook:', 'states:' "
                "and 'transitions:'",
            ),
        ]
    return Document(data, builder.marks), builder.problems
