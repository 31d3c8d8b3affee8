"""The parts of GitHub's REST responses Tenon reads; every other field is ignored."""

from __future__ import annotations

import base64
from datetime import datetime

from pydantic import BaseModel, ConfigDict


class GitHubModel(BaseModel):
    # Frozen so cached responses (ETag cache) cannot be changed by a caller.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Account(GitHubModel):
    login: str


class TemplateRef(GitHubModel):
    full_name: str


class Repository(GitHubModel):
    id: int
    name: str
    full_name: str
    private: bool
    html_url: str
    default_branch: str
    owner: Account
    template_repository: TemplateRef | None = None
    is_template: bool = False
    archived: bool = False


class CommitRef(GitHubModel):
    sha: str


class Branch(GitHubModel):
    name: str
    commit: CommitRef


class PushedRepository(GitHubModel):
    id: int
    full_name: str


class PushEvent(GitHubModel):
    """The `push` webhook: `ref` moved from `before` to `after` (zeros: created, deleted)."""

    ref: str
    before: str
    after: str
    repository: PushedRepository


class GitActor(GitHubModel):
    date: datetime
    name: str | None = None
    email: str | None = None


class CommitDetail(GitHubModel):
    message: str
    author: GitActor | None = None


class Commit(GitHubModel):
    sha: str
    commit: CommitDetail
    html_url: str


class FileContent(GitHubModel):
    type: str
    encoding: str | None = None
    content: str | None = None
    sha: str
    size: int
    path: str

    def decoded(self) -> bytes:
        """The file's bytes; GitHub sends base64 (with line breaks) for files up to 1 MB."""
        if self.encoding != "base64" or self.content is None:
            raise ValueError(f"{self.path} has no inline base64 content")
        return base64.b64decode(self.content)


class FileRef(GitHubModel):
    sha: str
    path: str


class FileCommit(GitHubModel):
    content: FileRef
    commit: CommitRef


class User(GitHubModel):
    login: str
    id: int
    type: str


class CollaboratorInvitation(GitHubModel):
    id: int
    invitee: Account
    permissions: str
    html_url: str


class DispatchResult(GitHubModel):
    """Run details of a dispatch; all None when GitHub answered 204 (no run details)."""

    workflow_run_id: int | None = None
    run_url: str | None = None
    html_url: str | None = None


class WorkflowRun(GitHubModel):
    id: int
    name: str | None = None
    # The run's `run-name` (the workflow's name when it has none).
    display_title: str | None = None
    status: str
    conclusion: str | None = None
    head_sha: str
    head_branch: str | None = None
    event: str
    run_attempt: int = 1
    html_url: str
    created_at: datetime
    updated_at: datetime
    run_started_at: datetime | None = None


class ArtifactRun(GitHubModel):
    id: int
    head_sha: str | None = None


class Artifact(GitHubModel):
    id: int
    name: str
    size_in_bytes: int
    archive_download_url: str
    expired: bool
    expires_at: datetime | None = None
    workflow_run: ArtifactRun | None = None


class ComparisonFile(GitHubModel):
    filename: str
    status: str
    additions: int
    deletions: int
    changes: int
    patch: str | None = None
    previous_filename: str | None = None


class Comparison(GitHubModel):
    status: str
    ahead_by: int
    behind_by: int
    total_commits: int
    commits: list[Commit] = []
    # GitHub lists at most 300 files per comparison.
    files: list[ComparisonFile] = []


class Installation(GitHubModel):
    id: int
    account: Account
