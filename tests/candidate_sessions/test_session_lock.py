"""GitHub is never called under the candidate session's row lock.

Submit reads the branch head (a job tags it later), and the first codespace init looks the
user up, before the session's row is locked; meanwhile another transaction can lock that row. What
the lock decided still holds: a repeated submit waits for the first and calls GitHub not
at all, the deadline sweep leaves a session alone while a submit of it is under way, two
first inits bind one user, and the decision under the lock sees the session as it is then.

GitHub calls are held with a gate on the client's method, so each test stops a request in
the middle of its GitHub call, looks at the database, and lets it go on.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from app.assembly import job_registry, session_hooks
from app.candidate_sessions.jobs import Sweep, expire_lapsed_sessions
from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.core.settings import JobSettings
from app.integrations.github.client import GitHubClient
from app.jobs.queue import enqueue
from app.jobs.worker import Worker
from app.main import create_app
from app.submissions.models import Submission
from app.workspaces.models import Workspace
from tests.support.api import assert_problem, bearer, create_simulation
from tests.support.app import client_for, make_settings
from tests.support.emulator import (
    TOKEN,
    RunningEmulator,
    emulator_config,
    eventually,
    running_emulator,
)
from tests.support.factories import create_company, create_recruiter
from tests.support.identity import IdentityProvider
from tests.support.jobs import FakeClock

CANDIDATE_EMAIL = "lee@example.com"
CODE_THEN_HANDOFF = [
    {"dayIndex": 1, "type": "code", "title": "Code", "description": "Build it."},
    {"dayIndex": 2, "type": "handoff", "title": "Handoff", "description": "Hand it over."},
]
# Long enough for a request that is not held to finish; a held one never does.
WAIT_SECONDS = 30


@dataclass
class Scene:
    app: FastAPI
    client: httpx.AsyncClient
    github: RunningEmulator
    database: Database
    clock: FakeClock
    recruiter: dict[str, str]
    candidate: dict[str, str]


@pytest.fixture
async def scene(
    tmp_path: Path, jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> AsyncIterator[Scene]:
    """Tenon on a database whose rows are committed (the tests run transactions side by
    side), its GitHub client on an emulator, a recruiter and a candidate."""
    email = f"rec-{uuid.uuid4().hex[:6]}@lock.example"
    async with jobs_db.session_scope() as session:
        await create_recruiter(session, await create_company(session), email=email)
    clock = FakeClock(current=datetime.now(UTC))
    async with running_emulator(emulator_config(tmp_path)) as github:
        settings = make_settings(
            jobs_database_url,
            idp.jwks_url,
            github={
                "api_base": github.base_url,
                "token": TOKEN,
                "org": "acme-lock",
                "mutation_interval_seconds": 0,
            },
        )
        app = create_app(settings, database=jobs_db, clock=clock)
        async with app.router.lifespan_context(app), client_for(app) as client:
            yield Scene(
                app=app,
                client=client,
                github=github,
                database=jobs_db,
                clock=clock,
                recruiter=bearer(idp.token(subject=f"auth0|{email}", email=email)),
                candidate=bearer(
                    idp.token(
                        subject=f"auth0|lee-{uuid.uuid4().hex[:6]}",
                        permissions=("candidate:access",),
                        email=CANDIDATE_EMAIL,
                    )
                ),
            )


@dataclass
class Gate:
    """Holds the first `holds` calls of one GitHubClient method until `release()`."""

    holds: int
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    calls: int = 0

    async def reached(self, calls: int = 1) -> None:
        async def enough() -> bool | None:
            return True if self.calls >= calls else None

        await eventually(enough, within=WAIT_SECONDS)

    def release(self) -> None:
        self.released.set()


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Gate]]:
    gates: list[Gate] = []

    def gate_method(name: str, holds: int = 1) -> Gate:
        held = Gate(holds)
        gates.append(held)
        original: Callable[..., Awaitable[Any]] = getattr(GitHubClient, name)

        async def held_call(client: GitHubClient, *args: Any, **kwargs: Any) -> Any:
            held.calls += 1
            if held.calls <= held.holds:
                held.entered.set()
                await held.released.wait()
            return await original(client, *args, **kwargs)

        monkeypatch.setattr(GitHubClient, name, held_call)
        return held

    yield gate_method
    for held in gates:  # a failed test must not leave a request held
        held.release()


def _headers(scene: Scene, cs_id: int) -> dict[str, str]:
    return scene.candidate | {"x-candidate-session-id": str(cs_id)}


async def _claimed_session(scene: Scene) -> tuple[int, int]:
    """A session the candidate claimed, whose day 1 is a code task: (session, task) ids."""
    simulation = await create_simulation(scene.client, scene.recruiter, tasks=CODE_THEN_HANDOFF)
    invite = await scene.client.post(
        f"/api/simulations/{simulation['id']}/invite",
        json={"candidateName": "Lee", "inviteEmail": CANDIDATE_EMAIL},
        headers=scene.recruiter,
    )
    claim = await scene.client.post(
        f"/api/candidate/session/{invite.json()['token']}/claim", headers=scene.candidate
    )
    assert claim.status_code == 200, claim.text
    return invite.json()["candidateSessionId"], simulation["tasks"][0]["id"]


async def _run_jobs(scene: Scene, clock: FakeClock | None = None) -> None:
    worker = Worker(
        scene.database,
        job_registry(),
        JobSettings(_env_file=None, concurrency=1),
        services=scene.app.state.services,
        metrics=scene.app.state.metrics,
        clock=clock,
    )
    await worker.run_until_idle()


async def _init(scene: Scene, cs_id: int, task_id: int, username: str) -> httpx.Response:
    return await scene.client.post(
        f"/api/tasks/{task_id}/codespace/init",
        json={"githubUsername": username},
        headers=_headers(scene, cs_id),
    )


async def _submit(scene: Scene, cs_id: int, task_id: int) -> httpx.Response:
    return await scene.client.post(
        f"/api/tasks/{task_id}/submit",
        json={"contentText": "Done."},
        headers=_headers(scene, cs_id),
    )


async def _ready_session(scene: Scene) -> tuple[int, int, str]:
    """A claimed session whose code task's repository is ready: (session, task, repo)."""
    cs_id, task_id = await _claimed_session(scene)
    init = await _init(scene, cs_id, task_id, "lee-dev")
    assert init.status_code == 202, init.text
    await _run_jobs(scene)
    status = await scene.client.get(
        f"/api/tasks/{task_id}/codespace/status", headers=_headers(scene, cs_id)
    )
    assert status.json()["status"] == "ready", status.text
    return cs_id, task_id, status.json()["repoFullName"]


async def _row_is_free(database: Database, cs_id: int) -> bool:
    """Whether another transaction can lock the session's row right now."""
    async with database.sessionmaker() as session:
        statement = (
            select(CandidateSession.id)
            .where(CandidateSession.id == cs_id)
            .with_for_update(nowait=True)
        )
        try:
            await session.execute(statement)
        except DBAPIError as exc:
            if "could not obtain lock" not in str(exc):
                raise
            return False
        finally:
            await session.rollback()
    return True


async def _head(scene: Scene, repo: str) -> str:
    async with scene.github.client() as github:
        sha: str = (await github.get(f"/repos/{repo}/branches/main")).json()["commit"]["sha"]
    return sha


async def _session_row(database: Database, cs_id: int) -> CandidateSession:
    async with database.sessionmaker() as session:
        cs = await session.get(CandidateSession, cs_id)
        assert cs is not None
        return cs


async def test_submit_reads_github_while_the_session_row_stays_free(
    scene: Scene, gate: Callable[..., Gate]
) -> None:
    cs_id, task_id, repo = await _ready_session(scene)
    head = await _head(scene, repo)
    held = gate("get_branch")

    submitting = asyncio.create_task(_submit(scene, cs_id, task_id))
    await asyncio.wait_for(held.entered.wait(), WAIT_SECONDS)
    free = await _row_is_free(scene.database, cs_id)
    held.release()
    submitted = await asyncio.wait_for(submitting, WAIT_SECONDS)

    assert free, "the session's row is locked during get_branch"
    assert submitted.status_code == 201, submitted.text
    body = submitted.json()
    assert body["cutoffSha"] == head
    async with scene.database.sessionmaker() as session:
        submission = await session.get(Submission, body["submissionId"])
    assert submission is not None
    # The tag, then the final run on it, come from a job (tests/submissions).
    assert (submission.cutoff_sha, submission.cutoff_tag_status) == (head, "pending")
    assert submission.test_run_id is None


async def test_a_repeated_submit_waits_for_the_first_and_calls_github_not_at_all(
    scene: Scene, gate: Callable[..., Gate]
) -> None:
    cs_id, task_id, _ = await _ready_session(scene)
    reads, tags = gate("get_branch"), gate("create_tag", holds=0)

    first = asyncio.create_task(_submit(scene, cs_id, task_id))
    await asyncio.wait_for(reads.entered.wait(), WAIT_SECONDS)
    second = asyncio.create_task(_submit(scene, cs_id, task_id))

    async def second_waits() -> bool | None:
        async with scene.database.sessionmaker() as session:
            waiting = await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        return True if waiting else None

    await eventually(second_waits, within=WAIT_SECONDS)
    free = await _row_is_free(scene.database, cs_id)
    reads.release()
    responses = await asyncio.wait_for(asyncio.gather(first, second), WAIT_SECONDS)

    assert free
    won, lost = responses
    assert won.status_code == 201, won.text
    problem = assert_problem(lost, 409, "SUBMISSION_EXISTS")
    assert problem["submission"]["submissionId"] == won.json()["submissionId"]
    assert (reads.calls, tags.calls) == (1, 0)  # the tag is made by a job
    async with scene.database.sessionmaker() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.candidate_session_id == cs_id)
        )
    assert count == 1


async def test_the_deadline_sweep_leaves_a_session_whose_submit_is_under_way(
    scene: Scene, gate: Callable[..., Gate]
) -> None:
    cs_id, task_id, _ = await _ready_session(scene)
    lapsed_id, _ = await _claimed_session(scene)  # a session nobody is submitting
    deadline = scene.clock.now() + timedelta(minutes=1)
    async with scene.database.session_scope() as session:
        await session.execute(
            update(CandidateSession)
            .where(CandidateSession.id.in_([cs_id, lapsed_id]))
            .values(expires_at=deadline)
        )
    held = gate("get_branch")

    submitting = asyncio.create_task(_submit(scene, cs_id, task_id))  # before the deadline
    await asyncio.wait_for(held.entered.wait(), WAIT_SECONDS)
    async with scene.database.session_scope() as session:
        await enqueue(session, expire_lapsed_sessions(session_hooks()), Sweep())
    await _run_jobs(scene, FakeClock(current=deadline + timedelta(minutes=1)))
    during = await _session_row(scene.database, cs_id)
    held.release()
    submitted = await asyncio.wait_for(submitting, WAIT_SECONDS)

    assert (await _session_row(scene.database, lapsed_id)).status == "expired"
    assert during.status == "in_progress"
    assert submitted.status_code == 201, submitted.text
    assert (await _session_row(scene.database, cs_id)).status == "in_progress"


async def test_the_submit_is_decided_on_the_session_as_it_is_under_the_lock(
    scene: Scene, gate: Callable[..., Gate]
) -> None:
    cs_id, task_id, _ = await _ready_session(scene)
    held = gate("get_branch")

    submitting = asyncio.create_task(_submit(scene, cs_id, task_id))
    await asyncio.wait_for(held.entered.wait(), WAIT_SECONDS)
    async with scene.database.session_scope() as session:  # closed meanwhile
        await session.execute(text("SET LOCAL lock_timeout = '5s'"))
        await session.execute(
            update(CandidateSession).where(CandidateSession.id == cs_id).values(status="expired")
        )
    held.release()
    submitted = await asyncio.wait_for(submitting, WAIT_SECONDS)

    assert_problem(submitted, 410, "SESSION_EXPIRED")
    async with scene.database.sessionmaker() as session:
        stored = await session.scalar(
            select(func.count())
            .select_from(Submission)
            .where(Submission.candidate_session_id == cs_id)
        )
    assert stored == 0


async def test_two_first_inits_look_users_up_side_by_side_and_bind_one(
    scene: Scene, gate: Callable[..., Gate]
) -> None:
    cs_id, task_id = await _claimed_session(scene)
    held = gate("get_user", holds=2)

    inits = [asyncio.create_task(_init(scene, cs_id, task_id, name)) for name in ("ann", "bo")]
    await held.reached(calls=2)  # both inits at GitHub at once: neither holds the row
    free = await _row_is_free(scene.database, cs_id)
    held.release()
    responses = await asyncio.wait_for(asyncio.gather(*inits), WAIT_SECONDS)

    assert free
    by_status = {response.status_code: response for response in responses}
    assert set(by_status) == {202, 409}, [r.text for r in responses]
    assert_problem(by_status[409], 409, "GITHUB_USERNAME_MISMATCH")
    winner = "ann" if responses[0].status_code == 202 else "bo"
    assert (await _session_row(scene.database, cs_id)).github_username == winner
    async with scene.database.sessionmaker() as session:
        workspaces = (
            await session.scalars(select(Workspace).where(Workspace.candidate_session_id == cs_id))
        ).all()
    assert len(workspaces) == 1
