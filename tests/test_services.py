"""The runtime services (`app.services`): without GitHub credentials, a route that needs
GitHub answers the one typed 503 before doing anything else, and a job that needs GitHub
goes straight to `dead` instead of retrying."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from app.core.clock import SystemClock
from app.core.db import Database
from app.jobs.registry import JobContext, PermanentJobError
from app.workspaces.jobs import REVOKE_ACCESS
from tests.support.api import assert_problem
from tests.support.identity import IdentityProvider
from tests.support.jobs import job_services


async def test_a_route_that_needs_github_answers_503_when_it_is_not_configured(
    client: httpx.AsyncClient, idp: IdentityProvider
) -> None:
    token = idp.token(permissions=("candidate:access",), email="ada@example.com")

    response = await client.post(
        "/api/tasks/1/codespace/init",
        json={"githubUsername": "octocat"},
        headers={"Authorization": f"Bearer {token}", "x-candidate-session-id": "1"},
    )

    problem = assert_problem(response, 503, "GITHUB_NOT_CONFIGURED")
    assert problem["detail"] == "GitHub is not configured on this server."


async def test_a_job_that_needs_github_is_permanent_when_it_is_not_configured(
    database: Database,
) -> None:
    services = dataclasses.replace(job_services(), github=None)
    context = JobContext(
        database=database,
        clock=SystemClock(),
        services=services,
        job_id=1,
        attempt=1,
        max_attempts=REVOKE_ACCESS.max_attempts,
    )

    with pytest.raises(PermanentJobError, match="GitHub is not configured"):
        await REVOKE_ACCESS.run(context, {"candidateSessionId": 1})
