"""Turning the current task in: one submission per (session, task), decided by the
database so concurrent submits cannot both win.

A code or debug task's submission is the head of its workspace's default branch (the
cutoff), read (a retried GET) before the session's row lock is taken, so a slow GitHub never
holds up the candidate's other calls or the recruiter's; the submits of one session wait
for each other on a lock of their own (`progress.hold_submit_lock`), so a repeated submit
calls GitHub not at all. The submit makes no GitHub change: a job (`jobs.TAG_CUTOFF`) pins
the cutoff with a tag and queues the final test run on it, and the review job and, when the
template has a grader repository, a grading of the cutoff are queued with the submission
(SPEC §11.1), and so is the fingerprinting of the cutoff's tree for similarity across
candidates (SPEC §11.4); they work from the cutoff's SHA, not the tag.
"""

from __future__ import annotations

from datetime import datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principals import Principal
from app.candidate_sessions import lifecycle, progress
from app.candidate_sessions.lifecycle import SessionHooks
from app.candidate_sessions.models import CandidateSession
from app.candidate_sessions.schemas import Progress
from app.core.errors import UnprocessableError
from app.core.settings import SimilaritySettings
from app.events import service as events
from app.grading import service as grading
from app.integrations.github.client import GitHubClient
from app.integrations.github.template_catalog import TemplateCatalog
from app.jobs.queue import enqueue
from app.services import require_github
from app.similarity import service as similarity
from app.simulations.models import CODE_TASK_TYPES, Task
from app.submissions import reflection, repository
from app.submissions.jobs import REVIEW_CODE, TAG_CUTOFF, SubmissionRef
from app.submissions.models import Submission
from app.submissions.schemas import SubmissionCreate, SubmitResult
from app.webhooks import service as webhooks
from app.workspaces import service as workspaces
from app.workspaces.models import Workspace

log = structlog.get_logger(__name__)


async def _cutoff(
    session: AsyncSession, action: progress.CurrentTaskAction, github: GitHubClient | None
) -> str:
    """The head of the workspace's default branch now: what is submitted."""
    client = require_github(github)
    workspace = await workspaces.ready_workspace(session, action.candidate_session, action.task)
    assert workspace.repo_full_name is not None  # a ready workspace has its repository
    branch = await client.get_branch(workspace.repo_full_name, workspace.default_branch or "main")
    return branch.commit.sha


async def _queue_grading(
    session: AsyncSession,
    catalog: TemplateCatalog,
    workspace: Workspace,
    submission: Submission,
    *,
    now: datetime,
) -> None:
    """Grade the cutoff in the template's grader repository, if it has one."""
    template = catalog.for_repository(workspace.template_repo)
    grader = template.grader_for(workspace.template_repo) if template else None
    if grader is None:
        return
    assert workspace.repo_full_name is not None  # a ready workspace has its repository
    assert submission.cutoff_sha is not None  # a code submission has its cutoff
    await grading.queue_grading(
        session,
        submission_id=submission.id,
        grader_repo=grader,
        candidate_repo=workspace.repo_full_name,
        candidate_sha=submission.cutoff_sha,
        now=now,
    )


async def _queue_fingerprints(
    session: AsyncSession,
    settings: SimilaritySettings,
    cs: CandidateSession,
    workspace: Workspace,
    submission: Submission,
) -> None:
    """Fingerprint the cutoff's tree and compare it with the simulation's other submissions
    of the same template."""
    assert workspace.repo_full_name is not None  # a ready workspace has its repository
    assert submission.cutoff_sha is not None  # a code submission has its cutoff
    if workspace.base_template_sha is None:
        log.warning("submissions.no_base_template", submission_id=submission.id)
        return
    await similarity.queue_fingerprints(
        session,
        settings,
        submission_id=submission.id,
        simulation_id=cs.simulation_id,
        candidate_session_id=cs.id,
        task_id=submission.task_id,
        template_repo=workspace.template_repo,
        repo_full_name=workspace.repo_full_name,
        cutoff_sha=submission.cutoff_sha,
        base_template_sha=workspace.base_template_sha,
    )


def _answer(task: Task, body: SubmissionCreate) -> tuple[str | None, dict[str, str] | None]:
    """What is stored of the body: the text, and the reflection's sections when it is one."""
    if body.reflection is None:
        return body.content_text, None
    if body.content_text is not None:
        raise UnprocessableError(
            "Send contentText or reflection, not both.",
            code="CONTENT_AND_REFLECTION",
            errors=[{"loc": ["body"], "msg": "contentText and reflection", "type": "conflict"}],
        )
    if task.type != "documentation":
        raise UnprocessableError(
            "A reflection is only turned in for a documentation task.",
            code="REFLECTION_NOT_EXPECTED",
            errors=[{"loc": ["body", "reflection"], "msg": "not expected", "type": "extra"}],
        )
    sections = body.reflection.model_dump(by_alias=True)
    return reflection.render(sections), sections


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
    hooks: SessionHooks,
    similarity_settings: SimilaritySettings,
) -> SubmitResult:
    await progress.hold_submit_lock(session, cs_id)
    checked = await progress.current_task_for_action(
        session, principal, cs_id, task_id, now=now, lock=False
    )
    content_text, sections = _answer(checked.task, body)
    cutoff = None
    if checked.task.type in CODE_TASK_TYPES:
        cutoff = await _cutoff(session, checked, github)
    elif content_text is None:
        raise UnprocessableError(
            "contentText (or, for a documentation task, reflection) is required.",
            code="CONTENT_REQUIRED",
            errors=[{"loc": ["body", "contentText"], "msg": "required", "type": "missing"}],
        )
    # Decided again under the row lock, on the session as it is now.
    action = await progress.current_task_for_action(session, principal, cs_id, task_id, now=now)
    cs, task = action.candidate_session, action.task
    workspace = await workspaces.ready_workspace(session, cs, task) if cutoff else None
    created = await repository.insert_once(
        session,
        {
            "candidate_session_id": cs.id,
            "task_id": task.id,
            "content_text": content_text,
            "reflection": sections,
            "workspace_id": workspace.id if workspace else None,
            "cutoff_sha": cutoff,
            "cutoff_tag_status": "pending" if cutoff else None,
            "submitted_at": now,
            "late": False,
        },
    )
    if created is None:  # submitted meanwhile: the unique constraint has the last word
        raise await progress.submission_exists(session, cs.id, task.id)
    if workspace is not None:
        ref = SubmissionRef(submission_id=created.id)
        await enqueue(session, TAG_CUTOFF, ref, dedupe_key=f"tag:{created.id}")
        await enqueue(session, REVIEW_CODE, ref, dedupe_key=f"review:{created.id}")
        await _queue_grading(session, catalog, workspace, created, now=now)
        await _queue_fingerprints(session, similarity_settings, cs, workspace, created)
    await events.record_for_session(
        session,
        cs,
        type="task.submitted",
        actor_type="candidate",
        actor_id=principal.subject,
        data={"taskId": task.id, "dayIndex": task.day_index, "type": task.type},
        occurred_at=now,
    )
    await webhooks.publish(
        session,
        simulation_id=cs.simulation_id,
        event="submission.created",
        data={
            "submissionId": created.id,
            "candidateSessionId": cs.id,
            "simulationId": cs.simulation_id,
            "taskId": task.id,
            "dayIndex": task.day_index,
            "taskType": task.type,
            "submittedAt": now,
            "cutoffSha": cutoff,
        },
        occurred_at=now,
    )
    completed = action.submitted + 1
    if completed == action.total:
        await lifecycle.complete(session, cs, now=now)
        await hooks.completed(session, cs)
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
