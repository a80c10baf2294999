"""The daemon: configuration, wiring (the only place adapters are built), the worker loops, reloads, logging."""

from __future__ import annotations

from engine.daemon._bootstrap import (
    Adapters,
    Daemon,
    NoStore,
    StartupError,
    adapters,
    build,
    open_adapters,
)
from engine.daemon._config import DEFAULTS, Config, ConfigError, load_config
from engine.daemon._folderlock import PID_FILE, FolderInUse, FolderLock
from engine.daemon._logging import configure_logging
from engine.daemon._loops import Courier, Scheduler
from engine.daemon._redaction import MASK, REDACTOR, Redactor, roster_secrets
from engine.daemon._reload import Reloader
from engine.daemon._server import serve, server_settings

__all__ = [
    "DEFAULTS",
    "MASK",
    "PID_FILE",
    "REDACTOR",
    "Adapters",
    "Config",
    "ConfigError",
    "Courier",
    "Daemon",
    "FolderInUse",
    "FolderLock",
    "NoStore",
    "Redactor",
    "Reloader",
    "Scheduler",
    "StartupError",
    "adapters",
    "build",
    "configure_logging",
    "load_config",
    "open_adapters",
    "roster_secrets",
    "serve",
    "server_settings",
]
