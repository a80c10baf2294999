"""The ``calmly ingest`` command: a JSON Lines file of mentions checked line by line, then sent to the daemon."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import click

from engine.cli._failure import fail
from engine.cli._options import format_option, token_option, url_option

__all__ = ["ingest"]

#: Mentions sent in one request (the daemon takes up to its max_batch, 1000 by default).
_BATCH = 500


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, line in enumerate(stream, start=1):
        if line.strip():
            yield number, line


def _read_mentions(stream: IO[bytes], name: str) -> list[tuple[int, Any]]:
    """Every mention in a JSON Lines stream; any bad line stops everything, with every bad line reported.

    Lines are read as bytes and decoded one by one, so text that is not UTF-8 is reported at its line and column.
    A cut emoji's lone surrogate is mended here, as the daemon would (the repair travels with the mention); the
    daemon's clock, not this one, judges how far ahead ``posted_at`` may be."""
    from engine.incident import mend_mention, parse_mention  # noqa: PLC0415
    from engine.playbook import Failed  # noqa: PLC0415
    from engine.service import BadJson, read_json  # noqa: PLC0415

    found: list[tuple[int, Any]] = []
    problems: list[str] = []
    for number, raw in _lines(stream):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            column = len(raw[: error.start].decode("utf-8", errors="replace")) + 1
            problems.append(
                f"{name}:{number}:{column}: byte 0x{raw[error.start]:02x} is not UTF-8; save the file as UTF-8"
            )
            continue
        try:
            item = mend_mention(read_json(line))
        except BadJson as error:
            at = f":{error.column}: not valid JSON" if error.column is not None else ""
            problems.append(f"{name}:{number}{at}: {error.reason}")
            continue
        parsed = parse_mention(item)
        if isinstance(parsed, Failed):
            problems.extend(f"{name}:{number}: {problem.message}" for problem in parsed.problems)
            continue
        found.append((number, item))
    if problems:
        fail("nothing was sent; fix these lines first:\n" + "\n".join(f"  {line}" for line in problems))
    return found


@click.command()
@click.argument("source", type=click.File("rb"))
@url_option
@token_option
@format_option
@click.option(
    "--intake-secret",
    envvar="CALMLY_INTAKE_SECRET",
    help="Sign the requests with this whsec_ secret, when the daemon takes signed intake (env CALMLY_INTAKE_SECRET).",
)
def ingest(source: IO[bytes], url: str, token: str | None, fmt: str, intake_secret: str | None) -> None:
    """Send mentions from a JSON Lines file (one mention per line; - for standard input) to the daemon.

    Every line is checked first: if any is not a valid mention, nothing is sent. Each mention then opens an
    incident, joins one, is a duplicate (already received), is ignored (no playbook applies) or is muted (its author
    is muted: recorded on the closed incident that muted them).
    """
    from engine.cli._client import ApiFailure, Client  # noqa: PLC0415
    from engine.cli._render import ingest_lines, json_text  # noqa: PLC0415

    name = "<stdin>" if source.name == "<stdin>" else Path(source.name).as_posix()
    mentions = _read_mentions(source, name)
    client = Client(url, token, intake_secret=intake_secret)
    results: list[dict[str, Any]] = []
    try:
        for start in range(0, len(mentions), _BATCH):
            batch = mentions[start : start + _BATCH]
            answers = client.post_mentions([item for _, item in batch])
            results.extend({"line": number, **answer} for (number, _), answer in zip(batch, answers, strict=True))
    except ApiFailure as error:
        sent = f" after {len(results)} of {len(mentions)} were recorded" if results else ""
        fail(f"{error.message} ({error.code}){sent}")
    finally:
        client.close()
    if fmt == "json":
        click.echo(json_text({"results": results}))
        return
    for line in ingest_lines(name, results):
        click.echo(line)
