"""AI draft scorecards: the job per submitted day with a fake provider (answers, refusals,
malformed output, retries, the budget, personal data), and the routes that list and queue
them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.assembly import job_registry
from app.candidate_sessions.models import CandidateSession
from app.companies.models import Company
from app.core.db import Database
from app.core.settings import JobSettings
from app.evaluation.ai_calls import prompt_hash
from app.evaluation.ai_drafts import (
    AI_SCORECARD_DRAFT,
    STALE_AFTER,
    DraftRef,
    queue_missing_drafts,
)
from app.evaluation.models import AiScorecardDraft, AiUsage
from app.evaluation.rubrics import criteria_of, current_rubric
from app.integrations.ai.provider import (
    AiRateLimitedError,
    AiRefusedError,
    AiRequest,
    AiTimeoutError,
    AiUnavailableError,
)
from app.jobs.models import Job
from app.jobs.worker import Worker
from app.simulations.models import Simulation, Task
from app.submissions.models import Submission
from tests.support.api import assert_problem
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_recording,
    create_simulation,
    create_submission,
    create_tasks,
    create_test_case_result,
    create_test_run,
    create_workspace,
)
from tests.support.fake_ai import FAKE_MODEL, FakeAi, ai_job_context
from tests.support.jobs import job_services
from tests.support.recruiting import World

CANDIDATE = "Grace Hopper"
EMAIL = "grace.hopper@navy.example"
LOGIN = "ghopper-cobol"
ANSWER = (
    f"Design by {CANDIDATE} ({EMAIL}, @{LOGIN}): put a queue in front of the ledger so "
    "payments are retried idempotently."
)


@dataclass
class Scene:
    company: Company
    simulation: Simulation
    tasks: list[Task]
    cs: CandidateSession
    submission: Submission


async def _scene(session: AsyncSession, company: Company | None = None) -> Scene:
    company = company or await create_company(session, name=f"Initech Ledgers {id(session)}")
    simulation = await create_simulation(session, company)
    tasks = await create_tasks(session, simulation)
    cs = await create_candidate_session(
        session, simulation, candidate_name=CANDIDATE, invite_email=EMAIL, status="in_progress"
    )
    cs.github_username = LOGIN
    submission = await create_submission(session, cs, tasks[0], content_text=ANSWER)
    await session.flush()
    return Scene(company, simulation, tasks, cs, submission)


async def _day_keys(session: AsyncSession, scene: Scene, day: int = 1) -> list[str]:
    rubric = await current_rubric(session, scene.simulation.id)
    return [c.key for c in criteria_of(rubric) if c.day_index == day]


def _answer(
    keys: list[str], *, level: int = 3, evidence: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "summary": "[CANDIDATE_NAME] proposes a queue; reach them at [CANDIDATE_EMAIL].",
        "entries": [
            {
                "criterionKey": key,
                "level": level,
                "note": f"[CANDIDATE_NAME] covers {key}.",
                "evidence": evidence or [],
            }
            for key in keys
        ],
    }


async def _draft(session: AsyncSession, scene: Scene, day: int = 1) -> AiScorecardDraft:
    statement = select(AiScorecardDraft).where(
        AiScorecardDraft.candidate_session_id == scene.cs.id,
        AiScorecardDraft.day_index == day,
    )
    draft = (await session.scalars(statement.execution_options(populate_existing=True))).one()
    return draft


async def _run(database: Database, scene: Scene, ai: FakeAi | None, *, attempt: int = 1) -> None:
    context = ai_job_context(database, AI_SCORECARD_DRAFT, ai, attempt=attempt)
    await AI_SCORECARD_DRAFT.handler(
        context, DraftRef(candidate_session_id=scene.cs.id, day_index=1)
    )


async def _usage(session: AsyncSession, draft: AiScorecardDraft) -> AiUsage:
    assert draft.ai_usage_id is not None
    usage = await session.get(AiUsage, draft.ai_usage_id, populate_existing=True)
    assert usage is not None
    return usage


async def test_a_draft_stores_the_answer_model_prompt_hash_tokens_and_cost(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    keys = await _day_keys(db_session, scene)
    assert await queue_missing_drafts(db_session, scene.cs.id) == [1]
    ai = FakeAi().then(_answer(keys))

    await _run(database, scene, ai)

    draft = await _draft(db_session, scene)
    assert draft.status == "ready"
    assert draft.content is not None
    assert [entry["criterionKey"] for entry in draft.content["entries"]] == keys
    assert {entry["level"] for entry in draft.content["entries"]} == {3}
    usage = await _usage(db_session, draft)
    (request,) = ai.requests
    assert usage.status == "settled"
    assert usage.purpose == "scorecard_draft"
    assert (usage.provider, usage.model) == ("fake", f"{FAKE_MODEL}-snapshot")
    assert usage.prompt_hash == prompt_hash(request)
    assert (usage.input_tokens, usage.output_tokens) == (1000, 200)
    # $3 per million in, $15 per million out.
    assert usage.cost_usd == Decimal("0.006")
    # The schema allows exactly the day's criteria; the prompt carries the task and anchors.
    entry_schema = request.json_schema["properties"]["entries"]["items"]
    assert entry_schema["properties"]["criterionKey"]["enum"] == keys
    assert scene.tasks[0].title in request.prompt
    assert "queue in front of the ledger" in request.prompt


async def test_personal_values_never_reach_the_provider_and_come_back_in_the_draft(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    keys = await _day_keys(db_session, scene)
    await queue_missing_drafts(db_session, scene.cs.id)
    ai = FakeAi().then(_answer(keys))

    await _run(database, scene, ai)

    (request,) = ai.requests
    sent = request.system + request.prompt
    for value in (CANDIDATE, "Grace", "Hopper", EMAIL, LOGIN, scene.company.name):
        assert value.lower() not in sent.lower(), value
    assert "[CANDIDATE_NAME]" in request.prompt
    assert "[CANDIDATE_EMAIL]" in request.prompt
    assert "[GITHUB_LOGIN]" in request.prompt
    draft = await _draft(db_session, scene)
    assert draft.content is not None
    assert draft.content["summary"] == f"{CANDIDATE} proposes a queue; reach them at {EMAIL}."
    assert draft.content["entries"][0]["note"].startswith(CANDIDATE)


async def test_a_refusal_is_recorded_and_charged_at_the_worst_case(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    await queue_missing_drafts(db_session, scene.cs.id)
    ai = FakeAi().then(AiRefusedError("The model declined."))

    await _run(database, scene, ai)

    draft = await _draft(db_session, scene)
    assert (draft.status, draft.error_code) == ("refused", "AI_REFUSED")
    assert draft.content is None
    usage = await _usage(db_session, draft)
    assert usage.status == "settled"
    assert usage.cost_usd == ai.price.worst_case(ai.requests[0])


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        # A criterion of the day is missing.
        (lambda keys: _answer(keys[:-1]), "the day's criteria are"),
        # A criterion of another day.
        (lambda keys: _answer([*keys, "d2-correctness"]), "the day's criteria are"),
        # A level off the 1-4 scale.
        (lambda keys: _answer(keys, level=5), "level"),
        # Not the shape asked for.
        (lambda keys: {"scores": {key: 3 for key in keys}}, "entries"),
    ],
)
async def test_output_that_does_not_fit_the_rubric_fails_as_malformed(
    db_session: AsyncSession, database: Database, answer: Any, problem: str
) -> None:
    scene = await _scene(db_session)
    keys = await _day_keys(db_session, scene)
    await queue_missing_drafts(db_session, scene.cs.id)

    await _run(database, scene, FakeAi().then(answer(keys)))

    draft = await _draft(db_session, scene)
    assert (draft.status, draft.error_code) == ("failed", "AI_MALFORMED_OUTPUT")
    assert draft.error_detail is not None
    assert problem in draft.error_detail
    assert draft.content is None
    assert (await _usage(db_session, draft)).status == "settled"


async def test_a_retryable_error_is_raised_for_the_queue_then_the_retry_succeeds(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    keys = await _day_keys(db_session, scene)
    await queue_missing_drafts(db_session, scene.cs.id)
    ai = FakeAi().then(AiRateLimitedError("Slow down.", retry_after=2.0), _answer(keys))

    with pytest.raises(AiRateLimitedError):
        await _run(database, scene, ai)
    draft = await _draft(db_session, scene)
    assert draft.status == "running"
    # The rate-limited call cost nothing.
    released = (await db_session.scalars(select(AiUsage).order_by(AiUsage.id))).all()
    assert [(u.status, u.cost_usd) for u in released] == [("released", Decimal(0))]

    await _run(database, scene, ai, attempt=2)
    draft = await _draft(db_session, scene)
    assert draft.status == "ready"
    assert len(ai.requests) == 2


async def test_a_retryable_error_on_the_last_attempt_fails_the_draft(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    await queue_missing_drafts(db_session, scene.cs.id)
    ai = FakeAi().then(AiTimeoutError("No answer in 60 s."))

    await _run(database, scene, ai, attempt=AI_SCORECARD_DRAFT.max_attempts)

    draft = await _draft(db_session, scene)
    assert (draft.status, draft.error_code) == ("failed", "AI_TIMEOUT")
    # A timeout may have been processed: charged at the worst case.
    assert (await _usage(db_session, draft)).status == "settled"


async def test_an_unreachable_provider_releases_the_reservation(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    await queue_missing_drafts(db_session, scene.cs.id)

    with pytest.raises(AiUnavailableError):
        await _run(database, scene, FakeAi().then(AiUnavailableError("Connection refused.")))

    (usage,) = (await db_session.scalars(select(AiUsage))).all()
    assert (usage.status, usage.cost_usd) == ("released", Decimal(0))


async def test_a_spent_budget_ends_the_draft_without_calling_the_provider(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    scene.company.ai_monthly_budget_usd = Decimal("0.01")
    await db_session.flush()
    await queue_missing_drafts(db_session, scene.cs.id)
    ai = FakeAi()

    await _run(database, scene, ai)

    draft = await _draft(db_session, scene)
    assert (draft.status, draft.error_code) == ("budget_exhausted", "AI_BUDGET_EXHAUSTED")
    assert draft.error_detail is not None
    assert "$0.01" in draft.error_detail
    assert ai.requests == []
    assert (await db_session.scalars(select(AiUsage))).all() == []


async def test_without_a_provider_the_job_fails_the_draft(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    await queue_missing_drafts(db_session, scene.cs.id)

    await _run(database, scene, None)

    draft = await _draft(db_session, scene)
    assert (draft.status, draft.error_code) == ("failed", "AI_NOT_CONFIGURED")


async def test_unverifiable_evidence_is_dropped_and_counted(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    keys = await _day_keys(db_session, scene)
    await queue_missing_drafts(db_session, scene.cs.id)
    ref = str(scene.submission.id)

    def answer(request: AiRequest) -> dict[str, Any]:
        return _answer(
            keys,
            evidence=[
                {"kind": "text", "ref": ref, "quote": "put a queue in front of the ledger"},
                # The placeholder quote comes back as the candidate's name, which is there.
                {"kind": "text", "ref": ref, "quote": "Design by [CANDIDATE_NAME]"},
                {"kind": "text", "ref": ref, "quote": "rewrote the ledger in Rust"},
                {"kind": "text", "ref": "999999999", "quote": None},
                # A file of the code: GitHub is not configured in this test.
                {"kind": "diff", "ref": f"{ref}:app/main.py#L1-L3", "quote": None},
            ],
        )

    await _run(database, scene, FakeAi().then(answer))

    draft = await _draft(db_session, scene)
    assert draft.status == "ready"
    assert draft.dropped_evidence == 3 * len(keys)
    assert draft.content is not None
    for entry in draft.content["entries"]:
        assert [item["quote"] for item in entry["evidence"]] == [
            "put a queue in front of the ledger",
            f"Design by {CANDIDATE}",
        ]


async def test_the_handoff_day_offers_its_transcript_and_unverifiable_citations_are_dropped(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    handoff = scene.tasks[3]
    await create_submission(db_session, scene.cs, handoff, content_text="Handoff notes.")
    recording = await create_recording(
        db_session,
        scene.cs,
        handoff,
        segments=[
            (0.0, 3.5, f"Hi, {CANDIDATE} here with the handoff."),
            (3.5, 8.25, "The refund job retries with an idempotency key."),
        ],
    )
    other_cs = await create_candidate_session(db_session, scene.simulation)
    other = await create_recording(
        db_session, other_cs, handoff, segments=[(0.0, 2.0, "The refund job retries.")]
    )
    keys = await _day_keys(db_session, scene, day=4)
    assert await queue_missing_drafts(db_session, scene.cs.id) == [1, 4]
    rid = recording.id
    ai = FakeAi().then(
        _answer(
            keys,
            evidence=[
                {"kind": "transcript", "ref": f"{rid}:1", "quote": "with an idempotency key"},
                # The placeholder comes back as the name, which the segment says.
                {"kind": "transcript", "ref": f"{rid}:0", "quote": "[CANDIDATE_NAME] here"},
                {"kind": "transcript", "ref": f"{rid}:1", "quote": "we dropped retries"},
                {"kind": "transcript", "ref": f"{rid}:2", "quote": None},
                {"kind": "transcript", "ref": f"{other.id}:0", "quote": "The refund job"},
            ],
        )
    )

    context = ai_job_context(database, AI_SCORECARD_DRAFT, ai)
    await AI_SCORECARD_DRAFT.handler(
        context, DraftRef(candidate_session_id=scene.cs.id, day_index=4)
    )

    (request,) = ai.requests
    assert f"Transcript of the recording {rid} (cite a segment as the transcript ref " in (
        request.prompt
    )
    assert "[0] 0.00-3.50s: Hi, [CANDIDATE_NAME] here with the handoff." in request.prompt
    assert "[1] 3.50-8.25s: The refund job retries with an idempotency key." in request.prompt
    assert "Hopper" not in request.prompt
    draft = await _draft(db_session, scene, day=4)
    assert draft.status == "ready"
    assert draft.dropped_evidence == 3 * len(keys)
    assert draft.content is not None
    for entry in draft.content["entries"]:
        assert [(item["ref"], item["quote"]) for item in entry["evidence"]] == [
            (f"{rid}:1", "with an idempotency key"),
            (f"{rid}:0", f"{CANDIDATE} here"),
        ]


async def test_a_new_transcript_changes_the_handoff_day_s_inputs(db_session: AsyncSession) -> None:
    scene = await _scene(db_session)
    handoff = scene.tasks[3]
    await create_submission(db_session, scene.cs, handoff, content_text="Handoff notes.")
    assert await queue_missing_drafts(db_session, scene.cs.id) == [1, 4]
    recording = await create_recording(db_session, scene.cs, handoff)
    # Not transcribed yet: nothing new to draft from.
    assert await queue_missing_drafts(db_session, scene.cs.id) == []
    recording.transcript_status = "ready"
    recording.transcript_segments = [{"start": 0.0, "end": 1.0, "text": "Hello."}]
    await db_session.flush()
    assert await queue_missing_drafts(db_session, scene.cs.id) == [4]


async def test_queue_missing_drafts_skips_current_drafts_and_requeues_changed_or_failed(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    keys = await _day_keys(db_session, scene)
    assert await queue_missing_drafts(db_session, scene.cs.id) == [1]
    # Queued with the same inputs: nothing new.
    assert await queue_missing_drafts(db_session, scene.cs.id) == []
    await _run(database, scene, FakeAi().then(_answer(keys)))
    assert await queue_missing_drafts(db_session, scene.cs.id) == []

    # A second day submitted: only it is queued.
    await create_submission(db_session, scene.cs, scene.tasks[3], content_text="Handoff notes.")
    assert await queue_missing_drafts(db_session, scene.cs.id) == [4]

    # The day's inputs changed (the rubric was edited): its draft is made again.
    rubric = await current_rubric(db_session, scene.simulation.id)
    rubric.criteria = [dict(c) for c in rubric.criteria]
    rubric.criteria[0]["weight"] = 7.0
    await db_session.flush()
    assert await queue_missing_drafts(db_session, scene.cs.id) == [1]
    draft = await _draft(db_session, scene)
    assert draft.status == "queued"
    jobs = (await db_session.scalars(select(Job).where(Job.type == AI_SCORECARD_DRAFT.name))).all()
    # The first day's job never ran here (the test ran its handler): the waiting job serves.
    assert sorted(job.dedupe_key or "" for job in jobs) == [
        f"{AI_SCORECARD_DRAFT.name}:{scene.cs.id}:{day}" for day in (1, 4)
    ]

    # A refused draft is not tried again automatically with the same inputs (each try is
    # paid for); a recruiter's request tries again.
    await _run(database, scene, FakeAi().then(AiRefusedError("No.")))
    assert (await _draft(db_session, scene)).status == "refused"
    assert await queue_missing_drafts(db_session, scene.cs.id, retry_ended=False) == []
    assert await queue_missing_drafts(db_session, scene.cs.id) == [1]

    # So is one whose job stopped without a word (running for longer than any job runs).
    draft = await _draft(db_session, scene)
    draft.status = "running"
    await db_session.flush()
    assert await queue_missing_drafts(db_session, scene.cs.id) == []
    await db_session.execute(
        update(AiScorecardDraft)
        .where(AiScorecardDraft.id == draft.id)
        .values(updated_at=func.now() - STALE_AFTER)
    )
    assert await queue_missing_drafts(db_session, scene.cs.id) == [1]


# The routes.


async def _our_company(session: AsyncSession, world: World) -> Company:
    statement = select(Company).where(Company.name == world.company_name)
    return (await session.scalars(statement)).one()


def _with_ai(app: FastAPI, ai: FakeAi | None) -> None:
    app.state.services = replace(app.state.services, ai=ai)


async def test_requesting_drafts_without_a_provider_is_503(
    app: FastAPI, world: World, db_session: AsyncSession
) -> None:
    scene = await _scene(db_session, await _our_company(db_session, world))
    response = await world.client.post(
        f"/api/candidate-sessions/{scene.cs.id}/ai-drafts", headers=world.recruiter
    )
    assert_problem(response, 503, "AI_NOT_CONFIGURED")
    assert (await db_session.scalars(select(AiScorecardDraft))).all() == []


async def test_drafts_are_queued_then_listed_with_their_usage(
    app: FastAPI, world: World, db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session, await _our_company(db_session, world))
    keys = await _day_keys(db_session, scene)
    ai = FakeAi().then(_answer(keys))
    _with_ai(app, ai)
    path = f"/api/candidate-sessions/{scene.cs.id}/ai-drafts"

    queued = await world.client.post(path, headers=world.recruiter)
    assert queued.status_code == 202, queued.text
    assert queued.json() == {"dayIndexes": [1]}
    listed = await world.client.get(path, headers=world.recruiter)
    assert [(d["dayIndex"], d["status"], d["usage"]) for d in listed.json()] == [
        (1, "queued", None)
    ]

    await _run(database, scene, ai)

    (draft,) = (await world.client.get(path, headers=world.recruiter)).json()
    assert draft["status"] == "ready"
    assert draft["droppedEvidence"] == 0
    assert [e["criterionKey"] for e in draft["content"]["entries"]] == keys
    assert draft["content"]["summary"].startswith(CANDIDATE)
    assert draft["usage"] == {
        "provider": "fake",
        "model": f"{FAKE_MODEL}-snapshot",
        "promptHash": prompt_hash(ai.requests[0]),
        "inputTokens": 1000,
        "outputTokens": 200,
        "costUsd": 0.006,
    }
    # Nothing left to draft.
    again = await world.client.post(path, headers=world.recruiter)
    assert again.json() == {"dayIndexes": []}


async def test_requesting_drafts_when_the_month_is_spent_is_refused(
    app: FastAPI, world: World, db_session: AsyncSession
) -> None:
    company = await _our_company(db_session, world)
    scene = await _scene(db_session, company)
    company.ai_monthly_budget_usd = Decimal(0)
    await db_session.flush()
    _with_ai(app, FakeAi())

    response = await world.client.post(
        f"/api/candidate-sessions/{scene.cs.id}/ai-drafts", headers=world.recruiter
    )

    body = assert_problem(response, 409, "AI_BUDGET_EXHAUSTED")
    assert "$0.00" in body["detail"]


async def test_another_companys_recruiter_gets_404_on_the_draft_routes(
    app: FastAPI, world: World, db_session: AsyncSession
) -> None:
    scene = await _scene(db_session, await _our_company(db_session, world))
    _with_ai(app, FakeAi())
    path = f"/api/candidate-sessions/{scene.cs.id}/ai-drafts"
    for method in ("GET", "POST"):
        response = await world.client.request(method, path, headers=world.outsider)
        assert_problem(response, 404, "CANDIDATE_SESSION_NOT_FOUND")
    assert (await db_session.scalars(select(AiScorecardDraft))).all() == []


async def test_a_code_day_prompt_carries_the_bounded_diff_and_the_test_results(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    workspace = await create_workspace(db_session, scene.cs)
    code_task = scene.tasks[1]
    run = await create_test_run(db_session, workspace, code_task, status="passed")
    run.passed, run.failed, run.total = 1, 1, 2
    await create_test_case_result(db_session, run, position=0, name="test_refund_once")
    failing = await create_test_case_result(
        db_session, run, position=1, name="test_refund_twice", status="failed"
    )
    failing.message = "AssertionError: charged twice " + "x" * 5_000
    huge = "+" + "y" * 50_000
    submission = await create_submission(
        db_session, scene.cs, code_task, content_text=None, workspace=workspace, test_run=run
    )
    submission.cutoff_sha = "c" * 40
    submission.diff_summary = {
        "aheadBy": 3,
        "behindBy": 0,
        "totalCommits": 3,
        "filesChanged": 2,
        "additions": 50_001,
        "deletions": 0,
        "truncated": False,
        "files": [
            {
                "filename": f"app/{name}.py",
                "status": "modified",
                "additions": 1,
                "deletions": 0,
                "changes": 1,
                "patch": patch,
                "patchTruncated": False,
                "previousFilename": None,
            }
            for name, patch in (("refunds", "@@ -1 +1 @@\n+idempotency_key = key"), ("big", huge))
        ],
    }
    await db_session.flush()
    keys = await _day_keys(db_session, scene, day=2)
    assert await queue_missing_drafts(db_session, scene.cs.id) == [1, 2]
    ai = FakeAi().then(_answer(keys))

    context = ai_job_context(database, AI_SCORECARD_DRAFT, ai)
    await AI_SCORECARD_DRAFT.handler(
        context, DraftRef(candidate_session_id=scene.cs.id, day_index=2)
    )

    (request,) = ai.requests
    prompt = request.prompt
    assert f"Submission id: {submission.id}" in prompt
    assert "c" * 40 in prompt
    assert "app/refunds.py" in prompt
    assert "+idempotency_key = key" in prompt
    assert "app/big.py" in prompt
    assert f"Final test run id {run.id}" in prompt
    assert "test_refund_twice: failed: AssertionError: charged twice" in prompt
    # The big patch and the long message are cut; the prompt stays bounded.
    assert "y" * 6_001 not in prompt
    assert "x" * 501 not in prompt
    assert len(prompt) < 20_000
    assert (await _draft(db_session, scene, day=2)).status == "ready"


async def test_the_worker_runs_queued_drafts_with_its_own_provider(
    app: FastAPI, world: World, db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session, await _our_company(db_session, world))
    keys = await _day_keys(db_session, scene)
    _with_ai(app, FakeAi())
    path = f"/api/candidate-sessions/{scene.cs.id}/ai-drafts"
    assert (await world.client.post(path, headers=world.recruiter)).status_code == 202
    worker_ai = FakeAi().then(_answer(keys))
    services = replace(job_services(), ai=worker_ai)
    worker = Worker(
        database,
        job_registry(),
        JobSettings(_env_file=None, concurrency=1),
        services=services,
        metrics=services.metrics,
    )

    await worker.run_until_idle()

    assert len(worker_ai.requests) == 1
    (draft,) = (await world.client.get(path, headers=world.recruiter)).json()
    assert draft["status"] == "ready"
