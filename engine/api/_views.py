"""What the API answers with, as JSON-ready dicts: incidents (shared with the terminal client) and intake results.

An incident's ``revision`` counts the changes it has had: an action names the one it was decided on. ``version``
is its old name, still shown beside it for the scripts that read it; ``playbook_version`` is the playbook's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from engine.incident import Draft, Incident
from engine.service import IncidentDetails, IntakeResult, draft_texts, post_view
from engine.store import Delivery, IncidentRow

__all__ = ["details_view", "draft_view", "intake_view", "notification_views", "promise_views", "summary_view"]


def draft_view(draft: Draft | None) -> dict[str, Any] | None:
    """The draft reply of an action that needs approval, and where it stands; None when there is none."""
    if draft is None:
        return None
    return {
        "action": draft.trigger,
        "stage": draft.stage.value,
        "text": draft.text,
        "channel": draft.channel,
        "digest": draft.digest,
        "drafted_by": draft.drafted_by,
        "drafted_at": draft.drafted_at.isoformat(),
        "decided_by": draft.decided_by,
        "decided_at": None if draft.decided_at is None else draft.decided_at.isoformat(),
        "note": draft.note,
    }


def _next_due(incident: Incident, zones: Mapping[str, str]) -> dict[str, Any] | None:
    """The running clock that runs out first: what the desk must beat next (a clock standing still runs out at no
    time)."""
    running = [clock for clock in incident.clocks if not clock.paused]
    if not running:
        return None
    first = min(running, key=lambda clock: clock.due_at)
    return {"clock": first.name, "due_at": first.due_at.isoformat(), "timezone": zones.get(first.name, "UTC")}


def summary_view(row: IncidentRow, zones: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An incident at a glance; ``zones`` (clock name to time zone) says how its clocks' times read to people."""
    incident = row.incident
    return {
        "id": incident.id,
        "playbook": incident.playbook,
        "playbook_version": incident.playbook_version,
        "state": incident.state,
        "severity": incident.severity,
        "channel": incident.channel,
        "author": incident.author,
        "revision": incident.revision,
        "version": incident.revision,  # deprecated: the old name of revision
        "mention_count": incident.mention_count,
        "final": row.final,
        "breached": sorted(incident.breached),
        "waiting_on": list(row.waiting_on),
        "owner": incident.owner,
        "opened_at": incident.opened_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
        "next_due": _next_due(incident, zones or {}),
    }


def _clocks(
    incident: Incident, zones: Mapping[str, str], paused: Mapping[str, tuple[timedelta, timedelta]]
) -> list[dict[str, Any]]:
    return [
        {
            "name": clock.name,
            "timezone": zones.get(clock.name, "UTC"),
            "started_at": clock.started_at.isoformat(),
            # A clock standing still is due at no time: it reads as the time it has counted and has left instead.
            "due_at": None if clock.paused else clock.due_at.isoformat(),
            "breached": clock.name in incident.breached,
            "next_step_at": None if clock.next is None else clock.next.at.isoformat(),
            "paused": clock.paused,
            **(_standing(clock.paused_at, paused[clock.name]) if clock.paused_at and clock.name in paused else {}),
        }
        for clock in incident.clocks
    ]


def _standing(since: datetime, where: tuple[timedelta, timedelta]) -> dict[str, Any]:
    counted, left = where
    return {
        "paused_at": since.isoformat(),
        "counted_seconds": counted.total_seconds(),
        "left_seconds": max(left, timedelta(0)).total_seconds(),
    }


def promise_views(incident: Incident, zones: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The incident's promise ledger: each offer made, by whom and when, when it is due (and in which time zone
    its clock counts, while it runs), and whether (and how) it was kept."""
    zones = zones or {}
    return [
        {
            "id": promise.id,
            "kind": promise.kind,
            "amount": promise.amount,
            "currency": promise.currency,
            "note": promise.note,
            "contact": promise.contact,
            "promised_by": promise.promised_by,
            "promised_at": promise.promised_at.isoformat(),
            "due_at": promise.due_at.isoformat(),
            "timezone": zones.get(promise.clock, "UTC"),
            "kept": promise.kept,
            "kept_at": None if promise.kept_at is None else promise.kept_at.isoformat(),
            "kept_by": promise.kept_by,
            "kept_note": promise.kept_note,
            "breached": promise.clock in incident.breached,
        }
        for promise in incident.promises
    ]


def _mentions(details: IncidentDetails) -> list[dict[str, Any]]:
    """Each of the incident's mentions with what it says, in the order they came."""
    return [post_view(record) for record in details.mentions]


def _recipient(delivery: Delivery) -> str:
    """Who a delivery went to, as the team reads it: an address, or the channel (a Slack or webhook address is a
    secret of the roster's, never shown)."""
    if delivery.channel == "email":
        return delivery.destination.removeprefix("email:")
    if delivery.channel == "log":
        return f"the daemon's log ({delivery.destination.removeprefix('log:')})"
    return delivery.channel.capitalize() if delivery.channel == "slack" else "a webhook"


def notification_views(deliveries: Sequence[Delivery]) -> list[dict[str, Any]]:
    """Each notification of an incident at each destination: which step, which roles, to whom, and how it went."""
    return [
        {
            "key": delivery.outbox_key,
            "kind": delivery.body.get("kind"),
            "clock": delivery.body.get("clock"),
            "roles": list(delivery.body.get("roles", ())),
            "to": _recipient(delivery),
            "channel": delivery.channel,
            "state": delivery.state,
            "attempts": delivery.attempts,
            "delivered_at": None if delivery.delivered_at is None else delivery.delivered_at.isoformat(),
        }
        for delivery in deliveries
    ]


def details_view(details: IncidentDetails, now: datetime) -> dict[str, Any]:
    """The incident in full, and the daemon's ``now`` (a simulated clock's, when it runs on one): what its
    clients measure "due in" and "ago" against."""
    incident = details.row.incident
    return {
        "now": now.isoformat(),
        **summary_view(details.row, details.zones),
        "playbook_digest": incident.playbook_digest,
        "thread_id": incident.thread_id,
        # Known from the first of its mentions that carried a customer_id; guards and the direct route read it.
        "customer_id": incident.customer_id,
        "customer_segment": incident.customer_segment,
        "mentions": _mentions(details),
        # Incidents opened for a follow-up that matched a higher-priority playbook, and the one it followed.
        "links": [{"incident": linked, "relation": relation} for linked, relation in incident.links],
        # The group its playbook gathers mentions about one event into, and the surge rules that fired for it.
        "group": incident.group,
        "surged": list(incident.surged),
        "facts": dict(incident.facts),
        "drafts": draft_texts(incident.facts),
        "approval": draft_view(incident.draft),
        "clocks": _clocks(incident, details.zones, details.paused),
        "finished_clocks": sorted(incident.finished_clocks),
        "promises": promise_views(incident, details.zones),
        "deadlines": [
            {"key": deadline.key, "clock": deadline.clock, "due_at": deadline.due_at.isoformat()}
            for deadline in details.deadlines
        ],
        "actions": [dict(action) for action in details.actions],
        "history": [{**dict(entry), "event": event.seq} for event in details.events for entry in event.history],
        "notifications": notification_views(details.deliveries),
    }


def intake_view(result: IntakeResult) -> dict[str, Any]:
    """What became of one mention, and the incident it opened or joined."""
    return {
        "status": result.status,
        "incident": result.incident_id,
        "playbook": result.playbook,
        **({"message": result.message} if result.message else {}),
    }
