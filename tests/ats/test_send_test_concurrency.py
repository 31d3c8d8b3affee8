"""Greenhouse sending one test instance twice at once, on committed data through a real
connection pool: one invite, one order, the same partner_interview_id for both."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from app.ats.models import AssessmentOrder
from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.jobs.models import Job
from tests.support.app import make_settings, serving
from tests.support.factories import (
    create_company,
    create_partner_key,
    create_simulation,
    create_tasks,
)
from tests.support.greenhouse import BASE, basic, send_test_body
from tests.support.identity import IdentityProvider

KEY = "tgh_concurrency-key-0123456789abcdefghijklmnop"


async def test_two_identical_send_tests_at_once_invite_once(
    jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    async with jobs_db.session_scope() as session:
        company = await create_company(session)
        await create_partner_key(session, company, key=KEY)
        simulation = await create_simulation(session, company)
        await create_tasks(session, simulation)
    body = send_test_body(simulation.id)
    async with serving(make_settings(jobs_database_url, idp.jwks_url), jobs_db) as client:
        responses = await asyncio.gather(
            *(client.post(f"{BASE}/send_test", json=body, headers=basic(KEY)) for _ in range(4))
        )
    assert [response.status_code for response in responses] == [200] * 4, [
        response.text for response in responses
    ]
    assert len({response.json()["partner_interview_id"] for response in responses}) == 1
    async with jobs_db.session_scope() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(model))
            for model in (AssessmentOrder, CandidateSession)
        ]
        emails = await session.scalar(
            select(func.count()).select_from(Job).where(Job.type == "invites.send_email")
        )
    assert counts == [1, 1]
    assert emails == 1
