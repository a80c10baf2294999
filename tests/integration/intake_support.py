"""Shared by the daemon's integration tests: a mention as a listening tool sends it. Not a test module."""

from __future__ import annotations

from typing import Any


def mention(
    external_id: str, text: str = "My order arrived broken", handle: str = "@ann", **extra: Any
) -> dict[str, Any]:
    """A valid mention on twitter (an everyday complaint unless ``text`` says otherwise)."""
    return {
        "channel": "twitter",
        "external_id": external_id,
        "text": text,
        "posted_at": "2026-11-23T09:00:00Z",
        "author": {"handle": handle, "followers": 10},
        **extra,
    }
