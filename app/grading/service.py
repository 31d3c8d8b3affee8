"""Gradings as the submissions domain uses them: one queued with a code submission, and
read back for recruiters' review (never for candidates)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.grading import repository
from app.grading.jobs import GRADE_SUBMISSION, GradingRef
from app.grading.models import Grading
from app.grading.schemas import GradingOut, GradingSummary, GradingTestOut, GroupCounts
from app.jobs.queue import enqueue

log = structlog.get_logger(__name__)


async def queue_grading(
    session: AsyncSession,
    *,
    submission_id: int,
    grader_repo: str,
    candidate_repo: str,
    candidate_sha: str,
    now: datetime,
) -> Grading:
    """A grading of the submission's cutoff, dispatched by a job after the caller commits."""
    grading = Grading(
        submission_id=submission_id,
        grader_repo=grader_repo,
        candidate_repo=candidate_repo,
        candidate_sha=candidate_sha,
        status="queued",
        created_at=now,
    )
    session.add(grading)
    await session.flush()
    await enqueue(
        session,
        GRADE_SUBMISSION,
        GradingRef(grading_id=grading.id),
        dedupe_key=f"grade:{grading.id}",
    )
    log.info("grading.requested", grading_id=grading.id, submission_id=submission_id)
    return grading


async def of_submissions(
    session: AsyncSession, submission_ids: Sequence[int]
) -> dict[int, Grading]:
    """The submissions' gradings, by submission id (a submission without one is absent)."""
    gradings = await repository.of_submissions(session, submission_ids)
    return {grading.submission_id: grading for grading in gradings}


async def of_submission(session: AsyncSession, submission_id: int) -> Grading | None:
    """The submission's grading with its per-test results (for `present`)."""
    return await repository.of_submission_with_tests(session, submission_id)


def summary(grading: Grading | None) -> GradingSummary | None:
    if grading is None:
        return None
    return GradingSummary(status=grading.status, passed=grading.passed, total=grading.total)


def visible_counts(grading: Grading) -> tuple[int, int] | None:
    """(passed, total) of the grader's visible tests, once the grading has completed."""
    if (
        grading.status != "completed"
        or grading.visible_passed is None
        or grading.visible_total is None
    ):
        return None
    return grading.visible_passed, grading.visible_total


def present(grading: Grading) -> GradingOut:
    return GradingOut(
        status=grading.status,
        grader_repo=grading.grader_repo,
        grader_sha=grading.grader_sha,
        candidate_sha=grading.candidate_sha,
        workflow_run_id=grading.github_run_id,
        workflow_url=grading.github_run_url,
        conclusion=grading.conclusion,
        artifact_sha256=grading.artifact_sha256,
        passed=grading.passed,
        failed=grading.failed,
        skipped=grading.skipped,
        errors=grading.errors,
        total=grading.total,
        hidden=GroupCounts(passed=grading.hidden_passed, total=grading.hidden_total),
        visible=GroupCounts(passed=grading.visible_passed, total=grading.visible_total),
        result_code=grading.result_code,
        error_code=grading.error_code,
        error_detail=grading.error_detail,
        completed_at=grading.completed_at,
        tests_truncated=grading.tests_truncated,
        tests=[GradingTestOut.model_validate(test) for test in grading.tests],
    )
