"""The candidate sessions' jobs: sending an invite email, and the periodic sweep that
closes sessions whose deadline passed (their push access is then taken away, by the
`expired` hook). The work itself is in `invite_email` and `lifecycle`."""

from __future__ import annotations

from datetime import timedelta

import structlog
from pydantic import BaseModel

from app.candidate_sessions import invite_email, lifecycle
from app.candidate_sessions.lifecycle import SessionHooks
from app.core.schemas import ApiModel
from app.jobs.registry import JobContext, JobType, PeriodicJob, PermanentJobError
from app.notifications.email import EmailRejectedError, EmailTemporaryError
from app.services import Services

log = structlog.get_logger(__name__)

SWEEP_BATCH = 200
SWEEP_EVERY = timedelta(minutes=1)


class InviteEmailRef(ApiModel):
    candidate_session_id: int


class Sweep(BaseModel):
    pass


async def _send_invite_email(context: JobContext[Services], ref: InviteEmailRef) -> None:
    services = context.services
    async with context.database.session_scope() as session:
        message = await invite_email.message_for(session, ref.candidate_session_id, services)
    if message is None:
        return
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
    async with context.database.session_scope() as session:
        await invite_email.record_delivery(
            session,
            ref.candidate_session_id,
            status=status,
            error=error,
            provider=provider or context.services.email.name,
            message_id=message_id,
            now=context.clock.now(),
        )


SEND_INVITE_EMAIL = JobType(
    name="invites.send_email",
    payload=InviteEmailRef,
    handler=_send_invite_email,
    max_attempts=6,
)


def expire_lapsed_sessions(hooks: SessionHooks) -> JobType[Services, Sweep]:
    """The deadline sweep, running `hooks.expired` for each session it closes (the hooks
    are the application's, given where it is assembled)."""

    async def expire_lapsed(context: JobContext[Services], _: Sweep) -> None:
        async with context.database.session_scope() as session:
            expired = await lifecycle.expire_lapsed(
                session, hooks, now=context.clock.now(), limit=SWEEP_BATCH
            )
        if expired:
            log.info("deadlines.expired", sessions=len(expired))

    return JobType(
        name="deadlines.expire_sessions", payload=Sweep, handler=expire_lapsed, max_attempts=3
    )


def expiry_sweep(hooks: SessionHooks) -> PeriodicJob[Services]:
    return PeriodicJob(expire_lapsed_sessions(hooks), SWEEP_EVERY)
