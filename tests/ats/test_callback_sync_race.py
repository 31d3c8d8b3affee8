"""Syncs of one order at once, on committed data through a real connection pool and a
loopback receiver whose first answer is held: while a PATCH is under way nothing holds the
order's row; another sync waits its turn instead of sending again, so each distinct body is
sent once; and a sync that died mid-request is taken over once its claim runs out, its late
answer never overwriting the later sync's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from app.ats.jobs import SENDING_LEASE, SYNC_ORDER, CallbackRetryError, OrderRef
from app.ats.models import AssessmentOrder
from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.jobs.registry import JobContext
from app.simulations.models import Task
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_partner_key,
    create_simulation,
    create_submission,
    create_tasks,
)
from tests.support.greenhouse import CallbackServer, add_grading, callback_server, callback_settings
from tests.support.jobs import FakeClock, job_services

LOOPBACK = callback_settings("127.0.0.1")


@dataclass
class Scene:
    database: Database
    http: httpx.AsyncClient
    server: CallbackServer
    order_id: int
    cs_id: int
    design_task_id: int

    async def sync(self, clock: FakeClock | None = None) -> None:
        services = replace(job_services(), settings=LOOPBACK, http=self.http)
        context = JobContext(
            database=self.database,
            clock=clock or FakeClock(),
            services=services,
            job_id=1,
            attempt=1,
            max_attempts=SYNC_ORDER.max_attempts,
        )
        await SYNC_ORDER.handler(context, OrderRef(order_id=self.order_id))

    async def grade_another_submission(self) -> None:
        """Moves the hidden tests' pass rate from 3/4 (75) to 4/8 (50)."""
        async with self.database.session_scope() as session:
            cs = await session.get(CandidateSession, self.cs_id)
            task = await session.get(Task, self.design_task_id)
            assert cs is not None
            assert task is not None
            submission = await create_submission(session, cs, task)
            await add_grading(session, submission.id, passed=1, total=4)

    async def order(self) -> AssessmentOrder:
        async with self.database.session_scope() as session:
            order = await session.get(AssessmentOrder, self.order_id)
        assert order is not None
        return order

    def scores(self) -> list[int]:
        return [json.loads(request.body)["partner_score"] for request in self.server.received]


async def _scene(database: Database, http: httpx.AsyncClient, server: CallbackServer) -> Scene:
    async with database.session_scope() as session:
        company = await create_company(session)
        await create_partner_key(session, company)
        simulation = await create_simulation(session, company)
        tasks = await create_tasks(session, simulation)
        cs = await create_candidate_session(session, simulation, status="completed")
        cs.started_at = cs.completed_at = cs.invited_at
        code_task = next(task for task in tasks if task.type == "code")
        design_task = next(task for task in tasks if task.type == "design")
        submission = await create_submission(session, cs, code_task)
        await add_grading(session, submission.id, passed=3, total=4)
        order = AssessmentOrder(
            company_id=company.id,
            system="greenhouse",
            external_id=server.url(),
            external_test_id=str(simulation.id),
            simulation_id=simulation.id,
            candidate_session_id=cs.id,
            callback_url=server.url(),
        )
        session.add(order)
        await session.flush()
    return Scene(database, http, server, order.id, cs.id, design_task.id)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def test_a_sync_finding_another_sending_waits_its_turn_and_each_body_goes_once(
    jobs_db: Database, http: httpx.AsyncClient
) -> None:
    async with callback_server(200, hold_first=True) as server:
        scene = await _scene(jobs_db, http, server)
        first = asyncio.create_task(scene.sync())
        await server.first_arrived.wait()

        # The PATCH is under way: the claim is committed and nothing holds the order's row.
        async with jobs_db.session_scope() as session:
            statement = (
                select(AssessmentOrder)
                .where(AssessmentOrder.id == scene.order_id)
                .with_for_update(nowait=True)
            )
            claimed = (await session.scalars(statement)).one()
            assert claimed.sync_sending_until is not None
            assert claimed.attempted_payload is not None
            assert claimed.attempted_payload["partner_score"] == 75

        # Another sync of the same body, then of a new one: both try again later.
        with pytest.raises(CallbackRetryError, match="sending"):
            await scene.sync()
        await scene.grade_another_submission()
        with pytest.raises(CallbackRetryError, match="sending"):
            await scene.sync()
        assert len(server.received) == 1

        server.release.set()
        await first
        assert (await scene.order()).delivered_payload == json.loads(server.received[0].body)

        # Their retries: the new body once, then nothing left to send.
        await scene.sync()
        await scene.sync()
    assert scene.scores() == [75, 50]
    order = await scene.order()
    assert order.delivered_payload == json.loads(server.received[1].body)
    assert (order.sync_version, order.sync_sending_until) == (2, None)


async def test_a_stale_answer_never_overwrites_the_sync_that_took_over(
    jobs_db: Database, http: httpx.AsyncClient
) -> None:
    # The held first request ends in a 500; the one taking over is accepted.
    async with callback_server(500, 200, hold_first=True) as server:
        scene = await _scene(jobs_db, http, server)
        first = asyncio.create_task(scene.sync())
        await server.first_arrived.wait()
        await scene.grade_another_submission()

        # Its claim run out (as if its worker had died), a later sync takes the order over.
        later = FakeClock()
        later.advance(SENDING_LEASE + timedelta(seconds=1))
        await scene.sync(later)
        taken_over = await scene.order()
        assert (taken_over.sync_version, taken_over.sync_status_code) == (2, 200)

        # The first sync's late 500 is not recorded, and not retried: the order is not its.
        server.release.set()
        await first
    assert scene.scores() == [75, 50]
    order = await scene.order()
    assert (order.sync_status_code, order.sync_error, order.sync_version) == (200, None, 2)
    assert order.delivered_payload == json.loads(server.received[1].body)
    assert order.attempted_payload == order.delivered_payload
