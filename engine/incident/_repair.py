"""Mending what a listening tool sent broken, so the mention is kept: a lone UTF-16 surrogate becomes U+FFFD.

Tools that cut a post at a fixed length can cut an emoji in half, and JSON's ``\\ud83d`` escape carries the half
through. No UTF-8 store can hold it (SQLite refuses the row, and with it the batch, on every retry), so each one is
replaced by U+FFFD (the replacement character) and the mention says where. A NUL character (``\\u0000``) is
replaced the same way: PostgreSQL's text cannot hold one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["REPLACEMENT", "Repair", "mend"]

REPLACEMENT = "\ufffd"
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_NUL = "\x00"
_BROKEN = re.compile("[\x00\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Repair:
    """One mended string: a JSON pointer to it, and what was done."""

    pointer: str
    what: str

    def as_json(self) -> dict[str, str]:
        return {"pointer": self.pointer, "what": self.what}


def _escape(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _mend_text(text: str, pointer: str, repairs: list[Repair]) -> str:
    if _NUL in text:
        nuls = text.count(_NUL)
        text = text.replace(_NUL, REPLACEMENT)
        what = "a NUL character" if nuls == 1 else f"{nuls} NUL characters"
        repairs.append(Repair(pointer, f"replaced {what} (a control character PostgreSQL cannot store) with U+FFFD"))
    mended, count = _LONE_SURROGATE.subn(REPLACEMENT, text)
    if count:
        halves = (
            "a lone surrogate (half of a character, such as a cut emoji)"
            if count == 1
            else (f"{count} lone surrogates (halves of characters, such as cut emoji)")
        )
        repairs.append(Repair(pointer, f"replaced {halves} with U+FFFD"))
    return mended


def _walk(value: Any, pointer: str, repairs: list[Repair]) -> Any:
    if isinstance(value, str):
        return _mend_text(value, pointer, repairs)
    if isinstance(value, list):
        return [_walk(item, f"{pointer}/{index}", repairs) for index, item in enumerate(value)]
    if isinstance(value, dict):
        mended: dict[Any, Any] = {}
        for key, item in value.items():
            # The pointer names the key as it is kept: a pointer holding a NUL could not be kept either.
            where = f"{pointer}/{_escape(_BROKEN.sub(REPLACEMENT, key))}" if isinstance(key, str) else ""
            name = _mend_text(key, where, repairs) if isinstance(key, str) else key
            mended[name] = _walk(item, f"{pointer}/{_escape(name)}", repairs)
        return mended
    return value


def _whole(data: Any) -> bool:
    """No string in ``data`` (keys included) holds a NUL or a lone surrogate: the usual case, told without copying
    anything or naming a pointer."""
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _BROKEN.search(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def mend(data: Any) -> tuple[Any, tuple[Repair, ...]]:
    """``data`` with every lone surrogate replaced (keys included), and the repairs; ``data`` itself when whole."""
    if _whole(data):
        return data, ()
    repairs: list[Repair] = []
    mended = _walk(data, "", repairs)
    return (mended, tuple(repairs)) if repairs else (data, ())
