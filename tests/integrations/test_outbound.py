"""Requests to customers' URLs: a real local HTTP server receives what is allowed, with the
URL's name as Host; private, loopback, link-local and reserved targets, plain http and
credentials are refused when private targets are not allowed, before anything is sent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
import pytest

from app.integrations.outbound import TargetRefusedError, check_url, send


@dataclass
class Received:
    heads: list[str] = field(default_factory=list)


@asynccontextmanager
async def http_server(status: int = 204) -> AsyncIterator[tuple[int, Received]]:
    """A loopback server answering every request with `status`, keeping each request head."""
    received = Received()

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        received.heads.append(head)
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1], received


async def test_an_allowed_request_reaches_the_resolved_address_with_the_name_as_host() -> None:
    async with http_server() as (port, received), httpx.AsyncClient() as http:
        response = await send(
            http,
            "POST",
            f"http://localhost:{port}/hooks?x=1",
            allow_private=True,
            content=b"{}",
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 204
    [head] = received.heads
    request_line, *header_lines = head.strip().split("\r\n")
    assert request_line == "POST /hooks?x=1 HTTP/1.1"
    headers = {
        line.split(":", 1)[0].lower(): line.split(":", 1)[1].strip() for line in header_lines
    }
    assert headers["host"] == f"localhost:{port}"
    assert headers["content-type"] == "application/json"


async def test_redirects_are_not_followed() -> None:
    async with http_server(status=302) as (port, received), httpx.AsyncClient() as http:
        response = await send(http, "GET", f"http://127.0.0.1:{port}/", allow_private=True)
    assert response.status_code == 302
    assert len(received.heads) == 1


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.0.10/hook",
        "https://172.16.5.4/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://100.64.0.1/hook",
        "https://0.0.0.0/hook",
        "https://[::1]/hook",
        "https://[fd00::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://224.0.0.1/hook",
        # IPv4 inside IPv6: IPv4-compatible, NAT64 and 6to4 forms of loopback and private.
        "https://[::7f00:1]/hook",
        "https://[64:ff9b::a00:1]/hook",
        "https://[2002:7f00:1::]/hook",
    ],
)
async def test_private_targets_are_refused_before_anything_is_sent(url: str) -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(TargetRefusedError):
            await send(http, "POST", url, allow_private=False)


async def test_a_refused_loopback_server_receives_nothing() -> None:
    async with http_server() as (port, received), httpx.AsyncClient() as http:
        for host in ("127.0.0.1", "localhost"):
            with pytest.raises(TargetRefusedError):
                await send(http, "POST", f"https://{host}:{port}/", allow_private=False)
    assert received.heads == []


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/x", "https"),
        ("https://user:secret@hooks.example.com/x", "credentials"),
        ("ftp://hooks.example.com/x", "absolute"),
        ("/relative/path", "absolute"),
        ("https://hooks.example.com:0/x", "absolute"),
        ("https://[::1/x", "not valid"),
        ("https://hooks.example.com:99999/x", "not valid"),
        ("https://hooks.example.com:port/x", "not valid"),
        ("https://xn--/x", "not valid"),
        ("https://hooks..example.com/x", "not valid"),
        ("https://" + "a" * 64 + ".example.com/x", "not valid"),
    ],
)
def test_the_url_shape_is_checked(url: str, reason: str) -> None:
    with pytest.raises(TargetRefusedError, match=reason):
        check_url(url, allow_private=False)


def test_a_public_https_url_passes_the_shape_check() -> None:
    assert check_url("https://hooks.example.com/x", allow_private=False).host == (
        "hooks.example.com"
    )


async def test_a_name_that_does_not_resolve_is_refused() -> None:
    async with httpx.AsyncClient() as http:
        with pytest.raises(TargetRefusedError, match="does not resolve"):
            await send(http, "POST", "https://no-such-host.invalid/", allow_private=False)


async def test_only_the_start_of_a_large_answer_is_read() -> None:
    megabyte = 1024 * 1024
    sent: list[int] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(f"HTTP/1.1 500 X\r\nContent-Length: {256 * megabyte}\r\n\r\n".encode())
        try:
            for _ in range(256):
                writer.write(b"x" * megabyte)
                await writer.drain()
                sent.append(megabyte)
        except ConnectionError:
            pass  # the client hung up: what this test wants
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, httpx.AsyncClient() as http:
        response = await send(
            http, "POST", f"http://127.0.0.1:{port}/", allow_private=True, max_body_bytes=1000
        )
    assert (response.status_code, response.is_success) == (500, False)
    assert response.content == b"x" * 1000
    # The client hung up long before the end (socket buffers hold a few megabytes).
    assert len(sent) < 64
