"""Outgoing email: one `EmailSender` interface, one implementation per provider.

Failures are sorted into two errors so the sending job knows what to do: `EmailRejectedError`
(the provider refused the message; retrying cannot help) and `EmailTemporaryError` (retry
later). Both carry a short reason fit for storing and showing: provider, status code and
the provider's own words, never a credential.
"""

from __future__ import annotations

import email.message
import ssl
import sys
import uuid
from abc import ABC, abstractmethod
from dataclasses import dataclass
from email.utils import formatdate, make_msgid, parseaddr
from typing import Any, Protocol, TextIO

import aiosmtplib
import httpx
import structlog
from pydantic import SecretStr

from app.core.logging import redact_text
from app.core.metrics import Metrics
from app.core.settings import EmailSettings

log = structlog.get_logger(__name__)

_MAX_REASON_CHARS = 300


@dataclass(frozen=True)
class EmailMessage:
    to: str
    subject: str
    text: str
    html: str
    reply_to: str | None = None


@dataclass(frozen=True)
class SendResult:
    provider: str
    message_id: str | None


class EmailDeliveryError(Exception):
    def __init__(self, reason: str, *, detail: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        # What went wrong in a developer's terms (an exception), for the log only.
        self.detail = detail


class EmailRejectedError(EmailDeliveryError):
    """The provider refused the message (bad address, bad key, …): retrying cannot help."""


class EmailTemporaryError(EmailDeliveryError):
    """The provider could not take the message now (5xx, 408, 429, timeout, network)."""


class EmailSender(Protocol):
    name: str

    async def send(self, message: EmailMessage) -> SendResult: ...


def build_email_sender(settings: EmailSettings, http: httpx.AsyncClient) -> EmailSender:
    match settings.email_provider:
        case "console":
            return ConsoleEmailSender()
        case "smtp":
            return SmtpEmailSender(settings)
        case "resend":
            return ResendEmailSender(settings, http)
        case "sendgrid":
            return SendGridEmailSender(settings, http)


class CountedEmailSender:
    """Wraps a provider's sender to count every send by provider and outcome."""

    def __init__(self, sender: EmailSender, metrics: Metrics) -> None:
        self._sender = sender
        self._sends = metrics.email_sends
        self.name = sender.name

    async def send(self, message: EmailMessage) -> SendResult:
        try:
            result = await self._sender.send(message)
        except EmailRejectedError:
            self._count("rejected")
            raise
        except EmailTemporaryError:
            self._count("failed")
            raise
        except Exception:
            self._count("error")
            raise
        self._count("sent")
        return result

    def _count(self, outcome: str) -> None:
        self._sends.labels(self.name, outcome).inc()


class _LoggedSender(ABC):
    """Logs the outcome of every send; subclasses only deliver."""

    name: str

    async def send(self, message: EmailMessage) -> SendResult:
        to_domain = _domain_of(message.to)
        try:
            message_id = await self._deliver(message)
        except EmailRejectedError as exc:
            log.warning(
                "email.rejected", provider=self.name, to_domain=to_domain, reason=exc.reason
            )
            raise
        except EmailTemporaryError as exc:
            log.warning(
                "email.failed_temporarily",
                provider=self.name,
                to_domain=to_domain,
                reason=exc.reason,
                detail=exc.detail,
            )
            raise
        log.info("email.sent", provider=self.name, message_id=message_id, to_domain=to_domain)
        return SendResult(provider=self.name, message_id=message_id)

    @abstractmethod
    async def _deliver(self, message: EmailMessage) -> str | None:
        """Hand the message over; return the provider's message id if it gives one."""


class ConsoleEmailSender(_LoggedSender):
    """Prints the message instead of sending it (local development and tests only: the
    settings refuse this provider elsewhere).

    Invite tokens in what it prints are redacted like the logs' (server output is often
    collected with them); the invite's link, token included, is in the recruiter's invite
    response and candidate list.
    """

    name = "console"

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    async def _deliver(self, message: EmailMessage) -> str:
        stream = self._stream or sys.stdout
        rule = "-" * 72
        printed = f"To: {message.to}\nSubject: {message.subject}\n\n{message.text}"
        stream.write(f"{rule}\n{redact_text(printed)}\n{rule}\n")
        stream.flush()
        log.info("email.console", subject=message.subject)
        return f"console-{uuid.uuid4()}"


class SmtpEmailSender(_LoggedSender):
    name = "smtp"

    def __init__(
        self, settings: EmailSettings, *, tls_context: ssl.SSLContext | None = None
    ) -> None:
        """`tls_context` replaces the system trust store (tests trust a self-signed cert)."""
        self._settings = settings
        self._tls_context = tls_context
        self._sender_address = parseaddr(settings.email_from)[1]

    async def _deliver(self, message: EmailMessage) -> str:
        mime = self._mime(message)
        settings = self._settings
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        try:
            await aiosmtplib.send(
                mime,
                sender=self._sender_address,
                recipients=[message.to],
                hostname=settings.smtp_host,
                port=settings.smtp_port,
                username=settings.smtp_username,
                password=password if settings.smtp_username else None,
                use_tls=settings.smtp_security == "tls",
                # False, not None: None lets aiosmtplib upgrade on its own whenever offered.
                start_tls=settings.smtp_security == "starttls",
                tls_context=self._tls_context,
                timeout=settings.email_timeout_seconds,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _smtp_refusal(exc) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _smtp_response_error(exc.code, exc.message) from exc
        except aiosmtplib.SMTPNotSupported as exc:
            # The server lacks the STARTTLS or AUTH we are configured to use: retrying won't help.
            raise EmailRejectedError(_reason(f"smtp: {exc}")) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise _unreachable(self.name, exc) from exc
        return str(mime["Message-ID"])

    def _mime(self, message: EmailMessage) -> email.message.EmailMessage:
        mime = email.message.EmailMessage()
        mime["From"] = self._settings.email_from
        mime["To"] = message.to
        mime["Subject"] = message.subject
        mime["Date"] = formatdate(usegmt=True)
        # An explicit domain: make_msgid's default looks up the host's FQDN, which can block.
        mime["Message-ID"] = make_msgid(domain=_domain_of(self._sender_address) or "tenon.local")
        if message.reply_to:
            mime["Reply-To"] = message.reply_to
        mime.set_content(message.text)
        mime.add_alternative(message.html, subtype="html")
        return mime


def _unreachable(provider: str, exc: Exception) -> EmailTemporaryError:
    """A network failure, in words a recruiter can read; the exception goes to the log."""
    timed_out = isinstance(exc, TimeoutError | httpx.TimeoutException)
    what = "did not answer in time" if timed_out else "could not be reached"
    return EmailTemporaryError(
        f"{provider}: the email server {what}", detail=f"{type(exc).__name__}: {exc}"
    )


def _smtp_refusal(exc: aiosmtplib.SMTPRecipientsRefused) -> EmailDeliveryError:
    # One recipient per message, so the first refusal is the refusal.
    refusal = exc.recipients[0]
    return _smtp_response_error(refusal.code, refusal.message)


def _smtp_response_error(code: int, text: str) -> EmailDeliveryError:
    reason = _reason(f"smtp {code}: {text}")
    return EmailRejectedError(reason) if code >= 500 else EmailTemporaryError(reason)


class _HttpApiSender(_LoggedSender):
    """A provider reached through a JSON HTTP API with a bearer key."""

    def __init__(
        self, http: httpx.AsyncClient, *, api_key: SecretStr, timeout_seconds: float
    ) -> None:
        self._http = http
        self._api_key = api_key
        self._timeout = timeout_seconds

    async def _post(self, url: str, payload: dict[str, Any]) -> httpx.Response:
        key = self._api_key.get_secret_value()
        try:
            response = await self._http.post(
                url,
                json=payload,
                headers={"Authorization": f"Bearer {key}"},
                timeout=self._timeout,
            )
        except httpx.TransportError as exc:
            raise _unreachable(self.name, exc) from exc
        if not response.is_success:
            raise self._status_error(response)
        return response

    def _status_error(self, response: httpx.Response) -> EmailDeliveryError:
        status = response.status_code
        reason = self._scrubbed(f"{self.name} HTTP {status}: {_error_detail(response)}")
        if 400 <= status < 500 and status not in (408, 429):
            return EmailRejectedError(reason)
        return EmailTemporaryError(reason)

    def _scrubbed(self, text: str) -> str:
        # Providers may echo the key they refused; it must not reach logs or the database.
        return _reason(text.replace(self._api_key.get_secret_value(), "[REDACTED]"))


class ResendEmailSender(_HttpApiSender):
    name = "resend"

    def __init__(self, settings: EmailSettings, http: httpx.AsyncClient) -> None:
        if settings.resend_api_key is None:
            raise ValueError("TENON_RESEND_API_KEY is required for the resend provider")
        super().__init__(
            http, api_key=settings.resend_api_key, timeout_seconds=settings.email_timeout_seconds
        )
        self._url = f"{settings.resend_api_base.rstrip('/')}/emails"
        self._from = settings.email_from

    async def _deliver(self, message: EmailMessage) -> str | None:
        payload: dict[str, Any] = {
            "from": self._from,
            "to": [message.to],
            "subject": message.subject,
            "text": message.text,
            "html": message.html,
        }
        if message.reply_to:
            payload["reply_to"] = message.reply_to
        response = await self._post(self._url, payload)
        body = _json_or_none(response)
        message_id = body.get("id") if isinstance(body, dict) else None
        return message_id if isinstance(message_id, str) else None


class SendGridEmailSender(_HttpApiSender):
    name = "sendgrid"

    def __init__(self, settings: EmailSettings, http: httpx.AsyncClient) -> None:
        if settings.sendgrid_api_key is None:
            raise ValueError("TENON_SENDGRID_API_KEY is required for the sendgrid provider")
        super().__init__(
            http,
            api_key=settings.sendgrid_api_key,
            timeout_seconds=settings.email_timeout_seconds,
        )
        self._url = f"{settings.sendgrid_api_base.rstrip('/')}/v3/mail/send"
        self._from = _sendgrid_address(settings.email_from)

    async def _deliver(self, message: EmailMessage) -> str | None:
        payload: dict[str, Any] = {
            "personalizations": [{"to": [{"email": message.to}]}],
            "from": self._from,
            "subject": message.subject,
            "content": [
                {"type": "text/plain", "value": message.text},
                {"type": "text/html", "value": message.html},
            ],
        }
        if message.reply_to:
            payload["reply_to"] = _sendgrid_address(message.reply_to)
        response = await self._post(self._url, payload)
        message_id: str | None = response.headers.get("X-Message-Id")
        return message_id


def _sendgrid_address(value: str) -> dict[str, str]:
    name, address = parseaddr(value)
    return {"email": address, "name": name} if name else {"email": address}


def _error_detail(response: httpx.Response) -> str:
    """The provider's error message: Resend sends `{"message": …}`, SendGrid
    `{"errors": [{"message": …}, …]}`; anything else is shown as the raw body."""
    body = _json_or_none(response)
    if isinstance(body, dict):
        if isinstance(body.get("message"), str):
            return str(body["message"])
        errors = body.get("errors")
        if isinstance(errors, list):
            messages = [str(e["message"]) for e in errors if isinstance(e, dict) and "message" in e]
            if messages:
                return "; ".join(messages)
    return response.text or response.reason_phrase


def _json_or_none(response: httpx.Response) -> object:
    try:
        return response.json()
    except ValueError:
        return None


def _reason(text: str) -> str:
    one_line = " ".join(text.split())
    if len(one_line) <= _MAX_REASON_CHARS:
        return one_line
    return one_line[: _MAX_REASON_CHARS - 1] + "…"


def _domain_of(address: str) -> str:
    _, at, domain = address.rpartition("@")
    return domain.lower() if at else ""
