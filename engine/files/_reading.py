"""Reading the files people write (playbooks, rosters, configurations, timelines): ordinary files only, size-capped,
and YAML documents read strictly and checked against their shipped schema.

A named pipe or a device given where a file belongs would be read forever (``/dev/zero``) or block until something
writes to it; such a path is refused before it is opened, and the file is opened without blocking in case it was
swapped meanwhile.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.playbook import MAX_BYTES, Failed, Marks, Problem, check_shape, read_yaml, rules

__all__ = ["Unreadable", "read_capped", "read_document_file"]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Why a file cannot be read, in words for the person who named it."""

    message: str


def _kind(mode: int) -> str | None:
    """What a path is when it is not an ordinary file."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return None if stat.S_ISREG(mode) else "not an ordinary file"


def read_capped(path: Path, limit: int) -> bytes | Unreadable:
    """The first ``limit + 1`` bytes of an ordinary file (one more than allowed, so the caller can tell it is too
    large), or why it cannot be read."""
    try:
        kind = _kind(os.stat(path).st_mode)
        if kind is None:
            descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
            with open(descriptor, "rb") as handle:
                kind = _kind(os.fstat(handle.fileno()).st_mode)
                if kind is None:
                    return handle.read(limit + 1)
    except OSError as error:
        return Unreadable(f"cannot read the file: {error.strerror or error}")
    return Unreadable(f"cannot read the file: it is {kind}, not a file; give the path of a file")


def read_document_file(path: Path, schema: str) -> tuple[Any, Marks] | Failed[Problem]:
    """Read a YAML file strictly and check it against a shipped schema: its data and marks, or its problems."""
    source = path.as_posix()
    content = read_capped(path, MAX_BYTES)
    if isinstance(content, Unreadable):
        return Failed((Problem(rules.UNREADABLE, source, 1, 1, content.message),))
    if len(content) > MAX_BYTES:
        return Failed((Problem(rules.TOO_LARGE, source, 1, 1, f"the file is larger than {MAX_BYTES:,} bytes"),))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return Failed((Problem(rules.NOT_UTF8, source, 1, 1, "the file is not UTF-8 text; save it as UTF-8"),))
    document, problems = read_yaml(text, source)
    if document is None:
        return Failed(tuple(problems))
    problems += check_shape(document, source, schema)
    if problems:
        return Failed(tuple(problems))
    return document.data, document.marks
