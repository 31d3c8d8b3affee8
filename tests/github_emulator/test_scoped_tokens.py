"""Installation tokens limited to repositories and permissions, as GitHub mints them: the
422s for asking too much, and the limits every API route and git over HTTP enforce."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.emulator import (
    RunningEmulator,
    emulator_config,
    generate_repo,
    git_client,
    installation_token,
    running_emulator,
    with_credentials,
    write_template,
)

TEMPLATE = "tenon-templates/starter"
WORKFLOW = """\
on: workflow_dispatch
jobs:
  noop:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
"""


@dataclass
class Scene:
    github: RunningEmulator
    api: httpx.AsyncClient
    tmp: Path
    mine: dict[str, object]
    other: dict[str, object]


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    templates = tmp_path / "templates"
    files = {"README.md": "# starter\n", ".github/workflows/noop.yml": WORKFLOW}
    write_template(templates, "starter", files)
    config = emulator_config(tmp_path, templates_dir=templates, generate_delay_seconds=0.05)
    async with running_emulator(config) as github, github.client() as api:
        mine = await generate_repo(api, TEMPLATE, "acme", "mine", private=True)
        other = await generate_repo(api, TEMPLATE, "acme", "other", private=True)
        yield Scene(github, api, tmp_path, mine, other)


async def _token(scene: Scene, **body: object) -> str:
    response = await installation_token(scene.github, **body)
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


def _put_readme(text: str, sha: str | None = None) -> dict[str, str]:
    body = {"message": "Edit", "content": base64.b64encode(text.encode()).decode()}
    return body | ({"sha": sha} if sha else {})


async def test_a_scoped_token_is_minted_with_what_it_asked_for(scene: Scene) -> None:
    response = await installation_token(
        scene.github,
        repositories=["mine"],
        repository_ids=[scene.other["id"]],
        permissions={"contents": "read"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["permissions"] == {"contents": "read", "metadata": "read"}
    assert body["repository_selection"] == "selected"
    assert [repo["full_name"] for repo in body["repositories"]] == ["acme/mine", "acme/other"]
    assert body["repositories"][0]["private"] is True
    unscoped = (await installation_token(scene.github)).json()
    assert unscoped["repository_selection"] == "all"
    assert "repositories" not in unscoped


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"repositories": ["nope"]}, "at least one repository that does not exist"),
        ({"repositories": ["mine", "nope"]}, "at least one repository that does not exist"),
        ({"repository_ids": [1]}, "at least one repository that does not exist"),
        ({"permissions": {"metadata": "write"}}, "not granted to this installation"),
        ({"permissions": {"issues": "read"}}, "not granted to this installation"),
        ({"permissions": {"contents": "admin"}}, "not granted to this installation"),
    ],
)
async def test_asking_for_more_than_the_installation_has_is_422(
    scene: Scene, body: dict[str, object], message: str
) -> None:
    response = await installation_token(scene.github, **body)
    assert response.status_code == 422
    assert message in response.json()["message"]


async def test_a_scoped_token_reads_its_repository_and_nothing_else(scene: Scene) -> None:
    token = await _token(scene, repositories=["mine"], permissions={"contents": "read"})
    async with scene.github.client(token=token) as scoped:
        repo = await scoped.get("/repos/acme/mine")
        readme = await scoped.get("/repos/acme/mine/contents/README.md")
        commits = await scoped.get("/repos/acme/mine/commits")
        other = await scoped.get("/repos/acme/other")
        other_contents = await scoped.get("/repos/acme/other/contents/README.md")
        write = await scoped.put(
            "/repos/acme/mine/contents/README.md", json=_put_readme("x", readme.json()["sha"])
        )
        dispatch = await scoped.post(
            "/repos/acme/mine/actions/workflows/noop.yml/dispatches", json={"ref": "main"}
        )
        runs = await scoped.get("/repos/acme/mine/actions/runs")
    assert [repo.status_code, readme.status_code, commits.status_code] == [200, 200, 200]
    for hidden in (other, other_contents):
        assert hidden.status_code == 404
        assert hidden.json()["message"] == "Not Found"
    for refused, permission in ((write, "contents=write"), (dispatch, "actions=write")):
        assert refused.status_code == 403
        assert refused.json()["message"] == "Resource not accessible by integration"
        assert refused.json()["status"] == "403"
        assert refused.headers["x-accepted-github-permissions"] == permission
    assert runs.status_code == 403  # actions:read was not asked for


async def test_a_token_limited_by_permissions_alone_reaches_every_repository(
    scene: Scene,
) -> None:
    token = await _token(scene, permissions={"contents": "write", "actions": "read"})
    async with scene.github.client(token=token) as scoped:
        other = await scoped.get("/repos/acme/other/contents/README.md")
        written = await scoped.put("/repos/acme/other/contents/NEW.md", json=_put_readme("new\n"))
        runs = await scoped.get("/repos/acme/other/actions/runs")
        archive = await scoped.patch("/repos/acme/other", json={"archived": True})
    assert other.status_code == 200
    assert written.status_code == 201
    assert runs.status_code == 200
    assert archive.status_code == 403


async def test_git_over_http_honours_a_scoped_tokens_repositories_and_permissions(
    scene: Scene,
) -> None:
    reader = await _token(scene, repositories=["mine"], permissions={"contents": "read"})
    writer = await _token(scene, repositories=["mine"], permissions={"contents": "write"})
    mine, other = str(scene.mine["clone_url"]), str(scene.other["clone_url"])

    work = scene.tmp / "mine"
    cloned = git_client(
        "clone", "--quiet", with_credentials(mine, "x-access-token", reader), str(work)
    )
    assert cloned.returncode == 0, cloned.stderr
    assert (work / "README.md").read_text() == "# starter\n"

    refused = git_client(
        "clone", with_credentials(other, "x-access-token", reader), str(scene.tmp / "other")
    )
    assert refused.returncode != 0
    assert "Repository not found." in refused.stderr

    (work / "change.txt").write_text("change\n")
    assert git_client("add", "change.txt", cwd=work).returncode == 0
    assert git_client("commit", "--quiet", "-m", "Change", cwd=work).returncode == 0
    read_only = git_client("push", "origin", "main", cwd=work)
    assert read_only.returncode != 0
    assert "Permission to acme/mine.git denied" in read_only.stderr

    pushed = git_client(
        "push", "--quiet", with_credentials(mine, "x-access-token", writer), "main", cwd=work
    )
    assert pushed.returncode == 0, pushed.stderr
