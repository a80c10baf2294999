"""Literal words and phrases, matched the way people read them: ignoring case and accents, on word boundaries.

Playbooks never use regular expressions: a comms lead writes ``"food poisoning"`` and it matches "Food Poisoning!"
and "food  poisoning" but not "seafood poisoning". House rules and severity rules both match this way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

__all__ = ["PhraseSet", "normalise"]

_SPACE = re.compile(r"\s+")
# Phones type typographic quotes and dashes; people mean the plain ones.
_TYPOGRAPHY = str.maketrans(
    {"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"}
)


def normalise(text: str) -> str:
    """Case-folded, accents removed, typographic quotes made plain, runs of white space made one space."""
    if text.isascii():  # most mentions and replies: no accents or typography to undo, and far quicker
        return _SPACE.sub(" ", text.lower()).strip()
    return normalise_unicode(text)


def normalise_unicode(text: str) -> str:
    """:func:`normalise` for any text, without the shortcut for ASCII."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TYPOGRAPHY).casefold())
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _SPACE.sub(" ", stripped).strip()


class PhraseSet:
    """A set of literal phrases compiled once; ``find`` returns the first phrase that occurs in a text."""

    __slots__ = ("_by_key", "_pattern")

    def __init__(self, phrases: Iterable[str]) -> None:
        self._by_key = {normalise(phrase): phrase for phrase in phrases if normalise(phrase)}
        if not self._by_key:
            self._pattern = None
            return
        # Longest first, so that "never again" wins over "never" when both are listed.
        keys = sorted(self._by_key, key=len, reverse=True)
        alternatives = "|".join(re.escape(key) for key in keys)
        self._pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")

    def find(self, text: str) -> str | None:
        """The phrase (as written in the playbook) found in ``text``, or None."""
        if self._pattern is None:
            return None
        match = self._pattern.search(normalise(text))
        if match is None:
            return None
        return self._by_key[match.group(0)]

    def __bool__(self) -> bool:
        return self._pattern is not None
