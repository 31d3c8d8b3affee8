"""The GitHub client against respx: retries, rate limits, ETags, pagination, artifact
downloads, App auth, error mapping, pacing, and no token in logs or errors.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jose import jwt
from pydantic import SecretStr
from structlog.testing import capture_logs

from app.core.metrics import Metrics
from app.core.settings import GitHubSettings
from app.integrations.github.auth import AppAuth, TokenAuth, build_auth
from app.integrations.github.client import GitHubClient, build_github_client, next_link
from app.integrations.github.errors import (
    ArtifactTooLargeError,
    GitHubError,
    GitHubNotFoundError,
    GitHubPermissionDeniedError,
    GitHubRateLimitedError,
    GitHubTokenInvalidError,
    GitHubUnavailableError,
    GitHubValidationFailedError,
)
from tests.support.metrics import sample

API = "https://api.github.test"
STORAGE = "https://storage.github.test"
TOKEN = "ghp_" + "T0kenValue" * 4
INSTALLATION_TOKEN = "ghs_" + "Install4tion" * 3
APP_ID = "123456"
INSTALLATION_ID = 42
REPO = "tenon-workspaces/tenon-1-2-python"
START = 1_700_000_000.0
SECONDARY_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes."


class FakeTime:
    """Wall clock, monotonic clock and sleep that move together; sleeps are recorded."""

    def __init__(self) -> None:
        self.epoch = START
        self.mono = 1_000.0
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.epoch += seconds
        self.mono += seconds

    def monotonic(self) -> float:
        return self.mono

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch, UTC)


def make_settings(**overrides: Any) -> GitHubSettings:
    values: dict[str, Any] = {
        "api_base": API + "/",
        "token": SecretStr(TOKEN),
        "app_id": None,
        "app_private_key": None,
        "app_installation_id": None,
        "max_retries": 3,
        "rate_limit_max_wait_seconds": 30.0,
        "mutation_interval_seconds": 1.0,
        "artifact_max_bytes": 1024,
        "max_concurrent_requests": 10,
    }
    values.update(overrides)
    return GitHubSettings(_env_file=None, **values)


def make_client(
    http: httpx.AsyncClient,
    fake_time: FakeTime,
    settings: GitHubSettings | None = None,
    auth: Any = None,
    sleep: Any = None,
    metrics: Metrics | None = None,
) -> GitHubClient:
    settings = settings or make_settings()
    return GitHubClient(
        http,
        settings,
        auth or TokenAuth(SecretStr(TOKEN)),
        metrics or Metrics(),
        sleep=sleep or fake_time.sleep,
        monotonic=fake_time.monotonic,
        jitter=lambda: 1.0,
        clock=fake_time,
    )


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as router:
        yield router


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def github(http: httpx.AsyncClient, fake_time: FakeTime, metrics: Metrics) -> GitHubClient:
    return make_client(http, fake_time, metrics=metrics)


def repository(name: str = "tenon-1-2-python") -> dict[str, Any]:
    return {
        "id": 7,
        "name": name,
        "full_name": f"tenon-workspaces/{name}",
        "private": True,
        "html_url": f"https://github.test/tenon-workspaces/{name}",
        "default_branch": "main",
        "owner": {"login": "tenon-workspaces", "id": 1},
        "template_repository": {"full_name": "tenon-templates/python-fastapi"},
        "is_template": False,
        "archived": False,
        "visibility": "private",
    }


def commit(sha: str) -> dict[str, Any]:
    return {
        "sha": sha,
        "html_url": f"https://github.test/{REPO}/commit/{sha}",
        "commit": {
            "message": f"commit {sha}",
            "author": {"name": "A", "email": "a@example.com", "date": "2026-01-01T10:00:00Z"},
        },
    }


def workflow_run(status: str = "completed") -> dict[str, Any]:
    return {
        "id": 99,
        "name": "tenon-ci",
        "status": status,
        "conclusion": "success" if status == "completed" else None,
        "head_sha": "abc123",
        "head_branch": "main",
        "event": "workflow_dispatch",
        "run_attempt": 1,
        "html_url": f"https://github.test/{REPO}/actions/runs/99",
        "created_at": "2026-01-01T10:00:00Z",
        "updated_at": "2026-01-01T10:01:00Z",
        "run_started_at": "2026-01-01T10:00:05Z",
    }


def rate_headers(remaining: int, reset: float) -> dict[str, str]:
    return {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-used": str(5000 - remaining),
        "x-ratelimit-reset": str(int(reset)),
        "x-ratelimit-resource": "core",
    }


def repo_url(suffix: str = "") -> str:
    return f"{API}/repos/{REPO}{suffix}"


# Headers, parsing, construction


async def test_requests_carry_github_headers_and_parse_the_repository(
    api: respx.MockRouter, github: GitHubClient, metrics: Metrics
) -> None:
    route = api.get(repo_url()).respond(200, json=repository())

    repo = await github.get_repository(REPO)

    headers = route.calls.last.request.headers
    assert headers["Accept"] == "application/vnd.github+json"
    assert headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert headers["User-Agent"] == "tenon"
    assert headers["Authorization"] == f"Bearer {TOKEN}"
    assert repo.full_name == REPO
    assert repo.owner.login == "tenon-workspaces"
    assert repo.template_repository is not None
    assert repo.template_repository.full_name == "tenon-templates/python-fastapi"
    assert sample(metrics, "tenon_github_requests_total", method="GET", status="200") == 1


async def test_unexpected_response_shape_is_a_github_error(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    api.get(repo_url()).respond(200, json={"id": "not a repository"})

    with pytest.raises(GitHubError) as caught:
        await github.get_repository(REPO)

    assert caught.value.code == "GITHUB_ERROR"


def test_build_github_client_needs_credentials(http: httpx.AsyncClient) -> None:
    assert build_github_client(http, make_settings(token=None), Metrics()) is None
    assert isinstance(build_github_client(http, make_settings(), Metrics()), GitHubClient)


# Retries


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


# Rate limits


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

    with capture_logs() as logs:
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


async def test_secondary_limit_waits_retry_after(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    api.get(repo_url()).mock(
        side_effect=[
            httpx.Response(
                403,
                json={"message": SECONDARY_MESSAGE},
                headers={**rate_headers(4000, START + 3600), "retry-after": "7"},
            ),
            httpx.Response(200, json=repository()),
        ]
    )

    await github.get_repository(REPO)

    assert fake_time.sleeps == [7.0]


async def test_secondary_limit_with_exhausted_budget_waits_until_reset(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    api.get(repo_url()).mock(
        side_effect=[
            httpx.Response(
                403, json={"message": SECONDARY_MESSAGE}, headers=rate_headers(0, START + 12)
            ),
            httpx.Response(200, json=repository()),
        ]
    )

    await github.get_repository(REPO)

    assert fake_time.sleeps == [12.0]


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
    api.post(f"{API}/repos/tenon-templates/python-fastapi/generate").respond(
        403, json={"message": SECONDARY_MESSAGE}
    )

    with pytest.raises(GitHubRateLimitedError) as caught:
        await github.generate_repository(
            "tenon-templates/python-fastapi", owner="tenon-workspaces", name="tenon-1-2-python"
        )

    assert caught.value.retry_after_seconds is not None
    assert caught.value.retry_after_seconds >= 60
    assert fake_time.sleeps == []


async def test_rate_limited_post_is_retried(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    route = api.post(f"{API}/repos/tenon-templates/python-fastapi/generate").mock(
        side_effect=[
            httpx.Response(403, json={"message": SECONDARY_MESSAGE}, headers={"retry-after": "3"}),
            httpx.Response(201, json=repository()),
        ]
    )

    await github.generate_repository(
        "tenon-templates/python-fastapi", owner="tenon-workspaces", name="tenon-1-2-python"
    )

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


async def test_short_secondary_wait_still_respects_an_exhausted_budget(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    api.get(repo_url()).mock(
        side_effect=[
            httpx.Response(
                403,
                json={"message": SECONDARY_MESSAGE},
                headers={**rate_headers(0, START + 20), "retry-after": "3"},
            ),
            httpx.Response(200, json=repository()),
        ]
    )

    await github.get_repository(REPO)

    assert fake_time.sleeps == [3.0, 17.0]


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


# Conditional requests


async def test_unchanged_run_is_served_from_the_etag_cache(
    api: respx.MockRouter, github: GitHubClient, metrics: Metrics
) -> None:
    route = api.get(repo_url("/actions/runs/99")).mock(
        side_effect=[
            httpx.Response(200, json=workflow_run("in_progress"), headers={"ETag": 'W/"v1"'}),
            httpx.Response(304, headers={"ETag": 'W/"v1"'}),
        ]
    )

    first = await github.get_workflow_run(REPO, 99)
    second = await github.get_workflow_run(REPO, 99)

    assert "If-None-Match" not in route.calls[0].request.headers
    assert route.calls[1].request.headers["If-None-Match"] == 'W/"v1"'
    assert second == first
    assert second.status == "in_progress"
    assert sample(metrics, "tenon_github_not_modified_total") == 1


async def test_changed_run_replaces_the_cached_body(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    route = api.get(repo_url("/actions/runs/99")).mock(
        side_effect=[
            httpx.Response(200, json=workflow_run("in_progress"), headers={"ETag": '"v1"'}),
            httpx.Response(200, json=workflow_run("completed"), headers={"ETag": '"v2"'}),
            httpx.Response(304),
        ]
    )

    await github.get_workflow_run(REPO, 99)
    await github.get_workflow_run(REPO, 99)
    third = await github.get_workflow_run(REPO, 99)

    assert route.calls[2].request.headers["If-None-Match"] == '"v2"'
    assert third.status == "completed"
    assert third.conclusion == "success"


# Pagination


def paged_commits(pages: int) -> Any:
    def respond(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        headers = {}
        if page < pages:
            next_url = f"{repo_url('/commits')}?per_page=2&sha=main&page={page + 1}"
            last_url = f"{repo_url('/commits')}?per_page=2&sha=main&page={pages}"
            headers["Link"] = f'<{next_url}>; rel="next", <{last_url}>; rel="last"'
        return httpx.Response(200, json=[commit(f"{page}a"), commit(f"{page}b")], headers=headers)

    return respond


async def test_link_pagination_follows_next_over_three_pages(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    route = api.get(repo_url("/commits")).mock(side_effect=paged_commits(3))

    commits = await github.list_commits(REPO, sha="main", per_page=2)

    assert [item.sha for item in commits] == ["1a", "1b", "2a", "2b", "3a", "3b"]
    assert route.call_count == 3
    assert dict(route.calls[0].request.url.params) == {"sha": "main", "per_page": "2"}
    assert route.calls[2].request.url.params["page"] == "3"


async def test_pagination_stops_at_max_pages(api: respx.MockRouter, github: GitHubClient) -> None:
    route = api.get(repo_url("/commits")).mock(side_effect=paged_commits(5))

    commits = await github.list_commits(REPO, sha="main", per_page=2, max_pages=2)

    assert len(commits) == 4
    assert route.call_count == 2


async def test_next_link_to_another_host_is_refused(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    api.get(repo_url("/commits")).respond(
        200, json=[commit("1a")], headers={"Link": '<https://evil.test/commits?page=2>; rel="next"'}
    )

    with pytest.raises(GitHubError, match="another host"):
        await github.list_commits(REPO)


def test_next_link_parses_real_link_headers() -> None:
    # Recorded from api.github.com (tests/fixtures/github/responses/paginate-issues).
    header = (
        '<https://api.github.com/repositories/1000/issues?per_page=3&page=1>; rel="prev", '
        '<https://api.github.com/repositories/1000/issues?per_page=3&page=3>; rel="next", '
        '<https://api.github.com/repositories/1000/issues?per_page=3&page=5>; rel="last", '
        '<https://api.github.com/repositories/1000/issues?per_page=3&page=1>; rel="first"'
    )
    assert next_link(header) == "https://api.github.com/repositories/1000/issues?per_page=3&page=3"
    assert next_link('<https://x.test/?page=2>; rel="prev"') is None
    assert next_link("<https://x.test/?a=1,2>;rel=next") == "https://x.test/?a=1,2"
    assert next_link(None) is None


async def test_empty_repository_has_no_commits(api: respx.MockRouter, github: GitHubClient) -> None:
    api.get(repo_url("/commits")).respond(409, json={"message": "Git Repository is empty."})

    assert await github.list_commits(REPO) == []


async def test_compare_takes_files_from_the_first_page_and_commits_from_all(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    url = repo_url("/compare/base123...feature/x")
    files = [
        {
            "filename": "app.py",
            "status": "modified",
            "additions": 3,
            "deletions": 1,
            "changes": 4,
            "patch": "@@ -1 +1 @@",
        },
        {
            "filename": "new.py",
            "status": "renamed",
            "additions": 0,
            "deletions": 0,
            "changes": 0,
            "previous_filename": "old.py",
        },
    ]
    first = {
        "status": "ahead",
        "ahead_by": 3,
        "behind_by": 0,
        "total_commits": 3,
        "commits": [commit("c1"), commit("c2")],
        "files": files,
    }
    second = {
        "status": "ahead",
        "ahead_by": 3,
        "behind_by": 0,
        "total_commits": 3,
        "commits": [commit("c3")],
    }
    route = api.get(url).mock(
        side_effect=[
            httpx.Response(200, json=first, headers={"Link": f'<{url}?page=2>; rel="next"'}),
            httpx.Response(200, json=second),
        ]
    )

    comparison = await github.compare(REPO, "base123", "feature/x")

    assert route.call_count == 2
    assert [item.sha for item in comparison.commits] == ["c1", "c2", "c3"]
    assert [item.filename for item in comparison.files] == ["app.py", "new.py"]
    assert comparison.files[1].previous_filename == "old.py"
    assert comparison.ahead_by == 3


# Artifacts


async def test_artifact_download_drops_credentials_at_the_storage_host(
    api: respx.MockRouter, github: GitHubClient, tmp_path: Path
) -> None:
    location = f"{STORAGE}/artifacts/5.zip?sig=signed-by-github"
    zip_route = api.get(repo_url("/actions/artifacts/5/zip")).respond(
        302, headers={"Location": location}
    )
    storage_route = api.get(location).respond(200, content=b"PK\x03\x04zip-bytes")
    destination = tmp_path / "artifact.zip"

    size = await github.download_artifact(REPO, 5, destination)

    assert size == len(b"PK\x03\x04zip-bytes")
    assert destination.read_bytes() == b"PK\x03\x04zip-bytes"
    assert zip_route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    storage_headers = storage_route.calls.last.request.headers
    assert "Authorization" not in storage_headers
    assert "X-GitHub-Api-Version" not in storage_headers
    assert TOKEN not in str(storage_headers)


async def test_artifact_over_the_cap_by_content_length_is_refused(
    api: respx.MockRouter, github: GitHubClient, tmp_path: Path
) -> None:
    location = f"{STORAGE}/artifacts/5.zip"
    api.get(repo_url("/actions/artifacts/5/zip")).respond(302, headers={"Location": location})
    api.get(location).respond(200, content=b"x" * 2048)
    destination = tmp_path / "artifact.zip"

    with pytest.raises(ArtifactTooLargeError) as caught:
        await github.download_artifact(REPO, 5, destination)

    assert caught.value.code == "ARTIFACT_TOO_LARGE"
    assert caught.value.retryable is False
    assert not destination.exists()


async def test_artifact_over_the_cap_while_streaming_is_refused_and_removed(
    api: respx.MockRouter, github: GitHubClient, tmp_path: Path
) -> None:
    location = f"{STORAGE}/artifacts/5.zip"

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 300

    api.get(repo_url("/actions/artifacts/5/zip")).respond(302, headers={"Location": location})
    storage_route = api.get(location).mock(
        side_effect=lambda request: httpx.Response(200, content=chunks())
    )
    destination = tmp_path / "artifact.zip"

    with pytest.raises(ArtifactTooLargeError):
        await github.download_artifact(REPO, 5, destination)

    assert "Content-Length" not in storage_route.calls.last.response.headers
    assert not destination.exists()


async def test_expired_artifact_is_not_found(
    api: respx.MockRouter, github: GitHubClient, tmp_path: Path
) -> None:
    api.get(repo_url("/actions/artifacts/5/zip")).respond(410, json={"message": "Gone"})

    with pytest.raises(GitHubNotFoundError, match="expired") as caught:
        await github.download_artifact(REPO, 5, tmp_path / "artifact.zip")

    assert caught.value.code == "GITHUB_NOT_FOUND"
    assert caught.value.github_status == 410


async def test_storage_failure_is_unavailable(
    api: respx.MockRouter, github: GitHubClient, tmp_path: Path
) -> None:
    location = f"{STORAGE}/artifacts/5.zip"
    api.get(repo_url("/actions/artifacts/5/zip")).respond(302, headers={"Location": location})
    api.get(location).respond(503)
    destination = tmp_path / "artifact.zip"

    with pytest.raises(GitHubUnavailableError):
        await github.download_artifact(REPO, 5, destination)

    assert not destination.exists()


async def test_run_artifacts_are_listed(api: respx.MockRouter, github: GitHubClient) -> None:
    api.get(repo_url("/actions/runs/99/artifacts")).respond(
        200,
        json={
            "total_count": 1,
            "artifacts": [
                {
                    "id": 5,
                    "name": "tenon-test-results",
                    "size_in_bytes": 512,
                    "archive_download_url": repo_url("/actions/artifacts/5/zip"),
                    "expired": False,
                    "expires_at": "2026-04-01T10:00:00Z",
                    "workflow_run": {"id": 99, "head_sha": "abc123"},
                }
            ],
        },
    )

    artifacts = await github.list_run_artifacts(REPO, 99)

    assert [(item.id, item.name) for item in artifacts] == [(5, "tenon-test-results")]
    assert artifacts[0].workflow_run is not None
    assert artifacts[0].workflow_run.head_sha == "abc123"


# Error mapping


class CountingAuth:
    def __init__(self) -> None:
        self.invalidations = 0

    async def authorization(self) -> str:
        return f"Bearer {TOKEN}"

    def invalidate(self) -> None:
        self.invalidations += 1


async def test_second_401_is_token_invalid(
    api: respx.MockRouter, http: httpx.AsyncClient, fake_time: FakeTime
) -> None:
    auth = CountingAuth()
    github = make_client(http, fake_time, auth=auth)
    route = api.get(repo_url()).respond(401, json={"message": "Bad credentials"})

    with pytest.raises(GitHubTokenInvalidError) as caught:
        await github.get_repository(REPO)

    assert route.call_count == 2
    assert auth.invalidations == 1
    assert caught.value.code == "GITHUB_TOKEN_INVALID"
    assert caught.value.status == 502
    assert caught.value.retryable is False
    assert caught.value.github_status == 401


async def test_not_found_is_github_not_found(api: respx.MockRouter, github: GitHubClient) -> None:
    api.get(f"{API}/users/nobody").respond(
        404,
        json={"message": "Not Found", "documentation_url": "https://docs.github.com/rest"},
    )

    with pytest.raises(GitHubNotFoundError) as caught:
        await github.get_user("nobody")

    assert caught.value.code == "GITHUB_NOT_FOUND"
    assert caught.value.status == 502
    assert caught.value.github_status == 404
    assert caught.value.documentation_url == "https://docs.github.com/rest"


async def test_validation_failure_keeps_githubs_errors(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    errors = [
        {
            "resource": "Repository",
            "code": "custom",
            "field": "name",
            "message": "name already exists on this account",
        }
    ]
    api.post(f"{API}/repos/tenon-templates/python-fastapi/generate").respond(
        422, json={"message": "Repository creation failed.", "errors": errors}
    )

    with pytest.raises(GitHubValidationFailedError) as caught:
        await github.generate_repository(
            "tenon-templates/python-fastapi", owner="tenon-workspaces", name="tenon-1-2-python"
        )

    assert caught.value.code == "GITHUB_VALIDATION_FAILED"
    assert caught.value.status == 502
    assert caught.value.github_message == "Repository creation failed."
    assert caught.value.github_errors == errors
    assert caught.value.mentions("Already Exists")
    assert not caught.value.mentions("not a permitted key")


# Typed calls


async def test_file_is_read_and_written(api: respx.MockRouter, github: GitHubClient) -> None:
    path_url = repo_url("/contents/src/app%20main.py")
    api.get(path_url, params={"ref": "main"}).respond(
        200,
        json={
            "type": "file",
            "encoding": "base64",
            "content": "cHJp\nbnQoMSk=\n",
            "sha": "f1",
            "size": 8,
            "path": "src/app main.py",
        },
    )
    put = api.put(path_url).respond(
        201, json={"content": {"sha": "f2", "path": "src/app main.py"}, "commit": {"sha": "c9"}}
    )

    file = await github.get_file(REPO, "src/app main.py", ref="main")
    written = await github.put_file(
        REPO, "src/app main.py", message="Update", content=b"print(2)", branch="main", sha="f1"
    )

    assert file.decoded() == b"print(1)"
    assert (written.content.sha, written.commit.sha) == ("f2", "c9")
    assert json.loads(put.calls.last.request.content) == {
        "message": "Update",
        "content": "cHJpbnQoMik=",
        "branch": "main",
        "sha": "f1",
    }


async def test_collaborator_invitation_or_none_when_already_there(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    url = repo_url("/collaborators/octocat")
    route = api.put(url).mock(
        side_effect=[
            httpx.Response(
                201,
                json={
                    "id": 1000,
                    "invitee": {"login": "octocat", "id": 1},
                    "permissions": "write",
                    "html_url": "https://github.test/inv",
                },
            ),
            httpx.Response(204),
        ]
    )
    api.delete(url).respond(204)

    invitation = await github.add_collaborator(REPO, "octocat")
    again = await github.add_collaborator(REPO, "octocat")
    await github.remove_collaborator(REPO, "octocat")

    assert invitation is not None
    assert invitation.invitee.login == "octocat"
    assert again is None
    assert json.loads(route.calls[0].request.content) == {"permission": "push"}


async def test_dispatch_returns_run_details(api: respx.MockRouter, github: GitHubClient) -> None:
    route = api.post(repo_url("/actions/workflows/tenon-ci.yml/dispatches")).respond(
        200,
        json={
            "workflow_run_id": 99,
            "run_url": repo_url("/actions/runs/99"),
            "html_url": "https://github.test/run/99",
        },
    )

    result = await github.dispatch_workflow(
        REPO, "tenon-ci.yml", ref="main", inputs={"tenon_run_id": "r1"}
    )

    assert result.workflow_run_id == 99
    assert json.loads(route.calls.last.request.content) == {
        "ref": "main",
        "inputs": {"tenon_run_id": "r1"},
        "return_run_details": True,
    }


async def test_dispatch_retries_without_run_details_when_the_server_rejects_the_field(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    route = api.post(repo_url("/actions/workflows/tenon-ci.yml/dispatches")).mock(
        side_effect=[
            httpx.Response(
                422,
                json={
                    "message": 'Invalid request.\n\n"return_run_details" is not a permitted key.'
                },
            ),
            httpx.Response(204),
        ]
    )

    result = await github.dispatch_workflow(
        REPO, "tenon-ci.yml", ref="main", inputs={"tenon_run_id": "r1"}
    )

    assert result.workflow_run_id is None
    assert route.call_count == 2
    assert "return_run_details" not in json.loads(route.calls.last.request.content)


async def test_dispatch_without_workflow_dispatch_trigger_fails(
    api: respx.MockRouter, github: GitHubClient
) -> None:
    route = api.post(repo_url("/actions/workflows/tenon-ci.yml/dispatches")).respond(
        422, json={"message": "Workflow does not have 'workflow_dispatch' trigger"}
    )

    with pytest.raises(GitHubValidationFailedError):
        await github.dispatch_workflow(REPO, "tenon-ci.yml", ref="main", inputs={})

    assert route.call_count == 1


async def test_workflow_runs_are_filtered(api: respx.MockRouter, github: GitHubClient) -> None:
    route = api.get(repo_url("/actions/workflows/tenon-ci.yml/runs")).respond(
        200, json={"total_count": 1, "workflow_runs": [workflow_run()]}
    )

    runs = await github.list_workflow_runs(
        REPO,
        "tenon-ci.yml",
        branch="main",
        event="workflow_dispatch",
        created=">=2026-01-01T10:00:00Z",
    )

    assert [run.id for run in runs] == [99]
    assert dict(route.calls.last.request.url.params) == {
        "branch": "main",
        "event": "workflow_dispatch",
        "created": ">=2026-01-01T10:00:00Z",
        "per_page": "100",
    }


# Pacing and concurrency


async def test_mutations_are_spaced_by_the_interval(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime
) -> None:
    sent_at: list[float] = []

    def respond(request: httpx.Request) -> httpx.Response:
        sent_at.append(fake_time.monotonic())
        fake_time.advance(0.25)
        return httpx.Response(204)

    api.delete(repo_url("/collaborators/a")).mock(side_effect=respond)
    api.delete(repo_url("/collaborators/b")).mock(side_effect=respond)
    api.get(repo_url()).respond(200, json=repository())

    await github.remove_collaborator(REPO, "a")
    await github.get_repository(REPO)
    await github.remove_collaborator(REPO, "b")

    assert sent_at[1] - sent_at[0] >= 1.0
    assert fake_time.sleeps == [0.75]


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


# GitHub App auth


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def app_settings(rsa_key: rsa.RSAPrivateKey) -> GitHubSettings:
    pem = rsa_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    return make_settings(
        token=None,
        app_id=APP_ID,
        app_private_key=SecretStr(pem),
        app_installation_id=INSTALLATION_ID,
    )


def public_pem(rsa_key: rsa.RSAPrivateKey) -> str:
    return (
        rsa_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def decode_jwt(token: str, rsa_key: rsa.RSAPrivateKey) -> dict[str, Any]:
    # The fake clock is in the past; signature and algorithm are what is checked here.
    claims: dict[str, Any] = jwt.decode(
        token,
        public_pem(rsa_key),
        algorithms=["RS256"],
        options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
    )
    return claims


def token_body(fake_time: FakeTime, value: str = INSTALLATION_TOKEN) -> dict[str, Any]:
    expires_at = fake_time.now() + timedelta(hours=1)
    return {
        "token": value,
        "expires_at": expires_at.isoformat().replace("+00:00", "Z"),
        "permissions": {"contents": "write"},
    }


def token_route(api: respx.MockRouter) -> respx.Route:
    return api.post(f"{API}/app/installations/{INSTALLATION_ID}/access_tokens")


def test_app_jwt_is_rs256_with_backdated_iat_and_short_exp(
    http: httpx.AsyncClient,
    app_settings: GitHubSettings,
    fake_time: FakeTime,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    token = AppAuth(http, app_settings, clock=fake_time).app_jwt()

    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    claims = decode_jwt(token, rsa_key)
    assert claims["iss"] == APP_ID
    assert claims["iat"] == int(START) - 60
    assert claims["exp"] <= int(START) + 600
    assert claims["exp"] > int(START)


async def test_installation_token_is_fetched_with_the_jwt_and_cached(
    api: respx.MockRouter,
    http: httpx.AsyncClient,
    app_settings: GitHubSettings,
    fake_time: FakeTime,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    tokens = token_route(api).respond(201, json=token_body(fake_time))
    repo = api.get(repo_url()).respond(200, json=repository())
    github = make_client(
        http, fake_time, app_settings, AppAuth(http, app_settings, clock=fake_time)
    )

    await github.get_repository(REPO)
    await github.get_repository(REPO)

    assert tokens.call_count == 1
    scheme, app_jwt = tokens.calls.last.request.headers["Authorization"].split(" ")
    assert scheme == "Bearer"
    assert decode_jwt(app_jwt, rsa_key)["iss"] == APP_ID
    assert tokens.calls.last.request.headers["X-GitHub-Api-Version"] == "2022-11-28"
    assert repo.calls.last.request.headers["Authorization"] == f"Bearer {INSTALLATION_TOKEN}"


async def test_installation_token_is_refreshed_within_five_minutes_of_expiry(
    api: respx.MockRouter,
    http: httpx.AsyncClient,
    app_settings: GitHubSettings,
    fake_time: FakeTime,
) -> None:
    tokens = token_route(api).mock(
        side_effect=[
            httpx.Response(201, json=token_body(fake_time, "ghs_first")),
            httpx.Response(201, json=token_body(fake_time, "ghs_second")),
        ]
    )
    auth = AppAuth(http, app_settings, clock=fake_time)

    assert await auth.authorization() == "Bearer ghs_first"
    fake_time.advance(54 * 60)
    assert await auth.authorization() == "Bearer ghs_first"
    fake_time.advance(2 * 60)
    assert await auth.authorization() == "Bearer ghs_second"
    assert tokens.call_count == 2


async def test_concurrent_first_calls_fetch_one_installation_token(
    app_settings: GitHubSettings, fake_time: FakeTime
) -> None:
    token_requests = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal token_requests
        token_requests += 1
        await asyncio.sleep(0.01)
        return httpx.Response(201, json=token_body(fake_time))

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as token_http:
        auth = AppAuth(token_http, app_settings, clock=fake_time)
        headers = await asyncio.gather(*(auth.authorization() for _ in range(20)))

    assert token_requests == 1
    assert set(headers) == {f"Bearer {INSTALLATION_TOKEN}"}


async def test_401_invalidates_the_installation_token_and_retries_once(
    api: respx.MockRouter,
    http: httpx.AsyncClient,
    app_settings: GitHubSettings,
    fake_time: FakeTime,
) -> None:
    tokens = token_route(api).mock(
        side_effect=[
            httpx.Response(201, json=token_body(fake_time, "ghs_revoked")),
            httpx.Response(201, json=token_body(fake_time, "ghs_fresh")),
        ]
    )
    repo = api.get(repo_url()).mock(
        side_effect=[
            httpx.Response(401, json={"message": "Bad credentials"}),
            httpx.Response(200, json=repository()),
        ]
    )
    github = make_client(
        http, fake_time, app_settings, AppAuth(http, app_settings, clock=fake_time)
    )

    await github.get_repository(REPO)

    assert tokens.call_count == 2
    assert [call.request.headers["Authorization"] for call in repo.calls] == [
        "Bearer ghs_revoked",
        "Bearer ghs_fresh",
    ]


async def test_rejected_app_jwt_is_token_invalid(
    api: respx.MockRouter,
    http: httpx.AsyncClient,
    app_settings: GitHubSettings,
    fake_time: FakeTime,
) -> None:
    token_route(api).respond(401, json={"message": "A JSON web token could not be decoded"})

    with pytest.raises(GitHubTokenInvalidError):
        await AppAuth(http, app_settings, clock=fake_time).authorization()


async def test_repo_installation_is_read_with_the_app_jwt(
    api: respx.MockRouter,
    http: httpx.AsyncClient,
    app_settings: GitHubSettings,
    fake_time: FakeTime,
    rsa_key: rsa.RSAPrivateKey,
) -> None:
    tokens = token_route(api).respond(201, json=token_body(fake_time))
    route = api.get(repo_url("/installation")).respond(
        200, json={"id": INSTALLATION_ID, "account": {"login": "tenon-workspaces"}}
    )
    github = make_client(
        http, fake_time, app_settings, AppAuth(http, app_settings, clock=fake_time)
    )

    installation = await github.get_repo_installation(REPO)

    assert installation.id == INSTALLATION_ID
    assert installation.account.login == "tenon-workspaces"
    assert tokens.call_count == 0
    app_jwt = route.calls.last.request.headers["Authorization"].removeprefix("Bearer ")
    assert decode_jwt(app_jwt, rsa_key)["iss"] == APP_ID


def test_build_auth_prefers_the_app_then_the_token(
    http: httpx.AsyncClient, app_settings: GitHubSettings
) -> None:
    assert build_auth(http, make_settings(token=None)) is None
    assert isinstance(build_auth(http, make_settings()), TokenAuth)
    with_both = app_settings.model_copy(update={"token": SecretStr(TOKEN)})
    assert isinstance(build_auth(http, with_both), AppAuth)


# Secrets


async def test_tokens_never_appear_in_logs_or_errors(
    api: respx.MockRouter,
    http: httpx.AsyncClient,
    app_settings: GitHubSettings,
    fake_time: FakeTime,
) -> None:
    token_route(api).mock(
        side_effect=[
            httpx.Response(201, json=token_body(fake_time)),
            httpx.Response(201, json=token_body(fake_time)),
        ]
    )
    api.get(repo_url()).mock(
        side_effect=[
            httpx.Response(502),
            httpx.Response(403, json={"message": SECONDARY_MESSAGE}, headers={"retry-after": "1"}),
            httpx.Response(401, json={"message": "Bad credentials"}),
            httpx.Response(401, json={"message": "Bad credentials"}),
        ]
    )
    app_github = make_client(
        http, fake_time, app_settings, AppAuth(http, app_settings, clock=fake_time)
    )
    token_github = make_client(http, fake_time)
    api.get(f"{API}/users/octocat").mock(side_effect=httpx.ConnectError)
    raised: list[Exception] = []

    with capture_logs() as logs:
        for call in (app_github.get_repository(REPO), token_github.get_user("octocat")):
            try:
                await call
            except GitHubError as exc:
                raised.append(exc)

    assert len(raised) == 2
    assert {entry["event"] for entry in logs} >= {
        "github.request",
        "github.request.retry",
        "github.rate_limited",
    }
    text = repr(logs) + " ".join(f"{exc} {exc!r} {exc.__dict__}" for exc in raised)
    for secret in (TOKEN, INSTALLATION_TOKEN, "eyJ"):
        assert secret not in text
