"""The daemon's log: structlog to standard error, one shape for every line, every line through the redactor."""

from __future__ import annotations

import logging
import sys

import structlog

from engine.daemon._redaction import REDACTOR

__all__ = ["configure_logging"]


def configure_logging(log_format: str, level: str) -> None:
    """structlog to standard error: readable on a terminal, JSON lines otherwise (or as configured).

    The libraries' standard-library loggers (uvicorn's, say) are routed through the same renderer, so every line
    of the log has one shape, and through the same redactor, so no line holds a secret (see
    :mod:`engine.daemon._redaction`).
    """
    json_lines = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    # httpx and httpcore log each request with its full address at INFO and DEBUG, and a Slack address (or a
    # webhook's with a token in it) is a secret: keep them to warnings; the redactor masks what still gets through.
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json_lines else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, REDACTOR, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                REDACTOR,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper()))
