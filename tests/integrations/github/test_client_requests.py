"""The GitHub client's requests and answers: GitHub's headers, answers parsed into typed
models, construction, the typed calls, and GitHub's errors mapped to typed ones."""

from __future__ import annotations

import json

import httpx
import pytest
import respx

from app.core.metrics import Metrics
from app.integrations.github.client import GitHubClient, build_github_client
from app.integrations.github.errors import (
    GitHubError,
    GitHubNotFoundError,
    GitHubValidationFailedError,
)
from tests.support.github_client import (
    API,
    GENERATE_URL,
    REPO,
    TOKEN,
    generate,
    make_settings,
    repo_url,
    repository,
    workflow_run,
)
from tests.support.metrics import sample

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


# Error mapping


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
    api.post(GENERATE_URL).respond(
        422, json={"message": "Repository creation failed.", "errors": errors}
    )

    with pytest.raises(GitHubValidationFailedError) as caught:
        await generate(github)

    assert caught.value.code == "GITHUB_VALIDATION_FAILED"
    assert caught.value.status == 502
    assert caught.value.github_message == "Repository creation failed."
    assert caught.value.github_errors == errors
    assert caught.value.mentions("Already Exists")
    assert not caught.value.mentions("not a permitted key")
