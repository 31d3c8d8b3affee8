"""The actions a run executes in-process instead of downloading them:

- `actions/checkout`: a real clone from the emulator's own repositories into the workspace,
  allowed as git over HTTP would allow that token (`tokens.git_access`); `repository`,
  `ref` (branch, tag or full SHA), `token` and `path` are honoured, `persist-credentials`
  and `fetch-depth` ignored (nothing is persisted; the clone is full).
- `actions/create-github-app-token`: an installation token from the emulator's registry,
  limited to `owner` + `repositories` and the `permission-<name>` inputs, for the emulator's
  App only (`app-id`); it is revoked when the run ends, as the real action revokes it in its
  post step.

Failures come back as log lines worded like the real action's, never as exceptions.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from app.github_emulator import git
from app.github_emulator.storage import Repo, Store
from app.github_emulator.tokens import (
    NOT_ACCESSIBLE,
    Identity,
    InstallationTokens,
    ScopeError,
    TokenScope,
    git_access,
    requested_permissions,
)

_FULL_SHA = re.compile(r"[0-9a-fA-F]{40}")
_LIST_SEPARATOR = re.compile(r"[,\n]")


@dataclass(frozen=True)
class ActionSite:
    """What an emulated action works with: the run's repository, commit, workspace and
    `github.token`, and the emulator's repositories and tokens."""

    store: Store
    tokens: InstallationTokens
    # Who a token is (configured, installation or user token); None when unknown.
    identify: Callable[[str], Identity | None]
    app_id: int
    repo: Repo
    sha: str
    workspace: Path
    token: str
    server_url: str


@dataclass
class ActionResult:
    ok: bool
    lines: list[str] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    # Tokens the action minted: masked in the log and revoked when the run ends.
    issued: list[str] = field(default_factory=list)


def _failed(*lines: str) -> ActionResult:
    return ActionResult(ok=False, lines=list(lines))


def _inside(workspace: Path, relative: str) -> Path | None:
    """`relative` under the workspace, or None when it would leave it."""
    target = (workspace / relative).resolve()
    return target if target.is_relative_to(workspace.resolve()) else None


def _empty_directory(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for child in path.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


async def _resolve_ref(repo: Path, ref: str) -> tuple[str, str | None] | None:
    """(commit, branch or None) for a branch, tag, full ref or full SHA, as checkout reads
    `ref`; None when there is no such thing."""
    if ref.startswith("refs/"):
        candidates = [ref]
    elif _FULL_SHA.fullmatch(ref):
        candidates = [ref.lower()]
    else:
        candidates = [f"refs/heads/{ref}", f"refs/tags/{ref}"]
    for candidate in candidates:
        sha = await git.resolve(repo, candidate)
        if sha is not None:
            branch = candidate.removeprefix("refs/heads/")
            return sha, branch if candidate.startswith("refs/heads/") else None
    return None


async def checkout(site: ActionSite, options: Mapping[str, str]) -> ActionResult:
    name = options.get("repository") or site.repo.full_name
    token = options.get("token", site.token)
    if not token:
        return _failed("##[error]Input required and not supplied: token")
    relative = options.get("path", "")
    destination = await asyncio.to_thread(_inside, site.workspace, relative)
    if destination is None:
        return _failed(f"##[error]Repository path '{relative}' is not under '{site.workspace}'")
    url = f"{site.server_url}/{name}"
    lines = [f"Syncing repository: {name}"]
    identity = site.identify(token)
    if identity is None:
        return _failed(
            *lines,
            "remote: Invalid username or token. "
            "Password authentication is not supported for Git operations.",
            f"##[error]fatal: Authentication failed for '{url}/'",
        )
    owner, _, repo_name = name.partition("/")
    repo = site.store.repo(owner, repo_name) if owner and repo_name else None
    access = git_access(identity, repo, push=False) if repo is not None else "hidden"
    if repo is None or access == "hidden":
        return _failed(
            *lines,
            "remote: Repository not found.",
            f"##[error]fatal: repository '{url}/' not found",
        )
    if access == "denied":
        return _failed(
            *lines,
            f"remote: Permission to {repo.full_name}.git denied to {identity.login}.",
            f"##[error]fatal: unable to access '{url}/': The requested URL returned error: 403",
        )
    ref = options.get("ref") or (site.sha if repo.id == site.repo.id else repo.default_branch)
    bare = site.store.path(repo)
    target = await _resolve_ref(bare, ref)
    if target is None:
        if _FULL_SHA.fullmatch(ref):
            return _failed(*lines, f"##[error]fatal: remote error: upload-pack: not our ref {ref}")
        return _failed(*lines, f"##[error]A branch or tag with the name '{ref}' could not be found")
    sha, branch = target
    await asyncio.to_thread(_empty_directory, destination)
    try:
        await git.clone_at(bare, sha, destination, origin=url, branch=branch)
    except git.GitError as exc:
        return _failed(*lines, f"##[error]{exc.stderr.strip()}")
    info = await git.commit_info(bare, sha)
    subject = info.message.splitlines()[0] if info.message else ""
    lines.append(f"HEAD is now at {sha[:7]} {subject}")
    return ActionResult(ok=True, lines=lines)


def _listed(value: str) -> list[str]:
    return [item.strip() for item in _LIST_SEPARATOR.split(value) if item.strip()]


def create_app_token(site: ActionSite, options: Mapping[str, str]) -> ActionResult:
    """Without `owner` and `repositories` the token reaches the run's repository only; with
    `owner` alone, all of that owner's repositories (as the real action does)."""
    app_id = options.get("app-id", "").strip()
    if not app_id:
        return _failed("##[error]Input required and not supplied: app-id")
    if app_id != str(site.app_id):
        return _failed(
            f"##[error]Failed to create token: app-id {app_id} is not this GitHub's App "
            "(the emulator's app_id); check the TENON_APP_ID secret."
        )
    if not options.get("private-key", "").strip():
        return _failed("##[error]Input required and not supplied: private-key")
    names = _listed(options.get("repositories", ""))
    owner = options.get("owner", "").strip()
    if not owner and not names:
        owner, names = site.repo.owner, [site.repo.name]
    owner = owner or site.repo.owner
    repos: list[Repo] = []
    for name in names:
        repo = site.store.repo(owner, name)
        if repo is None:
            return _failed(
                f'##[error]Failed to create token for "{",".join(names)}": {NOT_ACCESSIBLE}'
            )
        repos.append(repo)
    asked = {
        key.removeprefix("permission-").replace("-", "_"): value.strip()
        for key, value in options.items()
        if key.startswith("permission-") and value.strip()
    }
    try:
        permissions = requested_permissions(asked)
    except ScopeError as exc:
        return _failed(f"##[error]Failed to create token: {exc}")
    scope = TokenScope(
        permissions=permissions,
        owner=owner.lower(),
        repository_ids=frozenset(repo.id for repo in repos) if repos else None,
    )
    token, _ = site.tokens.mint(scope)
    reach = ", ".join(repo.full_name for repo in repos) or f"all of {owner}'s repositories"
    return ActionResult(
        ok=True,
        lines=[f"Created an installation token for {reach}."],
        outputs={
            "token": token,
            "installation-id": str(site.tokens.installation_id),
            "app-slug": "tenon",
        },
        issued=[token],
    )
