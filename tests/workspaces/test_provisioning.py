"""Workspaces end to end: the candidate's init call, the provisioning job against the GitHub
emulator over real HTTP, and what the candidate and GitHub then see."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assembly import job_registry
from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.core.settings import JobSettings
from app.jobs.models import Job
from app.jobs.worker import Worker
from app.workspaces.models import Workspace
from app.workspaces.provisioning import repository_name
from tests.support.api import TEXT_TASKS, assert_problem, bearer, create_simulation
from tests.support.app import client_for, make_settings, running_app
from tests.support.emulator import TOKEN, RunningEmulator, emulator_config, running_emulator
from tests.support.factories import create_company, create_recruiter
from tests.support.identity import IdentityProvider
from tests.support.jobs import FakeClock

ORG = "acme-workspaces"
CODE_FIRST = [{"dayIndex": 1, "type": "code", "title": "Code", "description": "Build it."}]


@dataclass
class Scene:
    app: FastAPI
    client: httpx.AsyncClient
    github: RunningEmulator
    recruiter: dict[str, str]
    candidate: dict[str, str]
    idp: IdentityProvider


def _github_settings(base_url: str) -> dict[str, Any]:
    return {
        "api_base": base_url,
        "token": TOKEN,
        "org": ORG,
        "mutation_interval_seconds": 0,
    }


@asynccontextmanager
async def staged(
    tmp_path: Path,
    database_url: str,
    database: Database,
    idp: IdentityProvider,
    *,
    emulator: dict[str, Any] | None = None,
    **github: Any,
) -> AsyncIterator[Scene]:
    """Tenon (on `database`) with its GitHub client pointed at a fresh emulator, a
    registered recruiter and a candidate."""
    email = f"rec-{uuid.uuid4().hex[:6]}@ws.example"
    async with database.session_scope() as session:
        await create_recruiter(session, await create_company(session), email=email)
    async with running_emulator(emulator_config(tmp_path, **(emulator or {}))) as gh:
        settings = make_settings(
            database_url, idp.jwks_url, github=_github_settings(gh.base_url) | github
        )
        async with running_app(settings, database) as app, client_for(app) as client:
            yield Scene(
                app=app,
                client=client,
                github=gh,
                recruiter=bearer(idp.token(subject=f"auth0|{email}", email=email)),
                candidate=bearer(
                    idp.token(
                        subject="auth0|cody",
                        permissions=("candidate:access",),
                        email="cody@example.com",
                    )
                ),
                idp=idp,
            )


@pytest.fixture
async def scene(
    tmp_path: Path, database_url: str, database: Database, idp: IdentityProvider
) -> AsyncIterator[Scene]:
    async with staged(
        tmp_path, database_url, database, idp, emulator={"generate_delay_seconds": 0.3}
    ) as staged_scene:
        yield staged_scene


async def _run_jobs(scene: Scene, database: Database, clock: FakeClock | None = None) -> None:
    worker = Worker(
        database,
        job_registry(),
        JobSettings(_env_file=None, concurrency=1),
        services=scene.app.state.services,
        metrics=scene.app.state.metrics,
        clock=clock,
    )
    await worker.run_until_idle()


async def _claimed_session(
    scene: Scene, tasks: list[dict[str, Any]] | None = None
) -> tuple[str, list[str]]:
    overrides = {"tasks": tasks} if tasks else {}
    simulation = await create_simulation(scene.client, scene.recruiter, **overrides)
    invite = await scene.client.post(
        f"/api/simulations/{simulation['id']}/invite",
        json={"candidateName": "Cody", "inviteEmail": "cody@example.com"},
        headers=scene.recruiter,
    )
    token, cs_id = invite.json()["token"], invite.json()["candidateSessionId"]
    claim = await scene.client.post(
        f"/api/candidate/session/{token}/claim", headers=scene.candidate
    )
    assert claim.status_code == 200, claim.text
    return cs_id, [task["id"] for task in simulation["tasks"]]


def _headers(scene: Scene, cs_id: int) -> dict[str, str]:
    return scene.candidate | {"x-candidate-session-id": str(cs_id)}


async def _init(scene: Scene, cs_id: int, task_id: int, username: str) -> httpx.Response:
    return await scene.client.post(
        f"/api/tasks/{task_id}/codespace/init",
        json={"githubUsername": username},
        headers=_headers(scene, cs_id),
    )


async def test_init_provisions_the_repository_and_gives_push_access(
    scene: Scene, database: Database, db_session: AsyncSession
) -> None:
    cs_id, task_ids = await _claimed_session(scene)
    not_code = await _init(scene, cs_id, task_ids[0], "octocat")
    assert_problem(not_code, 409, "NOT_A_CODE_TASK")
    submitted = await scene.client.post(
        f"/api/tasks/{task_ids[0]}/submit",
        json={"contentText": "design"},
        headers=_headers(scene, cs_id),
    )
    assert submitted.status_code == 201

    first = await _init(scene, cs_id, task_ids[1], "OctoCat")
    again = await _init(scene, cs_id, task_ids[1], "octocat")
    assert (first.status_code, again.status_code) == (202, 202)
    assert first.json()["status"] == "provisioning"
    assert first.json()["workspaceId"] == again.json()["workspaceId"]
    jobs = await db_session.scalar(
        select(func.count()).select_from(Job).where(Job.type == "workspaces.provision")
    )
    assert jobs == 1

    await _run_jobs(scene, database)

    status = await scene.client.get(
        f"/api/tasks/{task_ids[1]}/codespace/status", headers=_headers(scene, cs_id)
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

    ready = await _init(scene, cs_id, task_ids[1], "octocat")
    assert ready.status_code == 200
    other = await _init(scene, cs_id, task_ids[1], "someone-else")
    assert_problem(other, 409, "GITHUB_USERNAME_MISMATCH")


async def test_unknown_github_user_is_422_and_binds_nothing(
    scene: Scene, db_session: AsyncSession
) -> None:
    cs_id, task_ids = await _claimed_session(scene, tasks=CODE_FIRST + TEXT_TASKS[1:])
    missing = await _init(scene, cs_id, task_ids[0], "ghost-nobody")
    assert_problem(missing, 422, "GITHUB_USER_NOT_FOUND")
    invalid = await _init(scene, cs_id, task_ids[0], "-not--valid-")
    assert_problem(invalid, 422, "VALIDATION_FAILED")
    # The original front end may post no username; the answer names the field it lacks.
    empty = await scene.client.post(
        f"/api/tasks/{task_ids[0]}/codespace/init", json={}, headers=_headers(scene, cs_id)
    )
    problem = assert_problem(empty, 422, "VALIDATION_FAILED")
    assert [error["loc"] for error in problem["errors"]] == [["body", "githubUsername"]]
    assert "githubUsername" in problem["detail"]
    workspaces = await db_session.scalar(select(func.count()).select_from(Workspace))
    assert workspaces == 0


async def test_status_before_init_is_404_and_other_sessions_are_404(scene: Scene) -> None:
    cs_id, task_ids = await _claimed_session(scene, tasks=CODE_FIRST)
    status = await scene.client.get(
        f"/api/tasks/{task_ids[0]}/codespace/status", headers=_headers(scene, cs_id)
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
    cs_id, task_ids = await _claimed_session(scene, tasks=CODE_FIRST)
    response = await _init(scene, cs_id, task_ids[0], "octocat")
    workspace_id = response.json()["workspaceId"]
    name = await _expected_name(database, workspace_id)
    async with scene.github.client() as gh:
        created = await gh.post(
            "/repos/tenon-templates/python-fastapi/generate",
            json={"owner": ORG, "name": name, "private": True},
        )
    assert created.status_code == 201

    await _run_jobs(scene, database)
    status = await scene.client.get(
        f"/api/tasks/{task_ids[0]}/codespace/status", headers=_headers(scene, cs_id)
    )
    assert status.json()["status"] == "ready"
    assert status.json()["repoFullName"] == f"{ORG}/{name}"


async def test_a_foreign_repository_with_the_name_fails_the_workspace_with_the_reason(
    scene: Scene, database: Database
) -> None:
    cs_id, task_ids = await _claimed_session(scene, tasks=CODE_FIRST)
    response = await _init(scene, cs_id, task_ids[0], "octocat")
    name = await _expected_name(database, response.json()["workspaceId"])
    async with scene.github.client() as gh:
        await gh.post(
            "/repos/tenon-templates/python-fastapi-debug/generate",
            json={"owner": ORG, "name": name},
        )
    await _run_jobs(scene, database)
    status = await scene.client.get(
        f"/api/tasks/{task_ids[0]}/codespace/status", headers=_headers(scene, cs_id)
    )
    assert status.json()["status"] == "failed"
    assert status.json()["errorCode"] == "REPO_NAME_TAKEN"
    assert status.json()["error"].startswith("A repository with this workspace's name already")
    retried = await _init(scene, cs_id, task_ids[0], "octocat")
    assert retried.json()["status"] == "provisioning"  # init asks for another attempt
    assert (retried.json()["errorCode"], retried.json()["error"]) == (None, None)


async def test_a_template_not_installed_fails_with_a_code_naming_it_not_exception_text(
    tmp_path: Path, database_url: str, database: Database, idp: IdentityProvider
) -> None:
    # An emulator with no templates at all: generating from tenon-templates/... is a 404.
    (tmp_path / "no-templates").mkdir()
    emulator = {"templates_dir": tmp_path / "no-templates"}
    async with staged(tmp_path, database_url, database, idp, emulator=emulator) as scene:
        cs_id, task_ids = await _claimed_session(scene, tasks=CODE_FIRST)
        await _init(scene, cs_id, task_ids[0], "octocat")
        await _run_jobs(scene, database)
        status = await scene.client.get(
            f"/api/tasks/{task_ids[0]}/codespace/status", headers=_headers(scene, cs_id)
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
        cs_id, task_ids = await _claimed_session(scene, tasks=CODE_FIRST)
        responses = await asyncio.gather(
            *(_init(scene, cs_id, task_ids[0], "octocat") for _ in range(5))
        )
        assert {r.status_code for r in responses} == {202}
        assert len({r.json()["workspaceId"] for r in responses}) == 1
        await _run_jobs(scene, jobs_db)
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
        cs_id, task_ids = await _claimed_session(scene)
        jobs = (
            await db_session.scalars(
                select(Job).where(Job.type == "workspaces.provision").order_by(Job.run_at)
            )
        ).all()
        assert len(jobs) == 2  # the code and the debug repositories
        assert (jobs[1].run_at - jobs[0].run_at).total_seconds() >= 3

        clock = FakeClock(current=jobs[-1].run_at)
        await _run_jobs(scene, database, clock=clock)
        prepared = (await db_session.scalars(select(Workspace))).all()
        for workspace in prepared:
            await db_session.refresh(workspace)
        assert {w.status for w in prepared} == {"pending"}
        assert all(w.repo_full_name and w.collaborator_login is None for w in prepared)

        headers = _headers(scene, cs_id)
        await scene.client.post(
            f"/api/tasks/{task_ids[0]}/submit", json={"contentText": "d"}, headers=headers
        )
        init = await _init(scene, cs_id, task_ids[1], "octocat")
        assert init.status_code == 202
        await _run_jobs(scene, database, clock=clock)
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


async def test_expiry_revokes_access_refuses_submissions_and_an_extension_reopens(
    scene: Scene, database: Database, db_session: AsyncSession
) -> None:
    cs_id, task_ids = await _claimed_session(scene, tasks=CODE_FIRST)
    await _init(scene, cs_id, task_ids[0], "octocat")
    clock = FakeClock(current=datetime.now(UTC))
    await _run_jobs(scene, database, clock=clock)
    status = await scene.client.get(
        f"/api/tasks/{task_ids[0]}/codespace/status", headers=_headers(scene, cs_id)
    )
    repo = status.json()["repoFullName"]

    cs = await db_session.get(CandidateSession, cs_id)
    assert cs is not None
    cs.expires_at = clock.now() - timedelta(minutes=1)
    await db_session.flush()
    sweeper = Worker(
        database,
        job_registry(),
        JobSettings(_env_file=None, concurrency=1),
        services=scene.app.state.services,
        metrics=scene.app.state.metrics,
        clock=clock,
    )
    await sweeper.schedule_periodic()
    await sweeper.run_until_idle()
    await db_session.refresh(cs)
    assert cs.status == "expired"
    assert await _permission(scene, repo) != "write"
    late = await scene.client.post(
        f"/api/tasks/{task_ids[0]}/submit", json={}, headers=_headers(scene, cs_id)
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
    await _run_jobs(scene, database, clock=clock)
    assert await _permission(scene, repo) == "write"
    on_time = await scene.client.post(
        f"/api/tasks/{task_ids[0]}/submit", json={}, headers=_headers(scene, cs_id)
    )
    assert on_time.status_code == 201, on_time.text
    past = await scene.client.post(
        f"/api/simulations/{cs.simulation_id}/candidates/{cs_id}/extend",
        json={"expiresAt": "2020-01-01T00:00:00Z"},
        headers=scene.recruiter,
    )
    assert_problem(past, 422, "DEADLINE_IN_THE_PAST")


async def _permission(scene: Scene, repo: str) -> str:
    async with scene.github.client() as gh:
        body = (await gh.get(f"/repos/{repo}/collaborators/octocat/permission")).json()
    permission: str = body["permission"]
    return permission


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
        cs_id, task_ids = await _claimed_session(scene, tasks=CODE_FIRST)
        await _init(scene, cs_id, task_ids[0], "octocat")
        clock = FakeClock(current=datetime.now(UTC))
        await _run_jobs(scene, database, clock=clock)
        workspace = (await db_session.scalars(select(Workspace))).one()
        await db_session.refresh(workspace)
        cs = await db_session.get(CandidateSession, cs_id)
        assert cs is not None
        cs.status, cs.completed_at = "completed", clock.now() - timedelta(days=31)
        await db_session.flush()

        sweeper = Worker(
            database,
            job_registry(),
            JobSettings(_env_file=None, concurrency=1),
            services=scene.app.state.services,
            metrics=scene.app.state.metrics,
            clock=clock,
        )
        await sweeper.schedule_periodic()
        await sweeper.run_until_idle()
        async with scene.github.client() as gh:
            repo = await gh.get(f"/repos/{workspace.repo_full_name}")
    await db_session.refresh(workspace)
    assert workspace.retired_at is not None
    if cleanup:
        assert repo.status_code == 404
    else:
        assert repo.json()["archived"] is True
