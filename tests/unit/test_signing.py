"""Standard Webhooks signatures agree with the scheme's reference implementation, both ways."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook

from engine.service import SignatureProblem, signature_headers, verify

SECRET = "whsec_" + base64.b64encode(b"calmly test secret, 24 bytes").decode()
OTHER = "whsec_" + base64.b64encode(b"another secret, rotated in").decode()
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BODY = b'{"channel":"twitter","text":"hello"}'


def test_what_calmly_signs_the_reference_library_verifies() -> None:
    headers = signature_headers(SECRET, "msg_1", datetime.now(UTC), BODY)
    assert Webhook(SECRET).verify(BODY, headers) == {"channel": "twitter", "text": "hello"}


def test_what_the_reference_library_signs_calmly_verifies_with_any_current_secret() -> None:
    signature = Webhook(SECRET).sign("msg_2", NOW, BODY.decode())
    headers = {"webhook-id": "msg_2", "webhook-timestamp": str(int(NOW.timestamp())), "webhook-signature": signature}
    assert verify([OTHER, SECRET], headers, BODY, NOW) == "msg_2"
    assert verify([OTHER], headers, BODY, NOW) is SignatureProblem.MISMATCH


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"webhook-signature": None}, SignatureProblem.MISSING),
        ({"webhook-timestamp": "soon"}, SignatureProblem.BAD_TIMESTAMP),
        ({"webhook-timestamp": str(int((NOW - timedelta(minutes=6)).timestamp()))}, SignatureProblem.STALE),
        ({"webhook-timestamp": str(int((NOW + timedelta(minutes=6)).timestamp()))}, SignatureProblem.STALE),
        ({"webhook-id": "msg_other"}, SignatureProblem.MISMATCH),
    ],
)
def test_a_request_not_signed_as_the_scheme_says_is_refused_with_the_reason(
    change: dict[str, str | None], problem: SignatureProblem
) -> None:
    headers = {**signature_headers(SECRET, "msg_3", NOW, BODY), **change}
    present = {key: value for key, value in headers.items() if value is not None}
    assert verify([SECRET], present, BODY, NOW) is problem


def test_a_body_changed_after_signing_is_refused() -> None:
    headers = signature_headers(SECRET, "msg_4", NOW, BODY)
    assert verify([SECRET], headers, BODY + b" ", NOW) is SignatureProblem.MISMATCH


def test_a_timestamp_too_long_to_be_a_time_is_refused_not_a_crash() -> None:
    headers = {**signature_headers(SECRET, "msg_5", NOW, BODY), "webhook-timestamp": "9" * 400}
    assert verify([SECRET], headers, BODY, NOW) is SignatureProblem.BAD_TIMESTAMP
    headers["webhook-timestamp"] = "\u00b2" * 3  # digits to str.isdigit, not to int()
    assert verify([SECRET], headers, BODY, NOW) is SignatureProblem.BAD_TIMESTAMP
