"""Strict YAML reading: YAML 1.2 core semantics, and the position of every node.

PyYAML resolves plain scalars by YAML 1.1 rules (``yes`` is true, ``1:30`` is 90). Editors and check-jsonschema
read YAML 1.2, so this module never lets PyYAML construct anything: it walks the parser's events and builds plain
data itself, resolving scalars by the 1.2 core schema. Anchors, aliases and tags are refused at the event where they
appear, so an alias bomb is never expanded and no tag is ever acted on. Nesting is bounded and so are numbers,
so a hostile file costs a located problem, not a crash.

libyaml reads plain scalars as YAML 1.2 does; PyYAML's own (pure-Python) scanner, used where libyaml is missing,
ends a plain scalar at ``?`` in a flow collection (``{ask: Was it avoidable?, ...}``), so it is corrected here and
both give the same result.
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

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_NUMBER",
    "PARSERS",
    "Document",
    "Marks",
    "Position",
    "position_of_index",
    "read_yaml",
]

#: Playbooks are hand-written; anything larger is a mistake or an attack, and is refused before parsing.
MAX_BYTES = 512 * 1024
#: Mappings and lists inside one another: a playbook needs about six levels; far more is a broken or hostile file.
MAX_DEPTH = 50
#: The largest whole number a calmly file may hold (a signed 64-bit integer, what SQLite and PostgreSQL store).
MAX_NUMBER = 2**63 - 1


class _PurePythonLoader(yaml.SafeLoader):
    """PyYAML's own parser, reading plain scalars as YAML 1.2 (and libyaml) do."""

    def scan_plain(self) -> Any:
        # PyYAML's scan_plain, with one change: in a flow collection a plain scalar ends at , [ ] { } (YAML 1.2's
        # flow indicators) but not at ?, so ``{ask: Was it avoidable?, ...}`` reads as libyaml reads it.
        chunks: list[str] = []
        start_mark = self.get_mark()
        end_mark = start_mark
        indent = self.indent + 1
        spaces: list[str] = []
        blank = "\0 \t\r\n\x85\u2028\u2029"
        while True:
            length = 0
            if self.peek() == "#":
                break
            while True:
                ch = self.peek(length)
                if (
                    ch in blank
                    or (ch == ":" and self.peek(length + 1) in blank + (",[]{}" if self.flow_level else ""))
                    or (self.flow_level and ch in ",[]{}")
                ):
                    break
                length += 1
            if length == 0:
                break
            self.allow_simple_key = False
            chunks.extend(spaces)
            chunks.append(self.prefix(length))
            self.forward(length)
            end_mark = self.get_mark()
            spaces = self.scan_plain_spaces(indent, start_mark) or []
            if not spaces or self.peek() == "#" or (not self.flow_level and self.column < indent):
                break
        return yaml.tokens.ScalarToken("".join(chunks), True, start_mark, end_mark)


#: The parsers that can read a playbook, fastest first: libyaml's when it is installed, then PyYAML's own.
PARSERS: tuple[Any, ...] = (
    *((yaml.CSafeLoader,) if hasattr(yaml, "CSafeLoader") else ()),
    _PurePythonLoader,
)
_Parser: Any = PARSERS[0]

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
    """Resolve a plain scalar by the YAML 1.2 core schema (whole numbers of more than 19 digits: :data:`_HUGE`)."""
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT10.match(text):
        # Python refuses to read decimal numbers of over 4,300 digits; nothing over 19 digits fits anyway.
        return int(text) if len(text.lstrip("+-")) <= 19 else _HUGE
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
        self._depth = 0

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
                return self._number(_resolve_plain(event.value), event, path)
            return event.value
        if isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            self._enter(event, path)
            try:
                if isinstance(event, yaml.MappingStartEvent):
                    return self._mapping(path)
                items: list[Any] = []
                while not isinstance(event := self._next(), yaml.SequenceEndEvent):
                    items.append(self._node(event, (*path, len(items))))
                return items
            finally:
                self._depth -= 1
        raise _Refused(  # pragma: no cover - the parser emits no other node events
            self.problem(rules.YAML_SYNTAX, _at(event.start_mark), "unexpected YAML construct")
        )

    def _enter(self, event: Any, path: Path) -> None:
        """One level deeper; past :data:`MAX_DEPTH` reading stops (the builder recurses, and so would the checks)."""
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _Refused(
                self.problem(
                    rules.TOO_DEEP,
                    _at(event.start_mark),
                    f"lists and mappings are nested more than {MAX_DEPTH} levels deep here; a calmly file needs "
                    "only a few levels: check the indentation and the brackets",
                    path,
                )
            )

    def _number(self, value: Any, event: Any, path: Path) -> Any:
        """A plain scalar's value, once numbers are known to fit in what the store and the clocks can hold."""
        too_large = (
            value is _HUGE
            or (isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_NUMBER)
            or (isinstance(value, float) and math.isfinite(value) and abs(value) > MAX_NUMBER)
        )
        if too_large:
            size = f" of {len(event.value.lstrip('+-')):,} digits" if not isinstance(value, float) else ""
            raise _Refused(
                self.problem(
                    rules.NUMBER_TOO_LARGE,
                    _at(event.start_mark),
                    f"this number{size} is too large; numbers in a calmly file are at most {MAX_NUMBER:,}: "
                    "check for a slip of the keyboard, or quote it if it is meant as text",
                    path,
                )
            )
        return value

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
_HUGE = object()


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
    return _read(text, source, _Parser)


def _read(text: str, source: str, parser: Any) -> tuple[Document | None, list[Problem]]:
    builder = _Builder(iter(yaml.parse(text, Loader=parser)), source)
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
        if parser is not _PurePythonLoader and "maximum nesting depth" in str(error.problem):
            # libyaml scans a deep flow collection ahead and gives up at a depth of its own; PyYAML's parser finds
            # the place past MAX_DEPTH, so both parsers report the same problem at the same place.
            return _read(text, source, _PurePythonLoader)
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
