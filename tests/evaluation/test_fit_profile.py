"""The fit profile over HTTP and through the real worker: the first read asks for it, the
job stores it, a new input makes it stale and regenerates it, a failed generation waits for
a regenerate, the periodic sweep asks only for sessions whose inputs changed, and another
company's recruiter finds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.assembly import job_registry
from app.candidate_sessions.models import CandidateSession
from app.companies.models import Company
from app.core.db import Database, TimestampMixin
from app.core.settings import JobSettings
from app.evaluation import fit_profile, signals
from app.evaluation.ai_drafts import AI_SCORECARD_DRAFT
from app.evaluation.fit_profile import GENERATE_FIT_PROFILE, FitProfileRef
from app.evaluation.models import FitProfile
from app.grading.models import Grading
from app.jobs.models import Job
from app.jobs.worker import Worker
from app.simulations.models import Simulation, Task
from app.submissions.models import Submission
from app.workspaces.models import Workspace
from tests.support.api import assert_problem
from tests.support.factories import (
    create_candidate_session,
    create_simulation,
    create_submission,
    create_tasks,
    create_test_run,
    create_workspace,
)
from tests.support.fake_ai import FakeAi, ai_job_context
from tests.support.jobs import FakeClock, job_services
from tests.support.recruiting import World

JOB = "evaluation.fit_profile"


async def _simulation(db_session: AsyncSession, world: World) -> tuple[Simulation, list[Task]]:
    company = (
        await db_session.scalars(select(Company).where(Company.name == world.company_name))
    ).one()
    simulation = await create_simulation(db_session, company)
    return simulation, await create_tasks(db_session, simulation)


async def _started(db_session: AsyncSession, simulation: Simulation) -> CandidateSession:
    cs = await create_candidate_session(db_session, simulation, status="in_progress")
    cs.started_at = datetime.now(UTC) - timedelta(hours=1)
    await db_session.flush()
    return cs


async def _finished_run(
    db_session: AsyncSession, workspace: Workspace, task: Task, *, passed: int
) -> None:
    run = await create_test_run(db_session, workspace, task, status="failed")
    run.passed, run.failed, run.total, run.result_code = passed, 5 - passed, 5, "OK"
    await db_session.flush()


def _worker(database: Database, clock: FakeClock) -> Worker[Any]:
    services = job_services()
    return Worker(
        database,
        job_registry(),
        JobSettings(_env_file=None, concurrency=1),
        services=services,
        metrics=services.metrics,
        clock=clock,
    )


async def _waiting_jobs(db_session: AsyncSession) -> list[Job]:
    statement = select(Job).where(Job.type == JOB, Job.state.in_(("pending", "failed")))
    return list(await db_session.scalars(statement.execution_options(populate_existing=True)))


async def _get(world: World, cs_id: int) -> dict[str, Any]:
    response = await world.client.get(
        f"/api/candidate-sessions/{cs_id}/fit-profile", headers=world.recruiter
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(current=datetime.now(UTC) + timedelta(seconds=1))


async def test_the_first_read_asks_for_the_profile_and_the_job_makes_it(
    world: World, db_session: AsyncSession, database: Database, clock: FakeClock
) -> None:
    simulation, tasks = await _simulation(db_session, world)
    cs = await _started(db_session, simulation)
    await create_submission(db_session, cs, tasks[0])

    first = await _get(world, cs.id)
    assert first == {
        "candidateSessionId": cs.id,
        "status": "generating",
        "generatedAt": None,
        "inputFingerprint": None,
        "signals": None,
        "error": None,
        "review": {"scorecardsSubmitted": 0, "revealed": False, "aggregate": None},
        "aiDrafts": [],
    }
    # A second read does not ask twice: one job per session waits at a time.
    await _get(world, cs.id)
    jobs = await _waiting_jobs(db_session)
    assert [(job.payload, job.dedupe_key) for job in jobs] == [
        ({"candidateSessionId": cs.id}, f"fit-profile:{cs.id}")
    ]

    await _worker(database, clock).run_until_idle()

    ready = await _get(world, cs.id)
    assert ready["status"] == "ready"
    assert ready["generatedAt"] is not None
    inputs = (await signals.load_inputs(db_session, [cs.id]))[cs.id]
    assert ready["inputFingerprint"] == signals.fingerprint(inputs)
    assert ready["signals"]["daysSubmitted"] == 1
    assert ready["signals"]["days"][0]["submissionKind"] == "text"
    assert await _waiting_jobs(db_session) == []


async def test_a_new_input_makes_the_profile_stale_until_the_job_regenerates_it(
    world: World, db_session: AsyncSession, database: Database, clock: FakeClock
) -> None:
    simulation, tasks = await _simulation(db_session, world)
    cs = await _started(db_session, simulation)
    workspace = await create_workspace(db_session, cs)
    await create_submission(db_session, cs, tasks[0])
    await _finished_run(db_session, workspace, tasks[1], passed=2)
    await _get(world, cs.id)
    await _worker(database, clock).run_until_idle()
    ready = await _get(world, cs.id)
    assert ready["status"] == "ready"
    assert await _waiting_jobs(db_session) == []

    await _finished_run(db_session, workspace, tasks[1], passed=5)
    stale = await _get(world, cs.id)

    # The old signals are shown, marked stale, and a regeneration is queued.
    assert stale["status"] == "stale"
    assert stale["inputFingerprint"] == ready["inputFingerprint"]
    assert stale["signals"]["days"][1]["visibleTests"]["runs"] == 1
    assert len(await _waiting_jobs(db_session)) == 1

    await _worker(database, clock).run_until_idle()
    fresh = await _get(world, cs.id)
    assert fresh["status"] == "ready"
    assert fresh["inputFingerprint"] != ready["inputFingerprint"]
    visible = fresh["signals"]["days"][1]["visibleTests"]
    assert (visible["runs"], visible["bestRun"]["passed"]) == (2, 5)


async def test_a_failed_generation_waits_for_a_regenerate_which_retries_it(
    world: World,
    db_session: AsyncSession,
    database: Database,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    simulation, _ = await _simulation(db_session, world)
    cs = await _started(db_session, simulation)

    def broken(inputs: signals.SignalInputs) -> signals.Signals:
        raise RuntimeError("the signals could not be computed")

    monkeypatch.setattr(signals, "compute", broken)
    await _get(world, cs.id)
    worker = _worker(database, clock)
    for _ in range(fit_profile.GENERATE_FIT_PROFILE.max_attempts):
        await worker.run_until_idle()
        clock.advance(timedelta(hours=1))

    failed = await _get(world, cs.id)
    assert failed["status"] == "failed"
    assert failed["signals"] is None
    assert failed["error"] == {
        "code": "FIT_PROFILE_GENERATION_FAILED",
        "detail": "RuntimeError: the signals could not be computed",
    }
    # Neither reads nor the sweep retry it on their own.
    assert await fit_profile.enqueue_changed(db_session, now=clock.now()) == []
    assert await _waiting_jobs(db_session) == []

    monkeypatch.undo()
    retried = await world.client.post(
        f"/api/candidate-sessions/{cs.id}/fit-profile/regenerate", headers=world.recruiter
    )
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "generating"
    assert retried.json()["error"] is None
    assert len(await _waiting_jobs(db_session)) == 1

    await _worker(database, clock).run_until_idle()
    ready = await _get(world, cs.id)
    assert ready["status"] == "ready"
    assert ready["signals"]["sessionStatus"] == "in_progress"


async def test_regenerate_recomputes_an_up_to_date_profile(
    world: World, db_session: AsyncSession, database: Database, clock: FakeClock
) -> None:
    simulation, _ = await _simulation(db_session, world)
    cs = await _started(db_session, simulation)
    await fit_profile.generate(db_session, cs.id, now=clock.now() - timedelta(days=1))

    response = await world.client.post(
        f"/api/candidate-sessions/{cs.id}/fit-profile/regenerate", headers=world.recruiter
    )
    assert response.status_code == 202, response.text
    await _worker(database, clock).run_until_idle()

    profile = (
        await db_session.scalars(
            select(FitProfile)
            .where(FitProfile.candidate_session_id == cs.id)
            .execution_options(populate_existing=True)
        )
    ).one()
    assert profile.status == "ready"
    assert profile.generated_at == clock.now()


async def test_the_sweep_asks_only_for_recently_active_sessions_whose_inputs_changed(
    world: World, db_session: AsyncSession, database: Database, clock: FakeClock
) -> None:
    simulation, tasks = await _simulation(db_session, world)
    unchanged = await _started(db_session, simulation)
    changed = await _started(db_session, simulation)
    never_generated = await _started(db_session, simulation)
    not_started = await create_candidate_session(db_session, simulation)
    inactive = await _started(db_session, simulation)
    earlier = clock.now() - timedelta(days=1)
    for cs in (unchanged, changed, inactive):
        await fit_profile.generate(db_session, cs.id, now=earlier)
    await create_submission(db_session, changed, tasks[0])
    # A change long ago (the sweep looks at recent activity only).
    await create_submission(db_session, inactive, tasks[0])
    inactive.updated_at = clock.now() - timedelta(hours=5)
    for submission in await db_session.scalars(
        select(Submission).where(Submission.candidate_session_id == inactive.id)
    ):
        submission.updated_at = clock.now() - timedelta(hours=5)
    await db_session.flush()

    worker = _worker(database, clock)
    await worker.schedule_periodic()
    await worker.run_until_idle()

    generated = {
        profile.candidate_session_id: profile
        for profile in await db_session.scalars(
            select(FitProfile).execution_options(populate_existing=True)
        )
    }
    current = await signals.load_inputs(db_session, generated)
    assert not_started.id not in generated
    for cs in (unchanged, changed, never_generated):
        profile = generated[cs.id]
        assert profile.status == "ready"
        assert profile.input_fingerprint == signals.fingerprint(current[cs.id])
    # Only the changed and the new were regenerated; the inactive one was left as it was.
    assert generated[unchanged.id].generated_at == generated[inactive.id].generated_at == earlier
    assert generated[changed.id].generated_at == clock.now()
    assert generated[inactive.id].input_fingerprint != signals.fingerprint(current[inactive.id])
    finished = await db_session.scalars(
        select(Job.payload).where(Job.type == JOB, Job.state == "succeeded")
    )
    assert sorted(payload["candidateSessionId"] for payload in finished) == sorted(
        [changed.id, never_generated.id]
    )


async def test_another_companys_recruiter_finds_no_fit_profile(
    world: World, db_session: AsyncSession
) -> None:
    simulation, _ = await _simulation(db_session, world)
    cs = await _started(db_session, simulation)
    requests = [
        ("GET", f"/api/candidate-sessions/{cs.id}/fit-profile"),
        ("POST", f"/api/candidate-sessions/{cs.id}/fit-profile/regenerate"),
        ("GET", f"/api/candidate-sessions/{2**62}/fit-profile"),
    ]
    for method, path in requests:
        response = await world.client.request(method, path, headers=world.outsider)
        assert_problem(response, 404, "CANDIDATE_SESSION_NOT_FOUND")
    assert (await db_session.scalars(select(FitProfile))).all() == []
    assert await _waiting_jobs(db_session) == []


async def test_candidates_may_not_read_a_fit_profile(
    world: World, db_session: AsyncSession
) -> None:
    simulation, _ = await _simulation(db_session, world)
    cs = await _started(db_session, simulation)
    response: httpx.Response = await world.client.get(
        f"/api/candidate-sessions/{cs.id}/fit-profile", headers=world.candidate
    )
    assert_problem(response, 403, "PERMISSION_DENIED")


async def test_a_generation_for_a_session_that_is_gone_does_nothing(
    db_session: AsyncSession, clock: FakeClock
) -> None:
    assert await fit_profile.generate(db_session, 2**62, now=clock.now()) is None
    assert (await db_session.scalars(select(FitProfile))).all() == []


async def test_the_sweep_reads_activity_from_every_input_the_most_recent_first(
    world: World, db_session: AsyncSession, clock: FakeClock
) -> None:
    simulation, tasks = await _simulation(db_session, world)
    now = clock.now()
    by_session, by_run, by_grading, idle = [await _started(db_session, simulation) for _ in "abcd"]
    workspace = await create_workspace(db_session, by_run)
    run = await create_test_run(db_session, workspace, tasks[1], status="passed")
    submission = await create_submission(db_session, by_grading, tasks[0])
    grading = Grading(
        submission_id=submission.id,
        grader_repo="tenon-templates/grader",
        candidate_repo="tenon-workspaces/repo",
        candidate_sha="c" * 40,
    )
    db_session.add(grading)
    await db_session.flush()
    moments: list[tuple[TimestampMixin, datetime]] = [
        (by_session, now - timedelta(minutes=30)),
        (run, now - timedelta(minutes=1)),
        (grading, now - timedelta(minutes=20)),
        (submission, now - timedelta(hours=3)),
        *((cs, now - timedelta(hours=3)) for cs in (by_run, by_grading, idle)),
    ]
    for row, moment in moments:
        row.updated_at = moment
    await db_session.flush()
    since = now - fit_profile.ACTIVITY_WINDOW

    assert await fit_profile.recently_active(db_session, since=since, limit=10) == [
        by_run.id,
        by_grading.id,
        by_session.id,
    ]
    assert await fit_profile.recently_active(db_session, since=since, limit=2) == [
        by_run.id,
        by_grading.id,
    ]


@pytest.mark.parametrize("ai_enabled", [True, False])
async def test_a_generation_queues_the_ai_draft_of_a_newly_submitted_day_when_ai_is_on(
    world: World, db_session: AsyncSession, database: Database, ai_enabled: bool
) -> None:
    simulation, tasks = await _simulation(db_session, world)
    cs = await _started(db_session, simulation)
    await create_submission(db_session, cs, tasks[0], content_text="My design.")
    # The provider is never called here: the generation only queues the draft's job.
    context = ai_job_context(database, GENERATE_FIT_PROFILE, FakeAi() if ai_enabled else None)

    await GENERATE_FIT_PROFILE.handler(context, FitProfileRef(candidate_session_id=cs.id))

    drafts = (await _get(world, cs.id))["aiDrafts"]
    jobs = (await db_session.scalars(select(Job).where(Job.type == AI_SCORECARD_DRAFT.name))).all()
    if ai_enabled:
        assert [(d["dayIndex"], d["status"]) for d in drafts] == [(1, "queued")]
        assert [job.payload for job in jobs] == [{"candidateSessionId": cs.id, "dayIndex": 1}]
    else:
        assert drafts == []
        assert jobs == []
