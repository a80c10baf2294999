"""The ``calmly`` group's one place for errors: a :class:`~engine.errors.CalmlyError` that no command handled
ends the run as ``calmly: <message>`` on standard error and the error's exit code, never as a traceback."""

from __future__ import annotations

from typing import Any

import click

from engine.errors import CalmlyError

__all__ = ["CalmlyGroup"]


class CalmlyGroup(click.Group):
    """A click group whose commands may raise calmly's errors and leave the telling to it."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CalmlyError as error:
            click.echo(f"calmly: {error}", err=True)
            ctx.exit(error.exit_code)
