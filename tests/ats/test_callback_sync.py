"""The callback to Greenhouse: a sync job PATCHes the order's callback URL (a real loopback
HTTP server here) with the test_status body and the partner key as Basic user name, never
sends what was accepted already, retries 429/5xx/no answer until its attempts run out (then
records the give-up), records other refusals without retrying; refuses a callback host off
the allow-list, and private addresses under production-like settings, before sending. The
sweep and the completed hook queue the syncs; submitted scorecards score the order ahead of
the hidden tests, each new one sent by the sweep."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ats import greenhouse
from app.ats.jobs import (
    SYNC_ORDER,
    CallbackRefusedError,
    CallbackRetryError,
    OrderRef,
    enqueue_changed,
    session_completed,
)
from app.ats.models import AssessmentOrder
from app.ats.schemas import GreenhouseSendTest
from app.candidate_sessions.models import CandidateSession
from app.companies.models import Company
from app.core.db import Database
from app.core.errors import UnprocessableError
from app.core.settings import Settings
from app.evaluation.aggregates import review_view
from app.jobs.models import Job
from app.jobs.registry import JobContext
from app.services import Services
from app.simulations.models import Simulation, Task
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_partner_key,
    create_recruiter,
    create_simulation,
    create_submission,
    create_tasks,
)
from tests.support.greenhouse import (
    CallbackServer,
    add_grading,
    callback_server,
    callback_settings,
    send_test_body,
)
from tests.support.jobs import FakeClock, job_services
from tests.support.scorecard_rows import add_rubric, add_scorecard, criterion

KEY = "tgh_sync-test-key-0123456789abcdefghijklmnopqrstuv"


@dataclass
class Scene:
    database: Database
    session: AsyncSession
    order: AssessmentOrder
    http: httpx.AsyncClient

    async def sync(
        self, settings: Settings, *, attempt: int = 1, max_attempts: int = SYNC_ORDER.max_attempts
    ) -> None:
        services: Services = replace(job_services(), settings=settings, http=self.http)
        context = JobContext(
            database=self.database,
            clock=FakeClock(),
            services=services,
            job_id=1,
            attempt=attempt,
            max_attempts=max_attempts,
        )
        try:
            await SYNC_ORDER.handler(context, OrderRef(order_id=self.order.id))
        finally:
            await self.session.refresh(self.order)


LOOPBACK = callback_settings("127.0.0.1")


@pytest.fixture
async def server() -> AsyncIterator[CallbackServer]:
    async with callback_server(500, 200) as server:
        yield server


async def _scene(
    database: Database, session: AsyncSession, http: httpx.AsyncClient, url: str
) -> Scene:
    company = await create_company(session)
    await create_partner_key(session, company, key=KEY)
    simulation = await create_simulation(session, company)
    tasks = await create_tasks(session, simulation)
    cs = await create_candidate_session(session, simulation, status="completed")
    cs.started_at = cs.completed_at = cs.invited_at
    code_task = next(task for task in tasks if task.type == "code")
    submission = await create_submission(session, cs, code_task)
    await add_grading(session, submission.id, passed=3, total=4)
    order = AssessmentOrder(
        company_id=company.id,
        system="greenhouse",
        external_id=url,
        external_test_id=str(simulation.id),
        simulation_id=simulation.id,
        candidate_session_id=cs.id,
        callback_url=url,
    )
    session.add(order)
    await session.flush()
    return Scene(database, session, order, http)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=5) as client:
        yield client


async def _scene_for(
    database: Database, db_session: AsyncSession, http: httpx.AsyncClient, server: CallbackServer
) -> Scene:
    return await _scene(database, db_session, http, server.url())


async def test_a_completed_session_is_patched_once_after_a_500(
    database: Database, db_session: AsyncSession, http: httpx.AsyncClient, server: CallbackServer
) -> None:
    scene = await _scene_for(database, db_session, http, server)
    with pytest.raises(CallbackRetryError):
        await scene.sync(LOOPBACK)
    assert (scene.order.sync_status_code, scene.order.sync_error) == (500, "HTTP 500")
    assert scene.order.delivered_payload is None

    await scene.sync(LOOPBACK, attempt=2)
    assert (scene.order.sync_status_code, scene.order.sync_error) == (200, None)
    first, second = server.received
    assert first.body == second.body
    assert (second.method, second.path) == ("PATCH", server.url().split(f":{server.port}")[1])
    assert second.headers["content-type"] == "application/json"
    # Greenhouse's own header form: the key and a colon, Base64.
    assert second.headers["authorization"] == (
        "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    )
    sent = json.loads(second.body)
    assert sent["partner_status"] == "complete"
    assert sent["partner_score"] == 75
    assert sent["partner_profile_url"].endswith(
        f"/simulations/{scene.order.simulation_id}/candidates/{scene.order.candidate_session_id}"
    )
    assert sent["metadata"]["Hidden Tests Passed"] == "3/4"
    assert all(isinstance(value, str) for value in sent["metadata"].values())
    assert scene.order.delivered_payload == sent

    # The same state again: nothing is sent.
    await scene.sync(LOOPBACK, attempt=1)
    assert len(server.received) == 2


async def test_a_new_score_is_sent_again(
    database: Database, db_session: AsyncSession, http: httpx.AsyncClient
) -> None:
    async with callback_server(200) as server:
        scene = await _scene_for(database, db_session, http, server)
        await scene.sync(LOOPBACK)
        # Another graded submission moves the hidden tests' pass rate from 3/4 to 4/8.
        design = (await db_session.scalars(select(Task).where(Task.type == "design"))).first()
        assert design is not None
        cs = await db_session.get(CandidateSession, scene.order.candidate_session_id)
        assert cs is not None
        submission = await create_submission(db_session, cs, design)
        await add_grading(db_session, submission.id, passed=1, total=4)
        await scene.sync(LOOPBACK)
    scores = [json.loads(request.body)["partner_score"] for request in server.received]
    assert scores == [75, 50]


async def test_the_last_failed_attempt_records_the_give_up(
    database: Database, db_session: AsyncSession, http: httpx.AsyncClient
) -> None:
    async with callback_server(503) as server:
        scene = await _scene_for(database, db_session, http, server)
        with pytest.raises(CallbackRetryError):
            await scene.sync(LOOPBACK, attempt=8, max_attempts=8)
    assert scene.order.sync_status_code == 503
    assert scene.order.sync_error == "HTTP 503 (gave up after 8 attempts)"
    assert scene.order.delivered_payload is None


async def test_a_4xx_is_recorded_and_not_retried(
    database: Database, db_session: AsyncSession, http: httpx.AsyncClient
) -> None:
    async with callback_server(404) as server:
        scene = await _scene_for(database, db_session, http, server)
        with pytest.raises(CallbackRefusedError):
            await scene.sync(LOOPBACK)
    assert scene.order.sync_status_code == 404
    assert scene.order.sync_error is not None
    assert scene.order.sync_error.startswith("HTTP 404")


@pytest.mark.parametrize(
    ("settings", "scheme", "reason"),
    [
        # The loopback host is not on the default allow-list (Greenhouse's domains).
        (callback_settings("*.greenhouse.io"), "http", "not a Greenhouse callback host"),
        # Allowed by name, but private: refused outside local/test (plain http too).
        (
            callback_settings("127.0.0.1", env="production"),
            "https",
            "private, loopback or reserved",
        ),
        (callback_settings("127.0.0.1", env="staging"), "http", "must use https"),
    ],
    ids=["off-allow-list", "private-in-production", "http-in-staging"],
)
async def test_a_refused_callback_url_is_recorded_and_nothing_is_sent(
    database: Database,
    db_session: AsyncSession,
    http: httpx.AsyncClient,
    settings: Settings,
    scheme: str,
    reason: str,
) -> None:
    async with callback_server(200) as server:
        scene = await _scene(database, db_session, http, server.url(scheme=scheme))
        with pytest.raises(CallbackRefusedError, match=reason):
            await scene.sync(settings)
    assert server.received == []
    assert scene.order.sync_error is not None
    assert reason in scene.order.sync_error
    assert scene.order.sync_status_code is None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/integrations/testing_partners/take_home_tests/1",
        "https://10.0.0.8/integrations/testing_partners/take_home_tests/1",
        "https://169.254.169.254/latest/meta-data",
    ],
)
def test_send_test_refuses_a_private_callback_under_production_settings(url: str) -> None:
    body = GreenhouseSendTest.model_validate(send_test_body(12, url=url))
    hosts = ("127.0.0.1", "10.0.0.8", "169.254.169.254")
    with pytest.raises(UnprocessableError, match="private, loopback or reserved"):
        greenhouse.order_request(body, callback_settings(*hosts, env="production"))
    # The same URL is fine for local development and tests.
    assert greenhouse.order_request(body, callback_settings(*hosts)).callback_url == url


async def _pending_syncs(session: AsyncSession) -> list[Job]:
    statement = select(Job).where(Job.type == SYNC_ORDER.name, Job.state == "pending")
    return list((await session.scalars(statement)).all())


async def test_the_sweep_queues_a_changed_order_once(
    database: Database, db_session: AsyncSession, http: httpx.AsyncClient
) -> None:
    async with callback_server(200) as server:
        scene = await _scene_for(database, db_session, http, server)
        now = scene.order.created_at
        assert await enqueue_changed(db_session, job_services(), now=now) == 1
        [job] = await _pending_syncs(db_session)
        assert job.dedupe_key == f"ats-sync:{scene.order.id}"
        job.state = "succeeded"
        await db_session.flush()
        await scene.sync(LOOPBACK)
        # Attempted: the sweep leaves it alone until its state changes.
        assert await enqueue_changed(db_session, job_services(), now=now) == 0
        assert await _pending_syncs(db_session) == []


async def _run_the_sweep(scene: Scene) -> int:
    """Queue the changed orders as the sweep does, and run the queued sync of this order."""
    queued = await enqueue_changed(scene.session, job_services(), now=scene.order.created_at)
    for job in await _pending_syncs(scene.session):
        assert job.payload == {"orderId": scene.order.id}
        job.state = "succeeded"
        await scene.session.flush()
        await scene.sync(LOOPBACK)
    return queued


async def test_scorecards_score_the_order_over_the_hidden_tests_and_each_new_one_is_sent(
    database: Database, db_session: AsyncSession, http: httpx.AsyncClient
) -> None:
    async with callback_server(200) as server:
        scene = await _scene_for(database, db_session, http, server)
        await scene.sync(LOOPBACK)
        company = await db_session.get(Company, scene.order.company_id)
        simulation = await db_session.get(Simulation, scene.order.simulation_id)
        cs = await db_session.get(CandidateSession, scene.order.candidate_session_id)
        assert company is not None
        assert simulation is not None
        assert cs is not None
        ann, ben, cy = [
            await create_recruiter(db_session, company, name=name) for name in ("Ann", "Ben", "Cy")
        ]
        rubric = await add_rubric(
            db_session,
            simulation,
            [criterion("a", 3), criterion("b", 2), criterion("c", 1, day_index=2)],
        )
        # Weights 3 : 2 : 1. Ann (4, 3, 1): (12 + 6 + 1) / 6 = 19/6, on 0-100:
        # (19/6 - 1) / 3 * 100 = 72.2. A draft counts for nothing.
        await add_scorecard(db_session, cs, ann, rubric, {"a": 4, "b": 3, "c": 1})
        await add_scorecard(db_session, cs, cy, rubric, {"a": 1, "b": 1, "c": 1}, submitted=False)
        assert await _run_the_sweep(scene) == 1
        # Ben (2, 2, 4): 14/6; the mean (19/6 + 14/6) / 2 = 33/12 is 58.3 on 0-100.
        await add_scorecard(db_session, cs, ben, rubric, {"a": 2, "b": 2, "c": 4})
        assert await _run_the_sweep(scene) == 1
        assert await _run_the_sweep(scene) == 0

    # The number the recruiters' review aggregate shows, placed on 0-100.
    view = await review_view(db_session, ann.id, cs.id)
    assert view.aggregate is not None
    assert view.aggregate.weighted_score == pytest.approx(33 / 12)
    bodies = [json.loads(request.body) for request in server.received]
    assert [body["partner_score"] for body in bodies] == [75, 72, 58]
    assert [body["metadata"]["Score Basis"] for body in bodies] == [
        "hidden tests",
        "scorecards",
        "scorecards",
    ]
    assert bodies[2]["metadata"]["Scorecards Submitted"] == "2"
    # The hidden tests are still reported, but no longer the score.
    assert bodies[2]["metadata"]["Hidden Tests Passed"] == "3/4"
    assert scene.order.delivered_payload == bodies[2]


async def test_the_completed_hook_queues_a_sync_of_the_session_s_orders(
    database: Database, db_session: AsyncSession, http: httpx.AsyncClient
) -> None:
    scene = await _scene(database, db_session, http, "https://app.greenhouse.io/t/1")
    cs = await db_session.get(CandidateSession, scene.order.candidate_session_id)
    assert cs is not None
    await session_completed(db_session, cs)
    await session_completed(db_session, cs)  # deduplicated while it waits
    [job] = await _pending_syncs(db_session)
    assert job.payload == {"orderId": scene.order.id}
