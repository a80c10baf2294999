"""What /openapi.json says about each route: request bodies, answers and every JSON error, as JSON Schema.

The routes read their bodies themselves (to cap their size before parsing, and to check signatures on the raw
bytes), so FastAPI cannot infer these; they are written out here, once, and a schemathesis test holds the app to
them.
"""

from __future__ import annotations

import json
from pkgutil import get_data
from typing import Any

from engine.incident import NOTE_LIMIT

__all__ = [
    "ACTED",
    "ACTION_BODY",
    "CLOCK_BODY",
    "CLOCK_MOVED",
    "INCIDENT",
    "INCIDENT_LIST",
    "INTAKE_RESULTS",
    "MENTIONS_BODY",
    "READY",
    "RELOADED",
    "SUMMARY",
    "answers",
    "errors",
    "secured",
]

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable, for scripts: see docs/daemon.md."},
                "message": {"type": "string", "description": "For people: what is wrong and what to do."},
                "details": {"description": "More, where it helps: each invalid mention, the problems of a reload."},
            },
        }
    },
}

_WHY = {
    400: "The body is not JSON (malformed_json, empty_body).",
    401: "No usable token (missing_token, unknown_token …) or, for signed intake, no valid signature "
    "(missing_signature, bad_timestamp, stale_timestamp, bad_signature).",
    403: "The person holds none of the roles allowed (role_not_allowed).",
    404: "No such incident, action or endpoint (unknown_incident, unknown_action, not_found).",
    409: "The incident changed since the revision sent (stale), or a signed request was replayed (replayed_request).",
    413: "The body or the batch is over the limit (body_too_large, batch_too_large).",
    422: "Well-formed but cannot be done; the code says why.",
    429: "Too many requests for this token or address (rate_limited); see Retry-After.",
    503: "Not ready (not_ready).",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` entries for these error statuses, each the JSON error body."""
    found: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"description": _WHY[status], "content": {"application/json": {"schema": _ERROR}}}
        if status == 429:
            entry["headers"] = {
                "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "string"}}
            }
        found[status] = entry
    return found


def answers(schema: dict[str, Any], description: str, *statuses: int) -> dict[int | str, dict[str, Any]]:
    """A 200 answer with ``schema``, and the error statuses."""
    return {200: {"description": description, "content": {"application/json": {"schema": schema}}}, **errors(*statuses)}


def _mention_schema() -> dict[str, Any]:
    raw = get_data("engine", "schemas/mention.schema.json")
    schema: dict[str, Any] = json.loads(raw or b"{}")
    schema.pop("$schema", None)
    schema.pop("$id", None)
    return schema


_MENTION = _mention_schema()

MENTIONS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": 'One mention, a list of them, or {"mentions": [...]} (schemas/mention.schema.json).',
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        _MENTION,
                        {"type": "array", "minItems": 1, "items": _MENTION},
                        {
                            "type": "object",
                            "required": ["mentions"],
                            "additionalProperties": False,
                            "properties": {"mentions": {"type": "array", "minItems": 1, "items": _MENTION}},
                        },
                    ]
                }
            }
        },
    },
}

ACTION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "anyOf": [{"required": ["revision"]}, {"required": ["version"]}],
                    "additionalProperties": False,
                    "properties": {
                        "revision": {
                            "type": "integer",
                            "minimum": 0,
                            "description": "The revision of the incident you saw; a stale one is refused (409).",
                        },
                        "version": {
                            "type": "integer",
                            "minimum": 0,
                            "deprecated": True,
                            "description": "The old name of revision, still taken; if both are sent they must "
                            "agree (revision_mismatch, 422).",
                        },
                        "fields": {"type": "object", "description": "The fields the action requires."},
                    },
                }
            }
        },
    },
}


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


ASSIGN_BODY = _body(
    {
        "type": "object",
        "required": ["owner"],
        "additionalProperties": False,
        "properties": {"owner": {"type": "string", "description": "The person's id in the roster."}},
    }
)

NOTE_BODY = _body(
    {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "text": {"type": "string", "maxLength": NOTE_LIMIT, "description": "For the team; never public."}
        },
    }
)

CLOCK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {
                            "type": "object",
                            "required": ["advance"],
                            "additionalProperties": False,
                            "properties": {"advance": {"type": "string", "examples": ["4h"]}},
                        },
                        {
                            "type": "object",
                            "required": ["to"],
                            "additionalProperties": False,
                            "properties": {"to": {"type": "string", "format": "date-time"}},
                        },
                    ]
                }
            }
        },
    },
}

SUMMARY: dict[str, Any] = {
    "type": "object",
    "required": ["id", "playbook", "playbook_version", "state", "severity", "revision", "version", "final", "breached"],
    "properties": {
        "id": {"type": "string"},
        "playbook": {"type": "string"},
        "playbook_version": {"type": "integer", "description": "The version of the playbook it runs under."},
        "state": {"type": "string"},
        "severity": {"type": "string"},
        "channel": {"type": "string"},
        "author": {"type": "string"},
        "revision": {"type": "integer", "description": "How many times it changed: what an action names."},
        "version": {"type": "integer", "deprecated": True, "description": "The old name of revision."},
        "final": {"type": "boolean"},
        "breached": {"type": "array", "items": {"type": "string"}},
        "waiting_on": {"type": "array", "items": {"type": "string"}},
        "owner": {"type": ["string", "null"], "description": "The person who has it (took it or was assigned it)."},
        "mention_count": {"type": "integer", "description": "How many mentions it holds, the opening one included."},
        "opened_at": {"type": "string"},
        "updated_at": {"type": "string"},
        "next_due": {
            "type": ["object", "null"],
            "description": "The running clock that runs out first: its name, due time and the zone it is kept in.",
            "properties": {"clock": {"type": "string"}, "due_at": {"type": "string"}, "timezone": {"type": "string"}},
        },
    },
}

_NOW = {"type": "string", "description": "The daemon's time (a simulated clock's, on one): what 'due in' counts from."}

_POST: dict[str, Any] = {
    "type": "object",
    "required": ["channel", "external_id"],
    "properties": {
        "channel": {"type": "string"},
        "external_id": {"type": "string"},
        "text": {"type": "string", "description": "What the customer wrote."},
        "author": {
            "type": "object",
            "properties": {"handle": {"type": "string"}, "followers": {"type": "integer"}},
        },
        "url": {"type": ["string", "null"]},
        "posted_at": {"type": ["string", "null"]},
        "engagement": {"type": "object"},
        "thread_id": {"type": ["string", "null"]},
        "outcome": {"enum": ["opened", "joined"]},
        "received_at": {"type": "string"},
    },
}

INTAKE_RESULTS: dict[str, Any] = {
    "type": "object",
    "required": ["results"],
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["status", "incident", "playbook"],
                "properties": {
                    "status": {"enum": ["opened", "joined", "duplicate", "ignored", "muted", "invalid"]},
                    "incident": {"type": ["string", "null"]},
                    "playbook": {"type": ["string", "null"]},
                    "message": {"type": "string"},
                },
            },
        }
    },
}

INCIDENT_LIST: dict[str, Any] = {
    "type": "object",
    "required": ["incidents", "next"],
    "properties": {
        "now": _NOW,
        "incidents": {"type": "array", "items": SUMMARY},
        "next": {"type": ["string", "null"]},
    },
}

DRAFT: dict[str, Any] = {
    "type": "object",
    "required": ["action", "stage", "text", "channel", "digest", "drafted_by", "drafted_at"],
    "properties": {
        "action": {"type": "string", "description": "The action the reply is for."},
        "stage": {"enum": ["pending", "returned", "approved"]},
        "text": {"type": "string", "description": "The drafted words."},
        "channel": {"type": "string"},
        "digest": {"type": "string", "description": "sha256 of the words, joined by single spaces."},
        "drafted_by": {"type": "string"},
        "drafted_at": {"type": "string"},
        "decided_by": {"type": ["string", "null"], "description": "The approver who approved or returned it."},
        "decided_at": {"type": ["string", "null"]},
        "note": {"type": ["string", "null"], "description": "The approver's note."},
    },
}

REPLIES: dict[str, Any] = {
    "type": "object",
    "required": ["incident", "action", "replies", "required"],
    "properties": {
        "incident": {"type": "string"},
        "action": {"type": "string"},
        "replies": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The playbook's replies for the action, placeholders filled from the incident.",
        },
        "required": {"type": "boolean", "description": "Whether a public reply for the action must be one of them."},
    },
}

DRAFT_BODY = _body(
    {
        "type": "object",
        "required": ["revision", "public_reply"],
        "additionalProperties": False,
        "properties": {
            "revision": {"type": "integer", "minimum": 0, "description": "The revision of the incident you saw."},
            "public_reply": {
                "type": "object",
                "required": ["text", "channel"],
                "properties": {"text": {"type": "string"}, "channel": {"type": "string"}},
                "description": "The reply to approve, on the incident's own channel.",
            },
            "note": {"type": "string", "maxLength": NOTE_LIMIT, "description": "A note for the approver."},
        },
    }
)

DECISION_BODY = _body(
    {
        "type": "object",
        "required": ["revision"],
        "additionalProperties": False,
        "properties": {
            "revision": {"type": "integer", "minimum": 0, "description": "The revision of the incident you saw."},
            "note": {
                "type": "string",
                "maxLength": NOTE_LIMIT,
                "description": "What to change (required to return a draft).",
            },
        },
    }
)

INCIDENT: dict[str, Any] = {
    **SUMMARY,
    "required": [*SUMMARY["required"], "clocks", "deadlines", "actions", "history"],
    "properties": {
        **SUMMARY["properties"],
        "playbook_digest": {"type": "string"},
        "thread_id": {"type": ["string", "null"]},
        "customer_id": {
            "type": ["string", "null"],
            "description": "The customer's id, from the first mention that carried one; null while not known.",
        },
        "customer_segment": {
            "type": ["string", "null"],
            "description": "The customer's segment (such as vip), from the mention that gave the customer id.",
        },
        "now": _NOW,
        "mentions": {"type": "array", "items": _POST, "description": "The incident's posts, in the order they came."},
        "facts": {"type": "object"},
        "drafts": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "What people wrote into the incident's fields, as text: a reply awaiting approval, say.",
        },
        "approval": {
            "anyOf": [{"type": "null"}, DRAFT],
            "description": "The draft reply of an action that needs approval, and where it stands (or null).",
        },
        "clocks": {
            "type": "array",
            "description": "The running clocks: name, timezone, started_at, due_at, breached, next_step_at and paused. "
            "A clock standing still in one of its target's paused_in states has paused true, due_at null, and "
            "paused_at, counted_seconds (the time it has counted) and left_seconds (the time it has left) instead.",
            "items": {"type": "object"},
        },
        "finished_clocks": {"type": "array", "items": {"type": "string"}},
        "group": {
            "type": ["string", "null"],
            "description": "The group of mentions about one event the incident gathers under its playbook's group "
            "rule (login-outage on twitter), or null.",
        },
        "surged": {
            "type": "array",
            "items": {"type": "string"},
            "description": "The surge rules that fired for the incident, by name, in the order they fired.",
        },
        "promises": {
            "type": "array",
            "description": "The promise ledger: each offer made under the playbook's offers catalogue (id, kind, "
            "amount, currency, note, contact, promised_by, promised_at, due_at), whether it was kept (kept, kept_at, "
            "kept_by, kept_note) and whether its clock breached. Record one kept with the action deliver.",
            "items": {"type": "object"},
        },
        "deadlines": {"type": "array", "items": {"type": "object"}},
        "actions": {
            "type": "array",
            "description": "The actions open now: from the incident's state, and whose guard ('when') its facts "
            "meet. Each has its trigger, to, by and requires; an action asking for a reason lists 'reasons' "
            "({reason, by}: who may give each), one asking for a contact route lists the 'contact_routes' open.",
            "items": {"type": "object"},
        },
        "history": {"type": "array", "items": {"type": "object"}},
        "notifications": {
            "type": "array",
            "description": "Each notification at each destination: its kind, clock and roles, to whom (an email "
            "address, or the channel), its state (pending, delivered, dead), attempts and when it was delivered.",
            "items": {"type": "object"},
        },
    },
}

ACTED: dict[str, Any] = {
    "type": "object",
    "required": ["incident", "history"],
    "properties": {"incident": SUMMARY, "history": {"type": "array", "items": {"type": "object"}}},
}

RELOADED: dict[str, Any] = {
    "type": "object",
    "required": ["playbooks", "people"],
    "properties": {
        "playbooks": {"type": "array", "items": {"type": "string"}, "description": "Now loaded, as 'id vN'."},
        "people": {"type": "integer", "description": "People in the roster now."},
    },
}

READY: dict[str, Any] = {
    "type": "object",
    "required": ["status", "playbooks"],
    "properties": {
        "status": {"const": "ready"},
        "playbooks": {"type": "array", "items": {"type": "string"}},
        "details": {
            "type": "object",
            "properties": {
                "store": {
                    "type": "object",
                    "description": "The store: its backend (sqlite or postgresql) and, on a shared PostgreSQL store, "
                    "how far the database's clock is ahead of this daemon's (clock_skew_seconds, negative: behind), "
                    "within half of round_trip_seconds, as measured at measured_at, and the limit "
                    "(max_clock_skew_seconds) past which the daemon claims no due work and answers 503.",
                    "properties": {
                        "backend": {"enum": ["sqlite", "postgresql"]},
                        "clock_skew_seconds": {"type": "number"},
                        "round_trip_seconds": {"type": "number"},
                        "measured_at": {"type": "string", "format": "date-time"},
                        "max_clock_skew_seconds": {"type": "number"},
                    },
                }
            },
        },
        "checks": {
            "type": "array",
            "description": "The set-up checks' findings (as `calmly check` reports them): worth fixing, not fatal.",
            "items": {
                "type": "object",
                "required": ["code", "severity", "message", "file", "line", "column"],
                "properties": {
                    "code": {"type": "string"},
                    "severity": {"enum": ["error", "warning"]},
                    "message": {"type": "string"},
                    "file": {"type": "string"},
                    "line": {"type": "integer"},
                    "column": {"type": "integer"},
                },
            },
        },
    },
}

CLOCK_MOVED: dict[str, Any] = {
    "type": "object",
    "required": ["now", "fired"],
    "properties": {"now": {"type": "string"}, "fired": {"type": "integer"}},
}


#: Routes anyone may call: the process's health, readiness and metrics, for probes and scrapers.
_OPEN = frozenset({"/healthz", "/readyz", "/metrics"})
_BEARER = {
    "type": "http",
    "scheme": "bearer",
    "bearerFormat": "calmly_ and 43 URL-safe characters",
    "description": "A token from `calmly token issue PERSON` (`--intake-only` for a listening tool: intake and "
    "nothing else); the person's roles come from the roster.",
}
_SIGNED = {
    "type": "apiKey",
    "in": "header",
    "name": "webhook-signature",
    "description": "A Standard Webhooks signature with one of the daemon's intake secrets, sent with webhook-id "
    "and webhook-timestamp; a webhook-id seen before is refused.",
}
_SIGNED_NOTE = (
    "\n\nSigned intake: when the daemon has intake secrets, this route takes a Standard Webhooks signature "
    "(webhook-id, webhook-timestamp, webhook-signature) instead of a bearer token."
)


def secured(document: dict[str, Any], *, signed_intake: bool) -> dict[str, Any]:
    """``document`` with its security declared: the bearer scheme on every route but the open ones, and on intake
    the signature instead when the daemon takes signed intake. Idempotent: FastAPI hands back the same document."""
    schemes = document.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["bearer"] = _BEARER
    if signed_intake:
        schemes["signed"] = _SIGNED
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            if path in _OPEN:
                operation["security"] = []
            elif path == "/v1/mentions" and signed_intake:
                operation["security"] = [{"signed": []}]
            else:
                operation["security"] = [{"bearer": []}]
            if path == "/v1/mentions" and _SIGNED_NOTE not in operation.get("description", ""):
                operation["description"] = operation.get("description", "") + _SIGNED_NOTE
    return document
