"""The daemon's configuration: defaults, then a config file, then environment variables, then flags.

The file is YAML checked against ``schemas/config.schema.json``; a bad file is reported with positions like a bad
playbook, and so is a bad environment variable (by name). Relative paths in the file are relative to its folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.errors import ConfigError
from engine.files import read_document_file
from engine.playbook import Failed, Problem, rules
from engine.service import SECRET_PREFIX, secret_bytes

__all__ = ["DEFAULTS", "Config", "ConfigError", "load_config"]

_LISTEN = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$")
_ENVIRONMENT = {
    "data": "CALMLY_DATA",
    "store": "CALMLY_STORE",
    "playbooks": "CALMLY_PLAYBOOKS",
    "roster": "CALMLY_ROSTER",
    "listen": "CALMLY_LISTEN",
    "max_body_bytes": "CALMLY_MAX_BODY_BYTES",
    "max_batch": "CALMLY_MAX_BATCH",
    "log_format": "CALMLY_LOG_FORMAT",
    "log_level": "CALMLY_LOG_LEVEL",
    "intake_secrets": "CALMLY_INTAKE_SECRETS",
    "rate_limit_per_minute": "CALMLY_RATE_LIMIT_PER_MINUTE",
    "intake_rate_limit_per_minute": "CALMLY_INTAKE_RATE_LIMIT_PER_MINUTE",
    "admin_roles": "CALMLY_ADMIN_ROLES",
    "sqlite_synchronous": "CALMLY_SQLITE_SYNCHRONOUS",
    "max_clock_skew_ms": "CALMLY_MAX_CLOCK_SKEW_MS",
}
_CHOICES = {
    "log_format": ("auto", "json", "console"),
    "log_level": ("debug", "info", "warning", "error"),
    "sqlite_synchronous": ("full", "normal"),
}
_NUMBERS = {
    "max_body_bytes": (1024, 104_857_600),
    "max_batch": (1, 10_000),
    "rate_limit_per_minute": (0, 1_000_000),
    "intake_rate_limit_per_minute": (0, 10_000_000),
    "max_clock_skew_ms": (0, 3_600_000),
}
_ROLE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass(frozen=True, slots=True)
class Config:
    data: Path = Path("data")
    #: A PostgreSQL URL (``postgresql://user@host:port/database``): the store several daemons share, in place of
    #: the SQLite store in ``data``. Kept out of ``repr``: it may carry a password.
    store: str | None = field(default=None, repr=False)
    playbooks: tuple[Path, ...] = (Path("playbooks"),)
    roster: Path = Path("roster.yaml")
    listen: str = "127.0.0.1:8642"
    max_body_bytes: int = 1_048_576
    max_batch: int = 1000
    log_format: str = "auto"
    log_level: str = "info"
    #: Standard Webhooks secrets (``whsec_...``) that sign intake; when set, POST /v1/mentions needs a signature.
    #: Kept out of ``repr`` so a secret never reaches a log line or a traceback.
    intake_secrets: tuple[str, ...] = field(default=(), repr=False)
    #: Requests a minute per token (or per client address without one); 0 turns the limit off.
    rate_limit_per_minute: int = 600
    #: Intake requests a minute per token (or, signed, per client address), a budget of its own: 36,000 lets a
    #: listening tool send an outage's mentions one per request at the pace the daemon takes them; 0: no limit.
    intake_rate_limit_per_minute: int = 36_000
    #: Roster roles whose people may reload playbooks and the roster (POST /v1/admin/reload).
    admin_roles: tuple[str, ...] = ("social_lead",)
    #: SQLite's synchronous setting: "full" keeps every acknowledged commit through a power loss, "normal" (in WAL)
    #: through a crash of the process only, for cheaper commits.
    sqlite_synchronous: str = "full"
    #: How far the daemon's clock may be from the shared database's before the daemon stops claiming deadlines and
    #: deliveries and answers /readyz 503, in milliseconds; 0: measured and shown, never judged.
    max_clock_skew_ms: int = 2000
    #: Where each value came from ("default", the config file, an environment variable, "flag"): for the log.
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


DEFAULTS = Config()


def _from_file(path: Path) -> tuple[dict[str, Any], list[Problem]]:
    read = read_document_file(path, "config")
    if isinstance(read, Failed):
        return {}, list(read.problems)
    data, marks = read
    base = path.parent
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in data.items():
        if key == "listen" and not 0 < int(value.rpartition(":")[2]) < 65536:  # the schema checks the rest
            at = marks.value((key,))
            message = f"listen is {value!r}; the port must be from 1 to 65535, such as 127.0.0.1:8642"
            problems.append(Problem(rules.INVALID_VALUE, path.as_posix(), at.line, at.column, message, (key,)))
        elif key == "store" and value is None:
            values[key] = None
        elif key == "store":
            url, problem = _store_url(str(value), "store")
            if problem:
                at = marks.value((key,))
                problems.append(Problem(rules.INVALID_VALUE, path.as_posix(), at.line, at.column, problem, (key,)))
            values[key] = url
        elif key in ("data", "roster"):
            values[key] = base / value
        elif key == "playbooks":
            values[key] = tuple(base / item for item in ([value] if isinstance(value, str) else value))
        elif key in ("intake_secrets", "admin_roles"):
            checked, problem = _names(key, [str(item) for item in value])
            if problem:
                at = marks.value((key,))
                problems.append(Problem(rules.INVALID_VALUE, path.as_posix(), at.line, at.column, problem, (key,)))
            values[key] = checked
        else:
            values[key] = value
    return ({}, problems) if problems else (values, [])


def _store_url(text: str, origin: str) -> tuple[str | None, str | None]:
    """A store URL, or the reason it cannot be one (never repeating it: it may carry a password)."""
    if text.startswith(("postgresql://", "postgres://")):
        return text, None
    return None, f"{origin}: the store is not a PostgreSQL URL; write postgresql://user@host:port/database"


def _names(key: str, items: list[str]) -> tuple[tuple[str, ...], str | None]:
    """Secrets or role names, checked; a message about a secret never repeats it."""
    if key == "admin_roles":
        bad = [item for item in items if not _ROLE.match(item)]
        if bad:
            return (), f"admin_roles has {bad[0]!r}; write roster role names such as social_lead"
        return tuple(items), None
    for number, item in enumerate(items, start=1):
        try:
            usable = item.startswith(SECRET_PREFIX) and len(secret_bytes(item)) >= 16
        except ValueError:
            usable = False
        if not usable:
            return (), (
                f"intake secret {number} of {len(items)} is not a whsec_ secret (whsec_ and the base64 of "
                "at least 16 random bytes); it is not shown here"
            )
    return tuple(items), None


def _from_text(key: str, text: str, origin: str) -> tuple[Any, str | None]:
    """A value given as text (an environment variable or a flag), or the reason it cannot be used."""
    if key in ("data", "roster"):
        return Path(text), None
    if key == "playbooks":
        return tuple(Path(item) for item in text.split(os.pathsep) if item), None
    if key in ("intake_secrets", "admin_roles"):
        checked, problem = _names(key, [item.strip() for item in text.split(",") if item.strip()])
        return checked, None if problem is None else f"{origin}: {problem}"
    if key == "store":
        return _store_url(text, origin)
    if key == "listen":
        match = _LISTEN.match(text)
        if match is None or not 0 < int(match.group(2)) < 65536:
            return None, f"{origin}: listen is {text!r}; write an address and a port, such as 127.0.0.1:8642"
        return text, None
    if key in _NUMBERS:
        low, high = _NUMBERS[key]
        if not text.isdigit() or not low <= int(text) <= high:
            return None, f"{origin}: {key} is {text!r}; write a whole number from {low} to {high}"
        return int(text), None
    if key in _CHOICES and text not in _CHOICES[key]:
        return None, f"{origin}: {key} is {text!r}; write one of {', '.join(_CHOICES[key])}"
    return text, None


def load_config(file: Path | None, environment: Mapping[str, str], flags: Mapping[str, str | None]) -> Config:
    """The configuration from the file (``file``, or ``CALMLY_CONFIG``), the environment and the flags given."""
    values: dict[str, Any] = {}
    origins: dict[str, str] = {}
    problems: list[str] = []
    file = file or (Path(environment["CALMLY_CONFIG"]) if environment.get("CALMLY_CONFIG") else None)
    if file is not None:
        if not file.exists():  # anything else (a folder, a named pipe) is refused, with why, when it is read
            raise ConfigError([f"{file.as_posix()}: the config file does not exist"])
        found, located = _from_file(file)
        problems += [problem.located for problem in located]
        values.update(found)
        origins.update(dict.fromkeys(found, file.as_posix()))
    for key, variable in _ENVIRONMENT.items():
        if environment.get(variable):
            value, problem = _from_text(key, environment[variable], variable)
            if problem:
                problems.append(problem)
            else:
                values[key], origins[key] = value, variable
    for key, text in flags.items():
        if text is not None:
            value, problem = _from_text(key, text, f"--{key.replace('_', '-')}")
            if problem:
                problems.append(problem)
            else:
                values[key], origins[key] = value, "flag"
    if problems:
        raise ConfigError(problems)
    config = replace(DEFAULTS, **values)
    return replace(config, origins={key: origins.get(key, "default") for key in _ENVIRONMENT})
