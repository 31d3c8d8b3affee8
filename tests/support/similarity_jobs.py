"""Candidates handing in the similarity fixtures' Python solutions
(tests/fixtures/similarity/python) through Tenon's API, against the GitHub emulator over
real HTTP, with the queued jobs run by hand: the setting of the similarity job tests.

The emulator's python-fastapi template is the fixtures' template, so every candidate's
repository starts as it; a solution's files are pushed over it and the task submitted.

    async with similarity_scene(tmp_path, jobs_database_url, jobs_db, idp) as s:
        simulation_id, [task_id] = await s.simulation()
        [ada] = await s.candidates(simulation_id, task_id, "ada")
        submission_id = await s.hand_in(ada, "honest_a")
        await s.run_jobs()
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.core.clock import SystemClock
from app.core.db import Database
from app.core.settings import SimilaritySettings
from app.jobs.models import Job
from app.jobs.registry import JobContext
from app.services import Services
from app.similarity.jobs import FINGERPRINT
from app.similarity.models import SimilarityPair, SubmissionFingerprints
from tests.support.api import bearer, create_simulation
from tests.support.app import client_for, make_settings, running_app
from tests.support.emulator import TOKEN, bare_repo, emulator_config, run_git, running_emulator
from tests.support.factories import create_company, create_recruiter
from tests.support.identity import IdentityProvider
from tests.support.jobs import FakeClock
from tests.support.paths import REPOSITORY_ROOT
from tests.support.workspace_scene import ORG, Scene, run_jobs

FIXTURES = REPOSITORY_ROOT / "tests" / "fixtures" / "similarity" / "python"
TEMPLATE_KEY = "python-fastapi"
TEMPLATE_REPO = f"tenon-templates/{TEMPLATE_KEY}"
CODE_TASK = [{"dayIndex": 1, "type": "code", "title": "Lending", "description": "Build it."}]


@dataclass(frozen=True)
class Candidate:
    cs_id: int
    task_id: int
    headers: dict[str, str]
    repo: str


@dataclass
class SimilarityScene:
    scene: Scene
    database: Database
    workdir: Path

    async def simulation(self, tasks: list[dict[str, Any]] = CODE_TASK) -> tuple[int, list[int]]:
        """A new simulation on the fixtures' template (one code task unless `tasks`): its id
        and its tasks'."""
        simulation = await create_simulation(
            self.scene.client, self.scene.recruiter, templateKey=TEMPLATE_KEY, tasks=tasks
        )
        return simulation["id"], [task["id"] for task in simulation["tasks"]]

    async def candidates(self, simulation_id: int, task_id: int, *names: str) -> list[Candidate]:
        """Candidates invited to the simulation, each with the task's repository ready."""
        started = []
        for name in names:
            email = f"{name}-{uuid.uuid4().hex[:6]}@example.com"
            invite = await self.scene.client.post(
                f"/api/simulations/{simulation_id}/invite",
                json={"candidateName": name, "inviteEmail": email},
                headers=self.scene.recruiter,
            )
            assert invite.status_code == 201, invite.text
            token, cs_id = invite.json()["token"], invite.json()["candidateSessionId"]
            claimer = bearer(
                self.scene.idp.token(
                    subject=f"auth0|{email}", permissions=("candidate:access",), email=email
                )
            )
            claim = await self.scene.client.post(
                f"/api/candidate/session/{token}/claim", headers=claimer
            )
            assert claim.status_code == 200, claim.text
            headers = claimer | {"x-candidate-session-id": str(cs_id)}
            init = await self.scene.client.post(
                f"/api/tasks/{task_id}/codespace/init",
                json={"githubUsername": name},
                headers=headers,
            )
            assert init.status_code in (200, 202), init.text
            started.append((cs_id, headers))
        await self.run_jobs()
        ready = []
        for cs_id, headers in started:
            status = await self.scene.client.get(
                f"/api/tasks/{task_id}/codespace/status", headers=headers
            )
            assert status.json()["status"] == "ready", status.text
            ready.append(Candidate(cs_id, task_id, headers, status.json()["repoFullName"]))
        return ready

    def push(self, candidate: Candidate, solution: str, *, remove: Sequence[str] = ()) -> None:
        """Push the solution's files (tests/fixtures/similarity/python/<solution>) over the
        candidate's repository, without the files in `remove`, as one commit."""
        work = self.workdir / f"clone-{uuid.uuid4().hex[:8]}"
        run_git("clone", "--quiet", str(bare_repo(self.scene.github, candidate.repo)), str(work))
        shutil.copytree(FIXTURES / solution, work, dirs_exist_ok=True)
        for path in remove:
            (work / path).unlink()
        run_git("add", "--all", cwd=work)
        run_git("commit", "--quiet", "-m", f"Hand in {solution}", cwd=work)
        run_git("push", "--quiet", "origin", "HEAD:main", cwd=work)

    async def submit(self, candidate: Candidate) -> int:
        response = await self.scene.client.post(
            f"/api/tasks/{candidate.task_id}/submit", json={}, headers=candidate.headers
        )
        assert response.status_code == 201, response.text
        submission_id: int = response.json()["submissionId"]
        return submission_id

    async def hand_in(self, candidate: Candidate, solution: str | None) -> int:
        """Push the solution (None: the template as it is) and submit; the submission's id."""
        if solution is not None:
            self.push(candidate, solution)
        return await self.submit(candidate)

    async def run_jobs(self, clock: FakeClock | None = None) -> None:
        await run_jobs(self.scene, self.database, clock)

    def context(self, *, attempt: int = 1) -> JobContext[Services]:
        """The context a worker gives a FINGERPRINT job's attempt `attempt`."""
        services: Services = self.scene.app.state.services
        return JobContext(
            database=self.database,
            clock=SystemClock(),
            services=services,
            job_id=0,
            attempt=attempt,
            max_attempts=FINGERPRINT.max_attempts,
        )

    async def fingerprints(self, submission_id: int) -> SubmissionFingerprints | None:
        async with self.database.session_scope() as session:
            return await session.scalar(
                select(SubmissionFingerprints).where(
                    SubmissionFingerprints.submission_id == submission_id
                )
            )

    async def job(self, submission_id: int) -> Job:
        """The submission's FINGERPRINT job."""
        async with self.database.session_scope() as session:
            job = await session.scalar(
                select(Job).where(Job.dedupe_key == f"fingerprint:{submission_id}")
            )
        assert job is not None
        return job

    async def pairs(self) -> list[SimilarityPair]:
        """Every stored pair, in the order they were stored."""
        async with self.database.session_scope() as session:
            return list(await session.scalars(select(SimilarityPair).order_by(SimilarityPair.id)))

    async def tarball_downloads(self) -> int:
        """Tarball requests the emulator answered so far."""
        async with self.scene.github.client() as gh:
            stats: dict[str, Any] = (await gh.get("/_emulator/stats")).json()
        return sum(count for route, count in stats["requests"].items() if "/tarball" in route)


def templates_dir(root: Path) -> Path:
    """A templates folder whose only template, python-fastapi, is the fixtures' template."""
    folder = root / "templates"
    shutil.copytree(FIXTURES / "template", folder / TEMPLATE_KEY)
    return folder


@asynccontextmanager
async def similarity_scene(
    tmp_path: Path,
    database_url: str,
    database: Database,
    idp: IdentityProvider,
    *,
    similarity: dict[str, Any] | None = None,
    github: dict[str, Any] | None = None,
) -> AsyncIterator[SimilarityScene]:
    """Tenon (on `database`, its similarity and GitHub settings overridden by `similarity`
    and `github`) with its GitHub client pointed at a fresh emulator, and a recruiter."""
    email = f"rec-{uuid.uuid4().hex[:6]}@similar.example"
    async with database.session_scope() as session:
        await create_recruiter(session, await create_company(session), email=email)
    config = emulator_config(tmp_path, templates_dir=templates_dir(tmp_path))
    async with running_emulator(config) as gh:
        github_settings = {
            "api_base": gh.base_url,
            "token": TOKEN,
            "org": ORG,
            "mutation_interval_seconds": 0,
        } | (github or {})
        settings = make_settings(database_url, idp.jwks_url, github=github_settings)
        settings = settings.model_copy(
            update={"similarity": SimilaritySettings(_env_file=None, **(similarity or {}))}
        )
        async with running_app(settings, database) as app, client_for(app) as client:
            recruiter = bearer(idp.token(subject=f"auth0|{email}", email=email))
            scene = Scene(
                app=app, client=client, github=gh, recruiter=recruiter, candidate={}, idp=idp
            )
            yield SimilarityScene(scene, database, tmp_path)
