"""Tenon and the GitHub emulator, each served over real HTTP on its own port and pointing at
each other (webhooks included), with Tenon's in-process worker running jobs: the end-to-end
setting for test runs and pushes.

    async with stack(tmp_path, jobs_database_url, jobs_db, idp) as s:
        task_id, workspace = await ready_workspace(s, "code")
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from app.core.clock import Clock
from app.core.db import Database
from app.main import create_app
from tests.support.api import API_CLIENT_HEADERS, bearer, create_simulation
from tests.support.app import WEBHOOK_SECRET, make_settings
from tests.support.emulator import (
    TOKEN,
    RunningEmulator,
    emulator_config,
    eventually,
    free_port,
    running_emulator,
    serving,
)
from tests.support.factories import create_company, create_recruiter
from tests.support.grader import templates_with_graders
from tests.support.identity import IdentityProvider

ORG = "acme-runs"
# The GitHub login the candidate names at init.
CANDIDATE_LOGIN = "rae-dev"
# The pagination bug planted in the python-fastapi templates' app/store.py, and its fix.
BROKEN_LINE = "        start = page * page_size\n"
FIXED_LINE = "        start = (page - 1) * page_size\n"


@dataclass
class Stack:
    app: FastAPI
    emulator: RunningEmulator
    tenon: httpx.AsyncClient
    github: httpx.AsyncClient
    recruiter: dict[str, str]
    candidate: dict[str, str]
    cs_id: int = 0
    simulation_id: int = 0


@asynccontextmanager
async def stack(
    tmp_path: Path,
    jobs_database_url: str,
    jobs_db: Database,
    idp: IdentityProvider,
    *,
    webhooks: bool = True,
    clock: Clock | None = None,
    github: dict[str, Any] | None = None,
    graders: bool = False,
    **emulator: Any,
) -> AsyncIterator[Stack]:
    """Tenon and the emulator, each on its own port, pointing at each other; `github`
    overrides Tenon's GitHub settings, the keywords the emulator's configuration. The
    emulator ships its grader repositories only with `graders`: elsewhere a submission's
    grading ends at once (GRADER_NOT_INSTALLED) instead of running a grader beside the test."""
    if not graders and "templates_dir" not in emulator:
        emulator["templates_dir"] = templates_with_graders(tmp_path, {})
    email = f"rec-{uuid.uuid4().hex[:6]}@runs.example"
    async with jobs_db.session_scope() as session:
        await create_recruiter(session, await create_company(session), email=email)
    tenon_port = free_port()
    webhook = f"http://127.0.0.1:{tenon_port}/api/github/webhooks" if webhooks else None
    config = emulator_config(
        tmp_path, webhook_url=webhook, webhook_secret=WEBHOOK_SECRET, **emulator
    )
    async with running_emulator(config) as running:
        settings = make_settings(
            jobs_database_url,
            idp.jwks_url,
            jobs={"in_process": True, "poll_interval_seconds": 0.5},
            github={
                "api_base": running.base_url,
                "token": TOKEN,
                "org": ORG,
                "mutation_interval_seconds": 0,
                "run_poll_seconds": 1,
            }
            | (github or {}),
        )
        app = create_app(settings, clock=clock)
        async with (
            serving(app, port=tenon_port) as tenon_url,
            httpx.AsyncClient(base_url=tenon_url, headers=API_CLIENT_HEADERS, timeout=60) as tenon,
            running.client() as github_client,
        ):
            yield Stack(
                app=app,
                emulator=running,
                tenon=tenon,
                github=github_client,
                recruiter=bearer(idp.token(subject=f"auth0|{email}", email=email)),
                candidate=bearer(
                    idp.token(
                        subject="auth0|runner",
                        permissions=("candidate:access",),
                        email="runner@example.com",
                    )
                ),
            )


async def claimed_simulation(
    s: Stack, tasks: list[dict[str, Any]] | None = None, *, template_key: str | None = None
) -> dict[int, str]:
    """A simulation (the default plan unless `tasks`, python-fastapi unless `template_key`)
    whose invite the candidate claimed; its task ids by day."""
    overrides: dict[str, Any] = {"tasks": tasks} if tasks else {}
    if template_key is not None:
        overrides["templateKey"] = template_key
    simulation = await create_simulation(s.tenon, s.recruiter, **overrides)
    invite = await s.tenon.post(
        f"/api/simulations/{simulation['id']}/invite",
        json={"candidateName": "Rae", "inviteEmail": "runner@example.com"},
        headers=s.recruiter,
    )
    s.cs_id = invite.json()["candidateSessionId"]
    claim = await s.tenon.post(
        f"/api/candidate/session/{invite.json()['token']}/claim", headers=s.candidate
    )
    assert claim.status_code == 200, claim.text
    s.simulation_id = simulation["id"]
    return {task["dayIndex"]: task["id"] for task in simulation["tasks"]}


async def workspace_for(s: Stack, task_id: int) -> dict[str, Any]:
    """Initialise the task's repository and wait until it is ready."""
    init = await s.tenon.post(
        f"/api/tasks/{task_id}/codespace/init",
        json={"githubUsername": CANDIDATE_LOGIN},
        headers=candidate_headers(s),
    )
    assert init.status_code in (200, 202), init.text

    async def ready() -> dict[str, Any] | None:
        status: dict[str, Any] = (await codespace_status(s, task_id)).json()
        return status if status["status"] == "ready" else None

    return await eventually(ready, within=30, interval=0.2)


async def codespace_status(s: Stack, task_id: int) -> httpx.Response:
    return await s.tenon.get(f"/api/tasks/{task_id}/codespace/status", headers=candidate_headers(s))


def one_task(task_type: str) -> list[dict[str, Any]]:
    return [{"dayIndex": 1, "type": task_type, "title": "Code", "description": "Do it."}]


async def ready_workspace(s: Stack, task_type: str) -> tuple[str, dict[str, Any]]:
    """A claimed session whose only task is a `task_type` task, with its repository."""
    task_id = (await claimed_simulation(s, one_task(task_type)))[1]
    return task_id, await workspace_for(s, task_id)


def candidate_headers(s: Stack) -> dict[str, str]:
    return s.candidate | {"x-candidate-session-id": str(s.cs_id)}


async def commit_file(s: Stack, repo: str, path: str, rewrite: Callable[[str], str]) -> str:
    """Commit `rewrite(current content)` to `path` on main (created when it does not exist);
    the new commit's sha."""
    found = await s.github.get(f"/repos/{repo}/contents/{path}")
    current = found.json() if found.status_code == 200 else None
    source = base64.b64decode(current["content"]).decode() if current else ""
    body = {
        "message": f"Change {path}",
        "content": base64.b64encode(rewrite(source).encode()).decode(),
        "branch": "main",
    }
    if current:
        body["sha"] = current["sha"]
    put = await s.github.put(f"/repos/{repo}/contents/{path}", json=body)
    assert put.status_code in (200, 201), put.text
    sha: str = put.json()["commit"]["sha"]
    return sha
