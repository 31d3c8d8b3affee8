"""Requests to URLs that customers hand us (webhook endpoints, an ATS's callback URL).

Such a URL may name an address inside our own network, so outside local development and the
test suite every address its host resolves to must be public (not loopback, private,
link-local, shared, reserved or multicast). The check and the connection use the same
answer: the request goes to the checked IP, with the name kept in the Host header and in
TLS (SNI and certificate check), so a DNS answer that changes in between (rebinding) cannot
reach an internal service. Redirects are never followed: a public host could point to a
private one.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetRefusedError(Exception):
    """The URL is not one Tenon sends requests to; the message says why."""

    code = "TARGET_REFUSED"


def check_url(url: str, *, allow_private: bool) -> httpx.URL:
    """The URL if its shape is acceptable: http(s) with a host and no credentials; https
    unless private targets are allowed; an IP literal must be public unless they are. The
    host's DNS answers are checked when the request is sent (`send`)."""
    try:
        # urlsplit refuses an unclosed IPv6 bracket or a port past 65535; `host` a name
        # that is not valid IDNA; encoding it, an empty or over-long label, which the
        # resolver would refuse the same way.
        parts = urlsplit(url)
        port = parts.port
        parsed = httpx.URL(url)
        host = parsed.host
        if _ip_literal(host) is None:
            host.encode("idna")
    except (httpx.InvalidURL, ValueError) as exc:
        raise TargetRefusedError(f"The URL is not valid: {exc}") from exc
    if parts.scheme not in ("https", "http") or not parts.hostname or port == 0:
        raise TargetRefusedError("The URL must be an absolute http(s) URL with a host.")
    if parts.scheme == "http" and not allow_private:
        raise TargetRefusedError("The URL must use https.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefusedError("The URL must not carry credentials.")
    literal = _ip_literal(host)
    if literal is not None and not allow_private:
        _require_public(literal, host)
    return parsed


@dataclass(frozen=True)
class OutboundResponse:
    status_code: int
    # At most the first `max_body_bytes` of the answer: the rest is never read.
    content: bytes

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    allow_private: bool,
    content: bytes = b"",
    headers: Mapping[str, str] | None = None,
    max_body_bytes: int = 4096,
) -> OutboundResponse:
    """Send one request to `url` at an address checked as above; raises
    `TargetRefusedError` for a refused URL or address, `httpx.HTTPError` when the request
    fails (within the client's timeout). Only the start of the answer's body is read: an
    endpoint cannot make us hold a large one."""
    target = check_url(url, allow_private=allow_private)
    address = await _checked_address(target, allow_private=allow_private)
    pinned = target.copy_with(host=str(address))
    request_headers = {"Host": target.netloc.decode("ascii"), **(headers or {})}
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    request = http.build_request(
        method, pinned, content=content, headers=request_headers, extensions=extensions
    )
    response = await http.send(request, stream=True, follow_redirects=False)
    try:
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) >= max_body_bytes:
                break
    finally:
        await response.aclose()
    return OutboundResponse(response.status_code, bytes(body[:max_body_bytes]))


async def _checked_address(url: httpx.URL, *, allow_private: bool) -> IPAddress:
    literal = _ip_literal(url.host)
    if literal is not None:
        return literal
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        answers = await asyncio.get_running_loop().getaddrinfo(
            url.host, port, type=socket.SOCK_STREAM
        )
    except OSError as exc:
        raise TargetRefusedError(f"{url.host} does not resolve: {exc}") from exc
    addresses = [ipaddress.ip_address(answer[4][0]) for answer in answers]
    if not addresses:
        raise TargetRefusedError(f"{url.host} does not resolve.")
    if not allow_private:
        # Every answer, not just the one used: a name that also points inside is refused.
        for address in addresses:
            _require_public(address, url.host)
    return addresses[0]


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _require_public(address: IPAddress, host: str) -> None:
    # An IPv6 address carrying an IPv4 one (mapped, 6to4) is judged by the IPv4 address;
    # reserved ranges (::/8 holds the IPv4-compatible and NAT64 64:ff9b::/96 forms) are
    # refused whatever Python counts as global.
    if isinstance(address, ipaddress.IPv6Address):
        address = address.ipv4_mapped or address.sixtofour or address
    if not address.is_global or address.is_multicast or address.is_reserved:
        raise TargetRefusedError(f"{host} is a private, loopback or reserved address.")
