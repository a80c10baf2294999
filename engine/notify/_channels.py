"""The channels a notification can go out on: the log, a generic webhook (Standard Webhooks), Slack, email.

Each ``send`` either returns (delivered) or raises :class:`DeliveryError`, which says whether trying again later
can help: a refused request (a 4xx other than 429, a permanent SMTP error) cannot; a timeout, a 5xx, a 429 or a
dropped connection can. Every message carries its idempotency key, so a receiver can drop a repeat.
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
from collections.abc import Callable, Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any, Protocol

import httpx
import structlog

from engine.errors import DeliveryError
from engine.notify._message import Message
from engine.service import Smtp, signature_headers

__all__ = ["Channel", "DeliveryError", "EmailChannel", "LogChannel", "SlackChannel", "WebhookChannel"]

_log = structlog.get_logger("calmly.notify")


class Channel(Protocol):
    def send(self, message: Message, settings: Mapping[str, Any], now: datetime) -> None: ...


class LogChannel:
    """The daemon's log: always there, never fails."""

    def send(self, message: Message, settings: Mapping[str, Any], now: datetime) -> None:
        _log.warning(
            "notification",
            key=message.key,
            role=settings.get("role"),
            incident_id=message.data.get("incident"),
            subject=message.subject,
            text=" ".join(message.lines),
        )


def _http_failure(response: httpx.Response) -> DeliveryError:
    status = response.status_code
    retryable = status == 429 or status >= 500
    return DeliveryError(f"HTTP {status} from the receiver", retryable=retryable)


def _event_type(data: Mapping[str, Any]) -> str:
    """``incident.breach`` for a clock's step (its kind); ``incident.event.opened`` for an event a rule tells of."""
    event = data.get("event")
    return f"incident.event.{event}" if event else f"incident.{data['kind']}"


class _Http:
    def __init__(self, timeout: float) -> None:
        self._client = httpx.Client(timeout=timeout, follow_redirects=False)

    def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> None:
        try:
            response = self._client.post(url, content=body, headers={"content-type": "application/json", **headers})
        except httpx.TimeoutException as error:
            raise DeliveryError(
                f"the receiver did not answer in time ({type(error).__name__})", retryable=True
            ) from error
        except httpx.HTTPError as error:
            raise DeliveryError(f"cannot reach the receiver ({type(error).__name__})", retryable=True) from error
        except httpx.InvalidURL as error:  # not an HTTPError; its message quotes the address, which may be a secret
            raise DeliveryError("the receiver's address is not a valid URL", retryable=False) from error
        if not response.is_success:
            raise _http_failure(response)


class WebhookChannel:
    """JSON to a URL, signed with the Standard Webhooks scheme when the destination names a secret.

    The signature's timestamp is the wall clock's (``sent_at``), whatever clock the incidents run on: receivers
    judge it against their own clock to refuse stale or replayed requests.
    """

    def __init__(self, environment: Mapping[str, str], sent_at: Callable[[], datetime], timeout: float = 10.0) -> None:
        self._environment = environment
        self._sent_at = sent_at
        self._http = _Http(timeout)

    def send(self, message: Message, settings: Mapping[str, Any], now: datetime) -> None:
        now = self._sent_at()
        body = json.dumps(
            {
                "type": _event_type(message.data),
                "key": message.key,
                "subject": message.subject,
                "text": message.text,
                "data": message.data,
            },
            separators=(",", ":"),
        ).encode()
        headers = {"webhook-id": message.key, "webhook-timestamp": str(int(now.timestamp()))}
        secret_name = settings.get("secret_env")
        if secret_name:
            secret = self._environment.get(str(secret_name))
            if not secret:
                raise DeliveryError(f"the signing secret's variable {secret_name} is not set", retryable=False)
            headers = signature_headers(secret, message.key, now, body)
        self._http.post(str(settings["url"]), body, headers)


class SlackChannel:
    """A Slack incoming webhook: a readable message with the incident, the clock, how late, and a link."""

    def __init__(self, environment: Mapping[str, str], timeout: float = 10.0) -> None:
        self._environment = environment
        self._http = _Http(timeout)

    def send(self, message: Message, settings: Mapping[str, Any], now: datetime) -> None:
        url = settings.get("url") or self._environment.get(str(settings.get("url_env", "")))
        if not url:
            raise DeliveryError(f"the Slack address's variable {settings.get('url_env')} is not set", retryable=False)
        # Slack reads &, < and > as markup (<url|label> links, @-mentions): a customer's words must not become any.
        text = "\n".join(message.lines).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": message.subject[:150]}},
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
        ]
        if message.link:
            blocks.append(
                {"type": "section", "text": {"type": "mrkdwn", "text": f"<{message.link}|Open the incident>"}}
            )
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"key {message.key}"}]})
        body = json.dumps({"text": f"{message.subject}\n{text}", "blocks": blocks}).encode()
        self._http.post(str(url), body, {})


def _message_id(key: str, address: str) -> str:
    return f"<{hashlib.sha256(f'{key}|{address}'.encode()).hexdigest()[:32]}@calmly>"


class EmailChannel:
    """Plain text and HTML over SMTP, with STARTTLS when the server offers it (or as configured)."""

    def __init__(
        self,
        smtp: Smtp | None,
        environment: Mapping[str, str],
        connect: Callable[..., smtplib.SMTP] = smtplib.SMTP,
    ) -> None:
        self._smtp = smtp
        self._environment = environment
        self._connect = connect

    def _email(self, message: Message, address: str, now: datetime) -> EmailMessage:
        if self._smtp is None:  # pragma: no cover - the roster refuses email without an smtp section
            raise DeliveryError("the roster names no smtp server", retryable=False)
        email = EmailMessage()
        email["From"] = self._smtp.sender
        email["To"] = address
        email["Subject"] = message.subject
        email["Date"] = format_datetime(now)
        email["Message-ID"] = _message_id(message.key, address)
        email["X-Calmly-Key"] = message.key
        email.set_content(message.text)
        email.add_alternative(message.html, subtype="html")
        return email

    def send(self, message: Message, settings: Mapping[str, Any], now: datetime) -> None:
        smtp = self._smtp
        address = str(settings["to"])
        email = self._email(message, address, now)
        assert smtp is not None  # checked in _email
        try:
            with self._connect(smtp.host, smtp.port, timeout=float(smtp.timeout_seconds)) as server:
                server.ehlo()
                if smtp.starttls != "never" and server.has_extn("starttls"):
                    server.starttls(context=ssl.create_default_context())
                    server.ehlo()
                elif smtp.starttls == "required":
                    raise DeliveryError(
                        "the mail server does not offer STARTTLS, which the roster requires", retryable=False
                    )
                if smtp.username_env and smtp.password_env:
                    server.login(
                        self._environment.get(smtp.username_env, ""), self._environment.get(smtp.password_env, "")
                    )
                server.send_message(email)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            permanent = all(500 <= code < 600 for code in codes)
            raise DeliveryError(f"the mail server refused {address} ({codes[0]})", retryable=not permanent) from error
        except smtplib.SMTPResponseException as error:
            permanent = 500 <= error.smtp_code < 600
            raise DeliveryError(f"the mail server answered {error.smtp_code}", retryable=not permanent) from error
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(
                f"cannot hand the email to the mail server ({type(error).__name__})", retryable=True
            ) from error
