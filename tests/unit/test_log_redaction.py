"""No secret in any log line: the redactor masks known values and secret shapes, in ours and the libraries' lines."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from engine.daemon import MASK, Redactor, configure_logging


@pytest.fixture
def logged(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """The daemon's logging at debug level, set up by the test itself (its standard error is the captured one)."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield capsys
    structlog.reset_defaults()
    root.handlers[:], root.level = handlers, level
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.NOTSET)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("POST http://hooks.slack.com/services/T1/B2/abcdefXYZ", "T1/B2/abcdefXYZ"),
        ("POST https://user:hunter2pass@example.com/hook", "hunter2pass"),
        ("POST https://example.com/hook?token=q7Zx91kLm&channel=web", "q7Zx91kLm"),
        ("POST https://example.com/hook?api_key=Kp3Lq8Wn", "Kp3Lq8Wn"),
        ("Bearer calmly_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCd", "AbCdEfGhIjKlMnOpQrStUvWxYz"),
        ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
    ],
)
def test_masks_secrets_known_by_their_shape(text: str, secret: str) -> None:
    masked = Redactor().redact(text)

    assert secret not in masked
    assert MASK in masked


def test_masks_a_value_it_was_told_of_and_keeps_the_rest_of_the_line() -> None:
    redactor = Redactor()
    redactor.keep_out(["http://127.0.0.1:9/services/secret-path", "ok"])

    masked = redactor.redact("delivered to http://127.0.0.1:9/services/secret-path: ok")

    assert masked == f"delivered to {MASK}: ok"  # a value too short to be a secret is left alone


def test_a_library_logger_at_debug_goes_through_the_redactor(logged: pytest.CaptureFixture[str]) -> None:
    from engine.daemon import REDACTOR  # noqa: PLC0415 - the process's own, as the daemon fills it

    configure_logging("json", "debug")
    REDACTOR.keep_out(["smtpPasswordForTheLog"])

    logging.getLogger("some.library").debug("login with %s to %s", "smtpPasswordForTheLog", "https://u:p4ssw0rd@x/")
    structlog.get_logger("calmly.test").info("sent", to="https://hooks.slack.com/services/T/B/xyzSecret")

    lines = [json.loads(line) for line in logged.readouterr().err.splitlines()]
    text = json.dumps(lines)
    assert len(lines) == 2
    assert "smtpPasswordForTheLog" not in text
    assert "p4ssw0rd" not in text
    assert "xyzSecret" not in text


def test_httpx_request_lines_stay_below_the_log_even_at_debug(logged: pytest.CaptureFixture[str]) -> None:
    configure_logging("json", "debug")
    logging.getLogger("httpx").info('HTTP Request: POST http://127.0.0.1/secret-path "HTTP/1.1 200 OK"')
    logging.getLogger("httpcore.http11").debug("send_request_headers.started")

    assert logged.readouterr().err == ""
