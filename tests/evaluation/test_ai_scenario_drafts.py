"""AI scenario drafts: asked for over HTTP, made by the job with a fake provider, edited and
approved by the recruiter (rewriting the simulation's tasks and rubric), and locked once a
candidate is invited."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.companies.models import Company
from app.core.db import Database
from app.core.errors import ConflictError
from app.evaluation.models import AiUsage, ScenarioDraft
from app.evaluation.rubrics import criteria_of, current_rubric
from app.evaluation.scenario_drafts import SCENARIO_DRAFT, ScenarioJob, locked_without_candidates
from app.integrations.ai.provider import AiRefusedError
from app.jobs.models import Job
from app.simulations.models import Simulation
from tests.support.api import assert_problem
from tests.support.factories import create_candidate_session, create_company, create_simulation
from tests.support.fake_ai import FakeAi, ai_job_context, scenario_content
from tests.support.recruiting import World, new_simulation


def _with_ai(app: FastAPI, ai: FakeAi | None) -> None:
    app.state.services = replace(app.state.services, ai=ai)


async def _run_queued(db_session: AsyncSession, database: Database, ai: FakeAi) -> None:
    """Run the handler of each queued scenario-draft job, as a worker would."""
    jobs = (await db_session.scalars(select(Job).where(Job.type == SCENARIO_DRAFT.name))).all()
    for job in jobs:
        context = ai_job_context(database, SCENARIO_DRAFT, ai)
        await SCENARIO_DRAFT.handler(context, ScenarioJob.model_validate(job.payload))


async def _ready_draft(
    app: FastAPI,
    world: World,
    db_session: AsyncSession,
    database: Database,
    answer: Any = None,
) -> tuple[dict[str, Any], dict[str, Any], FakeAi]:
    simulation = await new_simulation(world, title=f"{world.company_name} payments")
    ai = FakeAi().then(answer or scenario_content())
    _with_ai(app, ai)
    created = await world.client.post(
        f"/api/simulations/{simulation['id']}/scenario-drafts",
        json={"role": "Payments Engineer", "focus": "Idempotent refunds"},
        headers=world.recruiter,
    )
    assert created.status_code == 202, created.text
    assert created.json()["status"] == "queued"
    await _run_queued(db_session, database, ai)
    draft = await world.client.get(
        f"/api/simulations/{simulation['id']}/scenario-drafts/{created.json()['id']}",
        headers=world.recruiter,
    )
    return simulation, draft.json(), ai


async def test_a_scenario_draft_is_made_from_the_request_without_the_company_name(
    app: FastAPI, world: World, db_session: AsyncSession, database: Database
) -> None:
    simulation, draft, ai = await _ready_draft(app, world, db_session, database)

    assert draft["status"] == "ready"
    assert [task["title"] for task in draft["content"]["tasks"]] == [
        f"Refunds day {day}" for day in range(1, 6)
    ]
    # The placeholder in the answer is the company's name again.
    assert draft["content"]["tasks"][0]["description"] == (
        f"Day 1 of the refunds work at {world.company_name}."
    )
    assert draft["usage"]["model"].startswith("fake-model")
    assert draft["usage"]["inputTokens"] == 1000
    (request,) = ai.requests
    assert "Payments Engineer" in request.prompt
    assert "Idempotent refunds" in request.prompt
    # Not asked for: the simulation's own.
    assert simulation["techStack"] in request.prompt
    assert world.company_name.lower() not in (request.system + request.prompt).lower()
    assert "[COMPANY_NAME]" in request.prompt
    usage = (await db_session.scalars(select(AiUsage))).one()
    assert (usage.purpose, usage.status) == ("scenario_draft", "settled")
    listed = await world.client.get(
        f"/api/simulations/{simulation['id']}/scenario-drafts", headers=world.recruiter
    )
    assert [item["id"] for item in listed.json()] == [draft["id"]]


async def test_the_recruiter_edits_then_approves_and_the_simulation_takes_the_draft(
    app: FastAPI, world: World, db_session: AsyncSession, database: Database
) -> None:
    simulation, draft, _ = await _ready_draft(app, world, db_session, database)
    path = f"/api/simulations/{simulation['id']}/scenario-drafts/{draft['id']}"
    task_ids = [task["id"] for task in simulation["tasks"]]

    edited = await world.client.patch(
        path, json=scenario_content(prefix="Chargebacks"), headers=world.recruiter
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["content"]["tasks"][2]["title"] == "Chargebacks day 3"

    approved = await world.client.post(f"{path}/approve", headers=world.recruiter)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert approved.json()["approvedAt"] is not None

    after = (
        await world.client.get(f"/api/simulations/{simulation['id']}", headers=world.recruiter)
    ).json()
    assert [task["title"] for task in after["tasks"]] == [
        f"Chargebacks day {day}" for day in range(1, 6)
    ]
    # Rewritten in place: the tasks keep their ids; code days keep a template repository.
    assert [task["id"] for task in after["tasks"]] == task_ids
    assert all(task["templateRepo"] for task in after["tasks"] if task["type"] in ("code", "debug"))
    rubric = await current_rubric(db_session, simulation["id"])
    assert [(c.key, c.weight) for c in criteria_of(rubric)] == [
        (f"s{day}-quality", float(day)) for day in range(1, 6)
    ]

    again = await world.client.post(f"{path}/approve", headers=world.recruiter)
    assert_problem(again, 409, "SCENARIO_DRAFT_NOT_READY")
    edit_after = await world.client.patch(path, json=scenario_content(), headers=world.recruiter)
    assert_problem(edit_after, 409, "SCENARIO_DRAFT_NOT_READY")


async def test_an_edit_that_leaves_a_day_without_criteria_is_422(
    app: FastAPI, world: World, db_session: AsyncSession, database: Database
) -> None:
    simulation, draft, _ = await _ready_draft(app, world, db_session, database)
    content = scenario_content()
    content["criteria"] = content["criteria"][:-1]

    response = await world.client.patch(
        f"/api/simulations/{simulation['id']}/scenario-drafts/{draft['id']}",
        json=content,
        headers=world.recruiter,
    )

    body = assert_problem(response, 422, "VALIDATION_FAILED")
    assert "days without a criterion: [5]" in response.text, body


async def test_an_answer_for_other_days_fails_as_malformed(
    app: FastAPI, world: World, db_session: AsyncSession, database: Database
) -> None:
    _, draft, _ = await _ready_draft(
        app, world, db_session, database, answer=scenario_content(days=(1, 2, 3))
    )
    assert (draft["status"], draft["errorCode"]) == ("failed", "AI_MALFORMED_OUTPUT")
    assert "[1, 2, 3]" in draft["errorDetail"]
    assert draft["content"] is None


async def test_a_refused_scenario_is_recorded(
    app: FastAPI, world: World, db_session: AsyncSession, database: Database
) -> None:
    _, draft, _ = await _ready_draft(
        app, world, db_session, database, answer=AiRefusedError("Declined.")
    )
    assert (draft["status"], draft["errorCode"]) == ("refused", "AI_REFUSED")


async def test_drafts_are_locked_once_a_candidate_is_invited(
    app: FastAPI, world: World, db_session: AsyncSession, database: Database
) -> None:
    simulation, draft, _ = await _ready_draft(app, world, db_session, database)
    row = await db_session.get(Simulation, simulation["id"])
    assert row is not None
    await create_candidate_session(db_session, row)
    await db_session.flush()
    path = f"/api/simulations/{simulation['id']}/scenario-drafts"

    approve = await world.client.post(f"{path}/{draft['id']}/approve", headers=world.recruiter)
    assert_problem(approve, 409, "SIMULATION_HAS_CANDIDATES")
    create = await world.client.post(path, json={}, headers=world.recruiter)
    assert_problem(create, 409, "SIMULATION_HAS_CANDIDATES")

    after = (
        await world.client.get(f"/api/simulations/{simulation['id']}", headers=world.recruiter)
    ).json()
    assert [task["title"] for task in after["tasks"]] == [
        task["title"] for task in simulation["tasks"]
    ]
    assert len((await db_session.scalars(select(ScenarioDraft))).all()) == 1


async def test_without_a_provider_a_scenario_draft_is_503(
    app: FastAPI, world: World, db_session: AsyncSession
) -> None:
    simulation = await new_simulation(world)
    response = await world.client.post(
        f"/api/simulations/{simulation['id']}/scenario-drafts", json={}, headers=world.recruiter
    )
    assert_problem(response, 503, "AI_NOT_CONFIGURED")
    assert (await db_session.scalars(select(ScenarioDraft))).all() == []


async def test_another_companys_recruiter_gets_404_on_every_scenario_route(
    app: FastAPI, world: World, db_session: AsyncSession, database: Database
) -> None:
    simulation, draft, _ = await _ready_draft(app, world, db_session, database)
    base = f"/api/simulations/{simulation['id']}/scenario-drafts"
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("POST", base, {}),
        ("GET", base, None),
        ("GET", f"{base}/{draft['id']}", None),
        ("PATCH", f"{base}/{draft['id']}", scenario_content()),
        ("POST", f"{base}/{draft['id']}/approve", None),
    ]
    for method, path, body in calls:
        response = await world.client.request(method, path, json=body, headers=world.outsider)
        assert_problem(response, 404, "SIMULATION_NOT_FOUND")
    missing = await world.client.get(f"{base}/999999", headers=world.recruiter)
    assert_problem(missing, 404, "SCENARIO_DRAFT_NOT_FOUND")


async def test_an_invite_waits_for_an_approval_holding_the_simulations_lock(
    jobs_db: Database,
) -> None:
    """The invite's candidate-session insert checks its foreign key under a share lock on
    the simulation's row, which the approval holds for update: the two cannot interleave."""
    async with jobs_db.session_scope() as session:
        company = await create_company(session)
        simulation = await create_simulation(session, company)
    try:
        async with jobs_db.session_scope() as approving:
            await locked_without_candidates(approving, simulation.id)

            async def invite() -> None:
                async with jobs_db.session_scope() as inviting:
                    await create_candidate_session(inviting, simulation)

            inviting = asyncio.create_task(invite())
            done, _ = await asyncio.wait({inviting}, timeout=0.5)
            assert not done, "the invite went through while the approval held the lock"
        await inviting
        # Now a second approval sees the candidate.
        async with jobs_db.session_scope() as approving:
            with pytest.raises(ConflictError) as refused:
                await locked_without_candidates(approving, simulation.id)
        assert refused.value.code == "SIMULATION_HAS_CANDIDATES"
    finally:
        async with jobs_db.session_scope() as session:
            await session.execute(
                delete(CandidateSession).where(CandidateSession.simulation_id == simulation.id)
            )
            await session.execute(delete(Simulation).where(Simulation.id == simulation.id))
            await session.execute(delete(Company).where(Company.id == company.id))
