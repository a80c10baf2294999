"""Literal words and phrases, matched the way people read them, however the text is dressed up or disguised.

Playbooks never use regular expressions: a comms lead writes ``"food poisoning"`` and it matches "Food Poisoning!"
and "food  poisoning" but not "seafood poisoning". House rules and severity rules both match this way, on text
normalised so that what reads the same is the same: ``calm-down``, ``calm_down``, ``CALM DOWN``, full-width
letters, ``ca\u200blm down`` (a zero-width space) and ``c\u0430lm down`` (a Cyrillic a) are all "calm down".
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping

__all__ = ["PhraseSet", "normalise"]

_SPACE = re.compile(r"\s+")
#: ASCII punctuation (Unicode's P categories: -, _, ', ", !, ?, brackets …) reads as a space, as in the full path.
_ASCII_PUNCTUATION = str.maketrans(
    {char: " " for char in map(chr, range(128)) if unicodedata.category(char).startswith("P")}
)


@functools.lru_cache(maxsize=1024)
def normalise(text: str) -> str:
    """Text as phrases are matched on (see :func:`normalise_unicode`), with a quick path for plain ASCII.
    Remembered a while: one mention's text is matched against every playbook's phrases and house rules."""
    if text.isascii():  # most mentions and replies: nothing to fold but case and punctuation, and far quicker
        return _SPACE.sub(" ", text.translate(_ASCII_PUNCTUATION).lower()).strip()
    return normalise_unicode(text)


@functools.cache
def _latin_lookalikes() -> Mapping[str, str]:
    """Letters of other scripts that Unicode's confusables.txt says look like one plain Latin letter (Cyrillic
    ``\u0430`` is ``a``, Greek ``\u03bf`` is ``o``), read from the maintained table on first use. Only letters
    that look like letters: a digit is never read as a letter (``1njury`` is not ``injury``), nor a letter as a
    digit."""
    from confusable_homoglyphs.confusables import confusables_data  # noqa: PLC0415 - 900 KB of data: load on use

    found: dict[str, str] = {}
    for char, glyphs in confusables_data.items():
        if len(char) != 1 or char.isascii() or not char.isalpha():
            continue
        latin = [glyph["c"] for glyph in glyphs if len(glyph["c"]) == 1 and glyph["c"].isascii()]
        letters = [glyph for glyph in latin if glyph.isalpha()]
        if letters:
            found[char] = letters[0].lower()
    return found


def normalise_unicode(text: str) -> str:
    """Text as phrases are matched on: compatibility forms made plain (NFKC: full-width and mathematical letters),
    case folded, accents removed, invisible format characters (zero-width spaces and joiners, soft hyphens)
    removed, letters of other scripts that look like Latin ones folded to them, punctuation read as a space, and
    runs of white space made one space."""
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    lookalikes = _latin_lookalikes()
    kept: list[str] = []
    for char in folded:
        kind = unicodedata.category(char)
        if kind == "Cf" or unicodedata.combining(char):
            continue
        if kind.startswith("P"):
            kept.append(" ")
        else:
            kept.append(lookalikes.get(char, char))
    return _SPACE.sub(" ", "".join(kept)).strip()


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
