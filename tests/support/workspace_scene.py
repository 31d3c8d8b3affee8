"""Tenon in process with its GitHub client pointed at a fresh GitHub emulator, a registered
recruiter and a candidate: the setting of the provisioning, deadline and retention tests,
which run the queued jobs by hand, on a movable clock when they need one.

    async with staged(tmp_path, database_url, database, idp) as scene:
        cs_id, task_ids = await claimed_session(scene, tasks=CODE_FIRST)
        await init_workspace(scene, cs_id, task_ids[0], "octocat")
        await run_jobs(scene, database)
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from app.assembly import job_registry
from app.core.db import Database
from app.core.settings import JobSettings
from app.jobs.worker import Worker
from app.services import Services
from tests.support.api import bearer, create_simulation
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


def _worker(scene: Scene, database: Database, clock: FakeClock | None) -> Worker[Services]:
    return Worker(
        database,
        job_registry(),
        JobSettings(_env_file=None, concurrency=1),
        services=scene.app.state.services,
        metrics=scene.app.state.metrics,
        clock=clock,
    )


async def run_jobs(scene: Scene, database: Database, clock: FakeClock | None = None) -> None:
    await _worker(scene, database, clock).run_until_idle()


async def run_sweeps(scene: Scene, database: Database, clock: FakeClock) -> None:
    """Schedule the periodic jobs (the deadline and retention sweeps) at `clock` and run
    them with whatever they queue."""
    sweeper = _worker(scene, database, clock)
    await sweeper.schedule_periodic()
    await sweeper.run_until_idle()


async def claimed_session(
    scene: Scene, tasks: list[dict[str, Any]] | None = None
) -> tuple[int, list[int]]:
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


def session_headers(scene: Scene, cs_id: int) -> dict[str, str]:
    return scene.candidate | {"x-candidate-session-id": str(cs_id)}


async def init_workspace(scene: Scene, cs_id: int, task_id: int, username: str) -> httpx.Response:
    return await scene.client.post(
        f"/api/tasks/{task_id}/codespace/init",
        json={"githubUsername": username},
        headers=session_headers(scene, cs_id),
    )
