"""The GitHub client against respx (mocked HTTP) on a fake clock: the settings, the client,
canned GitHub bodies and rate-limit headers the client tests share."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr

from app.core.metrics import Metrics
from app.core.settings import GitHubSettings
from app.integrations.github.auth import TokenAuth
from app.integrations.github.client import GitHubClient
from app.integrations.github.schemas import Repository

API = "https://api.github.test"
STORAGE = "https://storage.github.test"
TOKEN = "ghp_" + "T0kenValue" * 4
INSTALLATION_TOKEN = "ghs_" + "Install4tion" * 3
APP_ID = "123456"
INSTALLATION_ID = 42
REPO = "tenon-workspaces/tenon-1-2-python"
START = 1_700_000_000.0
SECONDARY_MESSAGE = "You have exceeded a secondary rate limit. Please wait a few minutes."
TEMPLATE = "tenon-templates/python-fastapi"
GENERATE_URL = f"{API}/repos/{TEMPLATE}/generate"


class FakeTime:
    """Wall clock, monotonic clock and sleep that move together; sleeps are recorded."""

    def __init__(self) -> None:
        self.epoch = START
        self.mono = 1_000.0
        self.sleeps: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.advance(seconds)

    def advance(self, seconds: float) -> None:
        self.epoch += seconds
        self.mono += seconds

    def monotonic(self) -> float:
        return self.mono

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.epoch, UTC)


def make_settings(**overrides: Any) -> GitHubSettings:
    values: dict[str, Any] = {
        "api_base": API + "/",
        "token": SecretStr(TOKEN),
        "app_id": None,
        "app_private_key": None,
        "app_installation_id": None,
        "max_retries": 3,
        "rate_limit_max_wait_seconds": 30.0,
        "mutation_interval_seconds": 1.0,
        "artifact_max_bytes": 1024,
        "max_concurrent_requests": 10,
    }
    values.update(overrides)
    return GitHubSettings(_env_file=None, **values)


def make_client(
    http: httpx.AsyncClient,
    fake_time: FakeTime,
    settings: GitHubSettings | None = None,
    auth: Any = None,
    sleep: Any = None,
    metrics: Metrics | None = None,
) -> GitHubClient:
    settings = settings or make_settings()
    return GitHubClient(
        http,
        settings,
        auth or TokenAuth(SecretStr(TOKEN)),
        metrics or Metrics(),
        sleep=sleep or fake_time.sleep,
        monotonic=fake_time.monotonic,
        jitter=lambda: 1.0,
        clock=fake_time,
    )


def repository(name: str = "tenon-1-2-python") -> dict[str, Any]:
    return {
        "id": 7,
        "name": name,
        "full_name": f"tenon-workspaces/{name}",
        "private": True,
        "html_url": f"https://github.test/tenon-workspaces/{name}",
        "default_branch": "main",
        "owner": {"login": "tenon-workspaces", "id": 1},
        "template_repository": {"full_name": "tenon-templates/python-fastapi"},
        "is_template": False,
        "archived": False,
        "visibility": "private",
    }


def commit(sha: str) -> dict[str, Any]:
    return {
        "sha": sha,
        "html_url": f"https://github.test/{REPO}/commit/{sha}",
        "commit": {
            "message": f"commit {sha}",
            "author": {"name": "A", "email": "a@example.com", "date": "2026-01-01T10:00:00Z"},
        },
    }


def workflow_run(status: str = "completed") -> dict[str, Any]:
    return {
        "id": 99,
        "name": "tenon-ci",
        "status": status,
        "conclusion": "success" if status == "completed" else None,
        "head_sha": "abc123",
        "head_branch": "main",
        "event": "workflow_dispatch",
        "run_attempt": 1,
        "html_url": f"https://github.test/{REPO}/actions/runs/99",
        "created_at": "2026-01-01T10:00:00Z",
        "updated_at": "2026-01-01T10:01:00Z",
        "run_started_at": "2026-01-01T10:00:05Z",
    }


def rate_headers(remaining: int, reset: float) -> dict[str, str]:
    return {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": str(remaining),
        "x-ratelimit-used": str(5000 - remaining),
        "x-ratelimit-reset": str(int(reset)),
        "x-ratelimit-resource": "core",
    }


def repo_url(suffix: str = "") -> str:
    return f"{API}/repos/{REPO}{suffix}"


async def generate(github: GitHubClient) -> Repository:
    """A POST: the workspace repository generated from the template."""
    return await github.generate_repository(
        TEMPLATE, owner="tenon-workspaces", name="tenon-1-2-python"
    )
