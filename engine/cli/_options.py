"""The options the commands that reach the daemon or its data folder share: the address, the token, the output
format and the data folder, each spelled (and documented) once."""

from __future__ import annotations

import click

__all__ = ["data_option", "format_option", "token_option", "url_option"]

_URL = "http://127.0.0.1:8642"

url_option = click.option(
    "--url", envvar="CALMLY_URL", default=_URL, show_default=True, help="The daemon's address (env CALMLY_URL)."
)
token_option = click.option(
    "--token", envvar="CALMLY_TOKEN", help="Your token from `calmly token issue` (env CALMLY_TOKEN)."
)
format_option = click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True, help="json for scripts."
)
data_option = click.option(
    "--data",
    envvar="CALMLY_DATA",
    default="data",
    show_default=True,
    help="The daemon's data folder (env CALMLY_DATA).",
)
