"""The job that sends an invite email and records its delivery on the session.

A provider's refusal (bad address, bad key) is final: the session shows `failed` with the
reason and the job is not retried. Temporary failures are retried with backoff; the
session stays `queued` until the last attempt fails.
"""

from __future__ import annotations

import structlog

from app.candidate_sessions.models import OPEN_SESSION_STATUSES, CandidateSession
from app.companies.models import Company
from app.core.schemas import ApiModel
from app.core.settings import AppSettings
from app.events import service as events
from app.jobs.registry import JobContext, JobType, PermanentJobError
from app.notifications.email import EmailRejectedError, EmailTemporaryError
from app.notifications.templates import invite_email
from app.services import Services
from app.simulations.models import Simulation

log = structlog.get_logger(__name__)


class InviteEmailRef(ApiModel):
    candidate_session_id: int


def invite_url(app: AppSettings, token: str) -> str:
    """The portal page that opens this invite."""
    portal = app.candidate_portal_base_url.rstrip("/")
    return f"{portal}{app.invite_path.format(token=token)}"


async def _send_invite_email(context: JobContext[Services], ref: InviteEmailRef) -> None:
    services = context.services
    async with context.database.session_scope() as session:
        cs = await session.get(CandidateSession, ref.candidate_session_id)
        if cs is None:
            raise PermanentJobError(f"No candidate session {ref.candidate_session_id}.")
        if cs.status not in OPEN_SESSION_STATUSES:
            log.info("invites.email_skipped", candidate_session_id=cs.id, status=cs.status)
            return
        simulation = await session.get(Simulation, cs.simulation_id)
        assert simulation is not None  # foreign key
        company = await session.get(Company, simulation.company_id)
        assert company is not None  # foreign key
        token = services.token_cipher.decrypt(cs.token_ciphertext)
        message = invite_email(
            to=cs.invite_email,
            candidate_name=cs.candidate_name,
            company_name=company.name,
            simulation_title=simulation.title,
            role=simulation.role,
            invite_url=invite_url(services.settings.app, token),
            expires_at=cs.expires_at,
        )

    try:
        result = await services.email.send(message)
    except EmailRejectedError as exc:
        await _record(context, ref, status="failed", error=exc.reason)
        raise PermanentJobError(exc.reason) from exc
    except EmailTemporaryError as exc:
        final = context.attempt >= context.max_attempts
        await _record(context, ref, status="failed" if final else "queued", error=exc.reason)
        raise
    await _record(
        context,
        ref,
        status="sent",
        error=None,
        provider=result.provider,
        message_id=result.message_id,
    )


async def _record(
    context: JobContext[Services],
    ref: InviteEmailRef,
    *,
    status: str,
    error: str | None,
    provider: str | None = None,
    message_id: str | None = None,
) -> None:
    now = context.clock.now()
    async with context.database.session_scope() as session:
        cs = await session.get(CandidateSession, ref.candidate_session_id, with_for_update=True)
        if cs is None:
            return
        cs.email_attempts += 1
        cs.email_error = error
        cs.email_provider = provider or context.services.email.name
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


SEND_INVITE_EMAIL = JobType(
    name="invites.send_email",
    payload=InviteEmailRef,
    handler=_send_invite_email,
    max_attempts=6,
)
