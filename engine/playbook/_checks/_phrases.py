"""Phrases that match too much: a keyword or a never-say phrase that is a word nearly every post or reply has.

An unquoted comma inside a flow list splits a phrase, so ``keywords_any: [we are sorry, but]`` is two phrases, and
``but`` then matches almost every mention. A phrase that is one such word is nearly always that mistake.
"""

from __future__ import annotations

from collections.abc import Iterator

from engine.playbook._checks._finding import Context, Finding, listed, written_at
from engine.playbook._phrase import normalise
from engine.playbook._problem import Path, dotted, rules

__all__ = ["COMMON_WORDS", "check_common_words"]

#: English words so common that a phrase of one of them matches nearly any post or reply.
COMMON_WORDS = frozenset(
    """a about after all also am an and any are as at be been but by can could did do does for from had has have he
    her him his how i if in into is it its just me my no not of on or our out she so than that the their them then
    there these they this to too us was we were what when which who will with would you your""".split()  # noqa: SIM905 - a list of words reads best as text
)


def _phrase_fields(ctx: Context) -> Iterator[Path]:
    """Where the playbook lists phrases: the conditions' keywords, the house rules' never-say list and the group's
    topics."""
    rules_written = written_at(ctx.data, ("severity", "rules")) or []
    conditions: list[Path] = [
        ("applies_to", "when"),
        *(("severity", "rules", index, "when") for index in range(len(rules_written))),
    ]
    for condition in conditions:
        for key in ("keywords_any", "keywords_all"):
            if written_at(ctx.data, (*condition, key)) is not None:
                yield (*condition, key)
    if written_at(ctx.data, ("house_rules", "never_say")) is not None:
        yield ("house_rules", "never_say")
    for topic in written_at(ctx.data, ("group", "topics")) or {}:
        yield ("group", "topics", topic)


def check_common_words(ctx: Context) -> Iterator[Finding]:
    for field in _phrase_fields(ctx):
        for path, phrase in listed(ctx.data, field):
            if normalise(phrase) in COMMON_WORDS:
                matches = "reply" if field[0] == "house_rules" else "mention"
                yield Finding(
                    rules.COMMON_WORD_PHRASE,
                    path,
                    f"{dotted(path)} is {phrase!r}, a word nearly every {matches} has, so it matches almost "
                    "any; if an unquoted comma split a longer phrase, put the whole phrase in quotes, as in "
                    '["we are sorry, but"]',
                )
