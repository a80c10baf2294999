"""Every error calmly raises, in one tree: each class says its ``code`` (stable, for scripts), the HTTP ``status``
the API answers it with, and the ``exit_code`` the command line ends with.

The pure core (``engine.playbook``, ``engine.incident``) raises none of them: it returns problems and refusals as
data. The layers around it raise these, and two places turn them into what a person sees: the API's one exception
handler (the JSON error shape ``{"error": {"code", "message", "details"}}``) and the ``calmly`` command group
(``calmly: message`` on standard error, and the exit code). A class's ``code`` is its default; an instance may
carry a more precise one (``BadJson`` says ``too_deep``, ``Unauthorized`` says ``expired_token``).

The tree, with each class's default status and code::

    CalmlyError                 500 internal            something calmly did not foresee
    ├── BadRequest              400 bad_request         what was sent cannot be taken; nothing changed
    │   ├── BadJson             400 malformed_json      not JSON calmly takes (422 too_deep, number_too_large …)
    │   ├── EmptyBody           400 empty_body          a request with no body
    │   ├── BodyTooLarge        413 body_too_large      a body over the daemon's cap
    │   ├── BatchTooLarge       413 batch_too_large     more mentions at once than the daemon takes
    │   ├── BadQuery            422 bad_query           a filter or page size out of range
    │   ├── BadAction           422 bad_action          an action's body (missing_version, bad_text, …)
    │   ├── BadClock            422 bad_clock           a move of the simulated clock (clock_jump_too_far)
    │   └── InvalidMentions     422 invalid_mention     mentions failing their schema: details says each
    ├── Unauthorized            401 unauthorized        no usable token or signature (missing_token …)
    ├── Forbidden               403 forbidden           the person may not (not_in_roster, role_not_allowed …)
    ├── RateLimited             429 rate_limited        over the budget a minute; headers carry Retry-After
    ├── NotFound                404 unknown_incident    no incident has this id
    ├── ActionRefused           422 refused             the runtime refused an action (stale 409, unknown_action
    │                                                   404, role_not_allowed 403, house_rule 422 …)
    ├── Replayed                409 replayed_request    a signed request whose webhook-id was seen already
    ├── InvalidPlaybooks        422 invalid_playbooks   the playbooks cannot be run: every problem, located
    ├── ReloadRefused           422 invalid_reload      a reload found problems; the old set stays in force
    ├── PlaybookMissing         500 playbook_missing    an incident's playbook version is gone from the store
    ├── NotReady                503 not_ready           starting, stopping, or the store does not answer
    ├── StoreError              500 store_error         the store cannot do what was asked
    │   ├── StoreUnavailable    503 store_unavailable   unreachable, damaged, or its schema is too new
    │   └── Conflict            409 stale               the incident changed since it was read; nothing written
    ├── DeliveryError           502 delivery_failed     a channel could not deliver (``retryable`` says if again)
    ├── ConfigError             500 bad_config          the daemon's configuration cannot be used
    ├── StartupError            500 cannot_start        the daemon cannot start; the message says what to fix
    │   ├── FolderInUse         409 folder_in_use       another daemon holds the data folder
    │   └── NoStore             404 no_store            a command that reads a store found none (engine.daemon)
    └── ApiFailure              502 http_error          the daemon said no, as the terminal client heard it

Every class is defined here but ``NoStore``, kept beside the bootstrap that raises it; a test holds this drawing to
the classes there are. This module imports nothing from the rest of calmly, so every layer may raise from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "ActionRefused",
    "ApiFailure",
    "BadAction",
    "BadClock",
    "BadJson",
    "BadQuery",
    "BadRequest",
    "BatchTooLarge",
    "BodyTooLarge",
    "CalmlyError",
    "ConfigError",
    "Conflict",
    "DeliveryError",
    "EmptyBody",
    "FolderInUse",
    "Forbidden",
    "InvalidMentions",
    "InvalidPlaybooks",
    "NotFound",
    "NotReady",
    "PlaybookMissing",
    "RateLimited",
    "ReloadRefused",
    "Replayed",
    "StartupError",
    "StoreError",
    "StoreUnavailable",
    "Unauthorized",
]


class CalmlyError(Exception):
    """The root: ``message`` for people, ``code`` for scripts, ``status`` for HTTP, ``exit_code`` for the shell;
    ``details`` (JSON-ready) and ``headers`` go with the HTTP answer."""

    code: str = "internal"
    status: int = 500
    exit_code: int = 1

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.details = details
        self.headers = dict(headers or {})


# --- what a client sent ------------------------------------------------------------------------------------------


class BadRequest(CalmlyError):
    """What was sent cannot be taken as it is; nothing changed."""

    code, status = "bad_request", 400


class BadJson(BadRequest):
    """Not JSON calmly takes: ``pointer`` says where (or, for text that is not JSON at all, ``column`` and the
    parser's ``reason``). Malformed text is a 400; JSON that is too deep or holds a number too large is a 422."""

    code, status = "malformed_json", 400

    def __init__(
        self, code: str, message: str, pointer: str | None = None, column: int | None = None, reason: str = ""
    ) -> None:
        super().__init__(
            message,
            code=code,
            status=400 if code == "malformed_json" else 422,
            details={"pointer": pointer} if pointer is not None else None,
        )
        self.pointer, self.column, self.reason = pointer, column, reason or message


class EmptyBody(BadRequest):
    """A request that needs a body came without one."""

    code, status = "empty_body", 400


class BodyTooLarge(BadRequest):
    """The body is over the daemon's cap: refused before it is read whole."""

    code, status = "body_too_large", 413


class BatchTooLarge(BadRequest):
    """More mentions in one request than the daemon takes at once."""

    code, status = "batch_too_large", 413


class BadQuery(BadRequest):
    """A filter or a page size out of what the listing takes."""

    code, status = "bad_query", 422


class BadAction(BadRequest):
    """An action's body is not ``{"revision": N, "fields": {...}}`` (or holds half a character)."""

    code, status = "bad_action", 422


class BadClock(BadRequest):
    """A move of the simulated clock that cannot be made."""

    code, status = "bad_clock", 422


class InvalidMentions(BadRequest):
    """Mentions that fail their schema; ``details`` names each by index, with its problems."""

    code, status = "invalid_mention", 422


# --- who is asking -----------------------------------------------------------------------------------------------


class Unauthorized(CalmlyError):
    """No usable token, or for signed intake no valid signature; the code says which."""

    code, status = "unauthorized", 401


class Forbidden(CalmlyError):
    """The person is known but may not do this."""

    code, status = "forbidden", 403


class RateLimited(CalmlyError):
    """Over the request budget of a minute; ``retry_after`` seconds until the next one is taken."""

    code, status = "rate_limited", 429

    def __init__(self, per_minute: int, retry_after: int, advice: str = "") -> None:
        super().__init__(
            f"more than {per_minute:,} requests a minute; try again in {retry_after}s{advice}",
            headers={"Retry-After": str(retry_after)},
            details={"retry_after_seconds": retry_after, "per_minute": per_minute},
        )
        self.retry_after = retry_after


# --- what the service says -----------------------------------------------------------------------------------------


class NotFound(CalmlyError):
    """No incident has this id."""

    code, status = "unknown_incident", 404


class ActionRefused(CalmlyError):
    """The runtime refused an action; the code is the refusal's reason, the status follows from it."""

    code, status = "refused", 422


class Replayed(CalmlyError):
    """A signed intake request whose ``webhook-id`` was taken already: nothing is recorded again."""

    code, status = "replayed_request", 409

    def __init__(self, webhook_id: str) -> None:
        super().__init__("this webhook-id was received already; nothing was recorded again")
        self.webhook_id = webhook_id


class _Located(Protocol):
    @property
    def located(self) -> str: ...


class InvalidPlaybooks(CalmlyError):
    """The playbooks cannot be run: every problem, located, as ``calmly validate`` reports them."""

    code, status = "invalid_playbooks", 422

    def __init__(self, problems: Sequence[_Located], message: str = "the playbooks have errors") -> None:
        super().__init__(message)
        self.problems = tuple(problems)

    def __str__(self) -> str:
        return "\n".join([self.message, *(problem.located for problem in self.problems)])


class ReloadRefused(CalmlyError):
    """A reload found problems (``details`` lists them); the playbooks and roster in force stay."""

    code, status = "invalid_reload", 422


class PlaybookMissing(CalmlyError):
    """The playbook version an incident runs under is not in the store, or no longer loads as it was."""

    code, status = "playbook_missing", 500


class NotReady(CalmlyError):
    """The daemon is starting or stopping, or its store does not answer."""

    code, status = "not_ready", 503


# --- the store ---------------------------------------------------------------------------------------------------


class StoreError(CalmlyError):
    """The store cannot do what was asked."""

    code, status = "store_error", 500


class StoreUnavailable(StoreError):
    """The store is unreachable, its files are damaged, or its schema is newer than this calmly knows."""

    code, status = "store_unavailable", 503


class Conflict(StoreError):
    """An incident changed since it was read: the write is refused and nothing is changed."""

    code, status = "stale", 409


# --- delivery ----------------------------------------------------------------------------------------------------


class DeliveryError(CalmlyError):
    """A channel could not deliver; ``reason`` says why (never a secret), ``retryable`` whether to try again."""

    code, status = "delivery_failed", 502

    def __init__(self, reason: str, *, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


# --- the daemon and the command line -----------------------------------------------------------------------------


class ConfigError(CalmlyError):
    """The configuration cannot be used; ``problems`` says where and why."""

    code, status = "bad_config", 500

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class StartupError(CalmlyError):
    """The daemon cannot start; the message says what to fix."""

    code, status = "cannot_start", 500


class FolderInUse(StartupError):
    """Another process holds the folder's lock; ``pid`` is the one it wrote (None when it could not be read)."""

    code, status = "folder_in_use", 409

    def __init__(self, folder: Path, pid: int | None) -> None:
        who = f"PID {pid}" if pid is not None else "another process"
        super().__init__(
            f"another calmly serve ({who}) is using the data folder {folder}; stop it first, or give this one "
            "another --data"
        )
        self.folder = folder
        self.pid = pid


class ApiFailure(CalmlyError):
    """The daemon said no (``status`` and ``code`` from its JSON error), or could not be reached (status 0)."""

    code, status = "http_error", 502

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(message, code=code, status=status, details=details)
