"""What the emulator knows: accounts, repositories (bare git repos under `data_dir/repos`),
collaborators, invitations, workflow runs and artifacts.

Metadata lives in memory and is written to `data_dir/state.json` (atomically, off the event
loop) after every change, so a restarted emulator finds its repositories again. Repository
secrets are kept there too; no API response carries them, the emulator never logs them, and
run logs mask them.

Grader repositories (template folders named `*-grader`) are private and get the secrets
their grading workflow needs to mint a token for the candidate's repository: `TENON_APP_ID`
and `TENON_APP_PRIVATE_KEY`. On GitHub the customer sets these once in the grader
repository's settings; locally nobody would, so the emulator seeds them. The key is a
placeholder: the emulator does not check App signatures.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import structlog
from pydantic import BaseModel, Field

from app.github_emulator import git
from app.github_emulator.template_layers import compose, template_folders

log = structlog.get_logger(__name__)

AccountType = Literal["User", "Organization", "Bot"]
VALID_LOGIN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?")
# GitHub commits a generated repository's first commit itself, on the creator's behalf.
GITHUB_COMMITTER = git.Person("GitHub", "noreply@github.com")
GRADER_SUFFIX = "-grader"
PLACEHOLDER_APP_PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "placeholder: the GitHub emulator does not verify App signatures\n"
    "-----END RSA PRIVATE KEY-----\n"
)
# Invitation permission names, by the role requested when adding a collaborator.
ROLE_OF_PERMISSION = {
    "pull": "read",
    "triage": "triage",
    "push": "write",
    "maintain": "maintain",
    "admin": "admin",
}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Account(BaseModel):
    login: str
    id: int
    type: AccountType


class Invitation(BaseModel):
    id: int
    login: str
    role: str
    inviter: str
    created_at: datetime


class Repo(BaseModel):
    id: int
    owner: str
    name: str
    description: str | None = None
    private: bool = False
    is_template: bool = False
    template: str | None = None  # full name of the template it was generated from
    archived: bool = False
    default_branch: str = "main"
    created_at: datetime
    updated_at: datetime
    pushed_at: datetime
    collaborators: dict[str, str] = Field(default_factory=dict)  # lower login -> role
    invitations: list[Invitation] = Field(default_factory=list)
    invitation_times: list[datetime] = Field(default_factory=list)
    workflows: dict[str, int] = Field(default_factory=dict)  # path -> workflow id
    run_numbers: dict[str, int] = Field(default_factory=dict)  # workflow id -> last number
    secrets: dict[str, str] = Field(default_factory=dict)  # upper-case name -> value

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


class Run(BaseModel):
    id: int
    repo_id: int
    workflow_id: int
    path: str
    name: str
    display_title: str
    run_number: int
    event: str = "workflow_dispatch"
    status: str = "queued"
    conclusion: str | None = None
    ref: str  # the full ref dispatched: refs/heads/… or refs/tags/…
    head_sha: str
    head_branch: str | None
    head_commit: dict[str, object]
    actor: str
    inputs: dict[str, str]
    # The API base URL of the dispatching request, for links built in the background.
    api_base: str
    created_at: datetime
    updated_at: datetime
    run_started_at: datetime | None = None


class Artifact(BaseModel):
    id: int
    repo_id: int
    run_id: int
    name: str
    size_in_bytes: int
    digest: str
    head_sha: str
    head_branch: str | None
    created_at: datetime
    expires_at: datetime

    @property
    def expired(self) -> bool:
        return self.expires_at <= utcnow()


class RepoExistsError(Exception):
    """The owner already has a repository with that name."""


class State(BaseModel):
    counters: dict[str, int] = Field(default_factory=dict)
    accounts: dict[str, Account] = Field(default_factory=dict)  # lower login -> account
    repos: dict[str, Repo] = Field(default_factory=dict)  # lower full name -> repo
    runs: dict[int, Run] = Field(default_factory=dict)
    artifacts: dict[int, Artifact] = Field(default_factory=dict)
    # Personal access tokens minted for users (git over HTTP): sha256 hex digest -> login.
    user_tokens: dict[str, str] = Field(default_factory=dict)


# First ids per kind, so ids of different kinds are easy to tell apart in logs.
_FIRST_IDS = {
    "account": 1000,
    "repo": 100_000,
    "invitation": 5000,
    "workflow": 7_000_000,
    "run": 20_000_000,
    "artifact": 900_000,
}


class Store:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.state = State()
        self._state_file = data_dir / "state.json"
        self._save_lock = asyncio.Lock()
        self._dirty = False
        self._repo_locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Checking that a name is free and taking it must not interleave.
        self._create_lock = asyncio.Lock()

    async def load(self) -> None:
        await asyncio.to_thread(self._prepare_dirs)
        if await asyncio.to_thread(self._state_file.exists):
            raw = await asyncio.to_thread(self._state_file.read_bytes)
            self.state = State.model_validate_json(raw)
        # Runs cut short by a restart will never finish: close them honestly.
        for run in self.state.runs.values():
            if run.status != "completed":
                run.status, run.conclusion, run.updated_at = "completed", "cancelled", utcnow()
        await self.save()

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.save()

    def _prepare_dirs(self) -> None:
        for sub in ("repos", "artifacts", "logs"):
            (self.data_dir / sub).mkdir(parents=True, exist_ok=True)

    async def save(self) -> None:
        """Persist the state; returns once a snapshot taken after the caller's change is
        written. Saves queued behind a write are coalesced into one."""
        self._dirty = True
        async with self._save_lock:
            if not self._dirty:
                return
            self._dirty = False
            snapshot = self.state.model_dump_json().encode()
            await asyncio.to_thread(self._write, snapshot)

    def _write(self, snapshot: bytes) -> None:
        temporary = self._state_file.with_suffix(".tmp")
        temporary.write_bytes(snapshot)
        temporary.replace(self._state_file)

    def next_id(self, kind: str) -> int:
        value = self.state.counters.get(kind, _FIRST_IDS.get(kind, 1)) + 1
        self.state.counters[kind] = value
        return value

    def account(self, login: str, kind: AccountType = "User") -> Account:
        """The account for `login`, created on first sight (GitHub logins are case-blind)."""
        existing = self.state.accounts.get(login.lower())
        if existing is not None:
            if kind == "Organization" and existing.type == "User":
                existing.type = "Organization"
            return existing
        created = Account(login=login, id=self.next_id("account"), type=kind)
        self.state.accounts[login.lower()] = created
        return created

    def repo(self, owner: str, name: str) -> Repo | None:
        return self.state.repos.get(f"{owner}/{name}".lower())

    def repo_by_id(self, repo_id: int) -> Repo | None:
        return next((repo for repo in self.state.repos.values() if repo.id == repo_id), None)

    def path(self, repo: Repo) -> Path:
        return self.data_dir / "repos" / f"{repo.id}.git"

    def artifact_path(self, artifact_id: int) -> Path:
        return self.data_dir / "artifacts" / f"{artifact_id}.zip"

    def log_path(self, run_id: int) -> Path:
        return self.data_dir / "logs" / f"{run_id}.log"

    def lock(self, repo: Repo) -> asyncio.Lock:
        return self._repo_locks.setdefault(repo.id, asyncio.Lock())

    async def create_repo(
        self,
        owner: Account,
        name: str,
        *,
        creator: str,
        description: str | None = None,
        private: bool = False,
        is_template: bool = False,
        template: str | None = None,
    ) -> Repo:
        """A new, empty repository; RepoExistsError when the owner already has one so named."""
        async with self._create_lock:
            if self.repo(owner.login, name) is not None:
                raise RepoExistsError(f"{owner.login}/{name}")
            now = utcnow()
            repo = Repo(
                id=self.next_id("repo"),
                owner=owner.login,
                name=name,
                description=description,
                private=private,
                is_template=is_template,
                template=template,
                created_at=now,
                updated_at=now,
                pushed_at=now,
                # Whoever creates a repository administers it.
                collaborators={creator.lower(): "admin"},
            )
            await git.init_bare(self.path(repo), repo.default_branch)
            self.state.repos[repo.full_name.lower()] = repo
        await self.save()
        return repo

    async def delete_repo(self, repo: Repo) -> None:
        async with self.lock(repo):
            self.state.repos.pop(repo.full_name.lower(), None)
            for artifact_id in [
                a.id for a in self.state.artifacts.values() if a.repo_id == repo.id
            ]:
                del self.state.artifacts[artifact_id]
                await asyncio.to_thread(self.artifact_path(artifact_id).unlink, True)
            self.state.runs = {
                run_id: run for run_id, run in self.state.runs.items() if run.repo_id != repo.id
            }
            await self.save()
            await git.remove(self.path(repo))
        self._repo_locks.pop(repo.id, None)

    def pushed(self, repo: Repo) -> None:
        repo.pushed_at = repo.updated_at = utcnow()

    def author(self, login: str) -> git.Person:
        account = self.account(login)
        return git.Person(login, f"{account.id}+{login}@users.noreply.github.com")

    async def load_templates(
        self, folder: Path, owner_login: str, creator: str, *, app_id: int
    ) -> list[str]:
        """Every sub-folder of `folder` as the template repository {owner}/{sub-folder}; a
        template folder changed since the last start gets a new commit. Grader repositories
        are private and seeded with the App's secrets (kept if already set)."""
        owner = self.account(owner_login, "Organization")
        loaded = []
        for template_dir in await asyncio.to_thread(template_folders, folder):
            grader = template_dir.name.endswith(GRADER_SUFFIX)
            repo = self.repo(owner.login, template_dir.name) or await self.create_repo(
                owner, template_dir.name, creator=creator, is_template=True, private=grader
            )
            if grader:
                repo.secrets.setdefault("TENON_APP_ID", str(app_id))
                repo.secrets.setdefault("TENON_APP_PRIVATE_KEY", PLACEHOLDER_APP_PRIVATE_KEY)
            async with self.lock(repo), _composed(template_dir) as files:
                path = self.path(repo)
                existed = await git.has_branch(path, repo.default_branch)
                head = await git.commit_directory(
                    path,
                    files,
                    branch=repo.default_branch,
                    message="Update template" if existed else "Initial commit",
                    author=self.author(creator),
                )
            if head is not None:
                self.pushed(repo)
            loaded.append(repo.full_name)
        await self.save()
        log.info("emulator.templates.loaded", templates=loaded, folder=str(folder))
        return loaded

    async def generate(
        self,
        template: Repo,
        owner: Account,
        name: str,
        *,
        creator: str,
        description: str | None,
        private: bool,
        delay_seconds: float,
    ) -> Repo:
        """A new repository whose default branch, after `delay_seconds` (GitHub copies in
        the background), holds one root commit with the template's files."""
        repo = await self.create_repo(
            owner,
            name,
            creator=creator,
            description=description,
            private=private,
            template=template.full_name,
        )
        repo.default_branch = template.default_branch
        await git.git(self.path(repo), "symbolic-ref", "HEAD", f"refs/heads/{repo.default_branch}")
        await self.save()
        task = asyncio.create_task(self._populate(repo, template, creator, delay_seconds))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return repo

    async def _populate(self, repo: Repo, template: Repo, creator: str, delay: float) -> None:
        await asyncio.sleep(delay)
        try:
            async with self.lock(repo):
                path = self.path(repo)
                if self.repo_by_id(repo.id) is None or await git.has_branch(
                    path, repo.default_branch
                ):
                    return
                await git.commit_root_copy(
                    path,
                    self.path(template),
                    f"refs/heads/{template.default_branch}",
                    branch=repo.default_branch,
                    message="Initial commit",
                    author=self.author(creator),
                    committer=GITHUB_COMMITTER,
                )
                self.pushed(repo)
            await self.save()
            log.info("emulator.repo.generated", repo=repo.full_name, template=template.full_name)
        except git.GitError:
            log.exception("emulator.repo.generate_failed", repo=repo.full_name)


@asynccontextmanager
async def _composed(template_dir: Path) -> AsyncIterator[Path]:
    """The template's files with its layers' (template_layers), in a scratch folder."""
    scratch = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix="tenon-emu-template-"))
    try:
        await asyncio.to_thread(compose, template_dir, scratch / "files")
        yield scratch / "files"
    finally:
        await asyncio.to_thread(shutil.rmtree, scratch, True)
