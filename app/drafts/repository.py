"""Queries of task_drafts. A save is one conditional statement, so concurrent saves of one
draft are decided by the database: of the saves made from one version, exactly one wins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypeAlias

from sqlalchemy import Row, exists, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.drafts.models import TaskDraft
from app.simulations.models import Task
from app.submissions.models import Submission

_SAVED = (TaskDraft.task_id, TaskDraft.content_text, TaskDraft.version, TaskDraft.updated_at)
# A stored draft as the API shows it: task id, text, version, last save.
SavedDraft: TypeAlias = Row[int, str, int, datetime]


async def get(session: AsyncSession, cs_id: int, task_id: int) -> SavedDraft | None:
    statement = select(*_SAVED).where(
        TaskDraft.candidate_session_id == cs_id, TaskDraft.task_id == task_id
    )
    return (await session.execute(statement)).one_or_none()


async def version_of(session: AsyncSession, cs_id: int, task_id: int) -> int:
    """The stored version; 0 when nothing is saved."""
    statement = select(TaskDraft.version).where(
        TaskDraft.candidate_session_id == cs_id, TaskDraft.task_id == task_id
    )
    return (await session.execute(statement)).scalar_one_or_none() or 0


async def insert_first(
    session: AsyncSession, cs_id: int, task_id: int, content_text: str, *, now: datetime
) -> SavedDraft | None:
    """The first save (version 1); None when a draft exists already."""
    statement = (
        insert(TaskDraft)
        .values(
            candidate_session_id=cs_id,
            task_id=task_id,
            content_text=content_text,
            version=1,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["candidate_session_id", "task_id"])
        .returning(*_SAVED)
    )
    return (await session.execute(statement)).one_or_none()


async def update_if_version(
    session: AsyncSession,
    cs_id: int,
    task_id: int,
    content_text: str,
    *,
    expected: int,
    now: datetime,
) -> SavedDraft | None:
    """The next version, if the stored one is still `expected`; None otherwise."""
    statement = (
        update(TaskDraft)
        .where(
            TaskDraft.candidate_session_id == cs_id,
            TaskDraft.task_id == task_id,
            TaskDraft.version == expected,
        )
        .values(content_text=content_text, version=TaskDraft.version + 1, updated_at=now)
        .returning(*_SAVED)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).one_or_none()


async def unsubmitted(
    session: AsyncSession, cs_id: int
) -> Sequence[Row[int, str, int, datetime, int]]:
    """The session's drafts of tasks it has not submitted, in day order."""
    submitted = exists().where(
        Submission.candidate_session_id == TaskDraft.candidate_session_id,
        Submission.task_id == TaskDraft.task_id,
    )
    statement = (
        select(*_SAVED, Task.day_index)
        .join(Task, Task.id == TaskDraft.task_id)
        .where(TaskDraft.candidate_session_id == cs_id, ~submitted)
        .order_by(Task.day_index)
    )
    return (await session.execute(statement)).all()
