"""Reloads: the playbooks and the roster read again while the daemon runs, all of it taking or none of it."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime

import structlog

from engine.api import ApiContext, ReloadOutcome
from engine.daemon._config import Config
from engine.daemon._findings import located, setup_findings
from engine.daemon._redaction import REDACTOR, roster_secrets
from engine.playbook import Failed
from engine.service import InvalidPlaybooks, Library, load_roster
from engine.service._preflight import Resolver

__all__ = ["Reloader"]

_log = structlog.get_logger("calmly.daemon")


class Reloader:
    """Re-reads the playbooks and the roster (SIGHUP, POST /v1/admin/reload): all of it takes, or none of it.

    The roster is checked first, then the playbooks are installed (the library keeps its set if any is invalid), and
    only then is the new roster swapped in. Running incidents keep the playbook version they opened under.
    """

    def __init__(
        self,
        config: Config,
        library: Library,
        context: ApiContext,
        clock: Callable[[], datetime],
        resolve: Resolver,
    ) -> None:
        self._config = config
        self._resolve = resolve
        self._library = library
        self._context = context
        self._clock = clock
        self._lock = threading.Lock()
        #: Told what asked for each reload that took (on a shared store: so the other daemons reload too).
        self.on_reloaded: Callable[[str], None] = lambda _asked_by: None

    def __call__(self, asked_by: str) -> ReloadOutcome:
        with self._lock:
            kept = tuple(f"{book.playbook.id} v{book.playbook.version}" for book in self._library.current)
            people = len(self._context.roster.people)
            roster = load_roster(self._config.roster)
            if isinstance(roster, Failed):
                problems = tuple(located(problem) for problem in roster.problems)
                _log.error("reload refused: the roster has problems", asked_by=asked_by, problems=list(problems))
                return ReloadOutcome(kept, people, problems, "the roster has problems; nothing was reloaded")
            try:
                books = self._library.install(list(self._config.playbooks), self._clock())
            except InvalidPlaybooks as error:
                problems = tuple(located(problem) for problem in error.problems)
                _log.error("reload refused: " + error.message, asked_by=asked_by, problems=list(problems))
                return ReloadOutcome(kept, people, problems, f"{error.message}; nothing was reloaded")
            REDACTOR.keep_out(roster_secrets(roster, os.environ))
            self._context.roster = roster
            self._context.checks = setup_findings(self._config, roster, self._resolve, self._library.loaded)
            loaded = tuple(f"{book.playbook.id} v{book.playbook.version}" for book in books)
            _log.info("reloaded", asked_by=asked_by, playbooks=list(loaded), people=len(roster.people))
        self.on_reloaded(asked_by)
        return ReloadOutcome(loaded, len(roster.people))
