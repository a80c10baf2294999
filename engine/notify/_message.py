"""What a notification says: what happened, to which incident, under which playbook rule, how much time is left or
how late it is, and what the reader is expected to do next; as plain text, HTML, Slack blocks and JSON."""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.incident import ClockId, ClockKind, Incident, Rulebook
from engine.playbook import format_duration
from engine.service import Zone, clock_time, clock_zone_name, draft_texts, shorten, zone
from engine.store import IncidentRow

__all__ = ["Message", "compose"]

_KIND_WORDS = {"warning": "Warning", "breach": "Breach", "escalation": "Escalation"}
_EVENT_TITLES = {
    "opened": "Opened",
    "entered": "Now {state}",
    "severity_raised": "Now {severity}",
    "reopened": "Reopened",
    "follow_up": "The customer wrote again",
    "breach": "Breach of {clock}",
    "surge": "Surge of mentions",
}
_EVENT_WORDS = {
    "opened": "{incident} has opened",
    "entered": "{incident} has moved to {state}",
    "severity_raised": "{incident} has risen to severity {severity}",
    "reopened": "{incident} has been reopened into {state}",
    "follow_up": "The customer wrote again on {incident}",
    "breach": "{clock_words} of {incident} has run out",
    "surge": "Mentions of {incident} are surging",
}


def _title(kind: str, repetition: int) -> str:
    """``Warning``, ``Breach``, ``Escalation``, or ``Repeat escalation (2)`` for a step's second repeat."""
    word = _KIND_WORDS.get(kind, kind.capitalize())
    return f"Repeat {word.lower()} ({repetition})" if repetition else word


@dataclass(frozen=True, slots=True)
class Message:
    key: str
    subject: str
    lines: tuple[str, ...]
    link: str | None
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        body = "\n".join(self.lines)
        return f"{body}\n\n{self.link}\n" if self.link else body + "\n"

    @property
    def html(self) -> str:
        items = "".join(f"<p>{html.escape(line)}</p>" for line in self.lines)
        link = (
            f'<p><a href="{html.escape(self.link)}">Open {html.escape(self.data["incident"])}</a></p>'
            if self.link
            else ""
        )
        return f"<html><body><h3>{html.escape(self.subject)}</h3>{items}{link}</body></html>"


def _clock_words(clock: str) -> str:
    named = ClockId.parse(clock)
    if named.kind is ClockKind.LIMIT:
        return f"the time limit for {named.name}"
    return f"the {named.name.replace('_', ' ')} target"


def _timing(due_at: datetime, now: datetime, where: Zone) -> str:
    """How much time is left, or how late it is, and the due time on the clock the team keeps (its calendar's)."""
    delta = due_at - now
    when = clock_time(due_at, where, now)
    if delta.total_seconds() > 0:
        return f"{format_duration(delta)} left (due {when})"
    if delta.total_seconds() == 0:
        return f"due now ({when})"
    return f"{format_duration(-delta)} overdue (it was due {when})"


def _next_steps(book: Rulebook, state: str, final: bool) -> str:
    if final:
        return "Next: nothing; the incident is closed."
    options = [
        f"{transition.trigger} ({', '.join(transition.by)})"
        for transition in book.playbook.transitions
        if state in transition.sources
    ]
    return "Next: " + "; ".join(options) + "." if options else "Next: see the playbook."


def _post_lines(latest: Mapping[str, Any] | None, incident: Incident | None) -> list[str]:
    """The customer's latest post, shortened, with its link; then what the team drafted (a reply awaiting
    approval, an offer), so the reader can judge without opening anything."""
    lines = []
    if latest is not None:
        author = latest.get("author") or {}
        who = str(author.get("handle") or "someone")
        if author.get("followers"):
            who += f" ({int(author['followers']):,} followers)"
        lines.append(f'Latest post, by {who} on {latest["channel"]}: "{shorten(str(latest.get("text", "")))}"')
        if latest.get("url"):
            lines.append(f"Post: {latest['url']}")
    if incident is not None:
        for name, text in draft_texts(incident.facts).items():
            lines.append(f'{name.replace("_", " ").capitalize()} on record: "{shorten(text)}"')
    return lines


def compose(
    body: Mapping[str, Any],
    row: IncidentRow | None,
    book: Rulebook,
    now: datetime,
    link: str | None,
    *,
    latest: Mapping[str, Any] | None = None,
) -> Message:
    """The message for one outbox notification, as things stand ``now`` (the incident may have moved on).

    ``latest`` is the incident's most recent post (:func:`engine.service._posts.latest_post`), quoted shortened."""
    if body.get("event") is not None:
        return _compose_event(body, row, book, link, latest=latest)
    incident_id = str(body["incident"])
    kind = str(body["kind"])
    clock = str(body["clock"])
    due_at = datetime.fromisoformat(str(body["due_at"]))
    step = int(body["step"])
    threshold = float(body["threshold"])
    playbook = book.playbook
    # A time on a calendar says what it counts (2bd is 18h of the office's open time): the due time alone, on
    # the wall clock, would read as a mistake across a night or a weekend.
    counted = book.limit_words(clock, str(body["severity"])) or "the time"
    rule = (
        f"escalation step {step + 1} of {playbook.id} v{playbook.version} (at {threshold:.0%} of {counted})"
        if step >= 0
        else f"{playbook.id} v{playbook.version}, the time is up"
    )
    description = playbook.escalation[step].description if 0 <= step < len(playbook.escalation) else None
    incident = row.incident if row is not None else None
    state = incident.state if incident is not None else str(body["state"])
    severity = incident.severity if incident is not None else str(body["severity"])
    # The title says what the notification is, however late it goes out; the first line says how things stand now
    # (a warning sent after a clock jump or an outage says the time has run out).
    standing = "breach" if kind == "warning" and now >= due_at else kind
    what = {
        "warning": f"{_clock_words(clock).capitalize()} of {incident_id} is running out",
        "breach": f"{_clock_words(clock).capitalize()} of {incident_id} has run out",
        "escalation": f"{_clock_words(clock).capitalize()} of {incident_id} ran out long ago",
    }.get(standing, f"{clock} of {incident_id}")
    about = f"{severity} {playbook.id.replace('-', ' ')} incident"
    if incident is not None:
        about += f" on {incident.channel} by {incident.author}, now {state}"
    lines = [
        f"{what}: {_timing(due_at, now, zone(clock_zone_name(playbook, clock, severity)))}.",
        f"It is a {about}.",
        f"Rule: {rule}; notifying {', '.join(body['roles'])}." + (f" {description}" if description else ""),
        *_post_lines(latest, incident),
        _next_steps(book, state, row.final if row is not None else False),
    ]
    repetition = int(body.get("repetition", 0))
    if repetition:
        lines.insert(1, f"Reminder {repetition}: nobody has acted since the last one.")
    subject = f"[calmly] {_title(kind, repetition)}: {incident_id} {clock} ({severity})"
    return Message(str(body["key"]), subject, tuple(lines), link, _data(body, incident, state, severity, link, latest))


def _data(  # noqa: PLR0917
    body: Mapping[str, Any],
    incident: Incident | None,
    state: str,
    severity: str,
    link: str | None,
    latest: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What a receiver gets as JSON: the outbox body, with how the incident stands now and what it quotes."""
    data = {**dict(body), "state": state, "severity": severity, "link": link}
    if latest is not None:
        data["latest_post"] = {**dict(latest), "text": shorten(str(latest.get("text", "")))}
    if incident is not None:
        data["drafts"] = draft_texts(incident.facts)
    return data


def _compose_event(
    body: Mapping[str, Any],
    row: IncidentRow | None,
    book: Rulebook,
    link: str | None,
    *,
    latest: Mapping[str, Any] | None,
) -> Message:
    """The message for an event a ``notify_on`` rule tells of: what happened, told from the moment it did (the
    state and level in the body), then how the incident stands now."""
    incident_id, event, clock = str(body["incident"]), str(body["event"]), str(body.get("clock") or "")
    playbook = book.playbook
    rule = int(body["step"])
    # A surge is told by its own rule (surges[N]); every other event by a notify_on rule.
    section, rules = ("surges", playbook.surges) if event == "surge" else ("notify_on", playbook.notify_on)
    description = rules[rule].description if 0 <= rule < len(rules) else None
    incident = row.incident if row is not None else None
    state = incident.state if incident is not None else str(body["state"])
    severity = incident.severity if incident is not None else str(body["severity"])
    named = {
        "incident": incident_id,
        "state": str(body["state"]),
        "severity": str(body["severity"]),
        "clock": clock,
        "clock_words": _clock_words(clock).capitalize() if clock else "",
    }
    about = f"{severity} {playbook.id.replace('-', ' ')} incident"
    if incident is not None:
        about += f" on {incident.channel} by {incident.author}, now {state}"
    lines = [
        _EVENT_WORDS.get(event, "{incident}: " + event).format(**named) + ".",
        f"It is a {about}.",
        f"Rule: {section}[{rule}] of {playbook.id} v{playbook.version} ({event}); notifying "
        f"{', '.join(body['roles'])}." + (f" {description}" if description else ""),
        *_post_lines(latest, incident),
        _next_steps(book, state, row.final if row is not None else False),
    ]
    title = _EVENT_TITLES.get(event, event.capitalize()).format(**named)
    subject = f"[calmly] {title}: {incident_id} ({named['severity']})"
    return Message(str(body["key"]), subject, tuple(lines), link, _data(body, incident, state, severity, link, latest))
