"""Keeping secrets out of the log: a structlog processor that masks them in every line, ours and the libraries'.

Two kinds are masked. Secrets known by value (the intake secrets, and the values of the environment variables the
roster names for Slack addresses, webhook signing secrets and SMTP credentials, plus any Slack address written in
the roster) are replaced wherever they appear. Secrets known by shape are masked even when nobody said so: calmly
tokens, ``whsec_`` secrets, Slack webhook addresses, the user and password of a URL, and the values of URL query
parameters named like a credential (``token``, ``key``, ``secret``, ``sig``, ``password``...).

Logging is set up once for the whole process, so the redactor is one for the process too; the daemon tells it the
secrets it learns at start and at each reload.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, MutableMapping
from typing import Any

from engine.service import Roster

__all__ = ["MASK", "REDACTOR", "Redactor", "roster_secrets"]

MASK = "[redacted]"

#: Shorter values are not masked by value: masking "info" or "ok" everywhere would garble the log and hide nothing.
_SHORTEST = 6

_SHAPES = (
    re.compile(r"calmly_[A-Za-z0-9_-]{20,}"),  # a bearer token (engine.service._tokens)
    re.compile(r"whsec_[A-Za-z0-9+/=_-]{8,}"),  # a Standard Webhooks secret
    re.compile(r"https?://hooks\.slack(?:-gov)?\.com/[^\s\"'<>]*"),  # a Slack incoming webhook address
)
#: The user and password of an address such as https://user:pass@host/ (the scheme and host are kept).
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/\s@\"'<>]+@")
#: A query parameter that carries a credential: its value is masked, its name kept.
_QUERY = re.compile(
    r"(?P<name>[?&](?:[A-Za-z0-9_.-]*(?:token|key|secret|sig|signature|pass|password|auth|code)[A-Za-z0-9_.-]*))="
    r"[^&\s\"'<>#]*",
    re.IGNORECASE,
)

#: Every pattern above needs one of these in the text (a token's or secret's prefix, an address, a query's ``=``).
_MARKS = ("calmly_", "whsec_", "://", "=")
_ANY_MARK = re.compile("|".join(re.escape(mark) for mark in _MARKS))


class Redactor:
    """The processor: ``redact(text)`` for one string, and a call per log line over every value in it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: tuple[str, ...] = ()
        self._any_known: re.Pattern[str] | None = None  # one pattern for them all: a line has many values

    def keep_out(self, values: Iterable[str]) -> None:
        """Mask these values from now on (with those already known: a reload adds, it never forgets)."""
        fresh = {value for value in values if value and len(value) >= _SHORTEST}
        with self._lock:
            # Longest first, so a secret that contains another is masked whole.
            self._known = tuple(sorted(set(self._known) | fresh, key=len, reverse=True))
            self._any_known = re.compile("|".join(map(re.escape, self._known))) if self._known else None

    def redact(self, text: str) -> str:
        known = self._any_known
        if known is not None:
            text = known.sub(MASK, text)
        if _ANY_MARK.search(text) is None:  # most values of most lines: nothing any pattern could match
            return text
        for shape in _SHAPES:
            text = shape.sub(MASK, text)
        text = _USERINFO.sub(lambda found: f"{found['scheme']}{MASK}@", text)
        return _QUERY.sub(lambda found: f"{found['name']}={MASK}", text)

    def _value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, int | float | bool) or value is None:  # before the mapping check, which is slower
            return value
        if isinstance(value, Mapping):
            return {key: self._value(item) for key, item in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self._value(item) for item in value]
        return self.redact(str(value))  # anything else is rendered as text anyway: mask that text

    def __call__(self, logger: Any, method: str, event: MutableMapping[str, Any]) -> dict[str, Any]:
        return {key: self._value(value) for key, value in event.items()}


#: The process's redactor (see the module docstring).
REDACTOR = Redactor()


def roster_secrets(roster: Roster, environment: Mapping[str, str]) -> list[str]:
    """The secret values a roster points at: the variables it names, and any Slack address written in it."""
    found: list[str] = []
    for entries in roster.channels.values():
        for entry in entries:
            for name in ("url_env", "secret_env"):
                if entry.get(name):
                    found.append(environment.get(str(entry[name]), ""))
            if entry.get("channel") == "slack" and entry.get("url"):
                found.append(str(entry["url"]))
    smtp = roster.smtp
    if smtp is not None:
        for variable in (smtp.username_env, smtp.password_env):
            if variable:
                found.append(environment.get(variable, ""))
    return [value for value in found if value]
