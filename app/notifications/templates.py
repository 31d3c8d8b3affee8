"""Email contents. Every value a recruiter or candidate typed is escaped in the HTML part and
kept on one line in headers."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from app.notifications.email import EmailMessage


def invite_email(
    *,
    to: str,
    candidate_name: str,
    company_name: str,
    simulation_title: str,
    role: str,
    invite_url: str,
    expires_at: datetime,
) -> EmailMessage:
    expiry = _format_expiry(expires_at)
    subject = (
        f"{_one_line(company_name)} invited you to a work simulation: {_one_line(simulation_title)}"
    )
    text = _INVITE_TEXT.format(
        name=candidate_name,
        company=company_name,
        title=simulation_title,
        role=role,
        url=invite_url,
        expiry=expiry,
    )
    html = _INVITE_HTML.format(
        name=_html(candidate_name),
        company=_html(company_name),
        title=_html(simulation_title),
        role=_html(role),
        url=_html(invite_url),
        expiry=_html(expiry),
    )
    return EmailMessage(to=to, subject=subject, text=text, html=html)


def _format_expiry(moment: datetime) -> str:
    """`21 November 2026, 18:00 UTC`."""
    if moment.tzinfo is None:
        # A naive time would be read as the server's local time: refuse rather than guess.
        raise ValueError("expires_at must be timezone-aware")
    utc = moment.astimezone(UTC)
    return f"{utc.day} {utc:%B %Y, %H:%M} UTC"


def _one_line(value: str) -> str:
    # CR/LF in a header value would start a new header (header injection).
    return " ".join(value.split())


def _html(value: str) -> str:
    return escape(value, quote=True)


_INVITE_TEXT = """\
Hi {name},

{company} has invited you to "{title}", a hands-on work simulation for the {role} role.

You will work on real tasks in your own GitHub repositories, at your own pace, and turn
in each one when you are ready.

Start here: {url}

The invite is open until {expiry}.

If you were not expecting this email, you can ignore it.

Tenon, on behalf of {company}
"""

_INVITE_HTML = """\
<!DOCTYPE html>
<html lang="en">
<body style="margin:0;padding:24px;background:#f6f7f9;font-family:Arial,Helvetica,sans-serif;\
color:#1f2328;">
<div style="max-width:560px;margin:0 auto;padding:32px;background:#ffffff;border-radius:8px;">
<p style="margin:0 0 16px;">Hi {name},</p>
<p style="margin:0 0 16px;"><strong>{company}</strong> has invited you to
<strong>{title}</strong>, a hands-on work simulation for the {role} role.</p>
<p style="margin:0 0 24px;">You will work on real tasks in your own GitHub repositories, at your
own pace, and turn in each one when you are ready.</p>
<p style="margin:0 0 24px;"><a href="{url}" style="display:inline-block;padding:12px 20px;\
background:#1f6feb;color:#ffffff;text-decoration:none;border-radius:6px;">Start the simulation</a>
</p>
<p style="margin:0 0 16px;font-size:14px;">Or open this link: <a href="{url}">{url}</a></p>
<p style="margin:0 0 16px;font-size:14px;">The invite is open until {expiry}.</p>
<p style="margin:0;font-size:12px;color:#59636e;">If you were not expecting this email, you can
ignore it. Tenon, on behalf of {company}.</p>
</div>
</body>
</html>
"""


def candidate_completed_email(
    *, to: str, owner_name: str, candidate_name: str, simulation_title: str
) -> EmailMessage:
    """To a simulation's owner: a candidate turned in every day."""
    return _owner_email(
        to=to,
        owner_name=owner_name,
        subject=f"{_one_line(candidate_name)} completed {_one_line(simulation_title)}",
        news=f'{candidate_name} has turned in every day of "{simulation_title}".',
        next_step="Their work is ready for review in Tenon.",
    )


def reviews_completed_email(
    *, to: str, owner_name: str, candidate_name: str, simulation_title: str, reviewers: int
) -> EmailMessage:
    """To a simulation's owner: every assigned reviewer submitted a scorecard."""
    return _owner_email(
        to=to,
        owner_name=owner_name,
        subject=f"Reviews complete: {_one_line(candidate_name)}, {_one_line(simulation_title)}",
        news=(
            f"All {reviewers} assigned reviewers have submitted their scorecards of "
            f'{candidate_name} for "{simulation_title}".'
        ),
        next_step="The scorecards and their comparison are ready in Tenon.",
    )


def _owner_email(
    *, to: str, owner_name: str, subject: str, news: str, next_step: str
) -> EmailMessage:
    text = f"Hi {owner_name},\n\n{news}\n\n{next_step}\n\nTenon\n"
    html = (
        '<!DOCTYPE html>\n<html lang="en">\n<body style="font-family:Arial,Helvetica,sans-serif;'
        'color:#1f2328;">\n'
        f'<p style="margin:0 0 16px;">Hi {_html(owner_name)},</p>\n'
        f'<p style="margin:0 0 16px;">{_html(news)}</p>\n'
        f'<p style="margin:0 0 16px;">{_html(next_step)}</p>\n'
        '<p style="margin:0;font-size:12px;color:#59636e;">Tenon</p>\n</body>\n</html>\n'
    )
    return EmailMessage(to=to, subject=subject, text=text, html=html)
