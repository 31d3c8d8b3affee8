"""Email templates: the invite email's parts, its expiry in UTC, and user values escaped in
HTML and kept off the subject's header line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from app.notifications.email import EmailMessage
from app.notifications.templates import invite_email

EXPIRES_AT = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)
INVITE_URL = "https://portal.test/invite/tok_abc?x=1&y=2"


def _invite(**overrides: Any) -> EmailMessage:
    values: dict[str, Any] = {
        "to": "ada@example.org",
        "candidate_name": "Ada Lovelace",
        "company_name": "Acme Analytics",
        "simulation_title": "Payments API Hardening",
        "role": "Backend Engineer",
        "invite_url": INVITE_URL,
        "expires_at": EXPIRES_AT,
    }
    return invite_email(**(values | overrides))


def test_invite_email_has_the_details_in_both_parts() -> None:
    message = _invite()

    assert message.to == "ada@example.org"
    assert message.subject == (
        "Acme Analytics invited you to a work simulation: Payments API Hardening"
    )
    for part in (message.text, message.html):
        assert "Ada Lovelace" in part
        assert "Acme Analytics" in part
        assert "Payments API Hardening" in part
        assert "Backend Engineer" in part
        assert "21 November 2026, 18:00 UTC" in part
    assert INVITE_URL in message.text
    assert 'href="https://portal.test/invite/tok_abc?x=1&amp;y=2"' in message.html


def test_invite_email_shows_the_expiry_in_utc() -> None:
    tokyo = datetime(2026, 11, 22, 3, 0, tzinfo=UTC).astimezone(timezone(timedelta(hours=9)))
    assert "22 November 2026, 03:00 UTC" in _invite(expires_at=tokyo).text

    with pytest.raises(ValueError, match="timezone-aware"):
        _invite(expires_at=datetime(2026, 11, 21, 18, 0))


def test_invite_email_escapes_user_values_in_html() -> None:
    script = "<script>alert('x')</script>"
    message = _invite(
        candidate_name=f"Ada {script}",
        company_name=f'Acme "{script}"',
        simulation_title=f"Title {script}",
        role=f"Role {script}",
        invite_url='https://portal.test/invite/t"><script>x</script>',
    )

    assert "<script>" not in message.html
    assert message.html.count("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;") >= 4
    assert "Acme &quot;&lt;script&gt;" in message.html
    assert 'href="https://portal.test/invite/t&quot;&gt;&lt;script&gt;x&lt;/script&gt;"' in (
        message.html
    )
    assert f"Ada {script}" in message.text


def test_invite_subject_has_no_line_breaks() -> None:
    message = _invite(
        company_name="Acme\r\nBcc: victim@example.org",
        simulation_title="Title\nX-Injected: yes",
    )

    assert "\r" not in message.subject
    assert "\n" not in message.subject
    assert message.subject == (
        "Acme Bcc: victim@example.org invited you to a work simulation: Title X-Injected: yes"
    )
