"""Email senders: SMTP, the HTTP providers, the console sender and the factory.

SMTP runs against a real aiosmtpd server on 127.0.0.1 (plain, STARTTLS with AUTH, implicit
TLS); the HTTP providers against respx.
"""

from __future__ import annotations

import io
import ipaddress
import json
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from typing import Any

import httpx
import pytest
import respx
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.core.settings import EmailSettings
from app.notifications.email import (
    ConsoleEmailSender,
    EmailMessage,
    EmailRejectedError,
    EmailSender,
    EmailTemporaryError,
    ResendEmailSender,
    SendGridEmailSender,
    SmtpEmailSender,
    build_email_sender,
)
from app.notifications.templates import invite_email
from tests.support.logs import capture_every_level

SENDER = "Tenon Hiring <no-reply@tenon.test>"
SMTP_USER = "mailer"
SMTP_PASSWORD = "correct horse battery staple"
RESEND_KEY = "re_live_5f1c9a7b3d2e4f60"
SENDGRID_KEY = "SG.abcdefghijklmnop.qrstuvwxyz0123456789"
RESEND_BASE = "https://resend.test"
SENDGRID_BASE = "https://sendgrid.test"

MESSAGE = EmailMessage(
    to="ada@example.org",
    subject="You're invited",
    text="Hello Ada,\nopen https://portal.test/invite/abc\n",
    html="<p>Hello Ada, <a href='https://portal.test/invite/abc'>open</a></p>",
    reply_to="Recruiting <jobs@acme.test>",
)


def _settings(**overrides: Any) -> EmailSettings:
    values: dict[str, Any] = {
        "email_provider": "console",
        "email_from": SENDER,
        "email_timeout_seconds": 7.0,
        "smtp_host": "127.0.0.1",
        "smtp_security": "none",
        "smtp_username": None,
        "smtp_password": None,
        "resend_api_key": RESEND_KEY,
        "resend_api_base": RESEND_BASE,
        "sendgrid_api_key": SENDGRID_KEY,
        "sendgrid_api_base": SENDGRID_BASE,
    }
    return EmailSettings(_env_file=None, **(values | overrides))


# --- SMTP against a real server ------------------------------------------------------------


class Mailbox:
    """aiosmtpd handler: keeps what it accepts; `refused@…` gets 550, `busy@…` 451."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        # (authenticated, over TLS) per delivered message.
        self.sessions: list[tuple[bool, bool]] = []

    # aiosmtpd looks these hooks up by name.
    async def handle_RCPT(  # noqa: N802
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        local_part = address.partition("@")[0]
        if local_part == "refused":
            return "550 5.1.1 No such user here"
        if local_part == "busy":
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        assert server.transport is not None
        over_tls = server.transport.get_extra_info("ssl_object") is not None
        self.sessions.append((bool(session.authenticated), over_tls))
        return "250 Message accepted for delivery"

    def only_message(self) -> MimeMessage:
        (envelope,) = self.envelopes
        assert envelope.original_content is not None
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, MimeMessage)
        return parsed


def _authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
) -> AuthResult:
    accepted = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == SMTP_USER.encode()
        and auth_data.password == SMTP_PASSWORD.encode()
    )
    return AuthResult(success=accepted, handled=False)


@dataclass(frozen=True)
class RunningSmtpServer:
    port: int
    mailbox: Mailbox


@dataclass(frozen=True)
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _serve(mailbox: Mailbox, **options: Any) -> Iterator[RunningSmtpServer]:
    port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield RunningSmtpServer(port=port, mailbox=mailbox)
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    """A self-signed certificate for 127.0.0.1, and contexts for each side trusting it."""
    directory = tmp_path_factory.mktemp("smtp-tls")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_path, key_path)
    return Tls(server=server, client=ssl.create_default_context(cafile=str(cert_path)))


@pytest.fixture
def plain_smtp() -> Iterator[RunningSmtpServer]:
    yield from _serve(Mailbox())


@pytest.fixture
def starttls_smtp(tls: Tls) -> Iterator[RunningSmtpServer]:
    yield from _serve(
        Mailbox(),
        tls_context=tls.server,
        require_starttls=True,
        authenticator=_authenticate,
        auth_require_tls=True,
    )


@pytest.fixture
def implicit_tls_smtp(tls: Tls) -> Iterator[RunningSmtpServer]:
    yield from _serve(Mailbox(), ssl_context=tls.server)


async def test_smtp_delivers_a_multipart_message(plain_smtp: RunningSmtpServer) -> None:
    sender = SmtpEmailSender(_settings(email_provider="smtp", smtp_port=plain_smtp.port))

    result = await sender.send(MESSAGE)

    (envelope,) = plain_smtp.mailbox.envelopes
    assert envelope.mail_from == "no-reply@tenon.test"
    assert envelope.rcpt_tos == ["ada@example.org"]
    delivered = plain_smtp.mailbox.only_message()
    assert delivered.get_content_type() == "multipart/alternative"
    assert delivered["From"] == SENDER
    assert delivered["To"] == "ada@example.org"
    assert delivered["Subject"] == "You're invited"
    assert delivered["Reply-To"] == "Recruiting <jobs@acme.test>"
    assert delivered["Date"]
    assert delivered["Message-ID"] == result.message_id
    assert result.message_id is not None
    assert result.message_id.endswith("@tenon.test>")
    assert result.provider == "smtp"
    text_part = delivered.get_body(("plain",))
    html_part = delivered.get_body(("html",))
    assert isinstance(text_part, MimeMessage)
    assert isinstance(html_part, MimeMessage)
    # SMTP puts CRLF line endings on the wire.
    assert text_part.get_content().replace("\r\n", "\n") == MESSAGE.text
    assert html_part.get_content().rstrip("\r\n") == MESSAGE.html
    assert plain_smtp.mailbox.sessions == [(False, False)]


async def test_smtp_starttls_with_auth(starttls_smtp: RunningSmtpServer, tls: Tls) -> None:
    settings = _settings(
        email_provider="smtp",
        smtp_port=starttls_smtp.port,
        smtp_security="starttls",
        smtp_username=SMTP_USER,
        smtp_password=SMTP_PASSWORD,
    )

    await SmtpEmailSender(settings, tls_context=tls.client).send(MESSAGE)

    assert starttls_smtp.mailbox.sessions == [(True, True)]
    assert starttls_smtp.mailbox.only_message()["To"] == "ada@example.org"


async def test_smtp_implicit_tls(implicit_tls_smtp: RunningSmtpServer, tls: Tls) -> None:
    settings = _settings(
        email_provider="smtp", smtp_port=implicit_tls_smtp.port, smtp_security="tls"
    )

    await SmtpEmailSender(settings, tls_context=tls.client).send(MESSAGE)

    assert implicit_tls_smtp.mailbox.sessions == [(False, True)]


async def test_smtp_starttls_with_an_untrusted_certificate_is_temporary(
    starttls_smtp: RunningSmtpServer,
) -> None:
    settings = _settings(
        email_provider="smtp", smtp_port=starttls_smtp.port, smtp_security="starttls"
    )

    with pytest.raises(EmailTemporaryError):
        await SmtpEmailSender(settings).send(MESSAGE)

    assert starttls_smtp.mailbox.envelopes == []


async def test_smtp_wrong_password_is_rejected(starttls_smtp: RunningSmtpServer, tls: Tls) -> None:
    settings = _settings(
        email_provider="smtp",
        smtp_port=starttls_smtp.port,
        smtp_security="starttls",
        smtp_username=SMTP_USER,
        smtp_password="not the password",
    )

    with pytest.raises(EmailRejectedError) as raised:
        await SmtpEmailSender(settings, tls_context=tls.client).send(MESSAGE)

    assert raised.value.reason.startswith("smtp 535")
    assert "not the password" not in str(raised.value)
    assert starttls_smtp.mailbox.envelopes == []


async def test_smtp_server_not_listening_is_temporary() -> None:
    sender = SmtpEmailSender(_settings(email_provider="smtp", smtp_port=_free_port()))

    with capture_every_level() as logs, pytest.raises(EmailTemporaryError) as raised:
        await sender.send(MESSAGE)

    assert raised.value.reason == "smtp: the email server could not be reached"
    [logged] = logs
    assert logged["event"] == "email.failed_temporarily"
    assert logged["detail"].startswith("SMTPConnectError")


@pytest.mark.parametrize(
    ("recipient", "error", "code"),
    [
        ("refused@example.org", EmailRejectedError, "550"),
        ("busy@example.org", EmailTemporaryError, "451"),
    ],
)
async def test_smtp_refused_recipient(
    plain_smtp: RunningSmtpServer,
    recipient: str,
    error: type[Exception],
    code: str,
) -> None:
    sender = SmtpEmailSender(_settings(email_provider="smtp", smtp_port=plain_smtp.port))
    message = EmailMessage(to=recipient, subject="Hi", text="Hi", html="<p>Hi</p>")

    with pytest.raises(error, match=f"^smtp {code}: "):
        await sender.send(message)

    assert plain_smtp.mailbox.envelopes == []


# --- HTTP providers ------------------------------------------------------------------------


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def mock_api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


@dataclass(frozen=True)
class Provider:
    sender: EmailSender
    url: str
    key: str


@pytest.fixture(params=["resend", "sendgrid"])
def provider(request: pytest.FixtureRequest, http: httpx.AsyncClient) -> Provider:
    if request.param == "resend":
        return Provider(ResendEmailSender(_settings(), http), f"{RESEND_BASE}/emails", RESEND_KEY)
    return Provider(
        SendGridEmailSender(_settings(), http), f"{SENDGRID_BASE}/v3/mail/send", SENDGRID_KEY
    )


def _sent_json(route: respx.Route) -> Any:
    return json.loads(route.calls.last.request.content)


async def test_resend_sends_and_returns_its_id(
    http: httpx.AsyncClient, mock_api: respx.MockRouter
) -> None:
    route = mock_api.post(f"{RESEND_BASE}/emails").respond(200, json={"id": "re-4f2a"})

    result = await ResendEmailSender(_settings(), http).send(MESSAGE)

    assert result.provider == "resend"
    assert result.message_id == "re-4f2a"
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {RESEND_KEY}"
    assert request.extensions["timeout"]["read"] == 7.0
    assert _sent_json(route) == {
        "from": SENDER,
        "to": ["ada@example.org"],
        "subject": "You're invited",
        "text": MESSAGE.text,
        "html": MESSAGE.html,
        "reply_to": "Recruiting <jobs@acme.test>",
    }


async def test_sendgrid_sends_and_returns_the_message_id_header(
    http: httpx.AsyncClient, mock_api: respx.MockRouter
) -> None:
    route = mock_api.post(f"{SENDGRID_BASE}/v3/mail/send").respond(
        202, headers={"X-Message-Id": "sg-9b1c"}
    )

    result = await SendGridEmailSender(_settings(), http).send(MESSAGE)

    assert result.provider == "sendgrid"
    assert result.message_id == "sg-9b1c"
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {SENDGRID_KEY}"
    assert request.extensions["timeout"]["read"] == 7.0
    assert _sent_json(route) == {
        "personalizations": [{"to": [{"email": "ada@example.org"}]}],
        "from": {"email": "no-reply@tenon.test", "name": "Tenon Hiring"},
        "subject": "You're invited",
        "content": [
            {"type": "text/plain", "value": MESSAGE.text},
            {"type": "text/html", "value": MESSAGE.html},
        ],
        "reply_to": {"email": "jobs@acme.test", "name": "Recruiting"},
    }


async def test_sendgrid_plain_sender_address_has_no_name(
    http: httpx.AsyncClient, mock_api: respx.MockRouter
) -> None:
    route = mock_api.post(f"{SENDGRID_BASE}/v3/mail/send").respond(202)
    sender = SendGridEmailSender(_settings(email_from="bot@tenon.test"), http)

    result = await sender.send(EmailMessage(to="a@b.test", subject="s", text="t", html="h"))

    assert result.message_id is None
    body = _sent_json(route)
    assert body["from"] == {"email": "bot@tenon.test"}
    assert "reply_to" not in body


@pytest.mark.parametrize("status", [400, 401, 403, 422])
async def test_http_client_errors_are_rejected(
    provider: Provider, mock_api: respx.MockRouter, status: int
) -> None:
    mock_api.post(provider.url).respond(status, text=f"API key {provider.key} is not valid")

    with capture_every_level() as logs, pytest.raises(EmailRejectedError) as raised:
        await provider.sender.send(MESSAGE)

    reason = raised.value.reason
    assert reason == f"{provider.sender.name} HTTP {status}: API key [REDACTED] is not valid"
    assert provider.key not in str(raised.value)
    (entry,) = logs
    assert entry["event"] == "email.rejected"
    assert entry["to_domain"] == "example.org"
    assert provider.key not in json.dumps(entry)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503])
async def test_http_server_errors_and_throttling_are_temporary(
    provider: Provider, mock_api: respx.MockRouter, status: int
) -> None:
    mock_api.post(provider.url).respond(status, text=f"upstream said {provider.key}")

    with capture_every_level() as logs, pytest.raises(EmailTemporaryError) as raised:
        await provider.sender.send(MESSAGE)

    assert raised.value.reason.startswith(f"{provider.sender.name} HTTP {status}: ")
    assert provider.key not in str(raised.value)
    assert [entry["event"] for entry in logs] == ["email.failed_temporarily"]


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        (httpx.ConnectTimeout("timed out"), "did not answer in time"),
        (httpx.ConnectError("refused"), "could not be reached"),
    ],
)
async def test_http_timeouts_and_network_errors_are_temporary_and_said_in_words(
    provider: Provider, mock_api: respx.MockRouter, failure: httpx.TransportError, words: str
) -> None:
    mock_api.post(provider.url).mock(side_effect=failure)

    with capture_every_level() as logs, pytest.raises(EmailTemporaryError) as raised:
        await provider.sender.send(MESSAGE)

    # The recruiter sees words; the exception is in the log.
    assert raised.value.reason == f"{provider.sender.name}: the email server {words}"
    assert logs[-1]["detail"] == f"{type(failure).__name__}: {failure}"
    assert provider.key not in str(raised.value)


async def test_provider_error_messages_are_extracted_and_truncated(
    http: httpx.AsyncClient, mock_api: respx.MockRouter
) -> None:
    mock_api.post(f"{RESEND_BASE}/emails").respond(
        422, json={"statusCode": 422, "name": "validation_error", "message": "Invalid `to`."}
    )
    mock_api.post(f"{SENDGRID_BASE}/v3/mail/send").respond(
        400, json={"errors": [{"message": "Bad from.", "field": "from"}, {"message": "x" * 900}]}
    )

    with pytest.raises(EmailRejectedError) as resend_error:
        await ResendEmailSender(_settings(), http).send(MESSAGE)
    with pytest.raises(EmailRejectedError) as sendgrid_error:
        await SendGridEmailSender(_settings(), http).send(MESSAGE)

    assert resend_error.value.reason == "resend HTTP 422: Invalid `to`."
    sendgrid_reason = sendgrid_error.value.reason
    assert sendgrid_reason.startswith("sendgrid HTTP 400: Bad from.; xxx")
    assert len(sendgrid_reason) == 300
    assert sendgrid_reason.endswith("…")


async def test_sent_log_names_the_domain_not_the_address(
    http: httpx.AsyncClient, mock_api: respx.MockRouter
) -> None:
    mock_api.post(f"{RESEND_BASE}/emails").respond(200, json={"id": "re-1"})

    with capture_every_level() as logs:
        await ResendEmailSender(_settings(), http).send(MESSAGE)

    assert logs == [
        {
            "event": "email.sent",
            "log_level": "info",
            "provider": "resend",
            "message_id": "re-1",
            "to_domain": "example.org",
        }
    ]


# --- Console, factory ----------------------------------------------------------------------


async def test_console_sender_prints_the_message_and_returns_an_id() -> None:
    stream = io.StringIO()
    with capture_every_level() as logs:
        result = await ConsoleEmailSender(stream).send(MESSAGE)

    assert result.provider == "console"
    assert result.message_id is not None
    assert result.message_id.startswith("console-")
    printed = stream.getvalue()
    assert f"To: {MESSAGE.to}" in printed
    assert f"Subject: {MESSAGE.subject}" in printed
    assert MESSAGE.text in printed
    assert [entry["event"] for entry in logs] == ["email.console", "email.sent"]


async def test_console_sender_prints_invite_links_without_their_tokens() -> None:
    token = "q8Jx3vT0bWm2Yp5Nc7Rk1Lh9Ds4Fg6Za"
    invite = invite_email(
        to="ada@example.org",
        candidate_name="Ada",
        company_name="Acme",
        simulation_title="Payments",
        role="Backend Engineer",
        invite_url=f"https://portal.test/candidate/session/{token}",
        expires_at=datetime(2026, 12, 24, 18, tzinfo=UTC),
    )
    stream = io.StringIO()
    await ConsoleEmailSender(stream).send(invite)

    printed = stream.getvalue()
    assert token not in printed
    assert "https://portal.test/candidate/session/[REDACTED]" in printed
    assert "Ada" in printed


@pytest.mark.parametrize(
    ("provider_name", "expected"),
    [
        ("console", ConsoleEmailSender),
        ("smtp", SmtpEmailSender),
        ("resend", ResendEmailSender),
        ("sendgrid", SendGridEmailSender),
    ],
)
def test_build_email_sender_picks_the_configured_provider(
    http: httpx.AsyncClient, provider_name: str, expected: type[EmailSender]
) -> None:
    sender = build_email_sender(_settings(email_provider=provider_name), http)

    assert type(sender) is expected
    assert sender.name == provider_name
