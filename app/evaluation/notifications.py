"""Emails to a simulation's owner: a candidate completed every day, and every assigned
reviewer submitted their scorecard. Each is sent at most once per candidate session: the
`EvaluationNotification` row (unique per session and kind) is inserted in the transaction
that queues the email job, so a repeat (or a concurrent twin) finds it and queues nothing."""

from __future__ import annotations

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.candidate_sessions.repository import with_simulation_by_id
from app.companies.models import User
from app.core.schemas import ApiModel
from app.evaluation.models import (
    EvaluationNotification,
    NotificationKind,
    ReviewAssignment,
    Scorecard,
)
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobType, PermanentJobError
from app.notifications.email import EmailMessage, EmailRejectedError
from app.notifications.templates import candidate_completed_email, reviews_completed_email
from app.services import Services

log = structlog.get_logger(__name__)


class OwnerEmailRef(ApiModel):
    candidate_session_id: int
    kind: NotificationKind


async def notify_owner(session: AsyncSession, cs_id: int, kind: NotificationKind) -> bool:
    """Queue the owner's email of this kind unless it was queued before; whether it was."""
    inserted = await session.scalar(
        insert(EvaluationNotification)
        .values(candidate_session_id=cs_id, kind=kind)
        .on_conflict_do_nothing(index_elements=["candidate_session_id", "kind"])
        .returning(EvaluationNotification.id)
    )
    if inserted is None:
        return False
    await enqueue(
        session,
        SEND_OWNER_EMAIL,
        OwnerEmailRef(candidate_session_id=cs_id, kind=kind),
        dedupe_key=f"owner-email:{kind}:{cs_id}",
    )
    return True


async def candidate_completed(session: AsyncSession, cs: CandidateSession) -> None:
    """The `completed` session hook."""
    await notify_owner(session, cs.id, "candidate_completed")


async def reviews_maybe_completed(session: AsyncSession, cs_id: int) -> None:
    """Notify the owner once every assigned reviewer has submitted. The caller holds the
    session's review lock (`reviewers.hold_review_lock`)."""
    assigned = set(
        (
            await session.scalars(
                select(ReviewAssignment.reviewer_user_id).where(
                    ReviewAssignment.candidate_session_id == cs_id
                )
            )
        ).all()
    )
    if not assigned:
        return
    submitted = set(
        (
            await session.scalars(
                select(Scorecard.reviewer_user_id).where(
                    Scorecard.candidate_session_id == cs_id, Scorecard.status == "submitted"
                )
            )
        ).all()
    )
    if assigned <= submitted:
        await notify_owner(session, cs_id, "reviews_completed")


async def _message(session: AsyncSession, ref: OwnerEmailRef) -> EmailMessage | None:
    found = await with_simulation_by_id(session, ref.candidate_session_id)
    if found is None:
        raise PermanentJobError(f"No candidate session {ref.candidate_session_id}.")
    cs, simulation, _ = found
    owner = (
        await session.get(User, simulation.created_by_user_id)
        if simulation.created_by_user_id is not None
        else None
    )
    if owner is None:
        log.info("evaluation.owner_email_skipped", candidate_session_id=cs.id, kind=ref.kind)
        return None
    if ref.kind == "candidate_completed":
        return candidate_completed_email(
            to=owner.email,
            owner_name=owner.name,
            candidate_name=cs.candidate_name,
            simulation_title=simulation.title,
        )
    reviewers = await session.scalar(
        select(func.count())
        .select_from(ReviewAssignment)
        .where(ReviewAssignment.candidate_session_id == cs.id)
    )
    return reviews_completed_email(
        to=owner.email,
        owner_name=owner.name,
        candidate_name=cs.candidate_name,
        simulation_title=simulation.title,
        reviewers=reviewers or 0,
    )


async def _send_owner_email(context: JobContext[Services], ref: OwnerEmailRef) -> None:
    async with context.database.session_scope() as session:
        message = await _message(session, ref)
    if message is None:
        return
    try:
        result = await context.services.email.send(message)
    except EmailRejectedError as exc:
        raise PermanentJobError(exc.reason) from exc
    # A temporary failure propagates: the job is retried with backoff.
    log.info(
        "evaluation.owner_email_sent",
        candidate_session_id=ref.candidate_session_id,
        kind=ref.kind,
        provider=result.provider,
    )


SEND_OWNER_EMAIL = JobType(
    name="evaluation.send_owner_email",
    payload=OwnerEmailRef,
    handler=_send_owner_email,
    max_attempts=6,
)
