"""The options the commands share: the address, the token, the output format, the data folder and the store, each
spelled (and documented) once."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import click

__all__ = [
    "data_option",
    "format_option",
    "output_format",
    "percentage",
    "store_option",
    "token_option",
    "url_option",
]

_URL = "http://127.0.0.1:8642"

url_option = click.option(
    "--url", envvar="CALMLY_URL", default=_URL, show_default=True, help="The daemon's address (env CALMLY_URL)."
)
token_option = click.option(
    "--token", envvar="CALMLY_TOKEN", help="Your token from `calmly token issue` (env CALMLY_TOKEN)."
)


def percentage(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    """An option's value as a percentage from 0 to 100, written ``80``, ``80%`` or ``72.5`` (a click callback:
    anything else is a usage error, exit 2)."""
    if value is None:
        return None
    try:
        number = float(value.strip().removesuffix("%"))
    except ValueError:
        number = math.nan
    if not 0 <= number <= 100:  # nan, too, compares false with everything
        raise click.BadParameter(f"{value!r} is not a percentage from 0 to 100; write it as 80 or 80%", ctx, param)
    return number


def output_format(choices: tuple[str, ...], help_text: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--format`` (the parameter ``fmt``) choosing among ``choices``, the first the default."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=choices[0], show_default=True, help=help_text
    )


format_option = output_format(("text", "json"), "json for scripts.")
data_option = click.option(
    "--data",
    envvar="CALMLY_DATA",
    default="data",
    show_default=True,
    help="The daemon's data folder (env CALMLY_DATA).",
)
store_option = click.option(
    "--store",
    "store_url",
    envvar="CALMLY_STORE",
    metavar="URL",
    help="The daemon's PostgreSQL store, postgresql://user@host:port/database, in place of --data (env CALMLY_STORE).",
)
