"""Queries of recordings and media_purges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.recordings.models import (
    LIVE_STATUSES,
    MediaPurge,
    PurgeReason,
    Recording,
    RecordingStatus,
)


async def live(
    session: AsyncSession, cs_id: int, task_id: int, *, for_update: bool = False
) -> Recording | None:
    """The session's uploading or ready recording of the task."""
    statement = select(Recording).where(
        Recording.candidate_session_id == cs_id,
        Recording.task_id == task_id,
        Recording.status.in_(LIVE_STATUSES),
    )
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def by_id(
    session: AsyncSession, recording_id: int, *, for_update: bool = False
) -> Recording | None:
    statement = select(Recording).where(Recording.id == recording_id)
    if for_update:
        statement = statement.with_for_update()
    return (await session.scalars(statement)).one_or_none()


async def ready(session: AsyncSession, cs_id: int, task_id: int) -> Recording | None:
    statement = select(Recording).where(
        Recording.candidate_session_id == cs_id,
        Recording.task_id == task_id,
        Recording.status == "ready",
    )
    return (await session.scalars(statement)).one_or_none()


async def mark_ready(
    session: AsyncSession, recording_id: int, values: dict[str, Any]
) -> Recording | None:
    """Set a recording still `uploading` to `ready` with `values`; None when it is not
    uploading any more (deleted or replaced meanwhile, or completed by another request)."""
    statement = (
        update(Recording)
        .where(Recording.id == recording_id, Recording.status == "uploading")
        .values(status="ready", **values)
        .returning(Recording)
        # The request holds this recording already: refresh it with the returned values.
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def due_for_purge(
    session: AsyncSession,
    status: RecordingStatus,
    *,
    before: datetime,
    limit: int,
) -> list[int]:
    """Recordings in `status` whose age (completion for ready ones, creation otherwise)
    passed `before`, the oldest first."""
    age = Recording.completed_at if status == "ready" else Recording.created_at
    statement = (
        select(Recording.id)
        .where(Recording.status == status, age < before)
        .order_by(age, Recording.id)
        .limit(limit)
    )
    return list((await session.scalars(statement)).all())


def record_purge(
    session: AsyncSession,
    recording: Recording,
    reason: PurgeReason,
    *,
    now: datetime,
    removed: dict[str, Any],
) -> None:
    session.add(
        MediaPurge(
            recording_id=recording.id,
            candidate_session_id=recording.candidate_session_id,
            reason=reason,
            storage_key=recording.storage_key,
            purged_at=now,
            removed=removed,
        )
    )


async def of_session_shared(
    session: AsyncSession, cs_id: int, recording_id: int
) -> Recording | None:
    """The session's recording `recording_id`, share-locked until the transaction ends."""
    statement = (
        select(Recording)
        .where(Recording.id == recording_id, Recording.candidate_session_id == cs_id)
        .with_for_update(read=True)
    )
    return (await session.scalars(statement)).one_or_none()
