"""GitHub client retries: idempotent requests are retried after 5xx answers and transport
errors with capped, jittered backoff; a POST only when it was never sent."""

from __future__ import annotations

import json

import httpx
import pytest
import respx
from pydantic import SecretStr

from app.core.metrics import Metrics
from app.integrations.github.auth import TokenAuth
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubError, GitHubUnavailableError
from tests.support.github_client import (
    API,
    REPO,
    TOKEN,
    FakeTime,
    make_client,
    make_settings,
    repo_url,
    repository,
)
from tests.support.metrics import sample


async def test_get_is_retried_after_5xx_with_backoff(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime, metrics: Metrics
) -> None:
    route = api.get(repo_url()).mock(
        side_effect=[
            httpx.Response(502),
            httpx.Response(503),
            httpx.Response(200, json=repository()),
        ]
    )

    repo = await github.get_repository(REPO)

    assert repo.id == 7
    assert route.call_count == 3
    assert fake_time.sleeps == [0.5, 1.0]
    assert sample(metrics, "tenon_github_retries_total") == 2
    assert sample(metrics, "tenon_github_requests_total", method="GET", status="502") == 1


async def test_get_gives_up_after_max_retries_with_capped_backoff(
    api: respx.MockRouter, http: httpx.AsyncClient, fake_time: FakeTime
) -> None:
    github = make_client(http, fake_time, make_settings(max_retries=6))
    route = api.get(repo_url()).respond(500, json={"message": "Server Error"})

    with pytest.raises(GitHubUnavailableError) as caught:
        await github.get_repository(REPO)

    assert route.call_count == 7
    assert fake_time.sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert caught.value.code == "GITHUB_UNAVAILABLE"
    assert caught.value.status == 503
    assert caught.value.retryable is True
    assert caught.value.github_status == 500


async def test_backoff_jitter_stays_between_half_and_full_delay(
    api: respx.MockRouter, http: httpx.AsyncClient, fake_time: FakeTime
) -> None:
    github = GitHubClient(
        http,
        make_settings(),
        TokenAuth(SecretStr(TOKEN)),
        Metrics(),
        sleep=fake_time.sleep,
        monotonic=fake_time.monotonic,
        jitter=lambda: 0.0,
        clock=fake_time,
    )
    api.get(repo_url()).mock(side_effect=[httpx.Response(502), httpx.Response(200, json={})])

    with pytest.raises(GitHubError):
        await github.get_repository(REPO)

    assert fake_time.sleeps == [0.25]


async def test_post_is_not_retried_after_502(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    route = api.post(f"{API}/repos/tenon-templates/python-fastapi/generate").respond(502)

    with pytest.raises(GitHubUnavailableError) as caught:
        await github.generate_repository(
            "tenon-templates/python-fastapi", owner="tenon-workspaces", name="tenon-1-2-python"
        )

    assert caught.value.code == "GITHUB_UNAVAILABLE"
    assert route.call_count == 1
    assert fake_time.sleeps == []


async def test_post_is_retried_after_a_connect_error(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    route = api.post(f"{API}/repos/tenon-templates/python-fastapi/generate").mock(
        side_effect=[httpx.ConnectError, httpx.Response(201, json=repository())]
    )

    repo = await github.generate_repository(
        "tenon-templates/python-fastapi",
        owner="tenon-workspaces",
        name="tenon-1-2-python",
        description="Candidate workspace",
    )

    assert repo.name == "tenon-1-2-python"
    assert route.call_count == 2
    assert json.loads(route.calls.last.request.content) == {
        "owner": "tenon-workspaces",
        "name": "tenon-1-2-python",
        "private": True,
        "include_all_branches": False,
        "description": "Candidate workspace",
    }


async def test_post_is_not_retried_after_a_read_timeout(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    route = api.post(f"{API}/repos/tenon-templates/python-fastapi/generate").mock(
        side_effect=httpx.ReadTimeout
    )

    with pytest.raises(GitHubUnavailableError) as caught:
        await github.generate_repository(
            "tenon-templates/python-fastapi", owner="tenon-workspaces", name="tenon-1-2-python"
        )

    assert route.call_count == 1
    assert "ReadTimeout" in str(caught.value)


async def test_get_is_retried_after_timeouts(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    route = api.get(repo_url()).mock(
        side_effect=[
            httpx.ReadTimeout,
            httpx.ConnectTimeout,
            httpx.Response(200, json=repository()),
        ]
    )

    await github.get_repository(REPO)

    assert route.call_count == 3
    assert fake_time.sleeps == [0.5, 1.0]


async def test_timeouts_outlasting_the_retries_are_unavailable(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    route = api.get(repo_url()).mock(side_effect=httpx.ReadTimeout)

    with pytest.raises(GitHubUnavailableError) as caught:
        await github.get_repository(REPO)

    assert route.call_count == 4
    assert caught.value.retryable is True
