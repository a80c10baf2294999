"""Mentions: what listening tools report, checked against schemas/mention.schema.json and made typed."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from engine.incident._repair import Repair, mend
from engine.incident._url import url_key
from engine.playbook import Failed, canonical_channel, dotted, handle_key, shipped_schema, suggest

__all__ = [
    "MAX_AHEAD",
    "Author",
    "Engagement",
    "Mention",
    "MentionError",
    "MentionProblem",
    "mend_mention",
    "mention_schema",
    "parse_mention",
]

#: How far after the daemon's clock a mention may say it was posted. A listening tool's clock may run fast, and a
#: tool may label local time as UTC; fourteen hours (the largest offset from UTC anywhere) keeps all of those, and
#: a post a day ahead is refused as clearly wrong.
MAX_AHEAD = timedelta(hours=14)


@dataclass(frozen=True, slots=True)
class Author:
    handle: str
    followers: int = 0


@dataclass(frozen=True, slots=True)
class Engagement:
    likes: int = 0
    shares: int = 0
    replies: int = 0


@dataclass(frozen=True, slots=True)
class Mention:
    channel: str
    external_id: str
    text: str
    posted_at: datetime
    author: Author
    engagement: Engagement = Engagement()
    url: str | None = None
    thread_id: str | None = None
    customer_id: str | None = None
    #: The customer's segment in the brand's CRM (``vip``), given only with a ``customer_id``.
    customer_segment: str | None = None
    #: Which listening tool sent it, when the tool says so.
    source: str | None = None
    #: The channel as the tool named it, when that was an alias (``x``); ``channel`` is the name calmly keeps.
    sent_channel: str | None = None
    #: What calmly mended to keep the mention (a cut emoji's lone surrogate), each with a pointer to the field.
    repairs: tuple[Repair, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        """The dedupe key: an external id is unique per channel."""
        return self.channel, self.external_id

    @property
    def author_key(self) -> str:
        """Who wrote it, for joining: ``@Zed`` and ``zed`` are one author (see :func:`handle_key`)."""
        return handle_key(self.channel, self.author.handle)

    @property
    def url_key(self) -> str | None:
        """The post's link as a second dedupe key: one post reported by two tools is one mention."""
        return url_key(self.url)


@dataclass(frozen=True, slots=True)
class MentionProblem:
    """One reason a mention was refused, with a JSON pointer to the field: a value, never raised."""

    pointer: str
    message: str


#: The name it had before; deprecated, kept so code that imports it keeps working. Use MentionProblem.
MentionError = MentionProblem


def mention_schema() -> Mapping[str, Any]:
    return shipped_schema("mention")


@functools.cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(mention_schema())


@functools.cache
def _quick_check() -> Callable[[Any], Any]:
    """The same schema compiled to Python by fastjsonschema: twenty times quicker on the mentions that pass.

    Only its "yes" is trusted; anything it refuses goes to jsonschema, the reference, which also words the errors
    (a test checks on random data that the quick check never passes what the reference refuses).
    """
    schema = {key: value for key, value in mention_schema().items() if key not in ("$schema", "if", "then")}
    # The schema's one if/then (a segment needs its customer) is the same rule as a dependency, which fastjsonschema
    # checks with a lookup: its "if" raises and catches an exception on every mention without a segment.
    condition: Any = mention_schema().get("if", {})
    then: Any = mention_schema().get("then", {})
    if condition or then:
        if set(condition) != {"required"} or len(condition["required"]) != 1 or set(then) != {"required"}:
            raise ValueError("the mention schema's if/then is no longer one field's dependency")  # pragma: no cover
        schema["dependencies"] = {condition["required"][0]: list(then["required"])}
    return fastjsonschema.compile(schema)


def _passes_quick_check(data: Any) -> bool:
    try:
        _quick_check()(data)
    except fastjsonschema.JsonSchemaException:
        return False
    return True


def _pointer(path: tuple[str | int, ...]) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


_KINDS = {"string": "text", "integer": "a whole number", "object": "a mapping", "array": "a list"}


def _message(error: ValidationError) -> str:
    """jsonschema's error, in words a listening-tool integrator can act on."""
    path = tuple(error.absolute_path)
    where = dotted(path) if path else "the mention"
    schema: Any = error.schema
    value: Any = error.instance
    expected: Any = error.validator_value
    if error.validator == "required" and "then" in error.relative_schema_path:  # the only if/then: a segment
        return f"{where} gives a customer_segment without the customer_id it belongs to; send both, or neither"
    if error.validator == "required":
        missing = [key for key in expected if key not in value]
        return f"{where} needs {', '.join(repr(key) for key in missing)}"
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        extra = [key for key in value if key not in allowed]
        return f"{where} has unknown field {extra[0]!r}{suggest(extra[0], allowed)}"
    if error.validator == "enum":
        choices = [str(choice) for choice in expected]
        return f"{where} is {value!r}, which calmly does not know{suggest(str(value), choices)}"
    if error.validator == "type":
        wanted = _KINDS.get(str(expected), str(expected))
        return f"{where} must be {wanted}"
    if path == ("posted_at",):
        return f"posted_at is {value!r}; write an RFC 3339 date and time such as 2026-11-23T09:15:00Z"
    return f"{where}: {error.message}"


def mend_mention(data: Any) -> Any:
    """The mention as it is kept: lone surrogates replaced, and each repair listed under ``repairs`` (after any the
    data already lists). Data that needs no mending comes back as it is."""
    mended, repairs = mend(data)
    if not repairs or not isinstance(mended, dict):
        return mended
    earlier: list[Any] = mended["repairs"] if isinstance(mended.get("repairs"), list) else []
    return {**mended, "repairs": [*earlier, *[repair.as_json() for repair in repairs]]}


def _posted_at(text: str, now: datetime | None) -> datetime | MentionProblem:
    try:
        posted_at = datetime.fromisoformat(text.replace("z", "Z"))
        posted_at.astimezone(UTC)  # 9999-12-31T23:59:59-23:59 is a valid text, past the end of the calendar in UTC
    except (ValueError, OverflowError):
        return MentionProblem(
            "/posted_at",
            f"posted_at: {text!r} is not a valid date and time that calmly can keep (years 0001 to 9999, in UTC)",
        )
    if now is not None and posted_at - now > MAX_AHEAD:
        return MentionProblem(
            "/posted_at",
            f"posted_at is {text}, more than {MAX_AHEAD.total_seconds() / 3600:.0f} hours after the daemon's clock "
            f"({now.astimezone(UTC).isoformat(timespec='seconds')}); check the listening tool's clock and time zone",
        )
    return posted_at


def parse_mention(data: Any, *, now: datetime | None = None, mended: bool = False) -> Mention | Failed[MentionProblem]:
    """A typed mention, or every reason the data is not one. Lone surrogates are mended (see :func:`mend_mention`;
    ``mended``: the caller has, and keeps what it mended); given ``now``, a ``posted_at`` more than
    :data:`MAX_AHEAD` after it is refused."""
    if not mended:
        data = mend_mention(data)
    if not _passes_quick_check(data):
        errors: list[MentionProblem] = []
        for error in sorted(_validator().iter_errors(data), key=lambda item: list(map(str, item.absolute_path))):
            found = MentionProblem(_pointer(tuple(error.absolute_path)), _message(error))
            if found not in errors:  # jsonschema reports each missing key apart; the message already names them all
                errors.append(found)
        if errors:
            return Failed(tuple(errors))
    posted_at = _posted_at(data["posted_at"], now)
    if isinstance(posted_at, MentionProblem):
        return Failed((posted_at,))
    author = data["author"]
    engagement = data.get("engagement", {})
    return Mention(
        channel=canonical_channel(data["channel"]),
        external_id=data["external_id"],
        text=data["text"],
        posted_at=posted_at,
        # JSON Schema counts 1.0 as an integer; counts are kept as whole numbers whatever the sender wrote.
        author=Author(author["handle"], int(author.get("followers", 0))),
        engagement=Engagement(
            int(engagement.get("likes", 0)), int(engagement.get("shares", 0)), int(engagement.get("replies", 0))
        ),
        url=data.get("url"),
        thread_id=data.get("thread_id"),
        customer_id=data.get("customer_id"),
        customer_segment=data.get("customer_segment"),
        source=data.get("source"),
        sent_channel=data["channel"] if canonical_channel(data["channel"]) != data["channel"] else None,
        repairs=tuple(Repair(str(item["pointer"]), str(item["what"])) for item in data.get("repairs", ())),
    )
