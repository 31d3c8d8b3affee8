"""GitHub client rate limits: primary and secondary limits waited out or refused past the
ceiling, the remaining budget respected before sending, and mutations and concurrency
paced."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import respx

from app.core.metrics import Metrics
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubPermissionDeniedError, GitHubRateLimitedError
from tests.support.github_client import (
    GENERATE_URL,
    REPO,
    SECONDARY_MESSAGE,
    START,
    FakeTime,
    generate,
    make_client,
    make_settings,
    rate_headers,
    repo_url,
    repository,
)
from tests.support.logs import capture_every_level
from tests.support.metrics import sample


@pytest.mark.parametrize("status", [403, 429])
async def test_primary_limit_waits_exactly_until_reset(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime, metrics: Metrics, status: int
) -> None:
    reset = START + 5
    route = api.get(repo_url()).mock(
        side_effect=[
            httpx.Response(
                status,
                json={"message": "API rate limit exceeded for installation ID 42."},
                headers=rate_headers(0, reset),
            ),
            httpx.Response(200, json=repository(), headers=rate_headers(4999, reset + 3600)),
        ]
    )

    with capture_every_level() as logs:
        await github.get_repository(REPO)

    assert fake_time.sleeps == [5.0]
    assert route.call_count == 2
    assert sample(metrics, "tenon_github_rate_limit_waits_total", kind="primary") == 1
    assert sample(metrics, "tenon_github_rate_limit_remaining") == 4999
    assert sample(metrics, "tenon_github_rate_limit_reset_timestamp_seconds") == int(reset + 3600)
    limited = [entry for entry in logs if entry["event"] == "github.rate_limited"]
    assert limited[0]["kind"] == "primary"
    assert limited[0]["wait"] == 5.0


async def test_primary_limit_beyond_the_ceiling_raises_without_sleeping(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    route = api.get(repo_url()).respond(
        403,
        json={"message": "API rate limit exceeded for user ID 1."},
        headers=rate_headers(0, START + 3600),
    )

    with pytest.raises(GitHubRateLimitedError) as caught:
        await github.get_repository(REPO)

    assert route.call_count == 1
    assert fake_time.sleeps == []
    assert caught.value.retry_after_seconds == 3600
    assert caught.value.headers == {"Retry-After": "3600"}
    assert caught.value.status == 503
    assert caught.value.code == "GITHUB_RATE_LIMITED"
    assert caught.value.retryable is True


@pytest.mark.parametrize(
    ("headers", "sleeps"),
    [
        pytest.param(
            {**rate_headers(4000, START + 3600), "retry-after": "7"}, [7.0], id="retry-after"
        ),
        pytest.param(rate_headers(0, START + 12), [12.0], id="exhausted-budget-until-reset"),
        # A short Retry-After is waited, then the rest of the exhausted budget's wait.
        pytest.param(
            {**rate_headers(0, START + 20), "retry-after": "3"},
            [3.0, 17.0],
            id="retry-after-then-reset",
        ),
    ],
)
async def test_secondary_limit_waits_what_its_headers_say(
    api: respx.MockRouter,
    github: GitHubClient,
    fake_time: FakeTime,
    headers: dict[str, str],
    sleeps: list[float],
) -> None:
    route = api.get(repo_url()).mock(
        side_effect=[
            httpx.Response(403, json={"message": SECONDARY_MESSAGE}, headers=headers),
            httpx.Response(200, json=repository()),
        ]
    )

    await github.get_repository(REPO)

    assert fake_time.sleeps == sleeps
    assert route.call_count == 2


async def test_secondary_limit_without_headers_waits_a_minute_then_backs_off(
    api: respx.MockRouter, http: httpx.AsyncClient, fake_time: FakeTime
) -> None:
    metrics = Metrics()
    github = make_client(
        http, fake_time, make_settings(rate_limit_max_wait_seconds=200), metrics=metrics
    )
    api.get(repo_url()).mock(
        side_effect=[
            httpx.Response(429),
            httpx.Response(403, json={"message": SECONDARY_MESSAGE}),
            httpx.Response(200, json=repository()),
        ]
    )

    await github.get_repository(REPO)

    assert fake_time.sleeps == [60.0, 120.0]
    assert sample(metrics, "tenon_github_rate_limit_waits_total", kind="secondary") == 2


async def test_secondary_limit_without_headers_over_the_ceiling_raises(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    api.post(GENERATE_URL).respond(403, json={"message": SECONDARY_MESSAGE})

    with pytest.raises(GitHubRateLimitedError) as caught:
        await generate(github)

    assert caught.value.retry_after_seconds is not None
    assert caught.value.retry_after_seconds >= 60
    assert fake_time.sleeps == []


async def test_rate_limited_post_is_retried(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    route = api.post(GENERATE_URL).mock(
        side_effect=[
            httpx.Response(403, json={"message": SECONDARY_MESSAGE}, headers={"retry-after": "3"}),
            httpx.Response(201, json=repository()),
        ]
    )

    await generate(github)

    assert route.call_count == 2
    assert fake_time.sleeps == [3.0]


async def test_wait_to_reset_is_not_charged_twice_when_sleep_wakes_early(
    api: respx.MockRouter, http: httpx.AsyncClient, fake_time: FakeTime
) -> None:
    async def early_sleep(seconds: float) -> None:
        fake_time.sleeps.append(seconds)
        fake_time.advance(seconds - 0.01)

    github = make_client(http, fake_time, sleep=early_sleep)
    api.get(repo_url()).mock(
        side_effect=[
            httpx.Response(
                403,
                json={"message": "API rate limit exceeded"},
                headers=rate_headers(0, START + 30),
            ),
            httpx.Response(200, json=repository()),
        ]
    )

    await github.get_repository(REPO)

    assert fake_time.sleeps == [30.0]


async def test_exhausted_budget_waits_before_the_next_request(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    reset = START + 10
    sent_at: list[float] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent_at.append(fake_time.epoch)
        return httpx.Response(200, json=repository(), headers=rate_headers(0, reset))

    api.get(repo_url()).mock(side_effect=respond)

    await github.get_repository(REPO)
    await github.get_repository(REPO)

    assert sent_at == [START, reset]
    assert fake_time.sleeps == [10.0]


async def test_exhausted_budget_fails_fast_without_touching_the_network(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    route = api.get(repo_url()).respond(
        200, json=repository(), headers=rate_headers(0, START + 1800)
    )
    await github.get_repository(REPO)

    with pytest.raises(GitHubRateLimitedError) as caught:
        await github.get_repository(REPO)

    assert route.call_count == 1
    assert caught.value.retry_after_seconds == 1800
    assert fake_time.sleeps == []

    fake_time.advance(1800)
    await github.get_repository(REPO)
    assert route.call_count == 2


async def test_plain_403_is_permission_denied(api: respx.MockRouter, github: GitHubClient) -> None:
    api.get(repo_url()).respond(
        403,
        json={"message": "Resource not accessible by integration"},
        headers=rate_headers(4999, START + 3600),
    )

    with pytest.raises(GitHubPermissionDeniedError) as caught:
        await github.get_repository(REPO)

    assert caught.value.code == "GITHUB_PERMISSION_DENIED"
    assert caught.value.status == 502
    assert caught.value.retryable is False
    assert caught.value.github_message == "Resource not accessible by integration"


# Pacing and concurrency


async def test_content_creating_requests_are_spaced_by_the_interval(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime, metrics: Metrics
) -> None:
    sent_at: list[float] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent_at.append(fake_time.monotonic())
        fake_time.advance(0.25)
        return httpx.Response(201, json={"ref": "refs/tags/t"})

    api.post(repo_url("/git/refs")).mock(side_effect=respond)
    api.get(repo_url()).respond(200, json=repository())

    await github.create_tag(REPO, "a", "0" * 40)
    await github.get_repository(REPO)
    await github.create_tag(REPO, "b", "0" * 40)

    assert sent_at[1] - sent_at[0] >= 1.0
    assert fake_time.sleeps == [0.75]
    assert sample(metrics, "tenon_github_pacing_wait_seconds_total") == 0.75


async def test_concurrent_content_creating_requests_take_successive_slots(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    sent_at: list[float] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent_at.append(fake_time.monotonic())
        return httpx.Response(201, json={"ref": "refs/tags/t"})

    api.post(repo_url("/git/refs")).mock(side_effect=respond)

    await asyncio.gather(*(github.create_tag(REPO, f"t{n}", "0" * 40) for n in range(3)))

    assert [later - sent_at[0] for later in sent_at] == [0.0, 1.0, 2.0]


async def test_requests_that_create_no_content_are_not_paced(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    # Dispatches, removals and deletions: GitHub's content-creation limits do not apply.
    api.post(repo_url("/actions/workflows/ci.yml/dispatches")).respond(204)
    api.delete(repo_url("/collaborators/a")).respond(204)
    api.delete(repo_url()).respond(204)
    api.post(repo_url("/git/refs")).respond(201, json={"ref": "refs/tags/t"})

    await github.create_tag(REPO, "a", "0" * 40)
    await github.dispatch_workflow(REPO, "ci.yml", ref="main", inputs={})
    await github.dispatch_workflow(REPO, "ci.yml", ref="main", inputs={})
    await github.remove_collaborator(REPO, "a")
    await github.delete_repository(REPO)

    assert fake_time.sleeps == []


async def test_concurrent_requests_are_bounded(
    http: httpx.AsyncClient, fake_time: FakeTime
) -> None:
    in_flight = 0
    peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(200, json=repository())

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as bounded_http:
        github = make_client(bounded_http, fake_time, make_settings(max_concurrent_requests=3))
        await asyncio.gather(*(github.get_repository(REPO) for _ in range(12)))

    assert peak == 3
