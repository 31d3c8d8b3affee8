"""The fit profile's signals against hand-built rows in real PostgreSQL, and the fingerprint
of their inputs: it moves when a run, grading, submission, extension, fingerprint row or
similarity pair arrives, and not for anything the signals do not read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.evaluation import signals
from app.grading.models import Grading
from app.runs.models import TestRun
from app.simulations.models import Simulation, Task
from app.submissions.models import Submission
from app.workspaces.models import TestRunStatus, Workspace
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_event,
    create_simulation,
    create_submission,
    create_tasks,
    create_test_run,
    create_workspace,
)
from tests.support.similarity import add_fingerprints, add_pair, create_code_submission

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
CUTOFF = "c" * 40


@dataclass
class Scene:
    simulation: Simulation
    cs: CandidateSession
    tasks: list[Task]
    workspace: Workspace


async def _scene(db_session: AsyncSession) -> Scene:
    company = await create_company(db_session)
    simulation = await create_simulation(db_session, company)
    tasks = await create_tasks(db_session, simulation)
    cs = await create_candidate_session(db_session, simulation, status="in_progress")
    cs.started_at = T0
    workspace = await create_workspace(db_session, cs)
    await db_session.flush()
    return Scene(simulation, cs, tasks, workspace)


async def _run(
    db_session: AsyncSession,
    scene: Scene,
    task: Task,
    at: datetime,
    *,
    status: TestRunStatus = "failed",
    passed: int = 0,
    total: int = 5,
    head_sha: str | None = None,
) -> TestRun:
    run = await create_test_run(db_session, scene.workspace, task, status=status)
    run.created_at, run.completed_at = at, at + timedelta(minutes=2)
    run.passed, run.failed, run.total = passed, total - passed, total
    run.result_code, run.head_sha = "OK", head_sha
    await db_session.flush()
    return run


async def _code_submission(
    db_session: AsyncSession, scene: Scene, task: Task, at: datetime, final_run: TestRun
) -> Submission:
    submission = await create_submission(
        db_session,
        scene.cs,
        task,
        content_text=None,
        workspace=scene.workspace,
        test_run=final_run,
    )
    submission.submitted_at, submission.cutoff_sha, submission.late = at, CUTOFF, True
    submission.diff_summary = {
        "aheadBy": 3,
        "behindBy": 0,
        "totalCommits": 3,
        "filesChanged": 2,
        "additions": 41,
        "deletions": 6,
        "truncated": False,
        "files": [],
    }
    submission.integrity_findings = [
        {"path": "tests/test_refunds.py", "change": "modified", "rule": "tests/**"}
    ]
    await db_session.flush()
    return submission


async def _grading(db_session: AsyncSession, submission: Submission) -> Grading:
    grading = Grading(
        submission_id=submission.id,
        status="completed",
        grader_repo="tenon-templates/python-fastapi-grader",
        candidate_repo="tenon-workspaces/repo",
        candidate_sha=CUTOFF,
        passed=7,
        failed=1,
        total=8,
        hidden_passed=3,
        hidden_total=3,
        visible_passed=4,
        visible_total=5,
        result_code="OK",
    )
    db_session.add(grading)
    await db_session.flush()
    return grading


async def _inputs(db_session: AsyncSession, cs: CandidateSession) -> signals.SignalInputs:
    return (await signals.load_inputs(db_session, [cs.id]))[cs.id]


async def _fingerprint(db_session: AsyncSession, cs: CandidateSession) -> str:
    return signals.fingerprint(await _inputs(db_session, cs))


async def test_signals_of_a_session_day_by_day(db_session: AsyncSession) -> None:
    scene = await _scene(db_session)
    design, code, *_ = scene.tasks
    text = await create_submission(db_session, scene.cs, design)
    text.submitted_at = T0 + timedelta(hours=1)
    await _run(db_session, scene, code, T0 + timedelta(hours=2), passed=3)
    green = await _run(db_session, scene, code, T0 + timedelta(hours=3), status="passed", passed=5)
    latest = await _run(db_session, scene, code, T0 + timedelta(hours=4), passed=4)
    # Still running: says nothing yet.
    await create_test_run(db_session, scene.workspace, code, status="running")
    final = await _run(
        db_session, scene, code, T0 + timedelta(hours=5, minutes=1), status="passed", passed=5
    )
    final.head_sha = "d" * 40  # not the cutoff
    submission = await _code_submission(
        db_session, scene, code, T0 + timedelta(hours=5), final_run=final
    )
    await _grading(db_session, submission)
    await create_event(
        db_session, scene.simulation, candidate_session=scene.cs, type="session.extended"
    )

    computed = signals.compute(await _inputs(db_session, scene.cs))
    body = computed.model_dump(mode="json", by_alias=True)

    assert body["sessionStatus"] == "in_progress"
    assert (body["daysSubmitted"], body["daysTotal"], body["lateDays"]) == (2, 5, 1)
    assert body["extensions"] == 1
    assert body["similarity"] is None
    day1, day2, day3, day4, _ = body["days"]
    assert day1["startedAt"] == "2026-12-01T09:00:00Z"
    assert day1["durationSeconds"] == 3600
    assert day1["submissionKind"] == "text"
    assert day1["visibleTests"] is day1["grader"] is day1["churn"] is None
    assert day1["integrityFlags"] == []

    assert day2["startedAt"] == "2026-12-01T10:00:00Z"
    assert day2["submittedAt"] == "2026-12-01T14:00:00Z"
    assert day2["durationSeconds"] == 4 * 3600
    assert (day2["submissionKind"], day2["late"]) == ("code", True)
    visible = day2["visibleTests"]
    assert (visible["runs"], visible["passingRuns"]) == (3, 1)
    assert visible["latestRun"]["runId"] == latest.id
    assert visible["bestRun"]["runId"] == green.id
    assert visible["finalRun"]["runId"] == final.id
    assert visible["firstGreenAt"] == "2026-12-01T12:00:00Z"
    # From the day's start (day 1's submission) to the green run's request.
    assert visible["timeToFirstGreenSeconds"] == 2 * 3600
    assert day2["grader"] == {
        "status": "completed",
        "passed": 7,
        "failed": 1,
        "total": 8,
        "hiddenPassed": 3,
        "hiddenTotal": 3,
        "visiblePassed": 4,
        "visibleTotal": 5,
        "resultCode": "OK",
        "errorCode": None,
    }
    assert day2["integrityFlags"] == [
        "modified:tests/test_refunds.py",
        "run-not-at-cutoff",
        "results-mismatch",
    ]
    assert day2["churn"] == {
        "filesChanged": 2,
        "additions": 41,
        "deletions": 6,
        "commits": 3,
        "truncated": False,
    }
    assert body["integrityFlagCount"] == 3
    # Code turned in without a fingerprint row (similarity off); text days have none at all.
    assert day2["similarity"] == {
        "status": "not_fingerprinted",
        "skipReason": None,
        "matches": 0,
        "closest": None,
    }
    assert day1["similarity"] is None

    # Day 3 began with day 2's submission and has no runs yet; day 4 has not begun.
    assert day3["startedAt"] == "2026-12-01T14:00:00Z"
    assert day3["submittedAt"] is None
    assert day3["visibleTests"]["runs"] == 0
    assert day3["visibleTests"]["timeToFirstGreenSeconds"] is None
    assert day4["startedAt"] is None
    assert day4["submissionKind"] is None


async def test_the_best_run_is_the_earliest_with_the_most_passed(db_session: AsyncSession) -> None:
    scene = await _scene(db_session)
    code = scene.tasks[1]
    first = await _run(db_session, scene, code, T0 + timedelta(hours=1), passed=4)
    await _run(db_session, scene, code, T0 + timedelta(hours=2), passed=4)
    await _run(db_session, scene, code, T0 + timedelta(hours=3), passed=2)

    day2 = signals.compute(await _inputs(db_session, scene.cs)).days[1]

    assert day2.visible_tests is not None
    best = day2.visible_tests.best_run
    assert best is not None
    assert best.run_id == first.id
    # No run passed every test: no green, and day 2 has not started (day 1 is open).
    assert day2.visible_tests.first_green_at is None
    assert day2.started_at is None


async def test_the_fingerprint_is_stable_while_nothing_it_reads_changes(
    db_session: AsyncSession,
) -> None:
    scene = await _scene(db_session)
    code = scene.tasks[1]
    run = await _run(db_session, scene, code, T0 + timedelta(hours=1), passed=2)
    before = await _fingerprint(db_session, scene.cs)
    assert before == await _fingerprint(db_session, scene.cs)

    # Columns the signals do not read, and runs still under way.
    run.stdout = "more output"
    scene.workspace.codespace_url = "https://codespaces.example/x"
    scene.cs.email_attempts += 1
    await create_test_run(db_session, scene.workspace, code, status="queued")
    other = await create_candidate_session(db_session, scene.simulation, status="in_progress")
    other_workspace = await create_workspace(db_session, other)
    await create_test_run(db_session, other_workspace, code, status="passed")
    await db_session.flush()

    assert await _fingerprint(db_session, scene.cs) == before


async def test_the_fingerprint_moves_with_each_new_input(db_session: AsyncSession) -> None:
    scene = await _scene(db_session)
    design, code, *_ = scene.tasks
    seen = {await _fingerprint(db_session, scene.cs)}

    async def changed() -> bool:
        current = await _fingerprint(db_session, scene.cs)
        new = current not in seen
        seen.add(current)
        return new

    submission = await create_submission(db_session, scene.cs, design)
    assert await changed()
    run = await _run(db_session, scene, code, T0 + timedelta(hours=2), passed=3)
    assert await changed()
    run.status, run.passed, run.failed = "passed", 5, 0  # the same run, rewritten
    await db_session.flush()
    assert await changed()
    final = await _run(db_session, scene, code, T0 + timedelta(hours=3), status="passed", passed=5)
    code_submission = await _code_submission(
        db_session, scene, code, T0 + timedelta(hours=3), final_run=final
    )
    assert await changed()
    grading = await _grading(db_session, code_submission)
    assert await changed()
    grading.status = "error"
    await db_session.flush()
    assert await changed()
    await create_event(
        db_session, scene.simulation, candidate_session=scene.cs, type="session.extended"
    )
    assert await changed()
    scene.cs.status = "completed"
    await db_session.flush()
    assert await changed()
    submission.late = True
    await db_session.flush()
    assert await changed()
    # Similarity: the fingerprint job's row, its end, then a pair with another candidate.
    fingerprints = await add_fingerprints(db_session, code_submission, status="pending")
    assert await changed()
    fingerprints.status = "ready"
    await db_session.flush()
    assert await changed()
    other = await create_candidate_session(db_session, scene.simulation, status="in_progress")
    copy = await create_code_submission(db_session, other, code)
    await add_fingerprints(db_session, copy)
    assert not await changed()  # another candidate's code alone changes nothing here
    await add_pair(db_session, code_submission, copy, score=0.5)
    assert await changed()


async def test_inputs_are_loaded_for_many_sessions_at_once(db_session: AsyncSession) -> None:
    scene = await _scene(db_session)
    other = await create_candidate_session(db_session, scene.simulation, status="in_progress")
    await create_submission(db_session, other, scene.tasks[0])

    loaded = await signals.load_inputs(db_session, [scene.cs.id, other.id, 2**62])

    assert loaded.keys() == {scene.cs.id, other.id}
    assert [len(loaded[cs_id].submissions) for cs_id in (scene.cs.id, other.id)] == [0, 1]
    assert signals.fingerprint(loaded[scene.cs.id]) != signals.fingerprint(loaded[other.id])


async def test_a_column_the_fingerprint_does_not_cover_cannot_be_read(
    db_session: AsyncSession, database: Database
) -> None:
    scene = await _scene(db_session)
    await _run(db_session, scene, scene.tasks[1], T0, passed=1)
    async with database.sessionmaker() as fresh:
        inputs = (await signals.load_inputs(fresh, [scene.cs.id]))[scene.cs.id]
        assert inputs.runs[0].passed == 1
        with pytest.raises(InvalidRequestError):
            _ = inputs.runs[0].stdout
        with pytest.raises(InvalidRequestError):
            _ = inputs.candidate_session.invite_email
