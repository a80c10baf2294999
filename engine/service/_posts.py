"""The customer's posts as people read them: the words, the author, the link, when it was posted, the engagement.

A stored mention is kept as the listening tool sent it; this turns it into one JSON-ready shape for the API, the
terminal and notifications, and shortens it for a notification (a post can be long; a page should not be).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from engine.incident import offer_text, parse_mention
from engine.playbook import Failed
from engine.store import MentionBody

__all__ = ["NOTICE_LENGTH", "draft_texts", "latest_post", "post_view", "shorten"]

#: How much of a post a notification quotes: about a tweet's worth, which reads whole on a phone's lock screen.
NOTICE_LENGTH = 280

_SPACES = re.compile(r"\s+")


def post_view(record: MentionBody) -> dict[str, Any]:
    """One mention in full: ``channel``, ``external_id``, ``text``, ``author`` {handle, followers}, ``url``,
    ``posted_at``, ``engagement`` {likes, shares, replies}, ``thread_id``, the listening tool that sent it
    (``source``), and when and how it came in."""
    parsed = parse_mention(dict(record.body))
    view: dict[str, Any] = {"channel": record.channel, "external_id": record.external_id}
    if isinstance(parsed, Failed):  # kept before a schema change: show what it says, as sent
        body = record.body
        found = body.get("author")
        author: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
        view |= {
            "text": str(body.get("text", "")),
            "author": {"handle": str(author.get("handle", "")), "followers": author.get("followers", 0)},
            "url": body.get("url"),
            "posted_at": body.get("posted_at"),
            "engagement": dict(body.get("engagement") or {}),
            "thread_id": body.get("thread_id"),
            "source": body.get("source"),
        }
    else:
        view |= {
            "text": parsed.text,
            "author": {"handle": parsed.author.handle, "followers": parsed.author.followers},
            "url": parsed.url,
            "posted_at": parsed.posted_at.isoformat(),
            "engagement": {
                "likes": parsed.engagement.likes,
                "shares": parsed.engagement.shares,
                "replies": parsed.engagement.replies,
            },
            "thread_id": parsed.thread_id,
            "source": parsed.source,
            # What calmly mended to keep the post (a cut emoji), so nobody takes a U+FFFD for the customer's own.
            **({"repairs": [repair.as_json() for repair in parsed.repairs]} if parsed.repairs else {}),
        }
    return view | {"outcome": record.outcome, "received_at": record.received_at.isoformat()}


def latest_post(records: Sequence[MentionBody]) -> dict[str, Any] | None:
    """The most recently posted of an incident's mentions (the last to come, among equals), as :func:`post_view`."""
    views = [post_view(record) for record in records]
    if not views:
        return None

    def posted(item: tuple[int, dict[str, Any]]) -> tuple[datetime, int]:
        index, view = item
        try:
            return datetime.fromisoformat(str(view["posted_at"]).replace("Z", "+00:00")), index
        except ValueError:
            return records[index].received_at, index

    return max(enumerate(views), key=posted)[1]


def shorten(text: str, limit: int = NOTICE_LENGTH) -> str:
    """``text`` on one line, cut at a word near ``limit`` characters with an ellipsis when it is longer."""
    flat = _SPACES.sub(" ", text).strip()
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 2 // 3:  # a word boundary not too far back; otherwise cut mid-word
        cut = cut[:space]
    return cut.rstrip(" ,.;:-") + "…"


def draft_texts(facts: Mapping[str, Any]) -> dict[str, str]:
    """What people wrote into an incident's fields that others must read: a drafted public reply (awaiting
    approval, say), an offer, an outcome, a note; keyed by the field's name."""
    found: dict[str, str] = {}
    for name, value in facts.items():
        if name == "offer" and not isinstance(value, str):  # an offer from the catalogue: its kind, amount, note
            found[name] = offer_text(value)
        elif isinstance(value, Mapping) and isinstance(value.get("text"), str):
            channel = f" (on {value['channel']})" if value.get("channel") else ""
            found[name] = f"{value['text']}{channel}"
        elif isinstance(value, str) and name != "severity":
            found[name] = value
    return found
