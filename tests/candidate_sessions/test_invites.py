"""Invite links over HTTP: only the invited candidate claims and acts on a session; unknown,
expired and lapsed invites; resending the invite email, with or without a new link."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.simulations.models import Simulation
from tests.support.api import TEXT_TASKS, assert_problem, bearer
from tests.support.factories import create_candidate_session
from tests.support.recruiting import (
    CANDIDATE_EMAIL,
    RecordingSender,
    World,
    invite_candidate,
    new_simulation,
    run_jobs,
)


async def test_other_candidates_cannot_claim_or_act_on_a_session(world: World) -> None:
    simulation = await new_simulation(world, tasks=TEXT_TASKS)
    task_id = simulation["tasks"][0]["id"]  # type: ignore[index]
    invite = (await invite_candidate(world, simulation["id"])).json()
    token, cs_id = invite["token"], invite["candidateSessionId"]

    stranger = bearer(
        world.idp.token(
            subject="auth0|eve", permissions=("candidate:access",), email="eve@example.com"
        )
    )
    unverified = bearer(
        world.idp.token(
            subject="auth0|ada2",
            permissions=("candidate:access",),
            email=CANDIDATE_EMAIL,
            email_verified=False,
        )
    )
    same_email_other_account = bearer(
        world.idp.token(
            subject="auth0|ada-alt", permissions=("candidate:access",), email=CANDIDATE_EMAIL
        )
    )
    link = f"/api/candidate/session/{token}"
    claim = f"{link}/claim"
    for send in (world.client.get, world.client.post):
        url = link if send == world.client.get else claim
        assert_problem(await send(url, headers=stranger), 403, "INVITE_EMAIL_MISMATCH")
        unverified_answer = await send(url, headers=unverified)
        problem = assert_problem(unverified_answer, 403, "EMAIL_NOT_VERIFIED")
        assert "verify" in problem["detail"]  # the portal's cue to ask for verification
    # Opening the link as someone else changed nothing: the invited candidate still claims it.
    candidates = await world.client.get(
        f"/api/simulations/{simulation['id']}/candidates", headers=world.recruiter
    )
    assert [row["claimedAt"] for row in candidates.json()] == [None]
    assert (await world.client.get(link, headers=world.candidate)).status_code == 200
    for send, url in ((world.client.get, link), (world.client.post, claim)):
        assert_problem(
            await send(url, headers=same_email_other_account), 409, "INVITE_ALREADY_CLAIMED"
        )
    assert_problem(
        await world.client.get(f"/api/candidate/session/{cs_id}/current_task", headers=stranger),
        404,
        "CANDIDATE_SESSION_NOT_FOUND",
    )
    submit = await world.client.post(
        f"/api/tasks/{task_id}/submit",
        json={"contentText": "mine now"},
        headers=stranger | {"x-candidate-session-id": str(cs_id)},
    )
    assert_problem(submit, 404, "CANDIDATE_SESSION_NOT_FOUND")
    other_simulation = await new_simulation(world, tasks=TEXT_TASKS)
    foreign_task = other_simulation["tasks"][0]["id"]  # type: ignore[index]
    wrong_task = await world.client.post(
        f"/api/tasks/{foreign_task}/submit",
        json={"contentText": "x"},
        headers=world.candidate | {"x-candidate-session-id": str(cs_id)},
    )
    assert_problem(wrong_task, 404, "TASK_NOT_FOUND")
    as_recruiter = await world.client.get(
        f"/api/candidate/session/{token}", headers=world.recruiter
    )
    assert_problem(as_recruiter, 403, "PERMISSION_DENIED")


async def test_unknown_and_expired_invite_links(world: World, db_session: AsyncSession) -> None:
    unknown = await world.client.get("/api/candidate/session/not-a-token", headers=world.candidate)
    assert_problem(unknown, 404, "INVITE_TOKEN_INVALID")
    simulation = await new_simulation(world, tasks=TEXT_TASKS)
    sim = await db_session.get(Simulation, simulation["id"])
    assert sim is not None
    await create_candidate_session(
        db_session,
        sim,
        token="expired-token",
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    expired = await world.client.get(
        "/api/candidate/session/expired-token", headers=world.candidate
    )
    assert_problem(expired, 410, "INVITE_EXPIRED")
    claim = await world.client.post(
        "/api/candidate/session/expired-token/claim", headers=world.candidate
    )
    assert_problem(claim, 410, "INVITE_EXPIRED")


async def test_inviting_again_after_the_invite_lapsed_starts_a_fresh_session(
    world: World, db_session: AsyncSession
) -> None:
    simulation = await new_simulation(world, tasks=TEXT_TASKS)
    first = (await invite_candidate(world, simulation["id"])).json()
    lapsed = await db_session.get(CandidateSession, first["candidateSessionId"])
    assert lapsed is not None
    lapsed.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    await db_session.flush()

    again = await invite_candidate(world, simulation["id"])
    assert again.status_code == 201, again.text
    assert again.json()["candidateSessionId"] != first["candidateSessionId"]
    await db_session.refresh(lapsed)
    assert lapsed.status == "expired"


async def test_resend_queues_the_email_again_and_rotation_replaces_the_link(
    world: World, database: Database
) -> None:
    simulation = await new_simulation(world, tasks=TEXT_TASKS)
    invite = (await invite_candidate(world, simulation["id"])).json()
    sender = RecordingSender()
    await run_jobs(database, sender)
    base = f"/api/simulations/{simulation['id']}/candidates/{invite['candidateSessionId']}"

    resent = await world.client.post(f"{base}/invite/resend", headers=world.recruiter)
    assert resent.status_code == 200, resent.text
    assert resent.json()["outcome"] == "resent"
    assert resent.json()["token"] is None
    await run_jobs(database, sender)
    assert invite["inviteUrl"] in sender.sent[1].text  # the same link again

    rotated = await world.client.post(
        f"{base}/invite/resend", json={"rotateToken": True}, headers=world.recruiter
    )
    new_token = rotated.json()["token"]
    assert new_token not in (None, invite["token"])
    await run_jobs(database, sender)
    assert rotated.json()["inviteUrl"] in sender.sent[2].text
    old = await world.client.get(
        f"/api/candidate/session/{invite['token']}", headers=world.candidate
    )
    assert_problem(old, 404, "INVITE_TOKEN_INVALID")
    new = await world.client.get(f"/api/candidate/session/{new_token}", headers=world.candidate)
    assert new.status_code == 200
