"""Incidents as ``calmly incidents show`` prints them: the API's JSON answer turned into lines a person reads.

The customer's own words come first after the headline, then what the team has drafted, the clocks, what can be
done now and the history. Nothing here decides anything; it only reads the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from engine.service import clock_time, due_phrase, since_phrase, zone

__all__ = ["answer_now", "incident_lines", "list_rows", "post_lines"]


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def answer_now(answer: Mapping[str, Any]) -> datetime:
    """The daemon's "now" from its answer (it may run on a simulated clock), else this machine's clock."""
    stamp = answer.get("now")
    return _moment(str(stamp)) if stamp else datetime.now(UTC)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def post_lines(post: Mapping[str, Any], now: datetime, indent: str = "    ") -> list[str]:
    """One mention: who, where, when and how far it went, then its words and its link."""
    author = post.get("author") or {}
    followers = author.get("followers")
    who = str(author.get("handle") or "someone")
    if followers:
        who += f" ({_plural(int(followers), 'follower')})"
    head = f"{who} on {post['channel']}"
    if post.get("posted_at"):
        head += f", posted {since_phrase(_moment(str(post['posted_at'])), now)}"
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
    """Every line of ``calmly incidents show`` in text, times read against the daemon's "now"."""
    now = answer_now(found)
    lines = [
        f"{found['id']}  {found['playbook']} v{found['playbook_version']}  version {found['version']}",
        f"  state     {found['state']}  severity {found['severity']}  on {found['channel']} by {found['author']}",
    ]
    mentions = found.get("mentions") or []
    if mentions:
        lines.append(f"  {'mention' if len(mentions) == 1 else 'mentions'}")
        for post in mentions:
            lines += post_lines(post, now)
    drafts = found.get("drafts") or {}
    if drafts:
        lines.append("  fields")
        width = max(len(name) for name in drafts)
        lines += [f"    {name:<{width}}  {text}" for name, text in drafts.items()]
    for clock in found["clocks"]:
        flag = "  BREACHED" if clock["breached"] else ""
        due = due_phrase(_moment(clock["due_at"]), now, zone(clock.get("timezone")))
        lines.append(f"  clock     {clock['name']}: {due}{flag}")
    for action in found["actions"]:
        needs = f" requires {', '.join(action['requires'])}" if action["requires"] else ""
        lines.append(f"  can do    {action['trigger']} -> {action['to']} (by {', '.join(action['by'])}){needs}")
    lines.append("  history")
    for entry in found["history"]:
        by = f" by {entry['actor']}" if entry.get("actor") else ""
        when = clock_time(_moment(entry["at"]), zone("UTC"), now)
        lines.append(f"    {when:<9}  {entry['kind']:<14} {entry['summary']}{by}")
    return lines


def list_rows(page: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The table of ``calmly incidents list``: a header, then a row an incident, times against the daemon's now."""
    now = answer_now(page)
    rows: list[tuple[str, ...]] = [
        ("ID", "STATE", "SEVERITY", "PLAYBOOK", "BREACHED", "WAITING ON", "NEXT DUE", "OPENED")
    ]
    for item in page["incidents"]:
        upcoming = item.get("next_due")
        due = (
            f"{upcoming['clock']} {due_phrase(_moment(upcoming['due_at']), now, zone(upcoming.get('timezone')))}"
            if upcoming
            else "-"
        )
        rows.append(
            (
                item["id"],
                item["state"],
                item["severity"],
                item["playbook"],
                ",".join(item["breached"]) or "-",
                ",".join(item["waiting_on"]) or "-",
                due,
                since_phrase(_moment(item["opened_at"]), now),
            )
        )
    return rows
