"""The candidate's current task: one SELECT that reads which tasks are done, never the
submissions' content, and a session that is not the caller's answered as missing."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.simulations.models import Task
from tests.support.api import assert_problem, bearer
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_simulation,
    create_submission,
    create_tasks,
)
from tests.support.identity import IdentityProvider
from tests.support.statements import recorded_statements

SUBJECT = "auth0|progressing"


async def _session(
    db: AsyncSession, *, subject: str | None = SUBJECT
) -> tuple[CandidateSession, list[Task]]:
    simulation = await create_simulation(db, await create_company(db))
    tasks = await create_tasks(db, simulation)
    cs = await create_candidate_session(db, simulation, status="in_progress")
    cs.auth0_sub = subject
    await db.flush()
    return cs, tasks


def _headers(idp: IdentityProvider, subject: str = SUBJECT) -> dict[str, str]:
    return bearer(idp.token(subject=subject, permissions=("candidate:access",), email=None))


async def test_the_current_task_is_the_first_unsubmitted_one_read_in_one_select(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession, engine: AsyncEngine
) -> None:
    cs, tasks = await _session(db_session)
    cs.started_at = cs.invited_at
    # Day 1 and day 3 are in (out of order is not the product's flow, but shows the rule).
    await create_submission(db_session, cs, tasks[0], content_text="design " * 1000)
    await create_submission(db_session, cs, tasks[2], content_text=None)

    with recorded_statements(engine) as statements:
        response = await client.get(
            f"/api/candidate/session/{cs.id}/current_task", headers=_headers(idp)
        )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["candidateSessionId"] == cs.id
    assert (body["status"], body["state"]) == ("in_progress", "in_progress")
    assert body["currentDayIndex"] == 2
    assert body["currentTask"] == {
        "id": tasks[1].id,
        "dayIndex": 2,
        "title": tasks[1].title,
        "type": "code",
        "description": tasks[1].description,
    }
    assert body["completedTaskIds"] == [tasks[0].id, tasks[2].id]
    assert body["progress"] == {"completed": 2, "current": 3, "total": 5}
    assert body["isComplete"] is False
    assert len(statements) == 1, statements
    # Which tasks are done, not what was handed in.
    assert "content_text" not in statements[0]
    assert "diff_summary" not in statements[0]


async def test_every_task_submitted_is_complete(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> None:
    cs, tasks = await _session(db_session)
    for task in tasks:
        await create_submission(db_session, cs, task)

    response = await client.get(
        f"/api/candidate/session/{cs.id}/current_task", headers=_headers(idp)
    )

    body = response.json()
    assert (body["currentTask"], body["currentDayIndex"], body["isComplete"]) == (None, None, True)
    # Not started (no started_at): current is 0 whatever was submitted.
    assert body["progress"] == {"completed": 5, "current": 0, "total": 5}


async def test_another_candidates_or_an_unknown_session_is_not_found(
    client: httpx.AsyncClient, idp: IdentityProvider, db_session: AsyncSession
) -> None:
    theirs, _ = await _session(db_session, subject="auth0|someone-else")
    unclaimed, _ = await _session(db_session, subject=None)

    for cs_id in (theirs.id, unclaimed.id, unclaimed.id + 1000):
        response = await client.get(
            f"/api/candidate/session/{cs_id}/current_task", headers=_headers(idp)
        )
        assert_problem(response, 404, "CANDIDATE_SESSION_NOT_FOUND")
