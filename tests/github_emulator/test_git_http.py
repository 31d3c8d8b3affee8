"""Git over HTTP on the emulator, driven by real `git clone` and `git push` processes: the
URLs the API hands out, GitHub's credentials and permissions, the `push` webhooks every
moved ref sends, and no git process outliving its request."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.emulator import (
    TOKEN,
    RunningEmulator,
    WebhookReceiver,
    emulator_config,
    eventually,
    generate_repo,
    git_client,
    running_emulator,
    serving,
    with_credentials,
    write_template,
)

SECRET = "push-secret"
TEMPLATE = "tenon-templates/starter"
ZERO = "0" * 40


@dataclass
class Scene:
    github: RunningEmulator
    api: httpx.AsyncClient
    hooks: WebhookReceiver
    tmp: Path


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    templates = tmp_path / "templates"
    write_template(templates, "starter", {"README.md": "# starter\n", "app/main.py": "x = 1\n"})
    hooks = WebhookReceiver()
    async with serving(hooks.app) as hook_url:
        config = emulator_config(
            tmp_path,
            templates_dir=templates,
            generate_delay_seconds=0.05,
            webhook_url=f"{hook_url}/hook",
            webhook_secret=SECRET,
        )
        async with running_emulator(config) as github, github.client() as api:
            yield Scene(github, api, hooks, tmp_path)


async def _private_repo(scene: Scene, name: str) -> dict[str, Any]:
    return await generate_repo(scene.api, TEMPLATE, "acme", name, private=True)


async def _user_token(scene: Scene, login: str) -> str:
    response = await scene.api.post(f"/_emulator/users/{login}/tokens")
    assert response.status_code == 201, response.text
    assert response.json()["login"] == login
    token: str = response.json()["token"]
    return token


async def _collaborator(scene: Scene, repo: str, login: str, permission: str) -> None:
    response = await scene.api.put(
        f"/repos/{repo}/collaborators/{login}", json={"permission": permission}
    )
    assert response.status_code in (201, 204), response.text


def _commit(work: Path, path: str, text: str, message: str) -> str:
    (work / path).parent.mkdir(parents=True, exist_ok=True)
    (work / path).write_text(text)
    assert git_client("add", "--all", cwd=work).returncode == 0
    assert git_client("commit", "--quiet", "-m", message, cwd=work).returncode == 0
    return git_client("rev-parse", "HEAD", cwd=work).stdout.strip()


def _clone(url: str, destination: Path) -> None:
    cloned = git_client("clone", "--quiet", url, str(destination))
    assert cloned.returncode == 0, cloned.stderr


async def _pushes(scene: Scene, count: int) -> list[tuple[dict[str, str], dict[str, Any]]]:
    """The first `count` push deliveries, once they have arrived."""

    async def arrived() -> list[tuple[dict[str, str], dict[str, Any]]] | None:
        pushes = [d for d in scene.hooks.accepted() if d[0]["x-github-event"] == "push"]
        return pushes if len(pushes) >= count else None

    return (await eventually(arrived))[:count]


async def test_clone_and_push_on_the_urls_the_api_gives_send_a_signed_push_webhook(
    scene: Scene,
) -> None:
    repo = await _private_repo(scene, "pushed")
    base = scene.github.base_url
    assert repo["html_url"] == f"{base}/acme/pushed"
    assert repo["clone_url"] == f"{base}/acme/pushed.git"
    before = (await scene.api.get("/repos/acme/pushed/branches/main")).json()["commit"]["sha"]

    work = scene.tmp / "work"
    _clone(with_credentials(repo["html_url"], "anything", TOKEN), work)
    assert (work / "app" / "main.py").read_text() == "x = 1\n"
    _commit(work, "app/main.py", "x = 2\n", "Change x")
    after = _commit(work, "NOTES.md", "notes\n", "Add notes")
    pushed = git_client("push", "--quiet", "origin", "main", cwd=work)
    assert pushed.returncode == 0, pushed.stderr

    branch = (await scene.api.get("/repos/acme/pushed/branches/main")).json()
    assert branch["commit"]["sha"] == after
    second = scene.tmp / "second"
    _clone(with_credentials(repo["clone_url"], "x-access-token", TOKEN), second)
    assert (second / "NOTES.md").read_text() == "notes\n"

    [(headers, payload)] = await _pushes(scene, 1)
    [(_, body)] = [(h, b) for h, b in scene.hooks.requests if h["x-github-event"] == "push"]
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature-256"] == f"sha256={digest}"
    assert (payload["ref"], payload["before"], payload["after"]) == (
        "refs/heads/main",
        before,
        after,
    )
    assert (payload["created"], payload["deleted"], payload["forced"]) == (False, False, False)
    assert [(c["message"], c["added"], c["modified"]) for c in payload["commits"]] == [
        ("Change x", [], ["app/main.py"]),
        ("Add notes", ["NOTES.md"], []),
    ]
    assert payload["head_commit"]["id"] == after
    assert payload["head_commit"]["author"]["email"] == "candidate@example.com"
    assert payload["pusher"]["name"] == "tenon-bot"
    assert payload["repository"]["full_name"] == "acme/pushed"
    assert payload["repository"]["default_branch"] == "main"
    assert isinstance(payload["repository"]["pushed_at"], int)
    assert payload["compare"] == f"{base}/acme/pushed/compare/{before[:12]}...{after[:12]}"


async def test_a_push_beyond_gits_post_buffer_streams_through_chunked(scene: Scene) -> None:
    # Past http.postBuffer (1 MiB) git sends the pack with chunked encoding, no length.
    repo = await _private_repo(scene, "large")
    url = with_credentials(repo["clone_url"], "bot", TOKEN)
    work = scene.tmp / "work"
    _clone(url, work)
    blob = os.urandom(3 * 1024 * 1024)
    (work / "data.bin").write_bytes(blob)
    assert git_client("add", "data.bin", cwd=work).returncode == 0
    assert git_client("commit", "--quiet", "-m", "Large", cwd=work).returncode == 0
    pushed = git_client("push", "--quiet", "origin", "main", cwd=work)
    assert pushed.returncode == 0, pushed.stderr
    _clone(url, scene.tmp / "again")
    assert (scene.tmp / "again" / "data.bin").read_bytes() == blob


async def test_new_forced_and_deleted_refs_are_announced_as_github_does(scene: Scene) -> None:
    repo = await _private_repo(scene, "refs")
    work = scene.tmp / "work"
    _clone(with_credentials(repo["clone_url"], "bot", TOKEN), work)
    base = git_client("rev-parse", "HEAD", cwd=work).stdout.strip()
    assert git_client("checkout", "--quiet", "-b", "feature", cwd=work).returncode == 0
    feature = _commit(work, "feature.txt", "f\n", "Feature")
    assert git_client("push", "--quiet", "origin", "feature", cwd=work).returncode == 0
    assert git_client("reset", "--quiet", "--hard", base, cwd=work).returncode == 0
    rewritten = _commit(work, "other.txt", "o\n", "Rewritten")
    forced = git_client("push", "--quiet", "--force", "origin", "feature", cwd=work)
    assert forced.returncode == 0, forced.stderr
    deleted = git_client("push", "--quiet", "origin", "--delete", "feature", cwd=work)
    assert deleted.returncode == 0, deleted.stderr

    created, rewrite, removal = [payload for _, payload in await _pushes(scene, 3)]
    assert (created["before"], created["after"], created["created"]) == (ZERO, feature, True)
    # A new branch lists only what no other branch has.
    assert [commit["id"] for commit in created["commits"]] == [feature]
    assert (rewrite["before"], rewrite["after"], rewrite["forced"]) == (feature, rewritten, True)
    assert (removal["after"], removal["deleted"], removal["head_commit"]) == (ZERO, True, None)
    assert removal["commits"] == []


async def test_a_collaborators_token_pushes_as_them_and_others_are_refused(
    scene: Scene,
) -> None:
    repo = await _private_repo(scene, "access")
    url = repo["clone_url"]
    writer = await _user_token(scene, "octocat")
    reader = await _user_token(scene, "reader")
    stranger = await _user_token(scene, "stranger")
    await _collaborator(scene, "acme/access", "octocat", "push")
    await _collaborator(scene, "acme/access", "reader", "pull")

    lost = git_client("clone", with_credentials(url, "stranger", stranger), str(scene.tmp / "s"))
    assert lost.returncode != 0
    assert "Repository not found" in lost.stderr

    read_only = scene.tmp / "reader"
    _clone(with_credentials(url, "reader", reader), read_only)
    _commit(read_only, "r.txt", "r\n", "Reader change")
    denied = git_client("push", "origin", "main", cwd=read_only)
    assert denied.returncode != 0
    assert "Permission to acme/access.git denied to reader." in denied.stderr

    work = scene.tmp / "writer"
    _clone(with_credentials(url, "octocat", writer), work)
    head = _commit(work, "w.txt", "w\n", "Writer change")
    assert git_client("push", "--quiet", "origin", "main", cwd=work).returncode == 0
    [(_, payload)] = await _pushes(scene, 1)
    assert (payload["after"], payload["pusher"]["name"]) == (head, "octocat")
    assert payload["sender"]["login"] == "octocat"

    # Taking the collaborator away (what the deadline does) ends their pushes.
    assert (await scene.api.delete("/repos/acme/access/collaborators/octocat")).status_code == 204
    _commit(work, "late.txt", "late\n", "Too late")
    late = git_client("push", "origin", "main", cwd=work)
    assert late.returncode != 0
    assert "Repository not found" in late.stderr


async def test_anonymous_and_bad_credentials_are_asked_to_sign_in(scene: Scene) -> None:
    repo = await _private_repo(scene, "secret")
    info_refs = f"{repo['clone_url']}/info/refs"
    async with httpx.AsyncClient() as http:
        anonymous = await http.get(info_refs, params={"service": "git-upload-pack"})
        bad_token = await http.get(
            info_refs, params={"service": "git-upload-pack"}, auth=("octocat", "ghp_wrong")
        )
        dumb = await http.get(info_refs, auth=("bot", TOKEN))
        # As on GitHub, the token may be the username, with no password.
        token_as_user = await http.get(
            info_refs, params={"service": "git-upload-pack"}, auth=(TOKEN, "")
        )
        public = await http.get(
            f"{scene.github.base_url}/{TEMPLATE}/info/refs", params={"service": "git-upload-pack"}
        )
        public_push = await http.get(
            f"{scene.github.base_url}/{TEMPLATE}/info/refs",
            params={"service": "git-receive-pack"},
        )
    for refused in (anonymous, bad_token, public_push):
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == 'Basic realm="GitHub"'
    assert dumb.status_code == 403
    assert token_as_user.status_code == 200
    assert public.status_code == 200
    assert public.headers["content-type"] == "application/x-git-upload-pack-advertisement"

    # git itself fails at once instead of waiting for a password.
    failed = git_client("clone", repo["clone_url"], str(scene.tmp / "anon"))
    assert failed.returncode != 0
    assert "terminal prompts disabled" in failed.stderr
    _clone(f"{scene.github.base_url}/{TEMPLATE}.git", scene.tmp / "public")


async def test_an_archived_repository_refuses_pushes(scene: Scene) -> None:
    repo = await _private_repo(scene, "frozen")
    work = scene.tmp / "work"
    _clone(with_credentials(repo["clone_url"], "bot", TOKEN), work)
    archived = await scene.api.patch("/repos/acme/frozen", json={"archived": True})
    assert archived.status_code == 200
    _commit(work, "x.txt", "x\n", "After archiving")
    refused = git_client("push", "origin", "main", cwd=work)
    assert refused.returncode != 0
    assert "This repository was archived so it is read-only." in refused.stderr


async def test_contents_api_commits_and_new_tags_send_push_webhooks(scene: Scene) -> None:
    await _private_repo(scene, "api")
    before = (await scene.api.get("/repos/acme/api/branches/main")).json()["commit"]["sha"]
    put = await scene.api.put(
        "/repos/acme/api/contents/docs/guide.md",
        json={"message": "Add a guide", "content": base64.b64encode(b"guide\n").decode()},
    )
    assert put.status_code == 201, put.text
    after = put.json()["commit"]["sha"]
    tag = {"ref": "refs/tags/tenon-run-1", "sha": after}
    assert (await scene.api.post("/repos/acme/api/git/refs", json=tag)).status_code == 201

    commit, tagged = [payload for _, payload in await _pushes(scene, 2)]
    assert (commit["ref"], commit["before"], commit["after"]) == ("refs/heads/main", before, after)
    assert [(c["id"], c["added"]) for c in commit["commits"]] == [(after, ["docs/guide.md"])]
    assert (tagged["ref"], tagged["created"], tagged["head_commit"]["id"]) == (
        "refs/tags/tenon-run-1",
        True,
        after,
    )


def _git_children() -> list[str]:
    """This process's child processes that are git (running or not yet reaped)."""
    children = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after its parenthesis.
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        if ppid == os.getpid() and comm == "git":
            children.append(entry.name)
    return children


async def _stalled_push(url: str, release: asyncio.Event) -> httpx.Response:
    """A push whose body starts, then stalls until `release` is set."""

    async def body() -> AsyncIterator[bytes]:
        yield b"00a0"  # a pkt-line promising 160 bytes
        await release.wait()

    credentials = base64.b64encode(f"bot:{TOKEN}".encode()).decode()
    # The timeout only stops a hung test run; the emulator ends the request first.
    async with httpx.AsyncClient(timeout=60) as http:
        return await http.post(
            f"{url}/git-receive-pack",
            content=body(),
            headers={
                "Authorization": f"Basic {credentials}",
                "Content-Type": "application/x-git-receive-pack-request",
            },
        )


@pytest.mark.parametrize("ending", ["client-leaves", "time-limit"])
async def test_no_git_process_outlives_a_request_cut_short(tmp_path: Path, ending: str) -> None:
    templates = tmp_path / "templates"
    write_template(templates, "starter", {"README.md": "# starter\n"})
    limit = 1.0 if ending == "time-limit" else 600.0
    config = emulator_config(
        tmp_path,
        templates_dir=templates,
        generate_delay_seconds=0.05,
        git_http_timeout_seconds=limit,
    )
    async with running_emulator(config) as github, github.client() as api:
        repo = await generate_repo(api, TEMPLATE, "acme", "stalled", private=True)
        await eventually(_no_git_process)
        release = asyncio.Event()
        push = asyncio.create_task(_stalled_push(repo["clone_url"], release))
        await eventually(_a_git_process)
        if ending == "client-leaves":
            push.cancel()
        # The backend goes with its request, though this client is still stalled.
        await eventually(_no_git_process)
        release.set()
        [outcome] = await asyncio.gather(push, return_exceptions=True)
        branch = await api.get("/repos/acme/stalled/branches/main")
    if ending == "time-limit":
        # The answer, or the connection cut short if the backend had begun answering.
        answered = isinstance(outcome, httpx.Response) and outcome.status_code == 504
        assert answered or isinstance(outcome, httpx.HTTPError), outcome
    assert branch.status_code == 200  # the repository is untouched and still served


async def _a_git_process() -> bool | None:
    return True if _git_children() else None


async def _no_git_process() -> bool | None:
    return None if _git_children() else True
