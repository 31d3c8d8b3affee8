"""Queries for test runs and their per-test results."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import JSON, Row, Text, any_, bindparam, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.candidate_sessions.models import CandidateSession
from app.core.db import execute_core
from app.runs.models import TestCaseResult, TestRun
from app.simulations.models import CODE_TASK_TYPES, Task
from app.workspaces.models import Workspace

# What a run's response shows, and its per-test results in order as JSON arrays of
# [name, classname, status, duration_ms, message] (one round trip for both).
_RUN_COLUMNS = (
    TestRun.id,
    TestRun.status,
    TestRun.conclusion,
    TestRun.passed,
    TestRun.failed,
    TestRun.skipped,
    TestRun.errors,
    TestRun.total,
    TestRun.duration_ms,
    TestRun.stdout,
    TestRun.stderr,
    TestRun.stdout_truncated,
    TestRun.stderr_truncated,
    TestRun.github_run_id,
    TestRun.github_run_url,
    TestRun.head_sha,
    TestRun.artifact_name,
    TestRun.result_code,
)
_TESTS_JSON = (
    select(
        func.json_agg(
            aggregate_order_by(
                func.json_build_array(
                    TestCaseResult.name,
                    TestCaseResult.classname,
                    TestCaseResult.status,
                    TestCaseResult.duration_ms,
                    TestCaseResult.message,
                ),
                TestCaseResult.position,
            ),
            type_=JSON,
        )
    )
    .where(TestCaseResult.test_run_id == TestRun.id)
    .scalar_subquery()
    .label("tests")
)


# Built once: a poll only binds its four values.
_OF_CANDIDATE = (
    select(*_RUN_COLUMNS, _TESTS_JSON)
    .join(Workspace, Workspace.id == TestRun.workspace_id)
    .join(CandidateSession, CandidateSession.id == Workspace.candidate_session_id)
    .join(Task, Task.id == TestRun.task_id)
    .where(
        TestRun.id == bindparam("run_id"),
        TestRun.task_id == bindparam("task_id"),
        CandidateSession.id == bindparam("cs_id"),
        CandidateSession.auth0_sub == bindparam("subject"),
        Task.simulation_id == CandidateSession.simulation_id,
        # `= ANY(array)`, not IN: an IN list is rendered into the SQL on every execution.
        Task.type == any_(literal(list(CODE_TASK_TYPES), ARRAY(Text))),
        Workspace.template_repo == Task.template_repo,
        Workspace.status == "ready",
        Workspace.repo_full_name.is_not(None),
    )
)


async def of_candidate(
    session: AsyncSession, subject: str, cs_id: int, task_id: int, run_id: int
) -> Row[*tuple[Any, ...]] | None:
    """The run as its candidate polls it, in one statement: the caller's own session, a
    code task of its simulation, the task's ready workspace and a run of that task in it.
    None when any of those does not hold (the caller's checks then say which)."""
    values = {"run_id": run_id, "task_id": task_id, "cs_id": cs_id, "subject": subject}
    return (await execute_core(session, _OF_CANDIDATE, values)).one_or_none()


async def in_workspace(session: AsyncSession, workspace_id: int, run_id: int) -> TestRun | None:
    statement = (
        select(TestRun)
        .where(TestRun.id == run_id, TestRun.workspace_id == workspace_id)
        .options(selectinload(TestRun.tests))
    )
    return (await session.scalars(statement)).one_or_none()


async def with_tests(session: AsyncSession, run_id: int) -> TestRun | None:
    """The run with its per-test results loaded."""
    statement = select(TestRun).where(TestRun.id == run_id).options(selectinload(TestRun.tests))
    return (await session.scalars(statement)).one_or_none()


async def by_ids(session: AsyncSession, run_ids: Sequence[int]) -> Sequence[TestRun]:
    return (await session.scalars(select(TestRun).where(TestRun.id.in_(run_ids)))).all()


async def by_id(session: AsyncSession, run_id: int, *, for_update: bool = False) -> TestRun | None:
    return await session.get(TestRun, run_id, with_for_update=for_update)


async def by_github_run_id(session: AsyncSession, github_run_id: int) -> TestRun | None:
    statement = select(TestRun).where(TestRun.github_run_id == github_run_id)
    return (await session.scalars(statement)).one_or_none()


async def claim_github_run(
    session: AsyncSession, run_id: int, github_run_id: int, url: str | None
) -> bool:
    """Link our run to a GitHub run; False if that GitHub run belongs to another of ours."""
    try:
        async with session.begin_nested():
            result = await session.execute(
                update(TestRun)
                .where(TestRun.id == run_id, TestRun.github_run_id.is_(None))
                .values(github_run_id=github_run_id, github_run_url=url, status="running")
                .returning(TestRun.id)
            )
            return result.scalar_one_or_none() is not None
    except IntegrityError:
        return False


async def replace_tests(
    session: AsyncSession, run_id: int, tests: Sequence[TestCaseResult]
) -> None:
    await session.execute(delete(TestCaseResult).where(TestCaseResult.test_run_id == run_id))
    session.add_all(tests)
    await session.flush()
