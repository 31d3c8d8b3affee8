"""The invite email job: what the recruiter sees when the provider accepts, refuses for
good, or fails for now; and the rate limits on invite, resend and claim."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assembly import job_registry
from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.core.settings import JobSettings
from app.jobs.models import Job
from app.jobs.worker import Worker
from app.notifications.email import (
    EmailMessage,
    EmailRejectedError,
    EmailTemporaryError,
    SendResult,
)
from app.services import Services
from tests.support.api import TEXT_TASKS, create_simulation
from tests.support.app import make_settings, serving
from tests.support.factories import create_company, create_recruiter
from tests.support.identity import IdentityProvider
from tests.support.jobs import FakeClock, job_services


@dataclass
class ScriptedSender:
    """Fails with the scripted errors in turn, then accepts."""

    failures: list[Exception]
    name: str = "scripted"
    attempts: list[EmailMessage] = field(default_factory=list)

    async def send(self, message: EmailMessage) -> SendResult:
        self.attempts.append(message)
        if self.failures:
            raise self.failures.pop(0)
        return SendResult(provider=self.name, message_id="accepted-1")


async def _invite(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    simulation = await create_simulation(client, headers, tasks=TEXT_TASKS[:1])
    simulation_id = simulation["id"]
    invite = await client.post(
        f"/api/simulations/{simulation_id}/invite",
        json={"candidateName": "Kim", "inviteEmail": "kim@example.com"},
        headers=headers,
    )
    assert invite.status_code == 201, invite.text
    return f"/api/simulations/{simulation_id}/candidates"


async def _headers(db_session: AsyncSession, idp: IdentityProvider) -> dict[str, str]:
    company = await create_company(db_session)
    await create_recruiter(db_session, company, email="mia@mail.example")
    return {"Authorization": f"Bearer {idp.token(subject='auth0|mia', email='mia@mail.example')}"}


def _worker(database: Database, sender: ScriptedSender, clock: FakeClock) -> Worker[Services]:
    services = job_services(email=sender)
    return Worker(
        database,
        job_registry(),
        JobSettings(_env_file=None, concurrency=1),
        services=services,
        metrics=services.metrics,
        clock=clock,
        jitter=lambda: 1.0,
    )


async def _delivery(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> dict[str, object]:
    [row] = (await client.get(path, headers=headers)).json()
    delivery: dict[str, object] = row["inviteEmailDelivery"]
    return delivery


async def _email_job(db_session: AsyncSession) -> Job:
    return (await db_session.scalars(select(Job).where(Job.type == "invites.send_email"))).one()


async def test_refused_email_is_failed_with_the_reason_and_not_retried(
    client: httpx.AsyncClient, database: Database, db_session: AsyncSession, idp: IdentityProvider
) -> None:
    headers = await _headers(db_session, idp)
    path = await _invite(client, headers)
    clock = FakeClock(current=(await _email_job(db_session)).run_at)
    sender = ScriptedSender([EmailRejectedError("resend HTTP 422: invalid `to`")])
    worker = _worker(database, sender, clock)

    await worker.run_until_idle()
    clock.advance(timedelta(days=1))
    await worker.run_until_idle()

    assert len(sender.attempts) == 1
    delivery = await _delivery(client, path, headers)
    assert delivery["status"] == "failed"
    assert delivery["error"] == "resend HTTP 422: invalid `to`"
    assert delivery["attempts"] == 1
    job = await _email_job(db_session)
    await db_session.refresh(job)
    assert job.state == "dead"


async def test_temporary_failures_are_retried_until_the_email_is_sent(
    client: httpx.AsyncClient, database: Database, db_session: AsyncSession, idp: IdentityProvider
) -> None:
    headers = await _headers(db_session, idp)
    path = await _invite(client, headers)
    clock = FakeClock(current=(await _email_job(db_session)).run_at)
    sender = ScriptedSender([EmailTemporaryError("smtp 451: try later")] * 2)
    worker = _worker(database, sender, clock)

    await worker.run_until_idle()
    delivery = await _delivery(client, path, headers)
    assert (delivery["status"], delivery["error"], delivery["attempts"]) == (
        "queued",
        "smtp 451: try later",
        1,
    )
    for _ in range(2):
        clock.advance(timedelta(minutes=10))
        await worker.run_until_idle()

    assert len(sender.attempts) == 3
    delivery = await _delivery(client, path, headers)
    assert (delivery["status"], delivery["error"], delivery["attempts"]) == ("sent", None, 3)
    assert delivery["providerMessageId"] == "accepted-1"
    assert delivery["provider"] == "scripted"


async def test_email_that_keeps_failing_ends_failed_after_the_last_attempt(
    client: httpx.AsyncClient, database: Database, db_session: AsyncSession, idp: IdentityProvider
) -> None:
    headers = await _headers(db_session, idp)
    path = await _invite(client, headers)
    job = await _email_job(db_session)
    clock = FakeClock(current=job.run_at)
    sender = ScriptedSender([EmailTemporaryError("sendgrid HTTP 503")] * 99)
    worker = _worker(database, sender, clock)
    for _ in range(job.max_attempts):
        await worker.run_until_idle()
        clock.advance(timedelta(hours=2))
    delivery = await _delivery(client, path, headers)
    assert (delivery["status"], delivery["attempts"]) == ("failed", job.max_attempts)
    await db_session.refresh(job)
    assert job.state == "dead"
    cs = (await db_session.scalars(select(CandidateSession))).one()
    assert cs.email_error == "sendgrid HTTP 503"


async def test_invite_resend_and_claim_are_rate_limited(
    database_url: str, database: Database, db_session: AsyncSession, idp: IdentityProvider
) -> None:
    headers = await _headers(db_session, idp)
    limits = {"invite": "2/minute", "resend": "1/hour", "claim": "1/minute"}
    settings = make_settings(database_url, idp.jwks_url, rate_limit=limits)
    async with serving(settings, database) as client:
        path = await _invite(client, headers)
        simulation_path = path.removesuffix("/candidates")
        second = await client.post(
            f"{simulation_path}/invite",
            json={"candidateName": "Lee", "inviteEmail": "lee@example.com"},
            headers=headers,
        )
        third = await client.post(
            f"{simulation_path}/invite",
            json={"candidateName": "Max", "inviteEmail": "max@example.com"},
            headers=headers,
        )
        [row] = [
            item
            for item in (await client.get(path, headers=headers)).json()
            if item["inviteEmail"] == "kim@example.com"
        ]
        resend = f"{path}/{row['candidateSessionId']}/invite/resend"
        first_resend = await client.post(resend, headers=headers)
        second_resend = await client.post(resend, headers=headers)
        candidate = {
            "Authorization": "Bearer "
            + idp.token(subject="auth0|x", permissions=("candidate:access",), email="x@example.com")
        }
        claims = [
            await client.post("/api/candidate/session/no-such-token/claim", headers=candidate)
            for _ in range(2)
        ]
    assert second.status_code == 201
    for limited in (third, second_resend, claims[1]):
        assert limited.status_code == 429, limited.text
        assert limited.headers["content-type"] == "application/problem+json"
        assert limited.json()["code"] == "RATE_LIMITED"
        assert int(limited.headers["retry-after"]) >= 1
    assert first_resend.status_code == 200
    assert claims[0].status_code == 404
