"""The daemon: configuration, wiring (the only place adapters are built), the worker loops, reloads, logging."""

from __future__ import annotations

from engine.daemon._config import DEFAULTS, Config, ConfigError, load_config
from engine.daemon._daemon import Daemon, Reloader, Scheduler, StartupError, build, configure_logging, serve
from engine.daemon._folderlock import PID_FILE, FolderInUse, FolderLock
from engine.daemon._redaction import MASK, REDACTOR, Redactor, roster_secrets

__all__ = [
    "DEFAULTS",
    "MASK",
    "PID_FILE",
    "REDACTOR",
    "Config",
    "ConfigError",
    "Daemon",
    "FolderInUse",
    "FolderLock",
    "Redactor",
    "Reloader",
    "Scheduler",
    "StartupError",
    "build",
    "configure_logging",
    "load_config",
    "roster_secrets",
    "serve",
]
