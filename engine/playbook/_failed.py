"""What a reader gives instead of a value it could not make: every problem it found, as data.

The same family as :class:`~engine.playbook.LoadResult`: problems are values, never exceptions. A reader returns
``T | Failed[P]``, and its caller tells the two apart with ``isinstance(result, Failed)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

__all__ = ["Failed"]

P_co = TypeVar("P_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Failed(Generic[P_co]):
    """No value: ``problems`` says why, in the order they were found (never empty)."""

    problems: tuple[P_co, ...]
