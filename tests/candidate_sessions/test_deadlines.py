"""A session's deadline over HTTP, with the GitHub emulator and the deadline sweep on a
movable clock: expiry revokes the candidate's push access and refuses submissions; the
recruiter's extension reopens both."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.jobs.models import Job
from app.workspaces.models import Workspace
from tests.support.api import assert_problem
from tests.support.identity import IdentityProvider
from tests.support.jobs import FakeClock
from tests.support.workspace_scene import (
    CODE_FIRST,
    Scene,
    claimed_session,
    init_workspace,
    run_jobs,
    run_sweeps,
    session_headers,
    staged,
)


@pytest.fixture
async def scene(
    tmp_path: Path, database_url: str, database: Database, idp: IdentityProvider
) -> AsyncIterator[Scene]:
    async with staged(tmp_path, database_url, database, idp) as staged_scene:
        yield staged_scene


async def _permission(scene: Scene, repo: str) -> str:
    async with scene.github.client() as gh:
        body = (await gh.get(f"/repos/{repo}/collaborators/octocat/permission")).json()
    permission: str = body["permission"]
    return permission


async def _session_with_a_ready_workspace(
    scene: Scene, database: Database
) -> tuple[int, list[int], FakeClock, httpx.Response]:
    """A claimed session whose code task's repository is ready: the session, its tasks, the
    clock the jobs ran on and the workspace's status answer."""
    cs_id, task_ids = await claimed_session(scene, tasks=CODE_FIRST)
    await init_workspace(scene, cs_id, task_ids[0], "octocat")
    clock = FakeClock(current=datetime.now(UTC))
    await run_jobs(scene, database, clock=clock)
    status = await scene.client.get(
        f"/api/tasks/{task_ids[0]}/codespace/status", headers=session_headers(scene, cs_id)
    )
    return cs_id, task_ids, clock, status


async def test_expiry_revokes_access_refuses_submissions_and_an_extension_reopens(
    scene: Scene, database: Database, db_session: AsyncSession
) -> None:
    cs_id, task_ids, clock, status = await _session_with_a_ready_workspace(scene, database)
    repo = status.json()["repoFullName"]

    cs = await db_session.get(CandidateSession, cs_id)
    assert cs is not None
    cs.expires_at = clock.now() - timedelta(minutes=1)
    await db_session.flush()
    await run_sweeps(scene, database, clock)
    await db_session.refresh(cs)
    assert cs.status == "expired"
    assert await _permission(scene, repo) != "write"
    late = await scene.client.post(
        f"/api/tasks/{task_ids[0]}/submit", json={}, headers=session_headers(scene, cs_id)
    )
    assert_problem(late, 410, "SESSION_EXPIRED")
    timeline = await scene.client.get(
        f"/api/simulations/{cs.simulation_id}/candidates/{cs_id}/events", headers=scene.recruiter
    )
    revoked = next(e for e in timeline.json() if e["type"] == "access.revoked")
    assert revoked["data"]["lastCommit"] == status.json()["baseTemplateSha"]

    extended = await scene.client.post(
        f"/api/simulations/{cs.simulation_id}/candidates/{cs_id}/extend",
        json={"expiresAt": (datetime.now(UTC) + timedelta(days=2)).isoformat()},
        headers=scene.recruiter,
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["status"] == "in_progress"
    await run_jobs(scene, database, clock=clock)
    assert await _permission(scene, repo) == "write"
    on_time = await scene.client.post(
        f"/api/tasks/{task_ids[0]}/submit", json={}, headers=session_headers(scene, cs_id)
    )
    assert on_time.status_code == 201, on_time.text
    past = await scene.client.post(
        f"/api/simulations/{cs.simulation_id}/candidates/{cs_id}/extend",
        json={"expiresAt": "2020-01-01T00:00:00Z"},
        headers=scene.recruiter,
    )
    assert_problem(past, 422, "DEADLINE_IN_THE_PAST")


async def test_expiry_of_a_session_whose_repository_was_deleted_revokes_without_retrying(
    scene: Scene, database: Database, db_session: AsyncSession
) -> None:
    cs_id, _, clock, status = await _session_with_a_ready_workspace(scene, database)
    async with scene.github.client() as gh:
        deleted = await gh.delete(f"/repos/{status.json()['repoFullName']}")
    assert deleted.status_code == 204, deleted.text

    cs = await db_session.get(CandidateSession, cs_id)
    assert cs is not None
    cs.expires_at = clock.now() - timedelta(minutes=1)
    await db_session.flush()
    await run_sweeps(scene, database, clock)

    revocations = (
        await db_session.scalars(select(Job).where(Job.type == "workspaces.revoke_access"))
    ).all()
    assert [(job.state, job.attempts) for job in revocations] == [("succeeded", 1)]
    workspace = await db_session.scalar(
        select(Workspace).where(Workspace.candidate_session_id == cs_id)
    )
    assert workspace is not None
    assert workspace.collaborator_login is None
