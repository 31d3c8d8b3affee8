"""What recruiters review: the company's submissions, listed and one by one, with the
commit, the diff link, the final test run, the grading, the integrity flags and the pairs
with similar code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Row
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.candidate_sessions import service as candidate_sessions
from app.candidate_sessions.models import CandidateSession
from app.core.errors import NotFoundError
from app.core.pagination import Page, decode_cursor, next_cursor
from app.grading import service as grading_service
from app.grading.models import Grading
from app.media.store import MediaStore
from app.recordings import service as recordings
from app.runs import service as runs
from app.runs.models import TestRun
from app.runs.schemas import public_run_status
from app.similarity import views as similarity
from app.similarity.schemas import SubmissionSimilarity
from app.simulations.models import Task, TaskType
from app.submissions import repository
from app.submissions.jobs import cutoff_tag
from app.submissions.models import Submission
from app.submissions.schemas import (
    CodeRef,
    SubmissionDetail,
    SubmissionItem,
    TaskRef,
    TestSummary,
)
from app.workspaces.models import TestRunStatus, Workspace


class Findings(Protocol):
    """What the integrity flags read of a submission (a Submission or a listed row)."""

    @property
    def integrity_findings(self) -> list[dict[str, Any]] | None: ...
    @property
    def cutoff_sha(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class _ListedRun:
    status: TestRunStatus
    passed: int | None
    failed: int | None
    skipped: int | None
    total: int | None
    head_sha: str | None
    result_code: str | None


@dataclass(frozen=True, slots=True)
class _ItemSource:
    """One submission as an item shows it, from the list's row or the detail's rows."""

    submission_id: int
    candidate_session_id: int
    candidate_name: str
    task_id: int
    day_index: int
    type: TaskType
    submitted_at: datetime
    late: bool
    cutoff_sha: str | None
    integrity_findings: list[dict[str, Any]] | None
    repo_full_name: str | None
    repo_url: str | None
    base_template_sha: str | None
    run: runs.RunCounts | None

    @classmethod
    def of_row(cls, row: Row[*tuple[Any, ...]]) -> _ItemSource:
        run = None
        if row.test_run_id is not None and row.run_status is not None:
            run = _ListedRun(
                status=row.run_status,
                passed=row.run_passed,
                failed=row.run_failed,
                skipped=row.run_skipped,
                total=row.run_total,
                head_sha=row.run_head_sha,
                result_code=row.run_result_code,
            )
        return cls(
            submission_id=row.id,
            candidate_session_id=row.candidate_session_id,
            candidate_name=row.candidate_name,
            task_id=row.task_id,
            day_index=row.day_index,
            type=row.type,
            submitted_at=row.submitted_at,
            late=row.late,
            cutoff_sha=row.cutoff_sha,
            integrity_findings=row.integrity_findings,
            repo_full_name=row.repo_full_name,
            repo_url=row.repo_url,
            base_template_sha=row.base_template_sha,
            run=run,
        )

    @classmethod
    def of_entities(
        cls,
        submission: Submission,
        cs: CandidateSession,
        task: Task,
        workspace: Workspace | None,
        run: TestRun | None,
    ) -> _ItemSource:
        return cls(
            submission_id=submission.id,
            candidate_session_id=cs.id,
            candidate_name=cs.candidate_name,
            task_id=task.id,
            day_index=task.day_index,
            type=task.type,
            submitted_at=submission.submitted_at,
            late=submission.late,
            cutoff_sha=submission.cutoff_sha,
            integrity_findings=submission.integrity_findings,
            repo_full_name=workspace.repo_full_name if workspace else None,
            repo_url=workspace.repo_url if workspace else None,
            base_template_sha=workspace.base_template_sha if workspace else None,
            run=run,
        )


def _item(source: _ItemSource, grading: Grading | None) -> SubmissionItem:
    repo_url = source.repo_url
    cutoff = source.cutoff_sha
    base = source.base_template_sha
    return SubmissionItem(
        submission_id=source.submission_id,
        candidate_session_id=source.candidate_session_id,
        candidate_name=source.candidate_name,
        task_id=source.task_id,
        day_index=source.day_index,
        type=source.type,
        submitted_at=source.submitted_at,
        late=source.late,
        repo_full_name=source.repo_full_name,
        repo_url=repo_url,
        commit_sha=cutoff,
        commit_url=f"{repo_url}/commit/{cutoff}" if repo_url and cutoff else None,
        diff_url=f"{repo_url}/compare/{base}...{cutoff}" if repo_url and base and cutoff else None,
        test_summary=_test_summary(source.run),
        grading=grading_service.summary(grading),
        integrity_flags=integrity_flags(source, source.run, grading),
    )


def _test_summary(run: runs.RunCounts | None) -> TestSummary | None:
    if run is None:
        return None
    return TestSummary(
        status=public_run_status(run.status),
        passed=run.passed,
        failed=run.failed,
        skipped=run.skipped,
        total=run.total,
    )


def integrity_flags(
    submission: Findings, run: runs.RunCounts | None, grading: Grading | None
) -> list[str]:
    """The review job's findings, whether the final run tested another commit, and whether
    its results differ from the grader's run of the same (visible) tests."""
    flags = [_finding_flag(finding) for finding in submission.integrity_findings or []]
    if (
        run is not None
        and run.head_sha
        and submission.cutoff_sha
        and run.head_sha != submission.cutoff_sha
    ):
        flags.append("run-not-at-cutoff")
    if _results_mismatch(run, grading):
        flags.append("results-mismatch")
    return flags


def _finding_flag(finding: dict[str, Any]) -> str:
    """`change:path`; a rule on one key of a file (`package.json#scripts`) names the key,
    since the rest of that file is the candidate's to change."""
    _, _, key = str(finding.get("rule") or "").partition("#")
    flag = f"{finding['change']}:{finding['path']}"
    return f"{flag}#{key}" if key else flag


def _results_mismatch(run: runs.RunCounts | None, grading: Grading | None) -> bool:
    """The candidate's final run at the cutoff counted (passed, total) otherwise than the
    grader's visible tests did: the candidate's harness or tests were changed. Hidden tests
    are not the candidate's to run, so they do not count."""
    graded = grading_service.visible_counts(grading) if grading else None
    if graded is None or run is None or run.result_code != "OK":
        return False
    if run.passed is None or run.total is None:
        return False
    return (run.passed, run.total) != graded


async def list_submissions(
    session: AsyncSession,
    recruiter: Recruiter,
    *,
    simulation_id: int | None,
    cs_id: int | None,
    task_id: int | None,
    limit: int,
    cursor: str | None,
) -> Page[SubmissionItem]:
    rows, total = await repository.page_in_company(
        session,
        recruiter.company.id,
        simulation_id=simulation_id,
        cs_id=cs_id,
        task_id=task_id,
        limit=limit,
        before=decode_cursor(cursor),
    )
    sources = [_ItemSource.of_row(row) for row in rows]
    ids = [source.submission_id for source in sources]
    gradings = await grading_service.of_submissions(session, ids) if ids else {}
    return Page[SubmissionItem](
        items=[_item(source, gradings.get(source.submission_id)) for source in sources],
        total=total,
        next_cursor=next_cursor(
            sources, limit, lambda source: (source.submitted_at, source.submission_id)
        ),
    )


async def get_submission(
    session: AsyncSession,
    recruiter: Recruiter,
    submission_id: int,
    *,
    media: MediaStore,
    playback_ttl: timedelta,
) -> SubmissionDetail:
    submission, cs, task, workspace, run = await _in_company(session, recruiter, submission_id)
    tests = await runs.tests_of(session, run.id) if run else []
    grading = await grading_service.of_submission(session, submission.id)
    item = _item(_ItemSource.of_entities(submission, cs, task, workspace, run), grading)
    return SubmissionDetail(
        **item.model_dump(exclude={"grading"}),
        grading=grading_service.present(grading) if grading else None,
        task=TaskRef(
            id=task.id,
            day_index=task.day_index,
            type=task.type,
            title=task.title,
            prompt=task.description,
        ),
        content_text=submission.content_text,
        reflection=submission.reflection,
        recording=(
            await recordings.for_review(
                session, cs.id, task.id, store=media, playback_ttl=playback_ttl
            )
            if task.type in recordings.RECORDABLE_TASK_TYPES
            else None
        ),
        code=_code(submission, workspace, run),
        diff_summary=submission.diff_summary,
        test_results=runs.present(run, tests) if run else None,
        integrity=submission.integrity_findings or [],
        timeline=await candidate_sessions.timeline_of(session, cs.id),
    )


async def get_similarity(
    session: AsyncSession, recruiter: Recruiter, submission_id: int
) -> SubmissionSimilarity:
    submission, *_ = await _in_company(session, recruiter, submission_id)
    return await similarity.submission_matches(session, submission.id)


async def _in_company(
    session: AsyncSession, recruiter: Recruiter, submission_id: int
) -> repository.SubmissionRow:
    row = await repository.one_in_company(session, recruiter.company.id, submission_id)
    if row is None:
        raise NotFoundError("No such submission.", code="SUBMISSION_NOT_FOUND")
    return row


def _code(
    submission: Submission, workspace: Workspace | None, run: TestRun | None
) -> CodeRef | None:
    if workspace is None:
        return None
    return CodeRef(
        repo_full_name=workspace.repo_full_name,
        repo_url=workspace.repo_url,
        base_template_sha=workspace.base_template_sha,
        cutoff_sha=submission.cutoff_sha,
        cutoff_tag=(
            cutoff_tag(submission.id) if submission.cutoff_tag_status == "created" else None
        ),
        cutoff_tag_status=submission.cutoff_tag_status,
        workflow_url=run.github_run_url if run else None,
    )
