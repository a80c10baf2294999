"""Guards: whether an incident's facts (its severity, its channel, its customer) allow an action, and if not, why
in words a comms lead can act on."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from engine.incident._record import Incident
from engine.playbook import Customer, Guard

__all__ = ["guard_holds", "guard_said", "guard_view", "unmet"]


def _either(names: Sequence[str]) -> str:
    """``low``, ``low or medium``, ``low, medium or high``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def guard_holds(guard: Guard | None, incident: Incident) -> bool:
    return guard is None or unmet(guard, incident) is None


def unmet(guard: Guard, incident: Incident) -> str | None:
    """What the guard needs that the incident lacks (``severity high or critical; this incident is low``), or
    None when every fact it names holds."""
    if guard.severities and incident.severity not in guard.severities:
        return f"severity {_either(guard.severities)}; this incident is {incident.severity}"
    if guard.channels and incident.channel not in guard.channels:
        return f"a complaint on {_either(guard.channels)}; this one is on {incident.channel}"
    known = incident.customer_id is not None
    if guard.customer is Customer.UNKNOWN and known:
        return f"a customer who is not known; this incident's customer is {incident.customer_id}"
    if (guard.customer is Customer.KNOWN or guard.customer_segments_any) and not known:
        return "a known customer (a mention that carries their customer_id); this incident's customer is not known"
    if guard.customer_segments_any and incident.customer_segment not in guard.customer_segments_any:
        segment = incident.customer_segment
        has = f"in the segment {segment}" if segment else "in no segment"
        return f"a customer in the segment {_either(guard.customer_segments_any)}; this incident's customer is {has}"
    return None


@functools.cache
def guard_view(guard: Guard) -> dict[str, Any]:
    """A guard as the API and the desk show it: only the facts it names. Made once per guard, as every action
    taken by a guarded transition records it: read it, never change it."""
    view: dict[str, Any] = {}
    if guard.severities:
        view["severities"] = list(guard.severities)
    if guard.channels:
        view["channels"] = list(guard.channels)
    if guard.customer is not None:
        view["customer"] = guard.customer.value
    if guard.customer_segments_any:
        view["customer_segments_any"] = list(guard.customer_segments_any)
    return view


def guard_said(guard: Guard) -> str:
    """What a guard needs, as people say it: ``severity high or critical, on twitter, a known customer``."""
    said = []
    if guard.severities:
        said.append(f"severity {_either(guard.severities)}")
    if guard.channels:
        said.append(f"on {_either(guard.channels)}")
    if guard.customer_segments_any:
        said.append(f"a customer in the segment {_either(guard.customer_segments_any)}")
    elif guard.customer is not None:
        said.append("a known customer" if guard.customer is Customer.KNOWN else "a customer who is not known")
    return ", ".join(said)
