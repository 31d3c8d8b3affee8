"""The invite email: its link, its message, and its delivery recorded on the session (the
job that sends it is `jobs.SEND_INVITE_EMAIL`).

A provider's refusal (bad address, bad key) is final: the session shows `failed` with the
reason and the job is not retried. Temporary failures are retried with backoff; the
session stays `queued` until the last attempt fails.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions import repository
from app.candidate_sessions.models import OPEN_SESSION_STATUSES
from app.core.settings import AppSettings
from app.events import service as events
from app.jobs.registry import PermanentJobError
from app.notifications.email import EmailMessage
from app.notifications.templates import invite_email
from app.services import Services

log = structlog.get_logger(__name__)


def invite_url(app: AppSettings, token: str) -> str:
    """The portal page that opens this invite."""
    portal = app.candidate_portal_base_url.rstrip("/")
    return f"{portal}{app.invite_path.format(token=token)}"


async def message_for(session: AsyncSession, cs_id: int, services: Services) -> EmailMessage | None:
    """The invite email of a session that is still open; None for one that is not."""
    found = await repository.with_simulation_by_id(session, cs_id)
    if found is None:
        raise PermanentJobError(f"No candidate session {cs_id}.")
    cs, simulation, company = found
    if cs.status not in OPEN_SESSION_STATUSES:
        log.info("invites.email_skipped", candidate_session_id=cs.id, status=cs.status)
        return None
    token = services.token_cipher.decrypt(cs.token_ciphertext)
    return invite_email(
        to=cs.invite_email,
        candidate_name=cs.candidate_name,
        company_name=company.name,
        simulation_title=simulation.title,
        role=simulation.role,
        invite_url=invite_url(services.settings.app, token),
        expires_at=cs.expires_at,
    )


async def record_delivery(
    session: AsyncSession,
    cs_id: int,
    *,
    status: str,
    error: str | None,
    provider: str,
    message_id: str | None = None,
    now: datetime,
) -> None:
    """Count an attempt; a `sent` or `failed` outcome is final and goes on the timeline."""
    cs = await repository.by_id(session, cs_id, for_update=True)
    if cs is None:
        return
    cs.email_attempts += 1
    cs.email_error = error
    cs.email_provider = provider
    if status == "sent":
        cs.email_status = "sent"
        cs.email_provider_message_id = message_id
        cs.email_sent_at = now
    elif status == "failed":
        cs.email_status = "failed"
    if status in ("sent", "failed"):
        await events.record_for_session(
            session,
            cs,
            type=f"invite.email_{status}",
            actor_type="system",
            data={"provider": cs.email_provider, "error": error},
            occurred_at=now,
        )
