"""What the daemon's commands print: answers turned into lines a person reads, aligned tables, and JSON for scripts.

Each function returns text and prints nothing, so a command only chooses what to show. In ``calmly incidents
show`` the customer's own words come first after the headline, then what the team has drafted, the clocks, what
can be done now and the history. Nothing here decides anything; it only reads the answer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.incident import money
from engine.playbook import format_duration
from engine.service import clock_time, due_phrase, since_phrase, zone

if TYPE_CHECKING:
    from engine.store import Delivery

__all__ = [
    "act_lines",
    "answer_now",
    "deliveries_json",
    "delivery_lines",
    "incident_lines",
    "ingest_lines",
    "json_text",
    "list_rows",
    "page_lines",
    "post_lines",
    "table_lines",
]


def json_text(value: Any) -> str:
    """JSON for scripts, as every ``--format json`` prints it."""
    return json.dumps(value, indent=2)


def table_lines(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows (the first one a header) in columns two spaces apart, as wide as their widest cell."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def answer_now(answer: Mapping[str, Any]) -> datetime:
    """The daemon's "now" from its answer (it may run on a simulated clock), else this machine's clock."""
    stamp = answer.get("now")
    return _moment(str(stamp)) if stamp else datetime.now(UTC)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _revision(incident: Mapping[str, Any]) -> Any:
    """The incident's revision (a daemon before the rename answers only ``version``)."""
    return incident.get("revision", incident.get("version"))


def post_lines(post: Mapping[str, Any], now: datetime, indent: str = "    ") -> list[str]:
    """One mention: who, where, when and how far it went, then its words and its link."""
    author = post.get("author") or {}
    followers = author.get("followers")
    who = str(author.get("handle") or "someone")
    if followers:
        who += f" ({_plural(int(followers), 'follower')})"
    head = f"{who} on {post['channel']}"
    if post.get("source"):
        head += f" (via {post['source']})"
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
    for repair in post.get("repairs") or []:
        lines.append(f"{indent}  (mended: {repair['what']}, in {repair['pointer'].lstrip('/') or 'the post'})")
    return lines


def _customer(found: Mapping[str, Any]) -> str:
    """Who the customer is, when a mention said: what guards and the direct contact route read."""
    customer = found.get("customer_id")
    if not customer:
        return "not known (no mention carried a customer_id)"
    segment = found.get("customer_segment")
    return f"{customer} (segment {segment})" if segment else str(customer)


def _guard(guard: Mapping[str, Any]) -> str:
    """An action's guard as people read it: ``severity high or critical, customer known``."""
    parts = []
    if guard.get("severities"):
        parts.append("severity " + " or ".join(guard["severities"]))
    if guard.get("channels"):
        parts.append("on " + " or ".join(guard["channels"]))
    if guard.get("customer"):
        parts.append(f"customer {guard['customer']}")
    if guard.get("customer_segments_any"):
        parts.append("segment " + " or ".join(guard["customer_segments_any"]))
    return ", ".join(parts)


def incident_lines(found: Mapping[str, Any]) -> list[str]:
    """Every line of ``calmly incidents show`` in text, times read against the daemon's "now"."""
    now = answer_now(found)
    lines = [
        f"{found['id']}  {found['playbook']} v{found['playbook_version']}  revision {_revision(found)}",
        f"  state     {found['state']}  severity {found['severity']}  on {found['channel']} by {found['author']}",
        f"  owner     {found.get('owner') or 'nobody (calmly incidents take ' + str(found['id']) + ')'}",
        f"  customer  {_customer(found)}",
    ]
    mentions = found.get("mentions") or []
    if mentions:
        lines.append(f"  {'mention' if len(mentions) == 1 else 'mentions'}")
        for post in mentions:
            lines += post_lines(post, now)
    for link in found.get("links") or []:
        lines.append(f"  linked    {link['incident']} ({str(link['relation']).replace('_', ' ')})")
    drafts = found.get("drafts") or {}
    if drafts:
        lines.append("  fields")
        width = max(len(name) for name in drafts)
        lines += [f"    {name:<{width}}  {text}" for name, text in drafts.items()]
    approval = found.get("approval")
    if approval:
        decided = f" by {approval['decided_by']}" if approval.get("decided_by") else ""
        note = f": {approval['note']}" if approval.get("note") else ""
        stage = f"{approval['stage']}{decided}{note}"
        lines.append(f"  approval  {approval['action']}: {stage} (drafted by {approval['drafted_by']})")
        lines.append(f"    {approval['text']}")
    for clock in found["clocks"]:
        flag = "  BREACHED" if clock["breached"] else ""
        lines.append(f"  clock     {clock['name']}: {_clock_words(clock, now)}{flag}")
    for promise in found.get("promises") or []:
        lines.append(f"  promise   {_promise_line(promise, now)}")
    for action in found["actions"]:
        needs = f" requires {', '.join(action['requires'])}" if action["requires"] else ""
        if action.get("approval"):
            needs += f", approved by {' or '.join(action['approval']['by'])}"
        when = f" when {_guard(action['when'])}" if action.get("when") else ""
        lines.append(f"  can do    {action['trigger']} -> {action['to']} (by {', '.join(action['by'])}){needs}{when}")
        lines += [
            f"              reason {entry['reason']}: by {', '.join(entry['by'])}"
            for entry in action.get("reasons") or []
            if entry["by"] != action["by"]
        ]
    lines.append("  history")
    for entry in found["history"]:
        by = f" by {entry['actor']}" if entry.get("actor") else ""
        when = clock_time(_moment(entry["at"]), zone("UTC"), now)
        lines.append(f"    {when:<9}  {entry['kind']:<14} {entry['summary']}{by}")
    return lines


def _clock_words(clock: Mapping[str, Any], now: datetime) -> str:
    """``due in 3h (13:00 UTC)``, or for a clock standing still ``paused since 10:00 UTC: 1h used, 23h left``."""
    if not clock.get("paused"):
        return due_phrase(_moment(clock["due_at"]), now, zone(clock.get("timezone")))
    since = clock_time(_moment(clock["paused_at"]), zone(clock.get("timezone")), now)
    used = format_duration(timedelta(seconds=clock["counted_seconds"]))
    left = format_duration(timedelta(seconds=clock["left_seconds"]))
    return f"paused since {since}: {used} used, {left} left"


def _promise_line(promise: Mapping[str, Any], now: datetime) -> str:
    """``refund-1: refund of 30 GBP, promised by carol, due in 3h``, or how it was kept."""
    amount = promise.get("amount")
    what = promise["kind"] if amount is None else f"{promise['kind']} of {money(amount, promise.get('currency'))}"
    head = f"{promise['id']}: {what}, promised by {promise['promised_by']}"
    if promise["kept"]:
        return f"{head}; kept by {promise['kept_by']}: {promise['kept_note']}"
    flag = "  BREACHED" if promise.get("breached") else ""
    return f"{head}, {due_phrase(_moment(promise['due_at']), now, zone(promise.get('timezone')))}{flag}"


def list_rows(page: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The table of ``calmly incidents list``: a header, then a row an incident, times against the daemon's now."""
    now = answer_now(page)
    rows: list[tuple[str, ...]] = [
        ("ID", "STATE", "SEVERITY", "PLAYBOOK", "OWNER", "BREACHED", "WAITING ON", "NEXT DUE", "OPENED")
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
                item.get("owner") or "-",
                ",".join(item["breached"]) or "-",
                ",".join(item["waiting_on"]) or "-",
                due,
                since_phrase(_moment(item["opened_at"]), now),
            )
        )
    return rows


def page_lines(page: Mapping[str, Any]) -> list[str]:
    """``calmly incidents list`` in text: the table, then how to ask for the next page when there is one."""
    lines = table_lines(list_rows(page))
    if page.get("next"):
        lines.append(f"more: --after {page['next']}")
    return lines


def act_lines(done: Mapping[str, Any]) -> list[str]:
    """``calmly incidents act`` in text: where the incident is now, then what the action recorded."""
    incident = done["incident"]
    owner = f", owner {incident['owner']}" if incident.get("owner") else ""
    lines = [f"{incident['id']}: {incident['state']} (revision {_revision(incident)}{owner})"]
    lines += [f"  {entry['kind']}: {entry['summary']}" for entry in done["history"]]
    if not done["history"]:
        lines.append("  nothing to change: it was so already")
    return lines


def ingest_lines(name: str, results: Sequence[Mapping[str, Any]]) -> list[str]:
    """``calmly ingest`` in text: what became of each line of the file ``name``, then the tally."""
    tally: dict[str, int] = {}
    lines: list[str] = []
    for result in results:
        tally[result["status"]] = tally.get(result["status"], 0) + 1
        where = f" {result['incident']}" if result.get("incident") else ""
        lines.append(f"{name}:{result['line']}: {result['status']}{where}")
    summary = ", ".join(f"{count} {status}" for status, count in sorted(tally.items()))
    lines.append(f"{len(results)} mention{'s' if len(results) != 1 else ''}: {summary or 'none'}")
    return lines


def deliveries_json(found: Sequence[Delivery]) -> dict[str, Any]:
    """``calmly outbox list --format json``: every delivery with its attempts and last error."""
    rows = [
        {
            "key": item.outbox_key,
            "destination": item.destination,
            "channel": item.channel,
            "state": item.state,
            "attempts": item.attempts,
            "next_attempt_at": item.next_attempt_at.isoformat(),
            "last_error": item.last_error,
            "incident": item.incident_id,
        }
        for item in found
    ]
    return {"deliveries": rows}


def delivery_lines(state: str, found: Sequence[Delivery]) -> list[str]:
    """``calmly outbox list`` in text: a table of the deliveries in ``state`` (or "all"), or that there are none."""
    if not found:
        return [f"no {state} deliveries" if state != "all" else "no deliveries"]
    table = [("KEY", "DESTINATION", "STATE", "ATTEMPTS", "LAST ERROR")]
    table += [
        (item.outbox_key, item.destination, item.state, str(item.attempts), item.last_error or "-") for item in found
    ]
    return table_lines(table)
