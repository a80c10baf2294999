"""The application layer: intake, actions, due deadlines, the playbook library, roster, tokens, and the
read-side views the API, the notifications and the terminal show."""

from __future__ import annotations

from engine.errors import NotFound, Replayed
from engine.service._applying import waiting_on
from engine.service._clock import SimulatedClock
from engine.service._json_input import MAX_DEPTH, MAX_INTEGER, BadJson, lone_surrogate_at, read_json
from engine.service._library import InvalidPlaybooks, Library, PlaybookMissing
from engine.service._moments import (
    Zone,
    clock_time,
    clock_zone_name,
    day_time,
    due_phrase,
    offset_zone,
    since_phrase,
    wall_time,
    zone,
)
from engine.service._outcomes import ActResult, Change, FiredDeadline, IncidentDetails, IntakeResult, IntakeStatus
from engine.service._posts import NOTICE_LENGTH, draft_texts, latest_post, post_view, shorten
from engine.service._roster import Destination, Person, Roster, Smtp, load_roster
from engine.service._service import LEARNED_FROM, Replies, Sent, Service
from engine.service._signin_links import SIGN_IN_LINK_LIFETIME, issue_sign_in_code, spend_sign_in_code
from engine.service._signing import (
    SECRET_PREFIX,
    TOLERANCE,
    SignatureProblem,
    secret_bytes,
    sign,
    signature_headers,
    verify,
)
from engine.service._tokens import (
    TOKEN_PREFIX,
    TokenProblem,
    TokenScope,
    hash_token,
    issue_token,
    revoke_tokens,
    verify_token,
)

__all__ = [
    "LEARNED_FROM",
    "MAX_DEPTH",
    "MAX_INTEGER",
    "NOTICE_LENGTH",
    "SECRET_PREFIX",
    "SIGN_IN_LINK_LIFETIME",
    "TOKEN_PREFIX",
    "TOLERANCE",
    "ActResult",
    "BadJson",
    "Change",
    "Destination",
    "FiredDeadline",
    "IncidentDetails",
    "IntakeResult",
    "IntakeStatus",
    "InvalidPlaybooks",
    "Library",
    "NotFound",
    "Person",
    "PlaybookMissing",
    "Replayed",
    "Replies",
    "Roster",
    "Sent",
    "Service",
    "SignatureProblem",
    "SimulatedClock",
    "Smtp",
    "TokenProblem",
    "TokenScope",
    "Zone",
    "clock_time",
    "clock_zone_name",
    "day_time",
    "draft_texts",
    "due_phrase",
    "hash_token",
    "issue_sign_in_code",
    "issue_token",
    "latest_post",
    "load_roster",
    "lone_surrogate_at",
    "offset_zone",
    "post_view",
    "read_json",
    "revoke_tokens",
    "secret_bytes",
    "shorten",
    "sign",
    "signature_headers",
    "since_phrase",
    "spend_sign_in_code",
    "verify",
    "verify_token",
    "waiting_on",
    "wall_time",
    "zone",
]
