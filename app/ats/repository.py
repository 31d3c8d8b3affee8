"""Queries for partner keys and assessment orders, and the reads of other domains' rows a
callback is computed from (sessions, gradings)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.ats.models import AssessmentOrder, AtsSystem, PartnerKey
from app.candidate_sessions.models import CandidateSession
from app.grading.models import Grading
from app.submissions.models import Submission


async def add_key(session: AsyncSession, key: PartnerKey) -> PartnerKey:
    session.add(key)
    await session.flush()
    return key


async def keys_of(
    session: AsyncSession, company_id: int, system: AtsSystem
) -> Sequence[PartnerKey]:
    statement = (
        select(PartnerKey)
        .where(PartnerKey.company_id == company_id, PartnerKey.system == system)
        .order_by(PartnerKey.created_at.desc(), PartnerKey.id.desc())
    )
    return (await session.scalars(statement)).all()


async def key_of_company(session: AsyncSession, company_id: int, key_id: int) -> PartnerKey | None:
    statement = select(PartnerKey).where(
        PartnerKey.id == key_id, PartnerKey.company_id == company_id
    )
    return (await session.scalars(statement)).one_or_none()


async def active_key_by_hash(
    session: AsyncSession, system: AtsSystem, key_hash: str
) -> PartnerKey | None:
    statement = select(PartnerKey).where(
        PartnerKey.key_hash == key_hash,
        PartnerKey.system == system,
        PartnerKey.revoked_at.is_(None),
    )
    return (await session.scalars(statement)).one_or_none()


async def newest_active_key(
    session: AsyncSession, company_id: int, system: AtsSystem
) -> PartnerKey | None:
    statement = (
        select(PartnerKey)
        .where(
            PartnerKey.company_id == company_id,
            PartnerKey.system == system,
            PartnerKey.revoked_at.is_(None),
        )
        .order_by(PartnerKey.created_at.desc(), PartnerKey.id.desc())
        .limit(1)
    )
    return (await session.scalars(statement)).one_or_none()


async def mark_key_used(session: AsyncSession, key_id: int, now: datetime) -> None:
    await session.execute(
        update(PartnerKey).where(PartnerKey.id == key_id).values(last_used_at=now)
    )


async def insert_order(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert an order; None when the company already has one with this system and external
    id. Concurrent inserts of one order wait on each other: one wins."""
    statement = (
        insert(AssessmentOrder)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["company_id", "system", "external_id"])
        .returning(AssessmentOrder.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def order_by_external_id(
    session: AsyncSession, company_id: int, system: AtsSystem, external_id: str
) -> AssessmentOrder | None:
    statement = select(AssessmentOrder).where(
        AssessmentOrder.company_id == company_id,
        AssessmentOrder.system == system,
        AssessmentOrder.external_id == external_id,
    )
    return (await session.scalars(statement)).one_or_none()


async def order_of_company(
    session: AsyncSession, company_id: int, system: AtsSystem, order_id: int
) -> AssessmentOrder | None:
    statement = select(AssessmentOrder).where(
        AssessmentOrder.id == order_id,
        AssessmentOrder.company_id == company_id,
        AssessmentOrder.system == system,
    )
    return (await session.scalars(statement)).one_or_none()


async def order_for_claim(session: AsyncSession, order_id: int) -> AssessmentOrder | None:
    """The order, row-locked while a sync claims it (a short transaction: another claim
    waits for it, never for a request)."""
    statement = select(AssessmentOrder).where(AssessmentOrder.id == order_id).with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def record_sync(
    session: AsyncSession, order_id: int, version: int, values: dict[str, Any]
) -> bool:
    """Record a sync's outcome if its claim (`version`) is still the order's latest; False
    when a later sync has claimed the order since, whose outcome this must not overwrite."""
    statement = (
        update(AssessmentOrder)
        .where(AssessmentOrder.id == order_id, AssessmentOrder.sync_version == version)
        .values(**values, sync_sending_until=None)
        .returning(AssessmentOrder.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


async def order_ids_of_session(session: AsyncSession, cs_id: int) -> Sequence[int]:
    statement = select(AssessmentOrder.id).where(AssessmentOrder.candidate_session_id == cs_id)
    return (await session.scalars(statement)).all()


async def orders_under_way(
    session: AsyncSession, *, since: datetime, limit: int
) -> Sequence[AssessmentOrder]:
    """Orders created since `since` whose candidate has started, newest first."""
    statement = (
        select(AssessmentOrder)
        .join(CandidateSession, CandidateSession.id == AssessmentOrder.candidate_session_id)
        .where(AssessmentOrder.created_at >= since, CandidateSession.status != "invited")
        .order_by(AssessmentOrder.id.desc())
        .limit(limit)
    )
    return (await session.scalars(statement)).all()


async def sessions_by_id(
    session: AsyncSession, cs_ids: Sequence[int]
) -> dict[int, CandidateSession]:
    if not cs_ids:
        return {}
    statement = select(CandidateSession).where(CandidateSession.id.in_(cs_ids))
    return {cs.id: cs for cs in await session.scalars(statement)}


async def hidden_test_totals(
    session: AsyncSession, cs_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """(passed, total) of the hidden tests over each session's completed gradings; sessions
    without a completed grading of hidden tests are absent."""
    if not cs_ids:
        return {}
    statement = (
        select(
            Submission.candidate_session_id,
            func.sum(Grading.hidden_passed),
            func.sum(Grading.hidden_total),
        )
        .join(Grading, Grading.submission_id == Submission.id)
        .where(
            Submission.candidate_session_id.in_(cs_ids),
            Grading.status == "completed",
            Grading.hidden_total > 0,
        )
        .group_by(Submission.candidate_session_id)
    )
    return {
        cs_id: (int(passed or 0), int(total or 0))
        for cs_id, passed, total in (await session.execute(statement)).all()
    }
