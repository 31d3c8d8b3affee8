"""The simulation's owner is emailed once when a candidate completes every day and once when
every assigned reviewer has submitted, through the email job."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.evaluation.models import EvaluationNotification
from app.evaluation.notifications import SEND_OWNER_EMAIL, notify_owner
from app.jobs.models import Job
from tests.support.recruiting import RecordingSender, World, run_jobs
from tests.support.reviewing import ReviewScene, review_scene

OWNER_EMAIL = "rita@ours.example"


@pytest.fixture
async def scene(world: World, db_session: AsyncSession) -> ReviewScene:
    return await review_scene(world, db_session)


async def _owner_jobs(db_session: AsyncSession, cs_id: int) -> list[str]:
    jobs = await db_session.scalars(
        select(Job).where(Job.type == SEND_OWNER_EMAIL.name).order_by(Job.id)
    )
    return [job.payload["kind"] for job in jobs if job.payload["candidateSessionId"] == cs_id]


async def _notifications(db_session: AsyncSession, cs_id: int) -> list[str]:
    rows = await db_session.scalars(
        select(EvaluationNotification.kind)
        .where(EvaluationNotification.candidate_session_id == cs_id)
        .order_by(EvaluationNotification.id)
    )
    return list(rows.all())


async def test_the_owner_is_emailed_once_when_the_candidate_completes(
    scene: ReviewScene, db_session: AsyncSession, database: Database
) -> None:
    await scene.complete_candidate()
    assert await _owner_jobs(db_session, scene.cs_id) == ["candidate_completed"]
    assert await _notifications(db_session, scene.cs_id) == ["candidate_completed"]
    # A second attempt (a retried hook, a concurrent twin) queues nothing.
    assert await notify_owner(db_session, scene.cs_id, "candidate_completed") is False
    assert await _owner_jobs(db_session, scene.cs_id) == ["candidate_completed"]

    sender = RecordingSender()
    await run_jobs(database, sender)
    [email] = [message for message in sender.sent if message.to == OWNER_EMAIL]
    assert email.subject == "Ada <b>Lovelace</b> completed Payments backend"
    assert 'has turned in every day of "Payments backend"' in email.text
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in email.html  # the candidate's name, escaped


async def test_no_email_before_the_last_day(scene: ReviewScene, db_session: AsyncSession) -> None:
    claimed = await scene.client.post(
        f"/api/candidate/session/{scene.invite_token}/claim", headers=scene.world.candidate
    )
    assert claimed.status_code == 200
    first = scene.simulation["tasks"][0]
    submitted = await scene.client.post(
        f"/api/tasks/{first['id']}/submit",
        json={"contentText": "Day one."},
        headers=scene.world.candidate | {"x-candidate-session-id": str(scene.cs_id)},
    )
    assert submitted.status_code == 201
    assert await _owner_jobs(db_session, scene.cs_id) == []


async def test_the_owner_is_emailed_once_when_every_assigned_reviewer_submitted(
    scene: ReviewScene, db_session: AsyncSession, database: Database
) -> None:
    assigned = await scene.set_reviewers("bea", "carl")
    assert assigned.status_code == 200
    await scene.score("bea")
    await scene.score("rita")  # not assigned: scores, but is not waited for
    assert await _owner_jobs(db_session, scene.cs_id) == []

    await scene.score("carl")
    assert await _owner_jobs(db_session, scene.cs_id) == ["reviews_completed"]

    # An edit, a reassignment of the same reviewers: still once.
    entries = await scene.entries(level=1)
    assert (await scene.save("carl", entries, "no")).status_code == 200
    await scene.set_reviewers("carl")
    await scene.set_reviewers("bea", "carl")
    assert await _owner_jobs(db_session, scene.cs_id) == ["reviews_completed"]
    assert await _notifications(db_session, scene.cs_id) == ["reviews_completed"]

    sender = RecordingSender()
    await run_jobs(database, sender)
    [email] = [message for message in sender.sent if message.to == OWNER_EMAIL]
    assert email.subject == "Reviews complete: Ada <b>Lovelace</b>, Payments backend"
    assert "All 2 assigned reviewers have submitted" in email.text


async def test_narrowing_the_reviewers_to_those_who_submitted_notifies(
    scene: ReviewScene, db_session: AsyncSession
) -> None:
    await scene.set_reviewers("bea", "carl")
    await scene.score("bea")
    assert await _owner_jobs(db_session, scene.cs_id) == []
    await scene.set_reviewers("bea")
    assert await _owner_jobs(db_session, scene.cs_id) == ["reviews_completed"]


async def test_no_reviewers_assigned_means_no_reviews_email(
    scene: ReviewScene, db_session: AsyncSession
) -> None:
    await scene.score("bea")
    await scene.score("carl")
    assert await _owner_jobs(db_session, scene.cs_id) == []
