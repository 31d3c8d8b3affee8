"""Workspaces end to end: the candidate's init call, the provisioning job against the GitHub
emulator over real HTTP, and what the candidate and GitHub then see."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.jobs.models import Job
from app.workspaces.models import Workspace
from app.workspaces.provisioning import repository_name
from tests.support.api import TEXT_TASKS, assert_problem, bearer
from tests.support.identity import IdentityProvider
from tests.support.jobs import FakeClock
from tests.support.workspace_scene import (
    CODE_FIRST,
    ORG,
    Scene,
    claimed_session,
    init_workspace,
    run_jobs,
    session_headers,
    staged,
)


@pytest.fixture
async def scene(
    tmp_path: Path, database_url: str, database: Database, idp: IdentityProvider
) -> AsyncIterator[Scene]:
    async with staged(
        tmp_path, database_url, database, idp, emulator={"generate_delay_seconds": 0.3}
    ) as staged_scene:
        yield staged_scene


async def test_init_provisions_the_repository_and_gives_push_access(
    scene: Scene, database: Database, db_session: AsyncSession
) -> None:
    cs_id, task_ids = await claimed_session(scene)
    not_code = await init_workspace(scene, cs_id, task_ids[0], "octocat")
    assert_problem(not_code, 409, "NOT_A_CODE_TASK")
    submitted = await scene.client.post(
        f"/api/tasks/{task_ids[0]}/submit",
        json={"contentText": "design"},
        headers=session_headers(scene, cs_id),
    )
    assert submitted.status_code == 201

    first = await init_workspace(scene, cs_id, task_ids[1], "OctoCat")
    again = await init_workspace(scene, cs_id, task_ids[1], "octocat")
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["status"] == "provisioning"
    assert first.json()["workspaceId"] == again.json()["workspaceId"]
    jobs = await db_session.scalar(
        select(func.count()).select_from(Job).where(Job.type == "workspaces.provision")
    )
    assert jobs == 1

    await run_jobs(scene, database)

    status = await scene.client.get(
        f"/api/tasks/{task_ids[1]}/codespace/status", headers=session_headers(scene, cs_id)
    )
    workspace = status.json()
    assert workspace["status"] == "ready", workspace
    full_name = workspace["repoFullName"]
    assert full_name.startswith(f"{ORG}/tenon-")
    assert full_name.endswith("-python-fastapi")
    assert workspace["codespaceUrl"] == f"https://codespaces.new/{full_name}?quickstart=1"
    assert workspace["defaultBranch"] == "main"
    async with scene.github.client() as gh:
        branch = (await gh.get(f"/repos/{full_name}/branches/main")).json()
        permission = (await gh.get(f"/repos/{full_name}/collaborators/octocat/permission")).json()
        repo = (await gh.get(f"/repos/{full_name}")).json()
    assert workspace["baseTemplateSha"] == branch["commit"]["sha"]
    assert permission["permission"] == "write"
    assert repo["private"] is True
    assert repo["template_repository"]["full_name"] == "tenon-templates/python-fastapi"

    ready = await init_workspace(scene, cs_id, task_ids[1], "octocat")
    assert ready.status_code == 200
    other = await init_workspace(scene, cs_id, task_ids[1], "someone-else")
    assert_problem(other, 409, "GITHUB_USERNAME_MISMATCH")


async def test_unknown_github_user_is_422_and_binds_nothing(
    scene: Scene, db_session: AsyncSession
) -> None:
    cs_id, task_ids = await claimed_session(scene, tasks=CODE_FIRST + TEXT_TASKS[1:])
    missing = await init_workspace(scene, cs_id, task_ids[0], "ghost-nobody")
    assert_problem(missing, 422, "GITHUB_USER_NOT_FOUND")
    invalid = await init_workspace(scene, cs_id, task_ids[0], "-not--valid-")
    assert_problem(invalid, 422, "VALIDATION_FAILED")
    # The original front end may post no username; the answer names the field it lacks.
    empty = await scene.client.post(
        f"/api/tasks/{task_ids[0]}/codespace/init", json={}, headers=session_headers(scene, cs_id)
    )
    problem = assert_problem(empty, 422, "VALIDATION_FAILED")
    assert [error["loc"] for error in problem["errors"]] == [["body", "githubUsername"]]
    assert "githubUsername" in problem["detail"]
    workspaces = await db_session.scalar(select(func.count()).select_from(Workspace))
    assert workspaces == 0


async def test_status_before_init_is_404_and_other_sessions_are_404(scene: Scene) -> None:
    cs_id, task_ids = await claimed_session(scene, tasks=CODE_FIRST)
    status = await scene.client.get(
        f"/api/tasks/{task_ids[0]}/codespace/status", headers=session_headers(scene, cs_id)
    )
    assert_problem(status, 404, "WORKSPACE_NOT_FOUND")
    stranger = bearer(
        scene.idp.token(subject="auth0|x", permissions=("candidate:access",), email="x@example.com")
    )
    foreign = await scene.client.post(
        f"/api/tasks/{task_ids[0]}/codespace/init",
        json={"githubUsername": "octocat"},
        headers=stranger | {"x-candidate-session-id": str(cs_id)},
    )
    assert_problem(foreign, 404, "CANDIDATE_SESSION_NOT_FOUND")


async def test_a_repository_left_by_an_earlier_attempt_is_adopted(
    scene: Scene, database: Database
) -> None:
    cs_id, task_ids = await claimed_session(scene, tasks=CODE_FIRST)
    response = await init_workspace(scene, cs_id, task_ids[0], "octocat")
    workspace_id = response.json()["workspaceId"]
    name = await _expected_name(database, workspace_id)
    async with scene.github.client() as gh:
        created = await gh.post(
            "/repos/tenon-templates/python-fastapi/generate",
            json={"owner": ORG, "name": name, "private": True},
        )
    assert created.status_code == 201

    await run_jobs(scene, database)
    status = await scene.client.get(
        f"/api/tasks/{task_ids[0]}/codespace/status", headers=session_headers(scene, cs_id)
    )
    assert status.json()["status"] == "ready"
    assert status.json()["repoFullName"] == f"{ORG}/{name}"


async def test_a_foreign_repository_with_the_name_fails_the_workspace_with_the_reason(
    scene: Scene, database: Database
) -> None:
    cs_id, task_ids = await claimed_session(scene, tasks=CODE_FIRST)
    response = await init_workspace(scene, cs_id, task_ids[0], "octocat")
    name = await _expected_name(database, response.json()["workspaceId"])
    async with scene.github.client() as gh:
        await gh.post(
            "/repos/tenon-templates/python-fastapi-debug/generate",
            json={"owner": ORG, "name": name},
        )
    await run_jobs(scene, database)
    status = await scene.client.get(
        f"/api/tasks/{task_ids[0]}/codespace/status", headers=session_headers(scene, cs_id)
    )
    assert status.json()["status"] == "failed"
    assert status.json()["errorCode"] == "REPO_NAME_TAKEN"
    assert status.json()["error"].startswith("A repository with this workspace's name already")
    retried = await init_workspace(scene, cs_id, task_ids[0], "octocat")
    assert retried.json()["status"] == "provisioning"  # init asks for another attempt
    assert (retried.json()["errorCode"], retried.json()["error"]) == (None, None)


async def test_a_template_not_installed_fails_with_a_code_naming_it_not_exception_text(
    tmp_path: Path, database_url: str, database: Database, idp: IdentityProvider
) -> None:
    # An emulator with no templates at all: generating from tenon-templates/... is a 404.
    (tmp_path / "no-templates").mkdir()
    emulator = {"templates_dir": tmp_path / "no-templates"}
    async with staged(tmp_path, database_url, database, idp, emulator=emulator) as scene:
        cs_id, task_ids = await claimed_session(scene, tasks=CODE_FIRST)
        await init_workspace(scene, cs_id, task_ids[0], "octocat")
        await run_jobs(scene, database)
        status = await scene.client.get(
            f"/api/tasks/{task_ids[0]}/codespace/status", headers=session_headers(scene, cs_id)
        )
    workspace = status.json()
    assert workspace["status"] == "failed"
    assert workspace["errorCode"] == "TEMPLATE_NOT_INSTALLED"
    # Naming the repository tells the hiring team what to install.
    assert workspace["error"] == (
        "The starter repository for this task, tenon-templates/python-fastapi, is not "
        "installed on GitHub. Ask the hiring team to install it, then try again."
    )
    for leak in ("Error", "GitHub answered", "404", "/repos/"):
        assert leak not in workspace["error"]
    # The detail is kept for operators: in the dead job's last error.
    async with database.sessionmaker() as session:
        job = (await session.scalars(select(Job).where(Job.type == "workspaces.provision"))).one()
    assert job.state == "dead"
    assert "tenon-templates/python-fastapi was not found" in (job.last_error or "")


async def _expected_name(database: Database, workspace_id: int) -> str:
    async with database.sessionmaker() as session:
        workspace = await session.get(Workspace, workspace_id)
        assert workspace is not None
        cs = await session.get(CandidateSession, workspace.candidate_session_id)
        assert cs is not None
        return repository_name("tenon-", cs.simulation_id, cs.id, workspace.template_key)


async def test_concurrent_inits_make_one_repository(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with staged(tmp_path, jobs_database_url, jobs_db, idp) as scene:
        cs_id, task_ids = await claimed_session(scene, tasks=CODE_FIRST)
        responses = await asyncio.gather(
            *(init_workspace(scene, cs_id, task_ids[0], "octocat") for _ in range(5))
        )
        assert {r.status_code for r in responses} == {202}
        assert len({r.json()["workspaceId"] for r in responses}) == 1
        await run_jobs(scene, jobs_db)
        stats = await _emulator_stats(scene)
    assert _generates(stats) == 1
    async with jobs_db.session_scope() as session:
        workspaces = (
            await session.scalars(select(Workspace).where(Workspace.candidate_session_id == cs_id))
        ).all()
        jobs = await session.scalar(
            select(func.count()).select_from(Job).where(Job.type == "workspaces.provision")
        )
    assert [w.status for w in workspaces] == ["ready"]
    assert jobs == 1


async def test_preprovisioning_at_invite_is_spaced_and_init_only_grants_access(
    tmp_path: Path,
    database_url: str,
    database: Database,
    db_session: AsyncSession,
    idp: IdentityProvider,
) -> None:
    async with staged(tmp_path, database_url, database, idp, preprovision=True) as scene:
        cs_id, task_ids = await claimed_session(scene)
        jobs = (
            await db_session.scalars(
                select(Job).where(Job.type == "workspaces.provision").order_by(Job.run_at)
            )
        ).all()
        assert len(jobs) == 2  # the code and the debug repositories
        assert (jobs[1].run_at - jobs[0].run_at).total_seconds() >= 3

        clock = FakeClock(current=jobs[-1].run_at)
        await run_jobs(scene, database, clock=clock)
        prepared = (await db_session.scalars(select(Workspace))).all()
        for workspace in prepared:
            await db_session.refresh(workspace)
        assert {w.status for w in prepared} == {"pending"}
        assert all(w.repo_full_name and w.collaborator_login is None for w in prepared)

        headers = session_headers(scene, cs_id)
        await scene.client.post(
            f"/api/tasks/{task_ids[0]}/submit", json={"contentText": "d"}, headers=headers
        )
        init = await init_workspace(scene, cs_id, task_ids[1], "octocat")
        assert init.status_code == 202
        await run_jobs(scene, database, clock=clock)
        status = await scene.client.get(
            f"/api/tasks/{task_ids[1]}/codespace/status", headers=headers
        )
        async with scene.github.client() as gh:
            permission = await gh.get(
                f"/repos/{status.json()['repoFullName']}/collaborators/octocat/permission"
            )
        stats = await _emulator_stats(scene)
    assert status.json()["status"] == "ready"
    assert permission.json()["permission"] == "write"
    assert _generates(stats) == 2  # the init reused the prepared repository


async def _emulator_stats(scene: Scene) -> dict[str, Any]:
    async with scene.github.client() as gh:
        stats: dict[str, Any] = (await gh.get("/_emulator/stats")).json()
        return stats


def _generates(stats: dict[str, Any]) -> int:
    return sum(n for route, n in stats["requests"].items() if route.endswith("/generate"))
