"""Channels and handles as people mean them: one name per platform, and one author however a tool spells them.

Listening tools disagree on spelling. One says ``x``, another ``twitter``; one sends ``@Zed``, another ``zed``. Both
are one channel and one author, so mentions from either join the same incident. The channel names listed here are
the only aliases; everything that compares channels (mentions, playbooks' ``applies_to``, public replies) goes
through :func:`canonical_channel`.
"""

from __future__ import annotations

from types import MappingProxyType

__all__ = ["CHANNEL_ALIASES", "canonical_channel", "handle_key"]

#: Other names a listening tool may use for a channel, and the name calmly keeps. ``twitter`` stays the name
#: because shipped playbooks, examples and stored incidents already use it; ``x`` is the platform's newer name.
CHANNEL_ALIASES = MappingProxyType({"x": "twitter"})

#: Channels whose "handle" is a name a website shows rather than a platform account, where calmly cannot know
#: whether case matters: only the same spelling is the same author there. On every other channel (the social
#: platforms, review sites and email) handles and addresses are case-insensitive.
_CASE_KEPT = frozenset({"forum", "blog", "news", "web_chat"})


def canonical_channel(name: str) -> str:
    """The name calmly keeps for a channel: ``x`` is ``twitter``; any other name is itself."""
    return CHANNEL_ALIASES.get(name, name)


def handle_key(channel: str, handle: str) -> str:
    """The author's identity on a channel, for joining: no leading ``@``, no surrounding space, and case folded
    where the platform ignores case (``@Zed`` and ``zed`` are one account on X, Instagram, TikTok and the like)."""
    key = handle.strip()
    key = key.lstrip("@").strip() or key  # "@" alone stays itself rather than becoming nobody
    return key if canonical_channel(channel) in _CASE_KEPT else key.casefold()
