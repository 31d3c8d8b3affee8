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
    GENERATE_URL,
    REPO,
    TEMPLATE,
    TOKEN,
    FakeTime,
    generate,
    make_client,
    make_settings,
    repo_url,
    repository,
)
from tests.support.metrics import sample


@pytest.mark.parametrize(
    ("failures", "failed_requests"),
    [
        pytest.param((502, 503), {"502": 1, "503": 1}, id="5xx"),
        pytest.param(
            (httpx.ReadTimeout, httpx.ConnectTimeout), {"transport_error": 2}, id="timeouts"
        ),
    ],
)
async def test_get_is_retried_after_transient_failures_with_backoff(
    api: respx.MockRouter,
    github: GitHubClient,
    fake_time: FakeTime,
    metrics: Metrics,
    failures: tuple[int | type[httpx.TransportError], ...],
    failed_requests: dict[str, int],
) -> None:
    answers = [httpx.Response(f) if isinstance(f, int) else f for f in failures]
    route = api.get(repo_url()).mock(side_effect=[*answers, httpx.Response(200, json=repository())])

    repo = await github.get_repository(REPO)

    assert repo.id == 7
    assert route.call_count == 3
    assert fake_time.sleeps == [0.5, 1.0]
    assert sample(metrics, "tenon_github_retries_total") == 2
    for status, count in failed_requests.items():
        assert sample(metrics, "tenon_github_requests_total", method="GET", status=status) == count


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


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        pytest.param(502, "GitHub answered 502", id="502"),
        pytest.param(httpx.ReadTimeout, "(ReadTimeout)", id="read-timeout"),
    ],
)
async def test_post_is_not_retried_once_it_may_have_been_received(
    api: respx.MockRouter,
    github: GitHubClient,
    fake_time: FakeTime,
    failure: int | type[httpx.TransportError],
    reason: str,
) -> None:
    route = api.post(GENERATE_URL)
    if isinstance(failure, int):
        route.respond(failure)
    else:
        route.mock(side_effect=failure)

    with pytest.raises(GitHubUnavailableError) as caught:
        await generate(github)

    assert caught.value.code == "GITHUB_UNAVAILABLE"
    assert reason in str(caught.value)
    assert route.call_count == 1
    assert fake_time.sleeps == []


async def test_post_is_retried_after_a_connect_error(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    route = api.post(GENERATE_URL).mock(
        side_effect=[httpx.ConnectError, httpx.Response(201, json=repository())]
    )

    repo = await github.generate_repository(
        TEMPLATE,
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


async def test_timeouts_outlasting_the_retries_are_unavailable(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    route = api.get(repo_url()).mock(side_effect=httpx.ReadTimeout)

    with pytest.raises(GitHubUnavailableError) as caught:
        await github.get_repository(REPO)

    assert route.call_count == 4
    assert caught.value.retryable is True
