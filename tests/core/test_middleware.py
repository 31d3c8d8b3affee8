from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator
from io import StringIO
from ipaddress import ip_network
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import StreamingResponse

from app.core.errors import NotFoundError, install_error_handlers
from app.core.logging import REDACTED
from app.core.metrics import Metrics
from app.core.middleware import install_middleware, without_request_deadline
from app.core.settings import AppSettings
from tests.support.api import API_CLIENT_HEADERS
from tests.support.logs import json_lines

PEER = ("10.0.0.5", 1234)
INVITE_TOKEN = "Zq3_xK9-vT2mPq8LwR4nYb7cDe1FgH5jKl0MnOp6QrS"  # shaped like token_urlsafe(32)
SESSION_ID = "9223372036854775807"  # the longest id there is


class Harness:
    def __init__(self, **overrides: Any) -> None:
        self.calls: list[bytes] = []
        settings = AppSettings(_env_file=None, **overrides)
        app = FastAPI()
        install_error_handlers(app)
        install_middleware(app, settings, Metrics())
        self.app = app

        @app.post("/echo")
        async def echo(request: Request) -> Response:
            body = await request.body()
            self.calls.append(body)
            return Response(body, media_type="application/octet-stream")

        @app.get("/client")
        async def client(request: Request) -> dict[str, Any]:
            assert request.client is not None
            return {"host": request.client.host, "scheme": request.url.scheme}

        @app.get("/missing")
        async def missing() -> None:
            raise NotFoundError("No such thing.")

        @app.get("/boom")
        async def boom() -> None:
            raise RuntimeError("kaboom")

        @app.get("/api/candidate/session/{key}")
        async def session(key: str, request: Request) -> dict[str, str]:
            logging.getLogger("tenon.repository").info("lookup %s", request.url.path)
            return {"key": key}

    def client(self, peer: tuple[str, int] = PEER) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False, client=peer)
        return httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=API_CLIENT_HEADERS
        )


def access_lines(stream: StringIO) -> list[dict[str, Any]]:
    return [line for line in json_lines(stream) if line["event"] == "http.request"]


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


# Request id and access log


async def test_request_id_is_generated_and_echoed() -> None:
    async with Harness().client() as client:
        response = await client.get("/client")
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_valid_incoming_request_id_is_kept() -> None:
    async with Harness().client() as client:
        response = await client.get("/client", headers={"X-Request-ID": "edge-1:abc.DEF_2"})
    assert response.headers["x-request-id"] == "edge-1:abc.DEF_2"


@pytest.mark.parametrize("garbage", ["has space", "x" * 129, "semi;colon", "<script>"])
async def test_garbage_request_id_is_replaced(garbage: str) -> None:
    async with Harness().client() as client:
        response = await client.get("/client", headers={"X-Request-ID": garbage})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


async def test_request_id_is_in_problem_body_and_log_lines(log_stream: StringIO) -> None:
    async with Harness().client() as client:
        response = await client.get("/missing", headers={"X-Request-ID": "req-404"})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-404"
    assert response.json()["requestId"] == "req-404"
    (line,) = access_lines(log_stream)
    assert line["request_id"] == "req-404"
    assert line["method"] == "GET"
    assert line["path"] == "/missing"
    assert line["status"] == 404
    assert isinstance(line["duration_ms"], float)
    assert line["client_ip"] == "10.0.0.5"


async def test_unhandled_error_keeps_request_id_and_is_logged_as_500(
    log_stream: StringIO,
) -> None:
    async with Harness().client() as client:
        response = await client.get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.json()["requestId"] == "req-500"
    (line,) = access_lines(log_stream)
    assert line["status"] == 500
    assert line["level"] == "error"
    assert line["request_id"] == "req-500"


async def test_invite_token_paths_are_redacted_in_logs(log_stream: StringIO) -> None:
    async with Harness().client() as client:
        await client.get(f"/api/candidate/session/{INVITE_TOKEN}", headers={"X-Request-ID": "r1"})
        await client.get(f"/api/candidate/session/{SESSION_ID}")
    assert INVITE_TOKEN not in log_stream.getvalue()
    # httpx logs the client side of the exchange too; keep the server's lines.
    lines = [line for line in json_lines(log_stream) if line["logger"] != "httpx"]
    assert all(line["request_id"] for line in lines)
    lookup, token_access, _, id_access = lines
    assert lookup == lookup | {"logger": "tenon.repository", "request_id": "r1"}
    assert lookup["event"] == f"lookup /api/candidate/session/{REDACTED}"
    assert token_access["path"] == f"/api/candidate/session/{REDACTED}"
    assert id_access["path"] == f"/api/candidate/session/{SESSION_ID}"


async def test_debug_perf_adds_server_timing() -> None:
    async with Harness(debug_perf=True).client() as client:
        response = await client.get("/client")
    assert re.fullmatch(r"app;dur=\d+\.\d", response.headers["server-timing"])


async def test_server_timing_absent_without_debug_perf() -> None:
    async with Harness(debug_perf=False).client() as client:
        response = await client.get("/client")
    assert "server-timing" not in response.headers


# Body size limit


async def test_declared_length_over_limit_is_413_without_calling_endpoint() -> None:
    harness = Harness(max_request_body_bytes=10)
    async with harness.client() as client:
        response = await client.post("/echo", content=b"x" * 11, headers={"X-Request-ID": "big"})
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "big"
    body = response.json()
    assert body["code"] == "PAYLOAD_TOO_LARGE"
    assert body["requestId"] == "big"
    assert harness.calls == []


async def test_chunked_body_over_limit_is_413() -> None:
    harness = Harness(max_request_body_bytes=10)
    async with harness.client() as client:
        response = await client.post("/echo", content=chunks(b"x" * 6, b"y" * 6))
    assert response.status_code == 413
    assert response.json()["code"] == "PAYLOAD_TOO_LARGE"
    assert harness.calls == []


async def test_chunked_body_under_limit_reaches_endpoint_whole() -> None:
    harness = Harness(max_request_body_bytes=10)
    async with harness.client() as client:
        response = await client.post("/echo", content=chunks(b"abc", b"def"))
    assert response.status_code == 200
    assert response.content == b"abcdef"
    assert harness.calls == [b"abcdef"]


async def test_body_under_limit_reaches_endpoint_intact() -> None:
    harness = Harness(max_request_body_bytes=10)
    async with harness.client() as client:
        response = await client.post("/echo", content=b"hello")
    assert response.content == b"hello"
    assert harness.calls == [b"hello"]


async def test_body_exactly_at_limit_passes() -> None:
    harness = Harness(max_request_body_bytes=10)
    async with harness.client() as client:
        response = await client.post("/echo", content=b"0123456789")
    assert response.status_code == 200
    assert harness.calls == [b"0123456789"]


@pytest.mark.parametrize("length", ["abc", "-1", "+5", "5, 6"])
async def test_invalid_content_length_is_400(length: str) -> None:
    harness = Harness(max_request_body_bytes=10)
    async with harness.client() as client:
        response = await client.post("/echo", content=b"hello", headers={"Content-Length": length})
    assert response.status_code == 400
    assert response.json()["code"] == "INVALID_CONTENT_LENGTH"
    assert harness.calls == []


# Proxy headers


async def host_seen(harness: Harness, peer: tuple[str, int], **headers: str) -> dict[str, Any]:
    async with harness.client(peer) as client:
        response = await client.get("/client", headers=headers)
    result: dict[str, Any] = response.json()
    return result


TRUSTED = [ip_network("10.0.0.0/8"), ip_network("fd00::/8")]


async def test_untrusted_peer_forwarded_headers_are_ignored() -> None:
    harness = Harness(trusted_proxy_cidrs=TRUSTED)
    seen = await host_seen(
        harness, ("203.0.113.9", 1), **{"X-Forwarded-For": "1.1.1.1", "X-Forwarded-Proto": "https"}
    )
    assert seen == {"host": "203.0.113.9", "scheme": "http"}


async def test_no_trusted_cidrs_ignores_forwarded_headers() -> None:
    seen = await host_seen(Harness(), PEER, **{"X-Forwarded-For": "1.1.1.1"})
    assert seen["host"] == "10.0.0.5"


async def test_trusted_peer_uses_rightmost_untrusted_hop() -> None:
    harness = Harness(trusted_proxy_cidrs=TRUSTED)
    seen = await host_seen(
        harness,
        PEER,
        **{"X-Forwarded-For": "1.1.1.1, 2.2.2.2, 10.0.0.7", "X-Forwarded-Proto": "https"},
    )
    assert seen == {"host": "2.2.2.2", "scheme": "https"}


async def test_all_hops_trusted_uses_leftmost() -> None:
    harness = Harness(trusted_proxy_cidrs=TRUSTED)
    seen = await host_seen(harness, PEER, **{"X-Forwarded-For": "10.1.1.1, 10.0.0.7"})
    assert seen["host"] == "10.1.1.1"


async def test_garbage_hop_keeps_peer() -> None:
    harness = Harness(trusted_proxy_cidrs=TRUSTED)
    seen = await host_seen(harness, PEER, **{"X-Forwarded-For": "1.1.1.1, not-an-ip, 10.0.0.7"})
    assert seen["host"] == "10.0.0.5"


async def test_invalid_forwarded_proto_is_ignored() -> None:
    harness = Harness(trusted_proxy_cidrs=TRUSTED)
    seen = await host_seen(harness, PEER, **{"X-Forwarded-Proto": "gopher"})
    assert seen == {"host": "10.0.0.5", "scheme": "http"}


async def test_ipv6_hops() -> None:
    harness = Harness(trusted_proxy_cidrs=TRUSTED)
    seen = await host_seen(harness, ("fd00::1", 1), **{"X-Forwarded-For": "2001:db8::1, fd00::2"})
    assert seen["host"] == "2001:db8::1"


async def test_forwarded_client_is_in_access_log(log_stream: StringIO) -> None:
    harness = Harness(trusted_proxy_cidrs=TRUSTED)
    await host_seen(harness, PEER, **{"X-Forwarded-For": "198.51.100.4"})
    (line,) = access_lines(log_stream)
    assert line["client_ip"] == "198.51.100.4"


async def test_request_id_reaches_error_body_behind_trusted_proxy() -> None:
    harness = Harness(trusted_proxy_cidrs=TRUSTED)
    async with harness.client() as client:
        response = await client.get(
            "/boom", headers={"X-Forwarded-For": "1.1.1.1", "X-Request-ID": "via-proxy"}
        )
    assert response.status_code == 500
    assert response.json()["requestId"] == "via-proxy"


# CORS

ORIGIN = "https://app.tenon.dev"


async def test_cors_preflight_from_allowed_origin() -> None:
    async with Harness(cors_allow_origins=[ORIGIN]).client() as client:
        response = await client.options(
            "/echo",
            headers={
                "Origin": ORIGIN,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "x-request-id" in response.headers


async def test_cors_preflight_from_other_origin_gets_no_allow_origin() -> None:
    async with Harness(cors_allow_origins=[ORIGIN]).client() as client:
        response = await client.options(
            "/echo",
            headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
        )
    assert "access-control-allow-origin" not in response.headers


async def test_cors_headers_on_413_so_browsers_can_read_it() -> None:
    harness = Harness(cors_allow_origins=[ORIGIN], max_request_body_bytes=4)
    async with harness.client() as client:
        response = await client.post("/echo", content=b"too long", headers={"Origin": ORIGIN})
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "X-Request-ID" in response.headers["access-control-expose-headers"]


# Request deadline

DEADLINE = 0.1
# Long enough past the deadline that the deadline, not the work, decides.
OUTLASTS_DEADLINE = 0.5


async def test_request_past_its_deadline_is_503_and_its_work_is_cancelled(
    log_stream: StringIO,
) -> None:
    harness = Harness(request_timeout_seconds=DEADLINE)
    cancelled = asyncio.Event()

    @harness.app.get("/stuck")
    async def stuck() -> None:
        try:
            await asyncio.Event().wait()  # like a query to a frozen database
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with harness.client() as client:
        response = await client.get("/stuck", headers={"Accept": "application/problem+json"})
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert int(response.headers["retry-after"]) > 0
    body = response.json()
    assert (body["code"], body["retryable"]) == ("REQUEST_TIMEOUT", True)
    assert body["requestId"] == response.headers["x-request-id"]
    assert cancelled.is_set()
    assert [line["status"] for line in access_lines(log_stream)] == [503]


async def test_deadline_ends_once_the_response_has_started() -> None:
    # A stream (the run events' SSE) answers at once and then runs as long as it needs.
    harness = Harness(request_timeout_seconds=DEADLINE)

    async def events() -> AsyncIterator[bytes]:
        yield b"first;"
        await asyncio.sleep(OUTLASTS_DEADLINE)
        yield b"last"

    @harness.app.get("/stream")
    async def stream() -> StreamingResponse:
        return StreamingResponse(events(), media_type="text/event-stream")

    async with harness.client() as client:
        response = await client.get("/stream")
    assert response.status_code == 200
    assert response.content == b"first;last"


async def test_a_route_can_lift_the_deadline() -> None:
    harness = Harness(request_timeout_seconds=DEADLINE)

    @harness.app.get("/long", dependencies=[Depends(without_request_deadline)])
    async def long() -> dict[str, bool]:
        await asyncio.sleep(OUTLASTS_DEADLINE)
        return {"done": True}

    async with harness.client() as client:
        response = await client.get("/long")
    assert response.status_code == 200
    assert response.json() == {"done": True}
