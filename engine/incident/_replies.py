"""The playbook's replies for an action, filled in for one incident, and how a reply is compared with approved words.

Word for word means the same words in the same order: letters, case, digits and punctuation exactly as written.
Whitespace is not a word: the text is split at any run of spaces, tabs or line breaks, so a reply re-wrapped onto
other lines, or with a trailing space, is still the same reply. A reply's digest is taken over its words joined by
single spaces, so it names the words and not their layout.
"""

from __future__ import annotations

import hashlib
import string
from typing import NamedTuple

from engine.incident._offers import offer_text
from engine.incident._record import Incident
from engine.incident._rulebook import Rulebook

__all__ = ["Difference", "difference", "fill_reply", "filled_replies", "reply_digest", "words"]


def fill_reply(template: str, incident: Incident) -> str:
    """A template with the placeholders calmly fills ({author}, {channel}, ...) filled; others kept as written."""
    known = {
        "author": incident.author,
        "channel": incident.channel,
        "incident_id": incident.id,
        "severity": incident.severity,
        "playbook": incident.playbook,
        "offer": offer_text(incident.facts["offer"]) if "offer" in incident.facts else "{offer}",
        "contact_route": str(incident.facts.get("contact_route", "{contact_route}")),
    }
    out: list[str] = []
    for literal, field, _, _ in string.Formatter().parse(template):
        out.append(literal)
        if field is not None:
            out.append(known.get(field, "{" + field + "}"))
    return "".join(out)


def filled_replies(incident: Incident, trigger: str, book: Rulebook) -> tuple[str, ...]:
    """The playbook's replies for ``trigger``, filled in for ``incident``, in the playbook's order."""
    return tuple(fill_reply(text, incident) for text in book.playbook.responses.get(trigger, ()))


def words(text: str) -> list[str]:
    return text.split()


def reply_digest(text: str) -> str:
    """``sha256:…`` of the reply's words: the same for any layout of the same words."""
    return "sha256:" + hashlib.sha256(" ".join(words(text)).encode("utf-8")).hexdigest()


class Difference(NamedTuple):
    """Where a reply first leaves the approved words: the word's number (from 1) and the two words there (None
    where one text has ended)."""

    position: int
    given: str | None
    expected: str | None

    def describe(self) -> str:
        if self.given is None:
            return f"it stops before word {self.position} ({self.expected!r})"
        if self.expected is None:
            return f"it goes on past the approved text's end, from word {self.position} ({self.given!r})"
        return f"word {self.position} is {self.given!r} where the approved text has {self.expected!r}"


def difference(given: str, expected: str) -> Difference | None:
    """None when ``given`` has the same words as ``expected``; else where they first differ."""
    mine, theirs = words(given), words(expected)
    for position, (one, other) in enumerate(zip(mine, theirs, strict=False), start=1):
        if one != other:
            return Difference(position, one, other)
    if len(mine) == len(theirs):
        return None
    shorter = min(len(mine), len(theirs))
    return Difference(
        shorter + 1,
        mine[shorter] if len(mine) > shorter else None,
        theirs[shorter] if len(theirs) > shorter else None,
    )
