"""Reading the files people write (playbooks, rosters, configurations, timelines): ordinary files only, size-capped.

A named pipe or a device given where a file belongs would be read forever (``/dev/zero``) or block until something
writes to it; such a path is refused before it is opened, and the file is opened without blocking in case it was
swapped meanwhile.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Unreadable", "read_capped"]


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
