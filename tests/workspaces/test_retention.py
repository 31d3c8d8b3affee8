"""Retention: the sweep retires the repositories of sessions that ended longer ago than the
retention period, archiving them or, with cleanup enabled, deleting them on GitHub."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.workspaces.models import Workspace
from tests.support.identity import IdentityProvider
from tests.support.jobs import FakeClock
from tests.support.workspace_scene import (
    CODE_FIRST,
    claimed_session,
    init_workspace,
    run_jobs,
    run_sweeps,
    staged,
)


@pytest.mark.parametrize("cleanup", [False, True])
async def test_retention_archives_or_deletes_repositories_of_long_ended_sessions(
    tmp_path: Path,
    database_url: str,
    database: Database,
    db_session: AsyncSession,
    idp: IdentityProvider,
    cleanup: bool,
) -> None:
    async with staged(
        tmp_path, database_url, database, idp, retention_days=30, cleanup_enabled=cleanup
    ) as scene:
        cs_id, task_ids = await claimed_session(scene, tasks=CODE_FIRST)
        await init_workspace(scene, cs_id, task_ids[0], "octocat")
        clock = FakeClock(current=datetime.now(UTC))
        await run_jobs(scene, database, clock=clock)
        workspace = (await db_session.scalars(select(Workspace))).one()
        await db_session.refresh(workspace)
        cs = await db_session.get(CandidateSession, cs_id)
        assert cs is not None
        cs.status, cs.completed_at = "completed", clock.now() - timedelta(days=31)
        await db_session.flush()

        await run_sweeps(scene, database, clock)
        async with scene.github.client() as gh:
            repo = await gh.get(f"/repos/{workspace.repo_full_name}")
    await db_session.refresh(workspace)
    assert workspace.retired_at is not None
    if cleanup:
        assert repo.status_code == 404
    else:
        assert repo.json()["archived"] is True
