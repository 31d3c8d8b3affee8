"""Queries for submissions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.runs.models import TestRun
from app.simulations.models import Simulation, Task
from app.submissions.models import Submission
from app.workspaces.models import Workspace

SubmissionRow = tuple[Submission, CandidateSession, Task, Workspace | None, TestRun | None]


async def insert_once(session: AsyncSession, values: dict[str, Any]) -> Submission | None:
    """Insert a submission (with a reserved id or a new one); None when the task already
    has one from this session (the unique constraint decides between concurrent submits)."""
    statement = (
        insert(Submission)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[Submission.candidate_session_id, Submission.task_id]
        )
        .returning(Submission)
    )
    return (await session.scalars(statement)).one_or_none()


async def by_id(
    session: AsyncSession, submission_id: int, *, for_update: bool = False
) -> Submission | None:
    return await session.get(Submission, submission_id, with_for_update=for_update)


async def of_sessions(session: AsyncSession, cs_ids: Sequence[int]) -> Sequence[Submission]:
    statement = select(Submission).where(Submission.candidate_session_id.in_(cs_ids))
    return (await session.scalars(statement)).all()


def _company_rows(
    company_id: int,
) -> Select[Submission, CandidateSession, Task, Workspace, TestRun]:
    return (
        select(Submission, CandidateSession, Task, Workspace, TestRun)
        .join(CandidateSession, CandidateSession.id == Submission.candidate_session_id)
        .join(Task, Task.id == Submission.task_id)
        .join(Simulation, Simulation.id == CandidateSession.simulation_id)
        .outerjoin(Workspace, Workspace.id == Submission.workspace_id)
        .outerjoin(TestRun, TestRun.id == Submission.test_run_id)
        .where(Simulation.company_id == company_id)
    )


async def page_in_company(
    session: AsyncSession,
    company_id: int,
    *,
    simulation_id: int | None,
    cs_id: int | None,
    task_id: int | None,
    limit: int,
    before: tuple[datetime, int] | None,
) -> tuple[list[SubmissionRow], int]:
    """Newest first; `before` is the (submitted_at, id) of the previous page's last item."""
    statement = _company_rows(company_id)
    if simulation_id is not None:
        statement = statement.where(CandidateSession.simulation_id == simulation_id)
    if cs_id is not None:
        statement = statement.where(Submission.candidate_session_id == cs_id)
    if task_id is not None:
        statement = statement.where(Submission.task_id == task_id)
    total = (
        await session.execute(select(func.count()).select_from(statement.subquery()))
    ).scalar_one()
    statement = statement.order_by(Submission.submitted_at.desc(), Submission.id.desc()).limit(
        limit
    )
    if before is not None:
        statement = statement.where(tuple_(Submission.submitted_at, Submission.id) < before)
    rows = (await session.execute(statement)).all()
    return [(row[0], row[1], row[2], row[3], row[4]) for row in rows], total


async def one_in_company(
    session: AsyncSession, company_id: int, submission_id: int
) -> SubmissionRow | None:
    statement = _company_rows(company_id).where(Submission.id == submission_id)
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1], row[2], row[3], row[4])
