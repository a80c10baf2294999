"""Loading a playbook: bytes in, a typed playbook and every problem out. Pure: the caller reads the file."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.playbook._build import build
from engine.playbook._checks import run_checks
from engine.playbook._kind import not_a_playbook, test_file_named
from engine.playbook._model import Playbook
from engine.playbook._problem import Problem, Severity, rules
from engine.playbook._shape import check_shape
from engine.playbook._yaml import MAX_BYTES, Marks, Position, position_of_index, read_yaml

__all__ = ["LoadResult", "load"]

_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class LoadResult:
    """The playbook when it has no errors (warnings allowed), and every problem found, in document order."""

    source: str
    playbook: Playbook | None
    problems: tuple[Problem, ...]
    #: Where each node of the document stands, when the file could be read as YAML.
    marks: Marks | None = field(default=None, compare=False, repr=False)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(problem for problem in self.problems if problem.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(problem for problem in self.problems if problem.severity is Severity.WARNING)


def _position_of_byte(data: bytes, offset: int) -> Position:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[start:offset].decode("utf-8", errors="replace")) + 1
    return Position(line, column)


def _looks_like_utf16(data: bytes) -> bool:
    """UTF-16 without a byte order mark: ASCII text with a NUL beside every character."""
    head = data[:64]
    if len(head) < 8:
        return False
    return all(byte == 0 for byte in head[1::2]) or all(byte == 0 for byte in head[0::2])


def _decode(data: bytes, source: str) -> str | Problem:
    if len(data) > MAX_BYTES:
        return Problem(
            rules.TOO_LARGE,
            source,
            1,
            1,
            f"the file is {len(data):,} bytes; a playbook may be at most {MAX_BYTES:,} bytes. "
            "Split it into several playbooks",
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or _looks_like_utf16(data):
        return Problem(
            rules.NOT_UTF8,
            source,
            1,
            1,
            "the file is saved as UTF-16; save it as UTF-8 (the usual choice in editors)",
        )
    nul = data.find(b"\x00")
    if nul >= 0:
        pos = _position_of_byte(data, nul)
        return Problem(
            rules.BINARY,
            source,
            pos.line,
            pos.column,
            "the file is binary (it holds a NUL byte), not a YAML playbook; check the file name",
        )
    body = data.removeprefix(_BOM)  # positions count from after the byte order mark, as editors show them
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        offset = error.start
        pos = _position_of_byte(body, offset)
        data = body
        return Problem(
            rules.NOT_UTF8,
            source,
            pos.line,
            pos.column,
            f"byte 0x{data[offset]:02x} here is not UTF-8; save the file as UTF-8 in your editor",
        )


def load(content: bytes | str, source: str = "<playbook>") -> LoadResult:
    """Read, shape-check, build and semantically check one playbook. Never raises for bad input."""
    named_test = test_file_named(source)
    if named_test is not None:
        return LoadResult(source, None, (named_test,))
    if isinstance(content, bytes):
        decoded = _decode(content, source)
        if isinstance(decoded, Problem):
            return LoadResult(source, None, (decoded,))
        text = decoded
    else:
        try:
            encoded = content.encode("utf-8")
        except UnicodeEncodeError as error:  # a lone surrogate: text no file could hold
            pos = position_of_index(content, error.start)
            message = "this character cannot be saved as UTF-8 (a broken surrogate); retype it"
            return LoadResult(source, None, (Problem(rules.NOT_UTF8, source, pos.line, pos.column, message),))
        if len(encoded) > MAX_BYTES:
            return load(encoded, source)
        text = content
    document, problems = read_yaml(text, source)
    if document is None:
        return LoadResult(source, None, tuple(problems))
    shape = check_shape(document, source)
    if shape:
        other = not_a_playbook(document, source)
        if other is not None:
            return LoadResult(source, None, (other,), document.marks)
        # Cross-section checks need a well-shaped document; they run once the shape problems are fixed.
        return LoadResult(source, None, tuple(sorted([*problems, *shape], key=_order)), document.marks)
    playbook = build(document.data)
    for finding in run_checks(playbook, document.data):
        marks = document.marks
        pos = marks.key(finding.path) if finding.at_key else marks.value(finding.path)
        problems.append(Problem(finding.rule, source, pos.line, pos.column, finding.message, finding.path))
    ordered = tuple(sorted(problems, key=_order))
    has_errors = any(problem.severity is Severity.ERROR for problem in ordered)
    return LoadResult(source, None if has_errors else playbook, ordered, document.marks)


def _order(problem: Problem) -> tuple[int, int, str]:
    return problem.line, problem.column, problem.code
