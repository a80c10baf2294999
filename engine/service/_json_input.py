"""Reading JSON from outside (a request's body, a line of ``calmly ingest``) with bounds: nesting, numbers and
constants, so hostile input is an error that says where, never a RecursionError or Python's 4,300-digit ValueError.

What is refused: nesting over :data:`MAX_DEPTH` (no calmly request needs a tenth of it), whole numbers outside a
signed 64-bit integer (what SQLite and PostgreSQL keep), numbers too large for a float, and ``NaN`` or
``Infinity`` (not JSON, though Python's reader takes them).
"""

from __future__ import annotations

import json
from typing import Any

from engine.errors import BadJson

__all__ = ["MAX_DEPTH", "MAX_INTEGER", "BadJson", "lone_surrogate_at", "read_json"]

MAX_DEPTH = 32
MAX_INTEGER = 2**63 - 1


class _TooLarge:
    """A number read as text because it is too large to keep."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _integer(text: str) -> int | _TooLarge:
    # Nineteen digits hold every 64-bit integer; beyond that the text is never converted (Python refuses 4,300).
    if len(text.lstrip("-")) > 19:
        return _TooLarge(text)
    value = int(text)
    return value if abs(value) <= MAX_INTEGER else _TooLarge(text)


def _float(text: str) -> float | _TooLarge:
    value = float(text)
    return value if value not in (float("inf"), float("-inf")) else _TooLarge(text)


def _constant(text: str) -> Any:
    raise ValueError(f"{text} is not a JSON value; send a number or null")


def _segment(part: str | int) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def _check(value: Any) -> None:
    """Raise at the first number too large or nesting too deep (see :func:`_locate`). The usual value has neither,
    which a walk that builds no pointers tells at a fraction of the cost."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, _TooLarge) or (isinstance(item, dict | list) and depth >= MAX_DEPTH):
            _locate(value)
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)


def _locate(value: Any) -> None:
    """Walk the value (without recursion) for numbers too large and nesting too deep; raise at the first, saying
    where."""
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, pointer, depth = stack.pop()
        if isinstance(item, _TooLarge):
            digits = len(item.text.lstrip("-"))
            raise BadJson(
                "number_too_large",
                f"the number at {pointer or '/'} ({digits:,} characters) is too large; calmly takes whole numbers "
                f"up to {MAX_INTEGER:,}",
                pointer,
            )
        if isinstance(item, dict | list):
            if depth >= MAX_DEPTH:
                raise BadJson(
                    "too_deep",
                    f"the JSON is nested more than {MAX_DEPTH} levels deep at {pointer[:200]}; no calmly request "
                    "needs that many",
                    pointer,
                )
            children = item.items() if isinstance(item, dict) else enumerate(item)
            stack.extend((child, f"{pointer}/{_segment(key)}", depth + 1) for key, child in children)


def lone_surrogate_at(value: Any) -> str | None:
    """The JSON pointer of the first string (or key) holding a lone UTF-16 surrogate, which no UTF-8 store can keep;
    ``None`` when there is none. Mentions mend such text (see :func:`engine.incident.mend_mention`); what people
    type into an action is refused instead, so nothing they send is changed without them knowing."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, pointer = stack.pop()
        if isinstance(item, str):
            if any("\ud800" <= char <= "\udfff" for char in item):
                return pointer or "/"
        elif isinstance(item, dict):
            for key, child in item.items():
                stack.append((key, pointer))
                stack.append((child, f"{pointer}/{_segment(key)}"))
        elif isinstance(item, list):
            stack.extend((child, f"{pointer}/{index}") for index, child in enumerate(item))
    return None


#: One reader for every call: ``json.loads`` with hooks would build a decoder (and its scanner) each time.
_DECODER = json.JSONDecoder(parse_int=_integer, parse_float=_float, parse_constant=_constant)


def _decoded(body: bytes | str) -> Any:
    """What ``json.loads`` would read, with the hooks above: bytes in any of JSON's encodings (a UTF-8 BOM
    dropped), text without a BOM."""
    if isinstance(body, str):
        if body.startswith("\ufeff"):
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", body, 0)
        return _DECODER.decode(body)
    return _DECODER.decode(body.decode(json.detect_encoding(body), "surrogatepass"))


def read_json(body: bytes | str) -> Any:
    """The JSON value, or :class:`BadJson` saying why not."""
    try:
        value = _decoded(body)
    except RecursionError as error:
        raise BadJson("too_deep", f"the JSON is nested far more than {MAX_DEPTH} levels deep") from error
    except json.JSONDecodeError as error:
        where = f"at line {error.lineno}, column {error.colno}"
        raise BadJson(
            "malformed_json", f"the body is not valid JSON {where}: {error}", column=error.colno, reason=error.msg
        ) from error
    except (UnicodeDecodeError, ValueError) as error:
        raise BadJson("malformed_json", f"the body is not valid JSON: {error}") from error
    _check(value)
    return value
