"""Request and response models for workspaces (the candidate's generated repository)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import AfterValidator, Field, StringConstraints

from app.core.schemas import ApiModel
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


class WorkspaceOut(ApiModel):
    workspace_id: uuid.UUID
    status: WorkspaceStatus
    # Why provisioning failed: a stable code (e.g. TEMPLATE_REPO_NOT_FOUND) and a message
    # to show the candidate.
    error_code: str | None
    error: str | None
    repo_full_name: str | None
    repo_url: str | None
    codespace_url: str | None
    default_branch: str | None
    base_template_sha: str | None
    latest_commit_sha: str | None
    last_run: dict[str, Any] | None
