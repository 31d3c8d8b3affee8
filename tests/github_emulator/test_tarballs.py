"""Repository tarballs as GitHub serves them: a 302 from the API (default branch, branches,
tags, full refs and shas, with the API's credentials, scopes and faults) to a short-lived
signed codeload URL that takes no credentials and answers `git archive`'s tar.gz."""

from __future__ import annotations

import io
import tarfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.github_emulator.repos_api import codeload_url
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


@dataclass
class Scene:
    github: RunningEmulator
    api: httpx.AsyncClient
    head: str


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    templates = tmp_path / "templates"
    files = {"README.md": "# starter\n", "bin/run.sh": "#!/bin/sh\necho run\n"}
    write_template(templates, "starter", files, executable=("bin/run.sh",))
    config = emulator_config(tmp_path, templates_dir=templates, generate_delay_seconds=0.05)
    async with running_emulator(config) as github, github.client() as api:
        await generate_repo(api, TEMPLATE, "acme", "tree", private=True)
        head = (await api.get("/repos/acme/tree/branches/main")).json()["commit"]["sha"]
        yield Scene(github, api, head)


def _codeload_prefix(scene: Scene, sha: str) -> str:
    return f"{scene.github.base_url}/_codeload/acme/tree/legacy.tar.gz/{sha}?"


async def _fetch(location: str, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient() as codeload:
        return await codeload.get(location, headers=headers)


async def test_a_tarball_is_a_redirect_to_git_archive_on_codeload(scene: Scene) -> None:
    redirect = await scene.api.get("/repos/acme/tree/tarball/main")
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(_codeload_prefix(scene, scene.head))

    download = await _fetch(location)

    assert download.status_code == 200
    folder = f"acme-tree-{scene.head[:7]}"
    assert download.headers["content-type"] == "application/x-gzip"
    assert download.headers["content-length"] == str(len(download.content))
    assert download.headers["content-disposition"] == f"attachment; filename={folder}.tar.gz"
    with tarfile.open(fileobj=io.BytesIO(download.content), mode="r:gz") as tar:
        assert tar.pax_headers == {"comment": scene.head}
        members = {member.name: member for member in tar.getmembers()}
        assert sorted(members) == [
            folder,
            f"{folder}/README.md",
            f"{folder}/bin",
            f"{folder}/bin/run.sh",
        ]
        assert members[f"{folder}/bin/run.sh"].mode & 0o111
        readme = tar.extractfile(members[f"{folder}/README.md"])
        assert readme is not None
        assert readme.read() == b"# starter\n"


async def test_a_symlink_committed_to_the_repository_stays_a_link_in_the_tarball(
    scene: Scene, tmp_path: Path
) -> None:
    repo = (await scene.api.get("/repos/acme/tree")).json()
    work = tmp_path / "work"
    url = with_credentials(repo["clone_url"], "bot", scene.github.config.tokens[0])
    assert git_client("clone", "--quiet", url, str(work)).returncode == 0
    (work / "docs").symlink_to("README.md")
    assert git_client("add", "docs", cwd=work).returncode == 0
    assert git_client("commit", "--quiet", "-m", "Link", cwd=work).returncode == 0
    assert git_client("push", "--quiet", "origin", "main", cwd=work).returncode == 0
    head = git_client("rev-parse", "HEAD", cwd=work).stdout.strip()

    redirect = await scene.api.get("/repos/acme/tree/tarball")
    download = await _fetch(redirect.headers["location"])

    with tarfile.open(fileobj=io.BytesIO(download.content), mode="r:gz") as tar:
        link = tar.getmember(f"acme-tree-{head[:7]}/docs")
    assert (link.issym(), link.linkname) == (True, "README.md")


async def test_refs_of_every_kind_resolve_to_their_commit(scene: Scene) -> None:
    for ref in ("refs/heads/feature/one", "refs/tags/v1"):
        created = await scene.api.post(
            "/repos/acme/tree/git/refs", json={"ref": ref, "sha": scene.head}
        )
        assert created.status_code == 201, created.text
    paths = [
        "tarball",
        "tarball/main",
        "tarball/refs/heads/main",
        "tarball/feature/one",
        "tarball/v1",
        "tarball/refs/tags/v1",
        f"tarball/{scene.head}",
        f"tarball/{scene.head[:7]}",
    ]
    for path in paths:
        redirect = await scene.api.get(f"/repos/acme/tree/{path}")
        assert redirect.status_code == 302, path
        assert redirect.headers["location"].startswith(_codeload_prefix(scene, scene.head)), path


@pytest.mark.parametrize(
    "path",
    [
        "/repos/acme/tree/tarball/no-such-branch",
        "/repos/acme/tree/tarball/refs/heads/nope",
        "/repos/acme/tree/tarball/--output=x",
        "/repos/acme/missing/tarball/main",
    ],
)
async def test_unknown_refs_and_repositories_are_404(scene: Scene, path: str) -> None:
    response = await scene.api.get(path)

    assert response.status_code == 404
    assert response.json()["message"] == "Not Found"


async def test_the_api_route_takes_credentials_and_a_scoped_tokens_limits(
    scene: Scene,
) -> None:
    async with scene.github.client(token=None) as anonymous:
        unauthenticated = await anonymous.get("/repos/acme/tree/tarball/main")
    without_contents = await installation_token(scene.github, permissions={"actions": "read"})
    elsewhere = await installation_token(
        scene.github, repositories=["starter"], permissions={"contents": "read"}
    )
    statuses = []
    for minted in (without_contents, elsewhere):
        assert minted.status_code == 201, minted.text
        async with scene.github.client(token=minted.json()["token"]) as scoped:
            statuses.append((await scoped.get("/repos/acme/tree/tarball/main")).status_code)

    assert unauthenticated.status_code == 401
    assert statuses == [403, 404]


async def test_codeload_takes_no_credentials_and_only_its_own_fresh_signature(
    scene: Scene,
) -> None:
    location = (await scene.api.get("/repos/acme/tree/tarball/main")).headers["location"]
    url, _, query = location.partition("?")
    other_sha = "0" * 40
    repo = scene.github.emulator.store.repo("acme", "tree")
    assert repo is not None
    # Signed as the emulator signs, but a second past its expiry.
    expired = codeload_url(
        scene.github.emulator, scene.github.base_url, repo, scene.head, int(time.time()) - 1
    )

    with_token = await _fetch(location, Authorization=f"Bearer {scene.github.config.tokens[0]}")
    tampered = await _fetch(location[:-1] + ("0" if location[-1] != "0" else "1"))
    unsigned = await _fetch(url)
    another_commit = await _fetch(f"{url.rsplit('/', 1)[0]}/{other_sha}?{query}")
    stale = await _fetch(expired)

    assert with_token.status_code == 400
    assert "Authorization" in with_token.json()["message"]
    for refused in (tampered, unsigned, another_commit):
        assert refused.status_code == 403
        assert "bad signature" in refused.json()["message"]
    assert stale.status_code == 403
    assert "expired" in stale.json()["message"]
    assert (await _fetch(location)).status_code == 200


async def test_faults_apply_to_the_tarball_route_and_it_is_counted(scene: Scene) -> None:
    rule = {"route": r"^GET /repos/[^/]+/[^/]+/tarball", "status": 502, "times": 1}
    assert (await scene.api.post("/_emulator/faults", json=[rule])).status_code == 200

    statuses = [
        (await scene.api.get("/repos/acme/tree/tarball/main")).status_code for _ in range(2)
    ]
    stats = (await scene.api.get("/_emulator/stats")).json()

    assert statuses == [502, 302]
    assert stats["requests"]["GET /repos/{owner}/{repo}/tarball/{ref}"] == 2
    assert stats["faults_injected_total"] == 1
