"""Incidents as ``calmly incidents show`` prints them: the API's JSON answer turned into lines a person reads.

The customer's own words come first after the headline, then what the team has drafted, the clocks, what can be
done now and the history. Nothing here decides anything; it only reads the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["incident_lines", "post_lines"]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def post_lines(post: Mapping[str, Any], indent: str = "    ") -> list[str]:
    """One mention: who, where, when and how far it went, then its words and its link."""
    author = post.get("author") or {}
    followers = author.get("followers")
    who = str(author.get("handle") or "someone")
    if followers:
        who += f" ({_plural(int(followers), 'follower')})"
    head = f"{who} on {post['channel']}"
    if post.get("posted_at"):
        head += f", posted {post['posted_at']}"
    engagement = post.get("engagement") or {}
    reach = [
        _plural(int(engagement[key]), word)
        for key, word in (("likes", "like"), ("shares", "share"), ("replies", "reply"))
        if engagement.get(key)
    ]
    if reach:
        head += f"; {', '.join(reach)}"
    lines = [f"{indent}{head}"]
    if "text" in post:
        lines.append(f'{indent}  "{post["text"]}"')
    if post.get("url"):
        lines.append(f"{indent}  {post['url']}")
    return lines


def incident_lines(found: Mapping[str, Any]) -> list[str]:
    """Every line of ``calmly incidents show`` in text."""
    lines = [
        f"{found['id']}  {found['playbook']} v{found['playbook_version']}  version {found['version']}",
        f"  state     {found['state']}  severity {found['severity']}  on {found['channel']} by {found['author']}",
    ]
    mentions = found.get("mentions") or []
    if mentions:
        lines.append(f"  {'mention' if len(mentions) == 1 else 'mentions'}")
        for post in mentions:
            lines += post_lines(post)
    drafts = found.get("drafts") or {}
    if drafts:
        lines.append("  fields")
        width = max(len(name) for name in drafts)
        lines += [f"    {name:<{width}}  {text}" for name, text in drafts.items()]
    for clock in found["clocks"]:
        flag = "  BREACHED" if clock["breached"] else ""
        lines.append(f"  clock     {clock['name']}: due {clock['due_at']}{flag}")
    for action in found["actions"]:
        needs = f" requires {', '.join(action['requires'])}" if action["requires"] else ""
        lines.append(f"  can do    {action['trigger']} -> {action['to']} (by {', '.join(action['by'])}){needs}")
    lines.append("  history")
    for entry in found["history"]:
        by = f" by {entry['actor']}" if entry.get("actor") else ""
        lines.append(f"    {entry['at'][:19].replace('T', ' ')}  {entry['kind']:<14} {entry['summary']}{by}")
    return lines
