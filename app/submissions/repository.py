"""Queries for submissions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, func, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.core.db import execute_core
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


# What a list item shows: no content, patch, output or secret.
_LISTED_COLUMNS = (
    Submission.id,
    Submission.candidate_session_id,
    CandidateSession.candidate_name,
    Submission.task_id,
    Task.day_index,
    Task.type,
    Submission.submitted_at,
    Submission.late,
    Submission.cutoff_sha,
    Submission.integrity_findings,
    Workspace.repo_full_name,
    Workspace.repo_url,
    Workspace.base_template_sha,
    Submission.test_run_id,
    TestRun.status.label("run_status"),
    TestRun.passed.label("run_passed"),
    TestRun.failed.label("run_failed"),
    TestRun.skipped.label("run_skipped"),
    TestRun.total.label("run_total"),
    TestRun.head_sha.label("run_head_sha"),
    TestRun.result_code.label("run_result_code"),
)


def _in_company(
    company_id: int, simulation_id: int | None, cs_id: int | None, task_id: int | None
) -> list[ColumnElement[bool]]:
    """The list's filter, on submissions and their sessions (simulations via an index on
    their company)."""
    where: list[ColumnElement[bool]] = [
        CandidateSession.simulation_id.in_(
            select(Simulation.id).where(Simulation.company_id == company_id)
        )
    ]
    if simulation_id is not None:
        where.append(CandidateSession.simulation_id == simulation_id)
    if cs_id is not None:
        where.append(Submission.candidate_session_id == cs_id)
    if task_id is not None:
        where.append(Submission.task_id == task_id)
    return where


async def page_in_company(
    session: AsyncSession,
    company_id: int,
    *,
    simulation_id: int | None,
    cs_id: int | None,
    task_id: int | None,
    limit: int,
    before: tuple[datetime, int] | None,
) -> tuple[Sequence[Row[*tuple[Any, ...]]], int]:
    """A page of the company's submissions, newest first (`before` is the (submitted_at, id)
    of the previous page's last item), and how many match in all. One statement: the
    total rides on each row as a scalar subquery over submissions and sessions only; an
    empty page counts on its own."""
    where = _in_company(company_id, simulation_id, cs_id, task_id)
    total = (
        select(func.count())
        .select_from(Submission)
        .join(CandidateSession, CandidateSession.id == Submission.candidate_session_id)
        .where(*where)
    )
    statement = (
        select(*_LISTED_COLUMNS, total.correlate(None).scalar_subquery().label("total"))
        .join(CandidateSession, CandidateSession.id == Submission.candidate_session_id)
        .join(Task, Task.id == Submission.task_id)
        .outerjoin(Workspace, Workspace.id == Submission.workspace_id)
        .outerjoin(TestRun, TestRun.id == Submission.test_run_id)
        .where(*where)
        .order_by(Submission.submitted_at.desc(), Submission.id.desc())
        .limit(limit)
    )
    if before is not None:
        statement = statement.where(tuple_(Submission.submitted_at, Submission.id) < before)
    rows = (await execute_core(session, statement)).all()
    if rows:
        return rows, int(rows[0].total)
    return rows, (await execute_core(session, total)).scalar_one()


async def one_in_company(
    session: AsyncSession, company_id: int, submission_id: int
) -> SubmissionRow | None:
    statement = _company_rows(company_id).where(Submission.id == submission_id)
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1], row[2], row[3], row[4])
