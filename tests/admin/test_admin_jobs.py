"""Operators' view of the queue: list jobs by state, retry failed and dead ones."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.jobs.models import Job, JobState
from tests.support.app import ADMIN_KEY

ADMIN = {"x-admin-key": ADMIN_KEY}


async def _job(
    session: AsyncSession, state: JobState, *, dedupe_key: str | None = None, attempts: int = 0
) -> Job:
    job = Job(
        type="test.job",
        payload={"n": 1},
        state=state,
        attempts=attempts,
        max_attempts=3,
        dedupe_key=dedupe_key,
        last_error="boom" if state in ("failed", "dead") else None,
    )
    session.add(job)
    await session.flush()
    return job


async def test_jobs_are_listed_newest_first_filtered_and_paginated(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    dead_old = await _job(db_session, "dead", attempts=3)
    await _job(db_session, "pending")
    dead_new = await _job(db_session, "dead", attempts=3)
    failed = await _job(db_session, "failed", attempts=1)

    first = await client.get("/api/admin/jobs?state=dead&limit=1", headers=ADMIN)
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["total"] == 2
    assert [item["id"] for item in page["items"]] == [dead_new.id]
    assert page["items"][0]["lastError"] == "boom"
    assert page["items"][0]["maxAttempts"] == 3

    second = await client.get(
        f"/api/admin/jobs?state=dead&limit=1&cursor={page['nextCursor']}", headers=ADMIN
    )
    assert [item["id"] for item in second.json()["items"]] == [dead_old.id]

    both = await client.get("/api/admin/jobs?state=failed&state=dead", headers=ADMIN)
    assert {item["id"] for item in both.json()["items"]} == {dead_old.id, dead_new.id, failed.id}
    assert both.json()["nextCursor"] is None


async def test_listing_refuses_unknown_states_and_needs_the_admin_key(
    client: httpx.AsyncClient,
) -> None:
    bad = await client.get("/api/admin/jobs?state=exploded", headers=ADMIN)
    assert bad.status_code == 422
    assert bad.json()["code"] == "VALIDATION_FAILED"
    assert (await client.get("/api/admin/jobs")).status_code == 401


async def test_retry_makes_a_dead_job_pending_with_fresh_attempts(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    dead = await _job(db_session, "dead", attempts=3)
    response = await client.post(f"/api/admin/jobs/{dead.id}/retry", headers=ADMIN)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["state"], body["attempts"], body["finishedAt"]) == ("pending", 0, None)
    await db_session.refresh(dead)
    assert dead.state == "pending"


async def test_retry_of_running_or_unknown_jobs_is_refused(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    running = await _job(db_session, "running", attempts=1)
    conflict = await client.post(f"/api/admin/jobs/{running.id}/retry", headers=ADMIN)
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "JOB_NOT_RETRYABLE"
    missing = await client.post("/api/admin/jobs/999999999/retry", headers=ADMIN)
    assert missing.status_code == 404
    assert missing.json()["code"] == "JOB_NOT_FOUND"


async def test_retry_refuses_to_duplicate_a_waiting_job_with_the_same_key(
    client: httpx.AsyncClient, db_session: AsyncSession
) -> None:
    dead = await _job(db_session, "dead", dedupe_key="session-9", attempts=3)
    await _job(db_session, "pending", dedupe_key="session-9")
    response = await client.post(f"/api/admin/jobs/{dead.id}/retry", headers=ADMIN)
    assert response.status_code == 409
    assert response.json()["code"] == "JOB_DUPLICATE_PENDING"
    await db_session.refresh(dead)
    assert dead.state == "dead"
