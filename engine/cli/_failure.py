"""How a command gives up: ``calmly: <why>`` on standard error, and exit code 1."""

from __future__ import annotations

import sys
from typing import NoReturn

import click

__all__ = ["fail"]


def fail(message: str) -> NoReturn:
    click.echo(f"calmly: {message}", err=True)
    sys.exit(1)
