"""Turning the current task in: one submission per (session, task), decided by the
database so concurrent submits cannot both win.

A code or debug task's submission is the head of its workspace's default branch (the
cutoff), pinned by a tag that the final test run is dispatched on; when the template has a
grader repository, a grading of the cutoff is queued with it (SPEC §11.1). GitHub is called before
the session's row lock is taken, so a slow GitHub never holds up the candidate's other
calls or the recruiter's; the submits of one session wait for each other on a lock of
their own (`progress.hold_submit_lock`), so a repeated submit calls GitHub not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principals import Principal
from app.candidate_sessions import lifecycle, progress
from app.candidate_sessions.schemas import Progress
from app.core.errors import UnprocessableError
from app.events import service as events
from app.grading import service as grading
from app.integrations.github.client import GitHubClient
from app.integrations.github.template_catalog import TemplateCatalog
from app.jobs.queue import enqueue
from app.runs import service as runs
from app.services import require_github
from app.simulations.models import CODE_TASK_TYPES
from app.submissions import repository
from app.submissions.jobs import REVIEW_CODE, SubmissionRef
from app.submissions.schemas import SubmissionCreate, SubmitResult
from app.workspaces import service as workspaces
from app.workspaces.models import Workspace

log = structlog.get_logger(__name__)


async def _cutoff(workspace: Workspace, github: GitHubClient | None) -> str:
    """The head of the workspace's default branch now: what is submitted."""
    client = require_github(github)
    assert workspace.repo_full_name is not None  # a ready workspace has its repository
    branch = await client.get_branch(workspace.repo_full_name, workspace.default_branch or "main")
    return branch.commit.sha


def _tag(submission_id: int) -> str:
    return f"tenon-submission-{submission_id}"


@dataclass(frozen=True)
class _PinnedCutoff:
    submission_id: int
    sha: str


async def _pin_cutoff(
    session: AsyncSession, action: progress.CurrentTaskAction, github: GitHubClient | None
) -> _PinnedCutoff:
    """Read the cutoff and tag it under the id the submission will have. The final run is
    dispatched on the tag, so it tests exactly the submitted commit whatever is pushed
    afterwards."""
    workspace = await workspaces.ready_workspace(session, action.candidate_session, action.task)
    sha = await _cutoff(workspace, github)
    submission_id = await repository.reserve_id(session)
    assert github is not None  # checked by _cutoff
    assert workspace.repo_full_name is not None
    await github.create_tag(workspace.repo_full_name, _tag(submission_id), sha)
    return _PinnedCutoff(submission_id, sha)


async def _queue_grading(
    session: AsyncSession,
    catalog: TemplateCatalog,
    workspace: Workspace,
    pinned: _PinnedCutoff,
    *,
    now: datetime,
) -> None:
    """Grade the cutoff in the template's grader repository, if it has one."""
    template = catalog.for_repository(workspace.template_repo)
    grader = template.grader_for(workspace.template_repo) if template else None
    if grader is None:
        return
    assert workspace.repo_full_name is not None  # a ready workspace has its repository
    await grading.queue_grading(
        session,
        submission_id=pinned.submission_id,
        grader_repo=grader,
        candidate_repo=workspace.repo_full_name,
        candidate_sha=pinned.sha,
        now=now,
    )


async def submit(
    session: AsyncSession,
    principal: Principal,
    cs_id: int,
    task_id: int,
    body: SubmissionCreate,
    *,
    now: datetime,
    github: GitHubClient | None,
    catalog: TemplateCatalog,
) -> SubmitResult:
    await progress.hold_submit_lock(session, cs_id)
    checked = await progress.current_task_for_action(
        session, principal, cs_id, task_id, now=now, lock=False
    )
    pinned = None
    if checked.task.type in CODE_TASK_TYPES:
        pinned = await _pin_cutoff(session, checked, github)
    elif body.content_text is None:
        raise UnprocessableError(
            "contentText is required for this task.",
            code="CONTENT_REQUIRED",
            errors=[{"loc": ["body", "contentText"], "msg": "required", "type": "missing"}],
        )
    # Decided again under the row lock, on the session as it is now.
    action = await progress.current_task_for_action(session, principal, cs_id, task_id, now=now)
    cs, task = action.candidate_session, action.task
    workspace = await workspaces.ready_workspace(session, cs, task) if pinned else None
    created = await repository.insert_once(
        session,
        {
            **({"id": pinned.submission_id} if pinned else {}),
            "candidate_session_id": cs.id,
            "task_id": task.id,
            "content_text": body.content_text,
            "workspace_id": workspace.id if workspace else None,
            "cutoff_sha": pinned.sha if pinned else None,
            "submitted_at": now,
            "late": False,
        },
    )
    if created is None:  # submitted meanwhile: the unique constraint has the last word
        raise await progress.submission_exists(session, cs.id, task.id)
    if workspace is not None and pinned is not None:
        final_run = await runs.queue_run(
            session, workspace, task, _tag(pinned.submission_id), now=now
        )
        created.test_run_id = final_run.id
        await session.flush()
        await enqueue(
            session,
            REVIEW_CODE,
            SubmissionRef(submission_id=created.id),
            dedupe_key=f"review:{created.id}",
        )
        await _queue_grading(session, catalog, workspace, pinned, now=now)
    await events.record_for_session(
        session,
        cs,
        type="task.submitted",
        actor_type="candidate",
        actor_id=principal.subject,
        data={"taskId": task.id, "dayIndex": task.day_index, "type": task.type},
        occurred_at=now,
    )
    completed = action.submitted + 1
    if completed == action.total:
        await lifecycle.complete(session, cs, now=now)
        await workspaces.revoke_access_later(session, cs.id)
    log.info("submissions.created", submission_id=created.id, day=task.day_index)
    return SubmitResult(
        submission_id=created.id,
        task_id=task.id,
        candidate_session_id=cs.id,
        submitted_at=created.submitted_at,
        cutoff_sha=created.cutoff_sha,
        progress=Progress.of(completed=completed, total=action.total, started=True),
        is_complete=completed == action.total,
    )
