"""Greenhouse's documented requests (tests/fixtures/greenhouse), a Basic header for a key,
settings for its callbacks, and a loopback HTTP server standing in for Greenhouse's
callback endpoint."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import GreenhouseSettings, Settings
from app.grading.models import Grading
from tests.support.loopback_http import read_request
from tests.support.paths import REPOSITORY_ROOT

FIXTURES = REPOSITORY_ROOT / "tests" / "fixtures" / "greenhouse"
BASE = "/api/integrations/greenhouse"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text().strip()


def basic(key: str) -> dict[str, str]:
    """Greenhouse's header: the key, a colon, Base64."""
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def send_test_body(test_id: object, *, url: str | None = None, email: str | None = None) -> Any:
    """Greenhouse's documented send_test request, for our test id (and callback URL)."""
    body = fixture("send_test_request.json")
    body["partner_test_id"] = str(test_id)
    if url is not None:
        body["url"] = url
    if email is not None:
        body["candidate"]["email"] = email
    return body


async def add_grading(
    session: AsyncSession, submission_id: int, *, passed: int, total: int
) -> Grading:
    grading = Grading(
        submission_id=submission_id,
        status="completed",
        grader_repo="tenon/grader",
        candidate_repo="tenon-workspaces/candidate",
        candidate_sha="a" * 40,
        hidden_passed=passed,
        hidden_total=total,
    )
    session.add(grading)
    await session.flush()
    return grading


def callback_settings(*hosts: str, env: str = "test") -> Settings:
    """Settings allowing callbacks to `hosts`, under the environment `env`."""
    settings = Settings(greenhouse=GreenhouseSettings(_env_file=None, callback_hosts=list(hosts)))
    # Production-like for the address checks (model_copy: the other production
    # requirements, Auth0 and the rest, are beside the point here).
    return settings.model_copy(update={"app": settings.app.model_copy(update={"env": env})})


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class CallbackServer:
    port: int
    # The statuses to answer, in order; the last one repeats.
    statuses: list[int]
    # Whether the first request's answer waits for `release` (set when it has arrived).
    hold_first: bool = False
    received: list[Received] = field(default_factory=list)
    first_arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}/integrations/testing_partners/take_home_tests/12345"


@asynccontextmanager
async def callback_server(
    *statuses: int, hold_first: bool = False
) -> AsyncIterator[CallbackServer]:
    """A loopback HTTP server keeping each request and answering with `statuses` (the
    first answer held until `release` with `hold_first`)."""
    server_state = CallbackServer(port=0, statuses=list(statuses or (200,)), hold_first=hold_first)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        server_state.received.append(
            Received(request.method, request.path, request.headers, request.body)
        )
        index = min(len(server_state.received), len(server_state.statuses)) - 1
        status = server_state.statuses[index]
        if server_state.hold_first and len(server_state.received) == 1:
            server_state.first_arrived.set()
            await server_state.release.wait()
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    server_state.port = server.sockets[0].getsockname()[1]
    async with server:
        yield server_state
