"""Request and response models for workspaces (the candidate's generated repository)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StringConstraints

from app.core.schemas import ApiModel, example
from app.workspaces.models import TestRunStatus, WorkspaceStatus


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
    run_id: int
    status: TestRunStatus
    conclusion: str | None
    passed: int | None
    failed: int | None
    total: int | None
    completed_at: datetime


class WorkspaceOut(ApiModel):
    model_config = example(
        {
            "workspaceId": 57,
            "status": "ready",
            "error": None,
            "repoFullName": "tenon-workspaces/tenon-python-fastapi-6f1c2b9e",
            "repoUrl": "https://github.com/tenon-workspaces/tenon-python-fastapi-6f1c2b9e",
            "codespaceUrl": "https://codespaces.new/tenon-workspaces/tenon-python-fastapi-6f1c2b9e",
            "defaultBranch": "main",
            "baseTemplateSha": "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567",
            "latestCommitSha": "b7e3c1d9a5f2e8c4b6a0d2f4e6c8a1b3d5f7e9c2",
            "lastRun": {
                "runId": 913,
                "status": "failed",
                "conclusion": "failure",
                "passed": 13,
                "failed": 2,
                "total": 15,
                "completedAt": "2026-12-02T15:40:00Z",
            },
        }
    )

    workspace_id: int
    status: WorkspaceStatus
    # Why provisioning failed: a stable code (e.g. TEMPLATE_NOT_INSTALLED) and a message
    # to show the candidate.
    error_code: str | None
    error: str | None
    repo_full_name: str | None
    repo_url: str | None
    codespace_url: str | None
    default_branch: str | None
    base_template_sha: str | None
    latest_commit_sha: str | None
    last_run: LastRun | None = Field(description="The last test run that finished.")
