"""Real HTTP servers for tests: the GitHub emulator, or any ASGI app (a webhook receiver),
served by uvicorn on 127.0.0.1 with a free port in a background thread.

    async with running_emulator(emulator_config(tmp_path)) as github:
        async with github.client() as client:
            await client.get("/repos/tenon-templates/python-fastapi")
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import subprocess
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from app.github_emulator.config import EmulatorConfig
from app.github_emulator.emulator import Emulator
from app.github_emulator.server import create_emulator_app

T = TypeVar("T")

TOKEN = "emulator-test-token"
API_HEADERS = {
    "Accept": "application/vnd.github+json",
    "X-GitHub-Api-Version": "2022-11-28",
    "User-Agent": "tenon-tests",
}


@asynccontextmanager
async def serving(app: ASGIApp, port: int = 0) -> AsyncIterator[str]:
    """Serve `app` (lifespan included) until the block ends; yields its base URL. With no
    port a free one is taken."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        lifespan="on",
        loop="asyncio",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the server failed to start; see the log")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 30)
        sock.close()


def emulator_config(tmp_path: Path, **overrides: Any) -> EmulatorConfig:
    """A config with its own data dir under `tmp_path` and the test token."""
    defaults: dict[str, Any] = {"data_dir": tmp_path / "github-emulator", "tokens": (TOKEN,)}
    return EmulatorConfig(**(defaults | overrides))


def write_template(
    templates_dir: Path,
    name: str,
    files: Mapping[str, str | bytes],
    *,
    executable: tuple[str, ...] = (),
) -> Path:
    """A template folder the emulator will load as {template_owner}/{name}."""
    folder = templates_dir / name
    for relative, content in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        if relative in executable:
            path.chmod(0o755)
    return folder


@dataclass(frozen=True)
class RunningEmulator:
    base_url: str
    config: EmulatorConfig
    # The live emulator, for looking at its state; it runs on the server thread's loop,
    # so read it, don't drive it.
    emulator: Emulator

    def client(self, token: str | None = TOKEN, **kwargs: Any) -> httpx.AsyncClient:
        """An API client with GitHub's headers (and `Authorization` unless token is None)."""
        headers = dict(API_HEADERS)
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return httpx.AsyncClient(base_url=self.base_url, headers=headers, **kwargs)


@asynccontextmanager
async def running_emulator(config: EmulatorConfig) -> AsyncIterator[RunningEmulator]:
    """The GitHub emulator over real HTTP; yields its base URL, config and live state."""
    app = create_emulator_app(config)
    async with serving(app) as base_url:
        yield RunningEmulator(base_url=base_url, config=config, emulator=app.state.emulator)


class WebhookReceiver:
    """A webhook endpoint (POST /hook) recording every request; it answers 500 to its first
    `failures` requests. Serve `receiver.app` with `serving`."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        self.requests.append((dict(request.headers), await request.body()))
        if len(self.requests) <= self.failures:
            return Response(status_code=500)
        return Response(status_code=204)

    def accepted(self) -> list[tuple[dict[str, str], dict[str, Any]]]:
        """(headers, JSON body) of the deliveries answered with a 2xx."""
        return [(headers, json.loads(body)) for headers, body in self.requests[self.failures :]]


async def eventually(
    probe: Callable[[], Awaitable[T | None]], *, within: float = 20.0, interval: float = 0.05
) -> T:
    """Poll `probe` until it returns something other than None."""
    deadline = time.monotonic() + within
    while True:
        result = await probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {within} s")
        await asyncio.sleep(interval)


async def generate_repo(
    client: httpx.AsyncClient, template: str, owner: str, name: str, **fields: Any
) -> dict[str, Any]:
    """Generate {owner}/{name} from `template` and wait until its default branch exists."""
    body = {"name": name, "owner": owner} | fields
    response = await client.post(f"/repos/{template}/generate", json=body)
    assert response.status_code == 201, response.text
    repo: dict[str, Any] = response.json()

    async def ready() -> bool | None:
        branch = await client.get(f"/repos/{owner}/{name}/branches/{repo['default_branch']}")
        return True if branch.status_code == 200 else None

    await eventually(ready)
    return repo


async def dispatch(
    client: httpx.AsyncClient, repo: str, workflow: str, ref: str = "main", **inputs: str
) -> int:
    """Dispatch `workflow` on `ref` with `return_run_details`; the new run's id."""
    response = await client.post(
        f"/repos/{repo}/actions/workflows/{workflow}/dispatches",
        json={"ref": ref, "inputs": inputs, "return_run_details": True},
    )
    assert response.status_code == 200, response.text
    run_id: int = response.json()["workflow_run_id"]
    return run_id


async def completed_run(
    client: httpx.AsyncClient, repo: str, run_id: int, within: float = 30.0
) -> dict[str, Any]:
    """The run once its status is `completed`."""

    async def done() -> dict[str, Any] | None:
        run: dict[str, Any] = (await client.get(f"/repos/{repo}/actions/runs/{run_id}")).json()
        return run if run["status"] == "completed" else None

    return await eventually(done, within=within, interval=0.1)


def app_jwt(claims: dict[str, Any]) -> str:
    """A GitHub App JWT with `claims` (the emulator does not check its signature)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


async def installation_token(github: RunningEmulator, **body: Any) -> httpx.Response:
    """POST /app/installations/{id}/access_tokens as the App, with `body`."""
    now = int(time.time())
    jwt = app_jwt({"iat": now - 60, "exp": now + 540, "iss": str(github.config.app_id)})
    async with github.client(token=jwt) as app:
        return await app.post(
            f"/app/installations/{github.config.installation_id}/access_tokens", json=body
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def bare_repo(github: RunningEmulator, full_name: str) -> Path:
    """Where the emulator keeps a repository's bare git directory (to push to it)."""
    owner, name = full_name.split("/")
    repo = github.emulator.store.repo(owner, name)
    assert repo is not None
    return github.emulator.store.path(repo)


def git_client(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run git as a user would against the emulator's HTTP endpoint, isolated from this
    machine's git configuration (credential helpers included) and never prompting; the
    result is returned, failures included."""
    env = os.environ | {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
    }
    identity = ["-c", "user.name=Candidate", "-c", "user.email=candidate@example.com"]
    # The timeout only stops a hung test run; no test relies on it.
    return subprocess.run(
        ["git", *identity, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120
    )


def with_credentials(url: str, username: str, token: str) -> str:
    """`url` carrying HTTP Basic credentials, as `git clone http://user:token@host/...`."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{username}:{token}@{rest}"


def run_git(*args: str, cwd: Path | None = None) -> str:
    env_args = ["-c", "user.name=Candidate", "-c", "user.email=candidate@example.com"]
    result = subprocess.run(
        ["git", *env_args, *args], cwd=cwd, capture_output=True, text=True, check=True
    )
    return result.stdout
