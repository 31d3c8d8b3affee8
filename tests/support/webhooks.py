"""A customer's webhook receiver for the outbound webhook tests: a real loopback HTTP server
that keeps every request and answers with the statuses it is told, a signature check written
from the documented scheme (not Tenon's code), and a worker that runs the queued jobs with a
movable clock and a real HTTP client."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from app.assembly import job_registry
from app.core.db import Database
from app.core.settings import JobSettings, Settings
from app.jobs.worker import Worker
from tests.support.jobs import FakeClock, job_services
from tests.support.loopback_http import read_request


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed

    def signatures(self) -> tuple[int, list[str]]:
        """The header's timestamp and its `v1` signatures."""
        timestamp, signatures = None, []
        for part in self.headers["tenon-signature"].split(","):
            key, _, value = part.partition("=")
            if key == "t":
                timestamp = int(value)
            elif key == "v1":
                signatures.append(value)
        assert timestamp is not None
        return timestamp, signatures

    def signed_by(self, secret: str) -> bool:
        """A receiver's check: some v1 is HMAC-SHA256(secret, "<t>.<body>")."""
        timestamp, signatures = self.signatures()
        expected = hmac.new(
            secret.encode(), f"{timestamp}.".encode() + self.body, hashlib.sha256
        ).hexdigest()
        return any(hmac.compare_digest(expected, signature) for signature in signatures)


@dataclass
class Receiver:
    port: int
    # Statuses to answer, in order; then `default`.
    statuses: list[int] = field(default_factory=list)
    default: int = 204
    received: list[Received] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def of_type(self, event_type: str) -> list[Received]:
        return [request for request in self.received if request.event["type"] == event_type]


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver(port=0)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await read_request(reader)
        state.received.append(Received(request.path, request.headers, request.body))
        status = state.statuses.pop(0) if state.statuses else state.default
        reply = f"status {status}".encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Length: {len(reply)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + reply
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        state.port = server.sockets[0].getsockname()[1]
        yield state


@dataclass
class DeliveryWorker:
    """Runs every due job (webhook deliveries among them) as a worker would, at `clock`."""

    database: Database
    settings: Settings
    http: httpx.AsyncClient
    clock: FakeClock

    async def run(self) -> None:
        services = replace(job_services(http=self.http), settings=self.settings)
        worker = Worker(
            self.database,
            job_registry(),
            JobSettings(_env_file=None, concurrency=1),
            services=services,
            metrics=services.metrics,
            clock=self.clock,
        )
        await worker.run_until_idle()


ALL_EVENTS = [
    "candidate.invited",
    "candidate.claimed",
    "candidate.completed",
    "candidate.expired",
    "submission.created",
    "grading.completed",
    "scorecard.submitted",
]
