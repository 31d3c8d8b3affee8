"""Request and response models for workspaces (the candidate's generated repository)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.core.schemas import ApiModel
from app.runs.models import TestRunStatus
from app.workspaces.models import WorkspaceStatus


def _no_double_hyphen(login: str) -> str:
    if "--" in login:
        raise ValueError("a GitHub username has no consecutive hyphens")
    return login


# GitHub's login rules: alphanumerics and single hyphens, not at either end, ≤ 39.
GitHubLogin = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, pattern=r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$"
    ),
    AfterValidator(_no_double_hyphen),
]


class CodespaceInit(ApiModel):
    github_username: GitHubLogin = Field(examples=["octocat"])


class LastRun(ApiModel):
    run_id: uuid.UUID
    status: TestRunStatus
    conclusion: str | None
    passed: int | None
    failed: int | None
    total: int | None
    completed_at: datetime


class WorkspaceOut(ApiModel):
    workspace_id: uuid.UUID
    status: WorkspaceStatus
    error: str | None
    repo_full_name: str | None
    repo_url: str | None
    codespace_url: str | None
    default_branch: str | None
    base_template_sha: str | None
    latest_commit_sha: str | None
    last_run: LastRun | None = Field(description="The last test run that finished.")
