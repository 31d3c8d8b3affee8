"""The recruiter's side and the candidate's over HTTP with real RS256 tokens: a recruiter of
one company, an outsider recruiter of another, and a candidate, with helpers that create a
simulation, invite the candidate and run the queued jobs (the invite email among them).
The `world` fixture in tests/conftest.py builds it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.assembly import job_registry
from app.core.db import Database
from app.core.settings import JobSettings
from app.jobs.worker import Worker
from app.notifications.email import EmailMessage, SendResult
from tests.support.api import bearer, create_simulation
from tests.support.factories import create_company, create_recruiter
from tests.support.identity import IdentityProvider
from tests.support.jobs import job_services

CANDIDATE_EMAIL = "Ada.Lovelace@Example.com"
# Email validation lower-cases the domain; the local part is kept as given.
STORED_EMAIL = "Ada.Lovelace@example.com"


@dataclass
class RecordingSender:
    name: str = "recording"
    sent: list[EmailMessage] = field(default_factory=list)

    async def send(self, message: EmailMessage) -> SendResult:
        self.sent.append(message)
        return SendResult(provider=self.name, message_id=f"msg-{len(self.sent)}")


@dataclass
class World:
    client: httpx.AsyncClient
    idp: IdentityProvider
    recruiter: dict[str, str]
    outsider: dict[str, str]
    candidate: dict[str, str]
    company_name: str


async def recruiting_world(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> World:
    ours, theirs = await create_company(db_session), await create_company(db_session)
    await create_recruiter(db_session, ours, email="rita@ours.example")
    await create_recruiter(db_session, theirs, email="otto@theirs.example")
    return World(
        client=client,
        idp=idp,
        recruiter=bearer(idp.token(subject="auth0|rita", email="rita@ours.example")),
        outsider=bearer(idp.token(subject="auth0|otto", email="otto@theirs.example")),
        candidate=bearer(
            idp.token(subject="auth0|ada", permissions=("candidate:access",), email=CANDIDATE_EMAIL)
        ),
        company_name=ours.name,
    )


async def new_simulation(world: World, **overrides: Any) -> dict[str, Any]:
    return await create_simulation(world.client, world.recruiter, **overrides)


async def invite_candidate(
    world: World, simulation_id: object, email: str = CANDIDATE_EMAIL
) -> httpx.Response:
    return await world.client.post(
        f"/api/simulations/{simulation_id}/invite",
        json={"candidateName": "Ada <b>Lovelace</b>", "inviteEmail": email},
        headers=world.recruiter,
    )


async def run_jobs(database: Database, sender: RecordingSender) -> None:
    settings = JobSettings(_env_file=None, concurrency=1)
    services = job_services(email=sender)
    worker = Worker(database, job_registry(), settings, services=services, metrics=services.metrics)
    await worker.run_until_idle()
