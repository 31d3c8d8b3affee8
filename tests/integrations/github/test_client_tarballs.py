"""GitHub client tarball downloads: the redirect to codeload followed without credentials,
refs escaped into the path, the tarball size cap, unknown refs, and retries of the API call
but not of the codeload download."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import respx

from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import (
    DownloadTooLargeError,
    GitHubError,
    GitHubNotFoundError,
    GitHubUnavailableError,
    TarballTooLargeError,
)
from tests.support.github_client import API, REPO, TOKEN, FakeTime, make_client, make_settings

CAP = 1024
TARBALL_URL = f"{API}/repos/{REPO}/tarball/main"
CODELOAD = "https://codeload.github.test"
CODELOAD_URL = f"{CODELOAD}/{REPO}/legacy.tar.gz/refs/heads/main?token=signed-by-github"
GZIP_BYTES = b"\x1f\x8b\x08\x00tarball-bytes"


@pytest.fixture
def github(http: httpx.AsyncClient, fake_time: FakeTime) -> GitHubClient:
    # The artifact cap far above the tarball's: the tarball's own cap must be the one applied.
    settings = make_settings(tarball_max_bytes=CAP, artifact_max_bytes=100 * CAP)
    return make_client(http, fake_time, settings)


@pytest.fixture
def tarball_route(api: respx.MockRouter) -> respx.Route:
    """GitHub answers the download with a redirect to codeload."""
    return api.get(TARBALL_URL).respond(302, headers={"Location": CODELOAD_URL})


async def test_tarball_is_fetched_from_codeload_without_credentials(
    api: respx.MockRouter, github: GitHubClient, tarball_route: respx.Route, tmp_path: Path
) -> None:
    destination = tmp_path / "tree.tar.gz"
    codeload_route = api.get(CODELOAD_URL).respond(200, content=GZIP_BYTES)

    size = await github.download_tarball(REPO, "main", destination)

    assert size == len(GZIP_BYTES)
    assert destination.read_bytes() == GZIP_BYTES
    assert tarball_route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    codeload_headers = codeload_route.calls.last.request.headers
    assert "Authorization" not in codeload_headers
    assert TOKEN not in str(codeload_headers)


@pytest.mark.parametrize(
    ("ref", "raw_path"),
    [
        pytest.param("main", "tarball/main", id="branch"),
        pytest.param("refs/heads/feature/x", "tarball/refs/heads/feature/x", id="full-ref"),
        pytest.param("v1.0", "tarball/v1.0", id="tag"),
        pytest.param("fix/a b#1?", "tarball/fix/a%20b%231%3F", id="escaped"),
    ],
)
async def test_the_ref_goes_into_the_path_escaped_with_its_slashes_kept(
    api: respx.MockRouter, github: GitHubClient, tmp_path: Path, ref: str, raw_path: str
) -> None:
    route = api.route(method="GET", host="api.github.test").respond(
        302, headers={"Location": CODELOAD_URL}
    )
    api.get(CODELOAD_URL).respond(200, content=GZIP_BYTES)

    await github.download_tarball(REPO, ref, tmp_path / "tree.tar.gz")

    assert route.calls.last.request.url.raw_path.decode() == f"/repos/{REPO}/{raw_path}"


def _sized(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b"x" * (CAP + 1))


def _streamed(request: httpx.Request) -> httpx.Response:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 300

    return httpx.Response(200, content=chunks())


@pytest.mark.usefixtures("tarball_route")
@pytest.mark.parametrize(
    ("answer", "announces_length"),
    [
        pytest.param(_sized, True, id="by-content-length"),
        pytest.param(_streamed, False, id="while-streaming"),
    ],
)
async def test_tarball_over_the_cap_is_refused_and_nothing_is_kept(
    api: respx.MockRouter,
    github: GitHubClient,
    tmp_path: Path,
    answer: Callable[[httpx.Request], httpx.Response],
    announces_length: bool,
) -> None:
    destination = tmp_path / "tree.tar.gz"
    codeload_route = api.get(CODELOAD_URL).mock(side_effect=answer)

    with pytest.raises(TarballTooLargeError) as caught:
        await github.download_tarball(REPO, "main", destination)

    assert isinstance(caught.value, DownloadTooLargeError)
    assert caught.value.code == "TARBALL_TOO_LARGE"
    assert caught.value.retryable is False
    assert str(caught.value) == f"The tarball of {REPO} at main is larger than the {CAP} byte limit"
    assert ("Content-Length" in codeload_route.calls.last.response.headers) is announces_length
    assert not destination.exists()


async def test_unknown_ref_is_not_found_and_nothing_is_fetched(
    api: respx.MockRouter, github: GitHubClient, tmp_path: Path
) -> None:
    destination = tmp_path / "tree.tar.gz"
    api.get(f"{API}/repos/{REPO}/tarball/nope").respond(404, json={"message": "Not Found"})
    codeload_route = api.route(host="codeload.github.test")

    with pytest.raises(GitHubNotFoundError) as caught:
        await github.download_tarball(REPO, "nope", destination)

    assert caught.value.github_status == 404
    assert not codeload_route.called
    assert not destination.exists()


async def test_a_5xx_from_the_api_is_retried_like_any_get(
    api: respx.MockRouter, github: GitHubClient, fake_time: FakeTime, tmp_path: Path
) -> None:
    destination = tmp_path / "tree.tar.gz"
    route = api.get(TARBALL_URL).mock(
        side_effect=[
            httpx.Response(502),
            httpx.Response(302, headers={"Location": CODELOAD_URL}),
        ]
    )
    api.get(CODELOAD_URL).respond(200, content=GZIP_BYTES)

    size = await github.download_tarball(REPO, "main", destination)

    assert size == len(GZIP_BYTES)
    assert route.call_count == 2
    assert fake_time.sleeps == [0.5]


@pytest.mark.usefixtures("tarball_route")
@pytest.mark.parametrize(
    "failure",
    [
        pytest.param(httpx.Response(503), id="5xx"),
        pytest.param(httpx.ConnectError("refused"), id="unreachable"),
    ],
)
async def test_codeload_failure_is_unavailable_and_nothing_is_kept(
    api: respx.MockRouter,
    github: GitHubClient,
    tmp_path: Path,
    failure: httpx.Response | httpx.ConnectError,
) -> None:
    destination = tmp_path / "tree.tar.gz"
    api.get(CODELOAD_URL).mock(side_effect=[failure])

    with pytest.raises(GitHubUnavailableError, match="codeload") as caught:
        await github.download_tarball(REPO, "main", destination)

    assert caught.value.retryable is True
    assert not destination.exists()


async def test_an_answer_without_a_redirect_is_an_error(
    api: respx.MockRouter, github: GitHubClient, tmp_path: Path
) -> None:
    api.get(TARBALL_URL).respond(200, content=GZIP_BYTES)

    with pytest.raises(GitHubError, match="without a download URL"):
        await github.download_tarball(REPO, "main", tmp_path / "tree.tar.gz")
