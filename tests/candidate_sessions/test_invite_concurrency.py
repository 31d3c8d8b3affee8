"""Races on committed data, through the API with a real connection pool: duplicate invites
of one email make one session; two accounts claiming one invite, one wins."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import func, select

from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.jobs.models import Job
from tests.support.api import TEXT_TASKS, create_simulation
from tests.support.app import make_settings, serving
from tests.support.factories import create_company, create_recruiter
from tests.support.identity import IdentityProvider


async def _recruiter_headers(database: Database, idp: IdentityProvider) -> dict[str, str]:
    email = f"recruiter-{uuid.uuid4().hex[:8]}@race.example"
    async with database.session_scope() as session:
        company = await create_company(session)
        await create_recruiter(session, company, email=email)
    return {"Authorization": f"Bearer {idp.token(subject=f'auth0|{email}', email=email)}"}


async def _simulation(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    simulation = await create_simulation(client, headers, tasks=TEXT_TASKS[:1])
    simulation_id: int = simulation["id"]
    return simulation_id


async def test_concurrent_invites_of_one_email_create_one_session(
    jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    headers = await _recruiter_headers(jobs_db, idp)
    async with serving(make_settings(jobs_database_url, idp.jwks_url), jobs_db) as client:
        simulation_id = await _simulation(client, headers)
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/api/simulations/{simulation_id}/invite",
                    json={"candidateName": "Sam", "inviteEmail": email},
                    headers=headers,
                )
                for email in ["sam@race.example", "SAM@race.example"] * 4
            )
        )
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["created"] + ["existing"] * 7
    assert len({r.json()["candidateSessionId"] for r in responses}) == 1
    async with jobs_db.session_scope() as session:
        sessions = await session.scalar(
            select(func.count())
            .select_from(CandidateSession)
            .where(CandidateSession.simulation_id == simulation_id)
        )
        emails = await session.scalar(
            select(func.count()).select_from(Job).where(Job.type == "invites.send_email")
        )
    assert sessions == 1
    assert emails == 1


async def test_concurrent_claims_by_two_accounts_one_wins(
    jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    headers = await _recruiter_headers(jobs_db, idp)
    email = f"pat-{uuid.uuid4().hex[:6]}@race.example"
    async with serving(make_settings(jobs_database_url, idp.jwks_url), jobs_db) as client:
        simulation_id = await _simulation(client, headers)
        invite = await client.post(
            f"/api/simulations/{simulation_id}/invite",
            json={"candidateName": "Pat", "inviteEmail": email},
            headers=headers,
        )
        token = invite.json()["token"]
        accounts = [
            idp.token(subject=f"auth0|pat-{n}", permissions=("candidate:access",), email=email)
            for n in range(2)
        ]
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/api/candidate/session/{token}/claim",
                    headers={"Authorization": f"Bearer {account}"},
                )
                for account in accounts
            )
        )
    assert sorted(r.status_code for r in responses) == [200, 409]
    loser = next(r for r in responses if r.status_code == 409)
    assert loser.json()["code"] == "INVITE_ALREADY_CLAIMED"
    async with jobs_db.session_scope() as session:
        claimed = await session.get(CandidateSession, invite.json()["candidateSessionId"])
    assert claimed is not None
    winner = 0 if responses[0].status_code == 200 else 1
    assert claimed.auth0_sub == f"auth0|pat-{winner}"
