"""The candidate's run-status poll: one SELECT, exactly the run's own columns and tests, and
the same problems as before for a run that is not the caller's to see."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.runs.models import TestRun
from app.simulations.models import Task
from tests.support.api import assert_problem, bearer
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_simulation,
    create_task,
    create_test_case_result,
    create_test_run,
    create_workspace,
)
from tests.support.identity import IdentityProvider
from tests.support.statements import recorded_statements

SUBJECT = "auth0|poller"


@dataclass(frozen=True)
class Scene:
    cs_id: int
    code_task: Task
    design_task: Task
    run: TestRun


async def _scene(session: AsyncSession, *, subject: str = SUBJECT) -> Scene:
    company = await create_company(session)
    simulation = await create_simulation(session, company)
    design_task = await create_task(session, simulation, day_index=1, type="design")
    code_task = await create_task(session, simulation, day_index=2, type="code")
    cs = await create_candidate_session(session, simulation, status="in_progress")
    cs.auth0_sub = subject
    workspace = await create_workspace(session, cs)
    workspace.status = "ready"
    workspace.repo_full_name = f"tenon-workspaces/poll-{cs.id}"
    run = await create_test_run(session, workspace, code_task, status="failed")
    run.passed, run.failed, run.total, run.stdout = 1, 1, 2, "1 passed, 1 failed"
    await create_test_case_result(session, run, position=1, name="test_b", status="failed")
    await create_test_case_result(session, run, position=0, name="test_a")
    await session.flush()
    return Scene(cs.id, code_task, design_task, run)


def _headers(idp: IdentityProvider, cs_id: int, subject: str = SUBJECT) -> dict[str, str]:
    token = idp.token(subject=subject, permissions=("candidate:access",), email=None)
    return bearer(token) | {"x-candidate-session-id": str(cs_id)}


async def test_a_poll_is_one_select_with_the_run_and_its_tests_in_order(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession, engine: AsyncEngine
) -> None:
    scene = await _scene(db_session)
    url = f"/api/tasks/{scene.code_task.id}/run/{scene.run.id}"
    headers = _headers(idp, scene.cs_id)

    with recorded_statements(engine) as statements:
        response = await client.get(url, headers=headers)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["runId"] == scene.run.id
    assert (body["status"], body["passed"], body["failed"], body["total"]) == ("failed", 1, 1, 2)
    assert body["stdout"] == "1 passed, 1 failed"
    assert body["pollAfterMs"] is None
    assert [(t["name"], t["status"]) for t in body["tests"]] == [
        ("test_a", "passed"),
        ("test_b", "failed"),
    ]
    assert len(statements) == 1, statements
    assert statements[0].lstrip().upper().startswith("SELECT")


async def test_a_run_without_tests_polls_with_an_empty_list(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> None:
    scene = await _scene(db_session)
    workspace_id = scene.run.workspace_id
    queued = TestRun(workspace_id=workspace_id, task_id=scene.code_task.id, status="dispatching")
    db_session.add(queued)
    await db_session.flush()

    response = await client.get(
        f"/api/tasks/{scene.code_task.id}/run/{queued.id}", headers=_headers(idp, scene.cs_id)
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["phase"], body["tests"]) == ("queued", "dispatching", [])
    assert body["pollAfterMs"] == 2000


async def test_another_candidates_run_is_answered_as_a_missing_session(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> None:
    scene = await _scene(db_session)
    url = f"/api/tasks/{scene.code_task.id}/run/{scene.run.id}"

    response = await client.get(url, headers=_headers(idp, scene.cs_id, "auth0|someone-else"))

    assert_problem(response, 404, "CANDIDATE_SESSION_NOT_FOUND")


async def test_a_run_polled_under_the_wrong_task_or_id_is_not_found(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> None:
    scene = await _scene(db_session)
    other = await _scene(db_session, subject="auth0|other-poller")
    h = _headers(idp, scene.cs_id)
    task_id, run_id = scene.code_task.id, scene.run.id

    # A task of another simulation, a task without a repository, another session's run.
    foreign_task = await client.get(f"/api/tasks/{other.code_task.id}/run/{run_id}", headers=h)
    design = await client.get(f"/api/tasks/{scene.design_task.id}/run/{run_id}", headers=h)
    foreign_run = await client.get(f"/api/tasks/{task_id}/run/{other.run.id}", headers=h)

    assert_problem(foreign_task, 404, "TASK_NOT_FOUND")
    assert_problem(design, 409, "NOT_A_CODE_TASK")
    assert_problem(foreign_run, 404, "RUN_NOT_FOUND")
