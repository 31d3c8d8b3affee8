"""The simulation's owner is emailed once when a candidate completes every day and once when
every assigned reviewer has submitted, through the email job."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import Database
from app.evaluation.models import EvaluationNotification
from app.evaluation.notifications import SEND_OWNER_EMAIL, notify_owner
from app.jobs.models import Job
from tests.support.api import TEXT_TASKS, bearer, create_simulation
from tests.support.app import make_settings, serving
from tests.support.factories import create_company, create_recruiter
from tests.support.identity import IdentityProvider
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


async def test_concurrent_last_submits_notify_once_and_concurrent_first_saves_make_one_scorecard(
    jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    """On committed data through a real pool: the two last reviewers submitting at once
    still see each other (one email), and one reviewer's racing first saves make one
    scorecard."""
    suffix = uuid.uuid4().hex[:8]
    names = ("owner", "ann", "ben")
    async with jobs_db.session_scope() as session:
        company = await create_company(session)
        users = {
            name: await create_recruiter(session, company, email=f"{name}-{suffix}@race.example")
            for name in names
        }
        ids = {name: user.id for name, user in users.items()}
    headers = {
        name: bearer(idp.token(subject=f"auth0|{name}-{suffix}", email=user.email))
        for name, user in users.items()
    }
    async with serving(make_settings(jobs_database_url, idp.jwks_url), jobs_db) as client:
        simulation = await create_simulation(client, headers["owner"], tasks=TEXT_TASKS[:1])
        invite = await client.post(
            f"/api/simulations/{simulation['id']}/invite",
            json={"candidateName": "Sam", "inviteEmail": f"sam-{suffix}@race.example"},
            headers=headers["owner"],
        )
        cs_id = invite.json()["candidateSessionId"]
        base = f"/api/candidate-sessions/{cs_id}"
        rubric = await client.get(
            f"/api/simulations/{simulation['id']}/rubric", headers=headers["owner"]
        )
        entries = [{"criterionKey": c["key"], "level": 3} for c in rubric.json()["criteria"]]
        body = {"entries": entries, "recommendation": "yes"}

        saves = await asyncio.gather(
            *(
                client.put(f"{base}/scorecards/mine", json=body, headers=headers["ann"])
                for _ in range(4)
            )
        )
        assert [response.status_code for response in saves] == [200] * 4
        assert len({response.json()["id"] for response in saves}) == 1

        assigned = await client.put(
            f"{base}/reviewers",
            json={"reviewerUserIds": [ids["ann"], ids["ben"]]},
            headers=headers["owner"],
        )
        assert assigned.status_code == 200
        saved = await client.put(f"{base}/scorecards/mine", json=body, headers=headers["ben"])
        assert saved.status_code == 200
        submits = await asyncio.gather(
            *(
                client.post(f"{base}/scorecards/mine/submit", headers=headers[name])
                for name in ("ann", "ben")
            )
        )
        assert [response.status_code for response in submits] == [200, 200]
    async with jobs_db.session_scope() as session:
        assert await _notifications(session, cs_id) == ["reviews_completed"]
        assert await _owner_jobs(session, cs_id) == ["reviews_completed"]
