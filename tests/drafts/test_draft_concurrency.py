"""Concurrent saves of one draft on committed data, through the API with a real connection
pool: of the saves made from one version, exactly one wins and the others are 409."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from app.core.db import Database
from tests.support.api import TEXT_TASKS, bearer, create_simulation
from tests.support.app import make_settings, serving
from tests.support.factories import create_company, create_recruiter
from tests.support.identity import IdentityProvider


async def _save_twice(
    client: httpx.AsyncClient, url: str, headers: dict[str, str], version: int
) -> list[httpx.Response]:
    return list(
        await asyncio.gather(
            *(
                client.put(
                    url, json={"contentText": f"tab {tab}", "version": version}, headers=headers
                )
                for tab in range(2)
            )
        )
    )


async def test_concurrent_saves_from_one_version_one_wins(
    jobs_database_url: str, jobs_db: Database, idp: IdentityProvider
) -> None:
    suffix = uuid.uuid4().hex[:8]
    recruiter_email, candidate_email = f"rita-{suffix}@race.example", f"ada-{suffix}@race.example"
    async with jobs_db.session_scope() as session:
        await create_recruiter(session, await create_company(session), email=recruiter_email)
    recruiter = bearer(idp.token(subject=f"auth0|rita-{suffix}", email=recruiter_email))
    candidate = bearer(
        idp.token(
            subject=f"auth0|ada-{suffix}", permissions=("candidate:access",), email=candidate_email
        )
    )
    async with serving(make_settings(jobs_database_url, idp.jwks_url), jobs_db) as client:
        simulation = await create_simulation(client, recruiter, tasks=TEXT_TASKS[:1])
        invite = await client.post(
            f"/api/simulations/{simulation['id']}/invite",
            json={"candidateName": "Ada", "inviteEmail": candidate_email},
            headers=recruiter,
        )
        claimed = await client.get(
            f"/api/candidate/session/{invite.json()['token']}", headers=candidate
        )
        assert claimed.status_code == 200, claimed.text
        headers = candidate | {"x-candidate-session-id": str(invite.json()["candidateSessionId"])}
        url = f"/api/tasks/{simulation['tasks'][0]['id']}/draft"

        for version in (0, 1):
            responses = await _save_twice(client, url, headers, version)
            assert sorted(r.status_code for r in responses) == [200, 409], [
                r.text for r in responses
            ]
            winner = next(r for r in responses if r.status_code == 200)
            loser = next(r for r in responses if r.status_code == 409)
            assert winner.json()["version"] == version + 1
            assert loser.json()["code"] == "DRAFT_VERSION_CONFLICT"
            assert loser.json()["currentVersion"] == version + 1
            stored = await client.get(url, headers=headers)
            assert stored.json() == winner.json()
