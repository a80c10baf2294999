"""Properties over hostile input, so the class of bugs stays closed: deep nesting, huge numbers, huge durations,
lone surrogates, odd Unicode and byte order marks, in playbooks, rosters, configurations and mentions.

The property is always the same: reading returns problems or a value, and never raises; a value that comes back
is one the rest of calmly can use (a playbook opens incidents at the end of the calendar's range without an
overflow; a mention can be stored as UTF-8).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.incident import Author, Mention, Rulebook, mend_mention, open_incident, parse_mention
from engine.playbook import Failed, check_shape, load, read_yaml
from engine.service import BadJson, read_json

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = (ROOT / "tests" / "fixtures" / "playbooks" / "good" / "minimal.good.yaml").read_text(encoding="utf-8")
COMPLAINT = (ROOT / "playbooks" / "customer-complaint.yaml").read_text(encoding="utf-8")
ROSTER = (ROOT / "examples" / "roster.yaml").read_text(encoding="utf-8")
CONFIG = (ROOT / "examples" / "config.yaml").read_text(encoding="utf-8")
#: Late in the calendar, so a limit that validates but runs past year 9999 shows as an overflow here.
LATE = datetime(9000, 1, 1, tzinfo=UTC)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SURROGATES = st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, categories=["Cs"])
ODD = st.sampled_from(["\ufeff", "\u200b", "\u00a0", "\u202e", "\u0430", "\x00", "\x0b", "\U0001f600", "\ufffd"])
TEXT = st.text(st.one_of(st.characters(), SURROGATES, ODD), max_size=20)

DIGITS = st.integers(1, 6000).map(lambda n: "9" * n)
DURATIONS = st.builds(
    lambda number, unit: f"{number}{unit}",
    st.one_of(st.integers(0, 400), st.integers(0, 10**15)),
    st.sampled_from(["w", "d", "h", "m", "s"]),
)
PERCENTAGES = st.builds(lambda number: f"{number}%", st.integers(0, 10**12))


def _nested(depth: int, flow: bool, leaf: str) -> str:
    return "[" * depth + leaf + "]" * depth if flow else "\n" + "".join(" " + "- " * depth) + leaf


SCALARS = st.one_of(
    DIGITS,
    DIGITS.map(lambda text: "-" + text),
    DURATIONS,
    PERCENTAGES,
    TEXT.map(json.dumps),  # a double-quoted YAML string: \ud83d escapes carry lone surrogates through
    st.builds(_nested, st.integers(1, 1200), st.booleans(), st.sampled_from(["x", "1", "1h"])),
    st.sampled_from(["1e999", "-.inf", ".nan", "0x" + "f" * 40, "0o" + "7" * 40, "1e300", "''", "~"]),
)


@st.composite
def _variant(draw: Any, text: str) -> str:
    """``text`` with one value replaced by a hostile one (or one extra key), perhaps after a byte order mark."""
    lines = text.splitlines()
    scalar = draw(SCALARS)
    candidates = [number for number, line in enumerate(lines) if ": " in line and not line.lstrip().startswith("#")]
    if draw(st.booleans()) and candidates:
        number = draw(st.sampled_from(candidates))
        head, _, _ = lines[number].rpartition(": ")
        closing = "}" * (lines[number].count("{") - lines[number].count("}"))
        lines[number] = f"{head}: {scalar}{closing}"
    else:
        lines.append(f"extra: {scalar}")
    body = "\n".join(lines) + "\n"
    return ("\ufeff" + body) if draw(st.booleans()) else body


@SETTINGS
@given(_variant(MINIMAL) | _variant(COMPLAINT))
def test_a_hostile_playbook_gives_problems_or_a_playbook_that_runs_late_in_the_calendar(text: str) -> None:
    for content in (text, text.encode("utf-8", errors="surrogatepass")):
        result = load(content, "fuzzed.yaml")
        for problem in result.problems:
            assert problem.line >= 1
            assert problem.column >= 1
            assert problem.code
        if result.playbook is not None and result.playbook.applies_to.channels:
            book = Rulebook(result.playbook)
            channel = result.playbook.applies_to.channels[0]
            mention = Mention(channel, "1", "refund injury broken", LATE, Author("@zed", 10**6))
            open_incident("inc-1", mention, book, LATE)  # no OverflowError: every duration is within its cap


@SETTINGS
@given(st.one_of(_variant(ROSTER).map(lambda text: ("roster", text)), _variant(CONFIG).map(lambda t: ("config", t))))
def test_a_hostile_roster_or_config_gives_problems_or_data(case: tuple[str, str]) -> None:
    schema, text = case
    document, problems = read_yaml(text, f"fuzzed-{schema}.yaml")
    if document is not None:
        problems += check_shape(document, f"fuzzed-{schema}.yaml", schema)
    assert all(problem.line >= 1 and problem.column >= 1 for problem in problems)


def _mention() -> dict[str, Any]:
    return {
        "channel": "twitter",
        "external_id": "1",
        "text": "My order arrived broken",
        "posted_at": "2026-11-23T09:00:00Z",
        "author": {"handle": "@ann", "followers": 10},
    }


def _deep_list(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


MENTION_VALUES = st.one_of(
    TEXT,
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(),
    st.sampled_from(["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59", "2026-02-30T00:00:00Z"]),
    st.builds(_deep_list, st.integers(1, 200)),
    st.dictionaries(TEXT, TEXT, max_size=3),
)


@SETTINGS
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["text", "channel", "external_id", "posted_at", "author", "url", "extra"]), MENTION_VALUES
        ),
        max_size=3,
    ),
    st.sampled_from(["handle", "followers", "odd"]),
    MENTION_VALUES,
)
def test_a_hostile_mention_gives_errors_or_a_mention_the_store_can_hold(
    changes: list[tuple[str, Any]], author_key: str, author_value: Any
) -> None:
    data = _mention()
    for key, value in changes:
        data[key] = value
    if isinstance(data.get("author"), dict):
        data["author"] = {**data["author"], author_key: author_value}

    parsed = parse_mention(data, now=datetime(2026, 11, 23, 9, tzinfo=UTC))

    if isinstance(parsed, Failed):
        assert all(error.message for error in parsed.problems)
        messages = [error.message for error in parsed.problems]
        json.dumps(messages, ensure_ascii=False).encode("utf-8")  # the 422 can be sent
    else:
        kept = mend_mention(data)
        json.dumps(kept, ensure_ascii=False).encode("utf-8")  # the store's body, as UTF-8
        for text in (parsed.text, parsed.channel, parsed.external_id, parsed.author.handle):
            text.encode("utf-8")


JSON_BODIES = st.one_of(
    st.binary(max_size=200),
    st.builds(
        lambda depth, leaf: "[" * depth + leaf + "]" * depth, st.integers(0, 3000), st.sampled_from(["", "1", '"a"'])
    ),
    st.builds(lambda digits: '{"n": ' + digits + "}", DIGITS),
    st.builds(lambda text: json.dumps({"text": text}), TEXT),
    st.sampled_from(["NaN", "[Infinity]", '{"a": -Infinity}', "1e999", "\ufeff{}", '"\\ud83d"', "{" * 100]),
)


@SETTINGS
@given(JSON_BODIES)
def test_reading_hostile_json_gives_a_value_or_a_bad_json_error(body: str | bytes) -> None:
    content = body.encode("utf-8", errors="surrogatepass") if isinstance(body, str) else body
    try:
        read_json(content)
    except BadJson as error:
        refused = error
    else:
        return
    assert refused.code in {"malformed_json", "too_deep", "number_too_large"}
    assert refused.message


def _as_json_loads_reads_it(body: str | bytes) -> Any:
    """The reference: ``json.loads`` with the hooks calmly's reader uses, and its checks."""
    from engine.service import _json_input as reader  # noqa: PLC0415 - the module's own hooks, for the reference

    value = json.loads(body, parse_int=reader._integer, parse_float=reader._float, parse_constant=reader._constant)
    reader._locate(value)
    return value


@SETTINGS
@given(JSON_BODIES, st.booleans())
def test_reading_json_reads_what_json_loads_reads_and_refuses_what_it_refuses(body: str | bytes, as_text: bool) -> None:
    content: str | bytes = body if as_text or isinstance(body, bytes) else body.encode("utf-8", "surrogatepass")
    if as_text and isinstance(body, bytes):
        content = body.decode("utf-8", "replace")
    try:
        expected: Any = _as_json_loads_reads_it(content)
    except BadJson as error:
        expected = ("refused", error.code, error.message)
    except (ValueError, RecursionError):
        expected = ("refused",)
    try:
        found: Any = read_json(content)
    except BadJson as error:
        found = ("refused", error.code, error.message) if len(expected) == 3 else ("refused",)
    assert json.dumps(found, default=repr) == json.dumps(expected, default=repr)


@SETTINGS
@given(st.recursive(TEXT | st.integers() | st.none(), lambda inner: st.lists(inner) | st.dictionaries(TEXT, inner)))
def test_a_value_with_nothing_to_mend_comes_back_as_it_is_and_one_with_something_is_mended(value: Any) -> None:
    mended = mend_mention(value)
    broken = any("\x00" in text or any("\ud800" <= char <= "\udfff" for char in text) for text in _texts(value))

    if broken:
        assert mended is not value
        assert not any("\x00" in text or any("\ud800" <= c <= "\udfff" for c in text) for text in _texts(mended))
    else:
        assert mended is value


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in _texts(item)]
    if isinstance(value, dict):
        return [text for key, item in value.items() for text in (*_texts(key), *_texts(item))]
    return []
