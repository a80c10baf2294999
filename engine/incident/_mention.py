"""Mentions: what listening tools report, checked against schemas/mention.schema.json and made typed."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jsonschema import Draft202012Validator

from engine.playbook import dotted, shipped_schema

__all__ = ["Author", "Engagement", "Mention", "MentionError", "mention_schema", "parse_mention"]


@dataclass(frozen=True, slots=True)
class Author:
    handle: str
    followers: int = 0


@dataclass(frozen=True, slots=True)
class Engagement:
    likes: int = 0
    shares: int = 0
    replies: int = 0


@dataclass(frozen=True, slots=True)
class Mention:
    channel: str
    external_id: str
    text: str
    posted_at: datetime
    author: Author
    engagement: Engagement = Engagement()
    url: str | None = None
    thread_id: str | None = None
    customer_id: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The dedupe key: an external id is unique per channel."""
        return self.channel, self.external_id


@dataclass(frozen=True, slots=True)
class MentionError:
    """One reason a mention was refused, with a JSON pointer to the field."""

    pointer: str
    message: str


def mention_schema() -> Mapping[str, Any]:
    return shipped_schema("mention")


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(mention_schema())


def _pointer(path: tuple[str | int, ...]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def parse_mention(data: Any) -> Mention | list[MentionError]:
    """A typed mention, or every reason the data is not one."""
    errors = []
    for error in sorted(_validator().iter_errors(data), key=lambda item: list(map(str, item.absolute_path))):
        path = tuple(error.absolute_path)
        where = dotted(path) if path else "the mention"
        errors.append(MentionError(_pointer(path), f"{where}: {error.message}"))
    if errors:
        return errors
    try:
        posted_at = datetime.fromisoformat(data["posted_at"].replace("z", "Z"))
    except ValueError:
        return [MentionError("/posted_at", f"posted_at: {data['posted_at']!r} is not a valid date and time")]
    author = data["author"]
    engagement = data.get("engagement", {})
    return Mention(
        channel=data["channel"],
        external_id=data["external_id"],
        text=data["text"],
        posted_at=posted_at,
        author=Author(author["handle"], author.get("followers", 0)),
        engagement=Engagement(engagement.get("likes", 0), engagement.get("shares", 0), engagement.get("replies", 0)),
        url=data.get("url"),
        thread_id=data.get("thread_id"),
        customer_id=data.get("customer_id"),
    )
