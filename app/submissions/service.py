"""Turning work in, day by day, and the recruiter's review of it.

Tasks are done in day order: the current task is the first one (by day) without a
submission, and only it can be submitted. One submission per (session, task), decided by
the database so concurrent submits cannot both win.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principals import Principal
from app.candidate_sessions import service as candidate_sessions
from app.candidate_sessions.models import CandidateSession
from app.candidate_sessions.schemas import (
    CurrentTask,
    CurrentTaskRef,
    Progress,
    public_session_status,
)
from app.companies.service import Recruiter
from app.core.errors import (
    ConflictError,
    GoneError,
    NotFoundError,
    UnprocessableError,
)
from app.core.openapi import ErrorSpec
from app.core.pagination import Page, decode_cursor, next_cursor
from app.events import service as events
from app.integrations.github.client import GitHubClient
from app.jobs.queue import enqueue
from app.runs import service as runs
from app.runs.models import TestRun
from app.runs.schemas import public_run_status
from app.services import require_github
from app.simulations import service as simulations
from app.simulations.models import CODE_TASK_TYPES, Task
from app.submissions import repository
from app.submissions.code_flow import REVIEW_CODE, SubmissionRef
from app.submissions.models import Submission
from app.submissions.schemas import (
    CodeRef,
    SubmissionCreate,
    SubmissionDetail,
    SubmissionItem,
    SubmitResult,
    TaskRef,
    TestSummary,
)
from app.workspaces import service as workspaces
from app.workspaces.models import Workspace

log = structlog.get_logger(__name__)

# What the routes that call `task_of_session` or `current_task_for_action` declare with
# `@raises`.
SESSION_TASK_ERRORS: tuple[ErrorSpec, ...] = (
    candidate_sessions.CANDIDATE_SESSION_NOT_FOUND,
    (NotFoundError, "TASK_NOT_FOUND"),
)
CURRENT_TASK_ERRORS: tuple[ErrorSpec, ...] = (
    *SESSION_TASK_ERRORS,
    (ConflictError, "SUBMISSION_EXISTS"),
    (GoneError, "SESSION_EXPIRED"),
    (ConflictError, "SESSION_NOT_IN_PROGRESS"),
    (ConflictError, "TASK_NOT_CURRENT"),
)


async def _plan(
    session: AsyncSession, cs: CandidateSession
) -> tuple[Sequence[Task], dict[int, Submission]]:
    tasks = await simulations.tasks_of(session, cs.simulation_id)
    submitted = {s.task_id: s for s in await repository.of_sessions(session, [cs.id])}
    return tasks, submitted


def _current(tasks: Sequence[Task], submitted: dict[int, Submission]) -> Task | None:
    return next((task for task in tasks if task.id not in submitted), None)


async def current_task(session: AsyncSession, principal: Principal, cs_id: int) -> CurrentTask:
    cs = await candidate_sessions.owned_session(session, principal, cs_id)
    tasks, submitted = await _plan(session, cs)
    task = _current(tasks, submitted)
    return CurrentTask(
        candidate_session_id=cs.id,
        status=public_session_status(cs.status),
        state=cs.status,
        current_day_index=task.day_index if task else None,
        current_task=CurrentTaskRef.model_validate(task) if task else None,
        completed_task_ids=[t.id for t in tasks if t.id in submitted],
        progress=Progress.of(
            completed=len(submitted), total=len(tasks), started=cs.started_at is not None
        ),
        is_complete=task is None,
    )


def _submission_exists(existing: Submission) -> ConflictError:
    return ConflictError(
        "This task was already submitted.",
        code="SUBMISSION_EXISTS",
        extensions={
            "submission": {
                "submissionId": existing.id,
                "taskId": existing.task_id,
                "submittedAt": existing.submitted_at.isoformat(),
            }
        },
    )


async def task_of_session(
    session: AsyncSession, principal: Principal, cs_id: int, task_id: int
) -> tuple[CandidateSession, Task]:
    """The caller's session and any task of it (for the read routes)."""
    cs = await candidate_sessions.owned_session(session, principal, cs_id)
    task = await simulations.task_by_id(session, task_id)
    if task is None or task.simulation_id != cs.simulation_id:
        raise NotFoundError("No such task in this session.", code="TASK_NOT_FOUND")
    return cs, task


async def current_task_for_action(
    session: AsyncSession,
    principal: Principal,
    cs_id: int,
    task_id: int,
    *,
    now: datetime,
) -> tuple[CandidateSession, Task, int, int]:
    """The caller's session and the task a mutating route (init, run, submit) acts on,
    which must be the current one; with the submitted and total task counts. The session
    row is locked, so one candidate's actions are decided one at a time."""
    cs = await candidate_sessions.owned_session(session, principal, cs_id, for_update=True)
    tasks, submitted = await _plan(session, cs)
    task = next((t for t in tasks if t.id == task_id), None)
    if task is None:
        raise NotFoundError("No such task in this session.", code="TASK_NOT_FOUND")
    if task.id in submitted:
        raise _submission_exists(submitted[task.id])
    if candidate_sessions.is_expired(cs, now):
        raise GoneError("The deadline for this simulation has passed.", code="SESSION_EXPIRED")
    if cs.status != "in_progress":
        raise ConflictError(f"This session is {cs.status}.", code="SESSION_NOT_IN_PROGRESS")
    current = _current(tasks, submitted)
    if current is None or current.id != task.id:
        raise ConflictError(
            f"Tasks are done in day order; the current task is day {current.day_index}."
            if current
            else "Every task is already submitted.",
            code="TASK_NOT_CURRENT",
        )
    return cs, task, len(submitted), len(tasks)


async def _cutoff(workspace: Workspace, github: GitHubClient | None) -> str:
    """The head of the workspace's default branch now: what is submitted."""
    client = require_github(github)
    assert workspace.repo_full_name is not None  # a ready workspace has its repository
    branch = await client.get_branch(workspace.repo_full_name, workspace.default_branch or "main")
    return branch.commit.sha


async def submit(
    session: AsyncSession,
    principal: Principal,
    cs_id: int,
    task_id: int,
    body: SubmissionCreate,
    *,
    now: datetime,
    github: GitHubClient | None,
) -> SubmitResult:
    cs, task, already, total = await current_task_for_action(
        session, principal, cs_id, task_id, now=now
    )
    workspace = None
    cutoff = None
    if task.type in CODE_TASK_TYPES:
        workspace = await workspaces.ready_workspace(session, cs, task)
        cutoff = await _cutoff(workspace, github)
    elif body.content_text is None:
        raise UnprocessableError(
            "contentText is required for this task.",
            code="CONTENT_REQUIRED",
            errors=[{"loc": ["body", "contentText"], "msg": "required", "type": "missing"}],
        )
    created = await repository.insert_once(
        session,
        {
            "candidate_session_id": cs.id,
            "task_id": task.id,
            "content_text": body.content_text,
            "workspace_id": workspace.id if workspace else None,
            "cutoff_sha": cutoff,
            "submitted_at": now,
            "late": False,
        },
    )
    if created is None:  # a concurrent submit of the same task won
        existing = await repository.for_session_and_task(session, cs.id, task.id)
        assert existing is not None
        raise _submission_exists(existing)
    if workspace is not None and cutoff is not None:
        # The final run is dispatched on a tag pinned at the cutoff, so it tests exactly
        # the submitted commit whatever is pushed afterwards.
        tag = f"tenon-submission-{created.id}"
        assert github is not None
        assert workspace.repo_full_name is not None
        await github.create_tag(workspace.repo_full_name, tag, cutoff)
        final_run = await runs.queue_run(session, workspace, task, tag, now=now)
        created.test_run_id = final_run.id
        await session.flush()
        await enqueue(
            session,
            REVIEW_CODE,
            SubmissionRef(submission_id=created.id),
            dedupe_key=f"review:{created.id}",
        )
    await events.record_for_session(
        session,
        cs,
        type="task.submitted",
        actor_type="candidate",
        actor_id=principal.subject,
        data={"taskId": task.id, "dayIndex": task.day_index, "type": task.type},
        occurred_at=now,
    )
    completed = already + 1
    if completed == total:
        await candidate_sessions.complete(session, cs, now=now)
        await workspaces.revoke_access_later(session, cs.id)
    log.info("submissions.created", submission_id=created.id, day=task.day_index)
    return SubmitResult(
        submission_id=created.id,
        task_id=task.id,
        candidate_session_id=cs.id,
        submitted_at=created.submitted_at,
        cutoff_sha=created.cutoff_sha,
        progress=Progress.of(completed=completed, total=total, started=True),
        is_complete=completed == total,
    )


def _item(
    submission: Submission,
    cs: CandidateSession,
    task: Task,
    workspace: Workspace | None,
    run: TestRun | None,
) -> SubmissionItem:
    repo_url = workspace.repo_url if workspace else None
    cutoff = submission.cutoff_sha
    base = workspace.base_template_sha if workspace else None
    return SubmissionItem(
        submission_id=submission.id,
        candidate_session_id=cs.id,
        candidate_name=cs.candidate_name,
        task_id=task.id,
        day_index=task.day_index,
        type=task.type,
        submitted_at=submission.submitted_at,
        late=submission.late,
        repo_full_name=workspace.repo_full_name if workspace else None,
        repo_url=repo_url,
        commit_sha=cutoff,
        commit_url=f"{repo_url}/commit/{cutoff}" if repo_url and cutoff else None,
        diff_url=f"{repo_url}/compare/{base}...{cutoff}" if repo_url and base and cutoff else None,
        test_summary=_test_summary(run),
        integrity_flags=_integrity_flags(submission, run),
    )


def _test_summary(run: TestRun | None) -> TestSummary | None:
    if run is None:
        return None
    return TestSummary(
        status=public_run_status(run.status),
        passed=run.passed,
        failed=run.failed,
        skipped=run.skipped,
        total=run.total,
    )


def _integrity_flags(submission: Submission, run: TestRun | None) -> list[str]:
    flags = [
        f"{finding['change']}:{finding['path']}" for finding in submission.integrity_findings or []
    ]
    if (
        run is not None
        and run.head_sha
        and submission.cutoff_sha
        and run.head_sha != submission.cutoff_sha
    ):
        flags.append("run-not-at-cutoff")
    return flags


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
    return Page[SubmissionItem](
        items=[_item(*row) for row in rows],
        total=total,
        next_cursor=next_cursor(rows, limit, lambda row: (row[0].submitted_at, row[0].id)),
    )


async def get_submission(
    session: AsyncSession, recruiter: Recruiter, submission_id: int
) -> SubmissionDetail:
    row = await repository.one_in_company(session, recruiter.company.id, submission_id)
    if row is None:
        raise NotFoundError("No such submission.", code="SUBMISSION_NOT_FOUND")
    submission, cs, task, workspace, run = row
    tests = await runs.tests_of(session, run.id) if run else []
    return SubmissionDetail(
        **_item(submission, cs, task, workspace, run).model_dump(),
        task=TaskRef(
            id=task.id,
            day_index=task.day_index,
            type=task.type,
            title=task.title,
            prompt=task.description,
        ),
        content_text=submission.content_text,
        code=_code(submission, workspace, run),
        diff_summary=submission.diff_summary,
        test_results=runs.present(run, tests) if run else None,
        integrity=submission.integrity_findings or [],
        timeline=await candidate_sessions.timeline_of(session, cs.id),
    )


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
        workflow_url=run.github_run_url if run else None,
    )


# A spreadsheet would run a cell starting with one of these as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return f"'{text}" if text.startswith(_FORMULA_PREFIXES) else text


async def results_csv(session: AsyncSession, recruiter: Recruiter, simulation_id: int) -> str:
    """One row per candidate session: who, status, and when each day was submitted."""
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    tasks = await simulations.tasks_of(session, simulation.id)
    sessions = await candidate_sessions.all_of_simulation(session, simulation.id)
    submissions: dict[tuple[int, int], Submission] = {
        (s.candidate_session_id, s.task_id): s
        for s in await repository.of_sessions(session, [cs.id for cs in sessions])
    }
    final_runs = await runs.runs_by_id(
        session, [s.test_run_id for s in submissions.values() if s.test_run_id]
    )
    code_tasks = [task for task in tasks if task.type in CODE_TASK_TYPES]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "candidate_session_id",
            "candidate_name",
            "invite_email",
            "status",
            "invited_at",
            "completed_at",
            *(f"day{task.day_index}_{task.type}_submitted_at" for task in tasks),
            *(
                f"day{task.day_index}_{task.type}_tests_{count}"
                for task in code_tasks
                for count in ("passed", "total")
            ),
            "integrity_flags",
        ]
    )
    for cs in sessions:
        days = [submissions.get((cs.id, task.id)) for task in tasks]
        code = [submissions.get((cs.id, task.id)) for task in code_tasks]
        code_runs = [final_runs.get(s.test_run_id) if s and s.test_run_id else None for s in code]
        flags = [
            flag
            for s in days
            if s is not None
            for flag in _integrity_flags(
                s, final_runs.get(s.test_run_id) if s.test_run_id else None
            )
        ]
        writer.writerow(
            _cell(value)
            for value in (
                cs.id,
                cs.candidate_name,
                cs.invite_email,
                public_session_status(cs.status),
                cs.invited_at,
                cs.completed_at,
                *(s.submitted_at if s else None for s in days),
                *(
                    count
                    for run in code_runs
                    for count in ((run.passed, run.total) if run else (None, None))
                ),
                " ".join(flags),
            )
        )
    return out.getvalue()
