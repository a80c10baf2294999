"""Standard Webhooks signatures (https://www.standardwebhooks.com): signing what calmly sends, checking what it takes.

A message is signed over ``{id}.{timestamp}.{body}`` with HMAC-SHA256 and a shared secret; the headers are
``webhook-id``, ``webhook-timestamp`` (Unix seconds) and ``webhook-signature`` (``v1,<base64>``, several separated by
spaces while secrets rotate). Secrets are written ``whsec_<base64>``, as the scheme's libraries expect; a secret
without the prefix is used as raw bytes.
"""

from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

__all__ = [
    "SECRET_PREFIX",
    "TOLERANCE",
    "SignatureProblem",
    "secret_bytes",
    "sign",
    "signature_headers",
    "verify",
]

SECRET_PREFIX = "whsec_"
#: Timestamps further than this from now are refused: an old request replayed, or a clock far off.
TOLERANCE = timedelta(minutes=5)


class SignatureProblem(enum.StrEnum):
    MISSING = "missing_signature"
    BAD_TIMESTAMP = "bad_timestamp"
    STALE = "stale_timestamp"
    MISMATCH = "bad_signature"

    @property
    def message(self) -> str:
        return {
            SignatureProblem.MISSING: "sign the request: webhook-id, webhook-timestamp and webhook-signature headers "
            "(Standard Webhooks)",
            SignatureProblem.BAD_TIMESTAMP: "webhook-timestamp must be the time of sending in whole Unix seconds",
            SignatureProblem.STALE: "webhook-timestamp is more than five minutes from now: send a fresh request "
            "(and check the sender's clock)",
            SignatureProblem.MISMATCH: "the signature does not match: check the shared secret, and sign the raw body "
            "exactly as sent",
        }[self]


def secret_bytes(secret: str) -> bytes:
    """The key of a ``whsec_<base64>`` secret (or of any other text, as UTF-8)."""
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error as error:
            raise ValueError("a whsec_ secret must be base64 after its prefix") from error
    return secret.encode("utf-8")


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``v1,<base64>`` signature of one message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def signature_headers(secret: str, message_id: str, sent_at: datetime, body: bytes) -> dict[str, str]:
    timestamp = int(sent_at.timestamp())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }


def verify(secrets: Sequence[str], headers: Mapping[str, str], body: bytes, now: datetime) -> str | SignatureProblem:
    """The message id when one of ``secrets`` signed ``body`` within the tolerance of ``now``, or what is wrong.

    ``headers`` must be looked up case-insensitively (as HTTP headers are). Several secrets at once allow rotation.
    """
    message_id = headers.get("webhook-id")
    stamp = headers.get("webhook-timestamp")
    presented = headers.get("webhook-signature")
    if not message_id or not stamp or not presented:
        return SignatureProblem.MISSING
    if not (stamp.isascii() and stamp.isdigit()) or len(stamp) > 12:  # twelve digits of Unix seconds: millennia
        return SignatureProblem.BAD_TIMESTAMP
    timestamp = int(stamp)
    if abs(now.timestamp() - timestamp) > TOLERANCE.total_seconds():
        return SignatureProblem.STALE
    offered = [part.partition(",")[2] for part in presented.split() if part.startswith("v1,")]
    for secret in secrets:
        expected = sign(secret, message_id, timestamp, body).partition(",")[2]
        if any(hmac.compare_digest(expected, candidate) for candidate in offered):
            return message_id
    return SignatureProblem.MISMATCH
