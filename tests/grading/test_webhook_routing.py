"""`workflow_run` webhooks reach the domain whose repository ran the workflow: a grader
repository's runs are gradings', a candidate repository's runs are test runs'."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assembly import webhook_handlers
from app.core.clock import SystemClock
from app.core.db import Database
from app.grading import service as grading_service
from app.integrations.github.webhooks import WebhookEvent
from app.jobs.models import Job
from app.jobs.registry import JobContext
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_simulation,
    create_submission,
    create_task,
    create_test_run,
    create_workspace,
)
from tests.support.jobs import job_services

GRADER_REPO = "tenon-templates/python-fastapi-grader"
CANDIDATE_REPO = "tenon-workspaces/tenon-candidate"
GRADER_RUN_ID, CANDIDATE_RUN_ID = 7001, 7002


def _completed(repo: str, run_id: int) -> WebhookEvent:
    owner, name = repo.split("/")
    return WebhookEvent(
        delivery_id=f"delivery-{repo}-{run_id}",
        event="workflow_run",
        action="completed",
        payload={
            "action": "completed",
            "workflow_run": {
                "id": run_id,
                "status": "completed",
                "conclusion": "success",
                "head_sha": "4f2a9c1e7b3d5a8c0e6f1b2d4a7c9e3f5b8d0a2c",
                "event": "workflow_dispatch",
                "html_url": f"https://github.test/{repo}/actions/runs/{run_id}",
                "created_at": "2026-12-04T10:00:00Z",
                "updated_at": "2026-12-04T10:01:00Z",
            },
            "repository": {"full_name": repo, "name": name, "owner": {"login": owner}},
        },
    )


async def _collect_jobs(db_session: AsyncSession) -> list[tuple[str, dict[str, Any]]]:
    statement = select(Job).where(Job.type.in_(["grade_submission.collect", "runs.collect"]))
    return [(job.type, job.payload) for job in (await db_session.scalars(statement)).all()]


async def test_workflow_runs_reach_gradings_or_test_runs_by_their_repository(
    database: Database, db_session: AsyncSession
) -> None:
    simulation = await create_simulation(db_session, await create_company(db_session))
    task = await create_task(db_session, simulation, day_index=1, type="code")
    cs = await create_candidate_session(db_session, simulation, status="in_progress")
    workspace = await create_workspace(db_session, cs)
    run = await create_test_run(
        db_session, workspace, task, status="running", github_run_id=CANDIDATE_RUN_ID
    )
    submission = await create_submission(db_session, cs, task, content_text=None)
    grading = await grading_service.queue_grading(
        db_session,
        submission_id=submission.id,
        grader_repo=GRADER_REPO,
        candidate_repo=CANDIDATE_REPO,
        candidate_sha="b7e3c1d9a5f2e8c4b6a0d2f4e6c8a1b3d5f7e9c2",
        now=SystemClock().now(),
    )
    grading.status, grading.github_run_id = "running", GRADER_RUN_ID
    await db_session.flush()
    context = JobContext(
        database=database,
        clock=SystemClock(),
        services=job_services(),
        job_id=1,
        attempt=1,
        max_attempts=1,
    )
    track = webhook_handlers()["workflow_run"]

    # The grader's run id, reported from a candidate's repository, is not the grading's.
    await track(context, _completed(CANDIDATE_REPO, GRADER_RUN_ID))
    assert await _collect_jobs(db_session) == []

    await track(context, _completed(GRADER_REPO, GRADER_RUN_ID))
    await track(context, _completed(CANDIDATE_REPO, CANDIDATE_RUN_ID))

    await db_session.refresh(grading)
    assert grading.conclusion == "success"
    assert sorted(await _collect_jobs(db_session)) == [
        ("grade_submission.collect", {"gradingId": grading.id}),
        ("runs.collect", {"runId": run.id}),
    ]
