"""Queries for test runs and their per-test results."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.runs.models import TestCaseResult, TestRun


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
