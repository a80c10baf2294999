"""The set-up checks as the daemon runs them: at start and at each reload, each finding logged and kept for the API."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import structlog

from engine.daemon._config import Config
from engine.files import load_paths
from engine.playbook import LoadResult
from engine.service import Roster
from engine.service._preflight import Resolver, RosterFile, roster_file
from engine.service._preflight import check as check_setup

__all__ = ["located", "setup_findings"]

_log = structlog.get_logger("calmly.daemon")


def located(problem: Any) -> dict[str, Any]:
    """A problem or finding with its place, as the log and the API show it."""
    return {
        "file": problem.file,
        "line": problem.line,
        "column": problem.column,
        "code": problem.code,
        "message": problem.message,
    }


def setup_findings(
    config: Config, roster: Roster, resolve: Resolver, loaded: Sequence[LoadResult] = ()
) -> tuple[dict[str, Any], ...]:
    """The set-up checks (``calmly check``'s findings about the set), each logged as a warning: none stops the
    daemon, which has refused anything fatal already, but an operator must hear of them at once. ``loaded`` is the
    playbooks as the library just read them (read again when not given)."""
    read = roster_file(config.roster)
    found = read if isinstance(read, RosterFile) else RosterFile(roster)
    findings = check_setup(list(loaded) or load_paths(list(config.playbooks)), found, os.environ, resolve)
    shown = tuple({**located(finding), "severity": str(finding.severity)} for finding in findings)
    for finding in shown:
        _log.warning("set-up check", **finding)
    return shown
