"""GitHub client artifact downloads: credentials dropped at the storage host, the size cap,
expired artifacts and storage failures; and a run's artifacts listed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
import respx

from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import (
    ArtifactTooLargeError,
    GitHubNotFoundError,
    GitHubUnavailableError,
)
from tests.support.github_client import REPO, STORAGE, TOKEN, repo_url

ARTIFACT_URL = repo_url("/actions/artifacts/5/zip")
STORAGE_URL = f"{STORAGE}/artifacts/5.zip?sig=signed-by-github"


@pytest.fixture
def zip_route(api: respx.MockRouter) -> respx.Route:
    """GitHub answers the download with a redirect to the artifact on its storage host."""
    return api.get(ARTIFACT_URL).respond(302, headers={"Location": STORAGE_URL})


async def test_artifact_download_drops_credentials_at_the_storage_host(
    api: respx.MockRouter, github: GitHubClient, zip_route: respx.Route, tmp_path: Path
) -> None:
    destination = tmp_path / "artifact.zip"
    storage_route = api.get(STORAGE_URL).respond(200, content=b"PK\x03\x04zip-bytes")

    size = await github.download_artifact(REPO, 5, destination)

    assert size == len(b"PK\x03\x04zip-bytes")
    assert destination.read_bytes() == b"PK\x03\x04zip-bytes"
    assert zip_route.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"
    storage_headers = storage_route.calls.last.request.headers
    assert "Authorization" not in storage_headers
    assert "X-GitHub-Api-Version" not in storage_headers
    assert TOKEN not in str(storage_headers)


def _sized(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=b"x" * 2048)


def _streamed(request: httpx.Request) -> httpx.Response:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b"y" * 300

    return httpx.Response(200, content=chunks())


@pytest.mark.usefixtures("zip_route")
@pytest.mark.parametrize(
    ("answer", "announces_length"),
    [
        pytest.param(_sized, True, id="by-content-length"),
        pytest.param(_streamed, False, id="while-streaming"),
    ],
)
async def test_artifact_over_the_cap_is_refused_and_nothing_is_kept(
    api: respx.MockRouter,
    github: GitHubClient,
    tmp_path: Path,
    answer: Callable[[httpx.Request], httpx.Response],
    announces_length: bool,
) -> None:
    destination = tmp_path / "artifact.zip"
    storage_route = api.get(STORAGE_URL).mock(side_effect=answer)

    with pytest.raises(ArtifactTooLargeError) as caught:
        await github.download_artifact(REPO, 5, destination)

    assert caught.value.code == "ARTIFACT_TOO_LARGE"
    assert caught.value.retryable is False
    assert ("Content-Length" in storage_route.calls.last.response.headers) is announces_length
    assert not destination.exists()


async def test_expired_artifact_is_not_found(
    api: respx.MockRouter, github: GitHubClient, tmp_path: Path
) -> None:
    api.get(ARTIFACT_URL).respond(410, json={"message": "Gone"})

    with pytest.raises(GitHubNotFoundError, match="expired") as caught:
        await github.download_artifact(REPO, 5, tmp_path / "artifact.zip")

    assert caught.value.code == "GITHUB_NOT_FOUND"
    assert caught.value.github_status == 410


@pytest.mark.usefixtures("zip_route")
async def test_storage_failure_is_unavailable(
    api: respx.MockRouter, github: GitHubClient, tmp_path: Path
) -> None:
    destination = tmp_path / "artifact.zip"
    api.get(STORAGE_URL).respond(503)

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
