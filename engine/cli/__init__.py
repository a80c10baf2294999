"""The ``calmly`` command group, its commands and the HTTP client they use.

Only :func:`main` is exported: each command imports what it needs when it runs, so ``calmly validate`` starts
quickly.
"""

from __future__ import annotations

from engine.cli._main import main

__all__ = ["main"]
