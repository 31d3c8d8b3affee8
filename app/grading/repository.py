"""Queries for gradings and their per-test results."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.grading.models import Grading, GradingTestResult


async def by_id(
    session: AsyncSession, grading_id: int, *, for_update: bool = False
) -> Grading | None:
    return await session.get(Grading, grading_id, with_for_update=for_update)


async def by_github_run_id(session: AsyncSession, github_run_id: int) -> Grading | None:
    statement = select(Grading).where(Grading.github_run_id == github_run_id)
    return (await session.scalars(statement)).one_or_none()


async def of_submission_with_tests(session: AsyncSession, submission_id: int) -> Grading | None:
    statement = (
        select(Grading)
        .where(Grading.submission_id == submission_id)
        .options(selectinload(Grading.tests))
    )
    return (await session.scalars(statement)).one_or_none()


async def of_submissions(session: AsyncSession, submission_ids: Sequence[int]) -> Sequence[Grading]:
    statement = select(Grading).where(Grading.submission_id.in_(submission_ids))
    return (await session.scalars(statement)).all()


async def claim_github_run(
    session: AsyncSession, grading_id: int, github_run_id: int, url: str | None, head_sha: str
) -> bool:
    """Link the grading to its GitHub run; False if that run is another grading's."""
    try:
        async with session.begin_nested():
            result = await session.execute(
                update(Grading)
                .where(Grading.id == grading_id, Grading.github_run_id.is_(None))
                .values(
                    github_run_id=github_run_id,
                    github_run_url=url,
                    grader_sha=head_sha,
                    status="running",
                )
                .returning(Grading.id)
            )
            return result.scalar_one_or_none() is not None
    except IntegrityError:
        return False


async def replace_tests(
    session: AsyncSession, grading_id: int, tests: Sequence[GradingTestResult]
) -> None:
    await session.execute(
        delete(GradingTestResult).where(GradingTestResult.grading_id == grading_id)
    )
    session.add_all(tests)
    await session.flush()
