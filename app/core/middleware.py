"""Pure ASGI middlewares: client address behind trusted proxies, request id, access log and
request metrics, request body size limit, request deadline; and `install_middleware`, which
stacks them in order.
"""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import Sequence
from ipaddress import IPv4Address, IPv6Address, ip_address

import structlog
from fastapi import FastAPI, Request
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import (
    AppError,
    BadRequestError,
    PayloadTooLargeError,
    RequestTimeoutError,
    problem_response,
)
from app.core.metrics import Metrics
from app.core.settings import AppSettings, Network

log = structlog.get_logger(__name__)

IPAddress = IPv4Address | IPv6Address

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_CONTENT_LENGTH = re.compile(r"^[0-9]+$")
_BODYLESS_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
# Logged when the client went away before any response was sent (nginx's convention).
_CLIENT_CLOSED_REQUEST = 499


def _parse_ip(value: str) -> IPAddress | None:
    try:
        return ip_address(value.strip())
    except ValueError:
        return None


class ProxyHeadersMiddleware:
    """Take the client address and scheme from `X-Forwarded-*`, only from trusted proxies.

    The client is the rightmost `X-Forwarded-For` hop that is not a trusted proxy: entries
    to its left were written by the client itself and can be spoofed.
    """

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    def _is_trusted(self, address: IPAddress) -> bool:
        if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.trusted)

    def _client_from(self, forwarded_for: list[str]) -> IPAddress | None:
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        hops = [hop for hop in hops if hop]
        leftmost: IPAddress | None = None
        for hop in reversed(hops):
            address = _parse_ip(hop)
            if address is None:
                return None  # garbage: trust nothing further, keep the peer
            if not self._is_trusted(address):
                return address
            leftmost = address
        return leftmost

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not self.trusted:
            await self.app(scope, receive, send)
            return
        peer = scope.get("client")
        peer_address = _parse_ip(peer[0]) if peer else None
        if peer_address is None or not self._is_trusted(peer_address):
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        client = self._client_from(headers.getlist("x-forwarded-for"))
        proto_values = headers.getlist("x-forwarded-proto")
        proto = proto_values[-1].split(",")[-1].strip().lower() if proto_values else ""

        # State written downstream (the request id) must stay visible to the outer
        # Starlette error middleware, which holds the original scope.
        scope.setdefault("state", {})
        scope = dict(scope)
        if client is not None:
            scope["client"] = (str(client), 0)
        if proto in ("http", "https"):
            secure = proto == "https"
            if scope["type"] == "websocket":
                scope["scheme"] = "wss" if secure else "ws"
            else:
                scope["scheme"] = proto
        await self.app(scope, receive, send)


class RequestContextMiddleware:
    """Request id (incoming `X-Request-ID` or new), bound to every log line of the request,
    echoed on the response; one `http.request` access line and one metrics observation per
    request, with the same status and duration."""

    def __init__(self, app: ASGIApp, *, debug_perf: bool, metrics: Metrics) -> None:
        self.app = app
        self.debug_perf = debug_perf
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        incoming = Headers(scope=scope).get("x-request-id")
        request_id = incoming if incoming and _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        # Mutate the shared state dict: Starlette's outermost error middleware reads it.
        scope.setdefault("state", {})["request_id"] = request_id

        started = time.perf_counter()
        status: int | None = None

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["X-Request-ID"] = request_id
                if self.debug_perf:
                    elapsed_ms = (time.perf_counter() - started) * 1000
                    headers.append("Server-Timing", f"app;dur={elapsed_ms:.1f}")
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_headers)
            except Exception:
                status = 500
                raise
            finally:
                final_status = status if status is not None else _CLIENT_CLOSED_REQUEST
                elapsed = time.perf_counter() - started
                self.metrics.observe_request(scope, final_status, elapsed)
                client = scope.get("client")
                emit = log.error if final_status >= 500 else log.info
                emit(
                    "http.request",
                    method=scope["method"],
                    path=scope["path"],
                    status=final_status,
                    duration_ms=round(elapsed * 1000, 1),
                    client_ip=client[0] if client else None,
                )


class BodySizeLimitMiddleware:
    """Refuse request bodies above `max_bytes` with 413, whether or not the client declared
    a `Content-Length`; the accepted body is buffered and handed on in one message.

    Paths under `streamed_prefixes` (signed media uploads, which enforce the size they were
    signed for while streaming to disk) pass through unbuffered and unlimited."""

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, streamed_prefixes: Sequence[str] = ()
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.streamed_prefixes = tuple(streamed_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.streamed_prefixes):
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        lengths = {value.strip() for value in headers.getlist("content-length")}
        if lengths:
            length = lengths.pop()
            if lengths or not _CONTENT_LENGTH.match(length):
                error: AppError = BadRequestError(
                    "The Content-Length header is invalid.", code="INVALID_CONTENT_LENGTH"
                )
                await self._refuse(error, scope, receive, send)
                return
            if int(length) > self.max_bytes:
                await self._refuse(self._too_large(), scope, receive, send)
                return
        elif scope["method"] in _BODYLESS_METHODS and "transfer-encoding" not in headers:
            await self.app(scope, receive, send)
            return

        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client is gone; there is nobody to answer
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > self.max_bytes:
                await self._refuse(self._too_large(), scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    def _too_large(self) -> PayloadTooLargeError:
        return PayloadTooLargeError(f"The request body exceeds {self.max_bytes} bytes.")

    @staticmethod
    async def _refuse(error: AppError, scope: Scope, receive: Receive, send: Send) -> None:
        # The rest of the body is left unread, so the connection cannot be reused.
        response = problem_response(error, scope, headers={"Connection": "close"})
        await response(scope, receive, send)


# Set in a request's scope state by `without_request_deadline`.
_DEADLINE_LIFTED = "request_deadline_lifted"


class RequestDeadlineMiddleware:
    """Answer 503 REQUEST_TIMEOUT when a request has not started its response within
    `seconds`, and cancel its work: whatever it waits on (a frozen database, a slow upstream)
    then costs the deadline, not a held connection.

    The deadline ends once the response starts, so a stream (the run events' SSE) runs on
    after its first byte; a route that legitimately works longer before answering lifts it
    with the `without_request_deadline` dependency. The work runs in a task of its own so the
    answer goes out on time even while the cancelled work is still unwinding (a rollback on
    a connection that does not answer).
    """

    def __init__(self, app: ASGIApp, *, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        state = scope.setdefault("state", {})
        started = False
        timed_out = False

        async def send_unless_timed_out(message: Message) -> None:
            nonlocal started
            if timed_out:
                return  # the 503 went out; the cancelled work has nobody to answer
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def respond() -> None:
            await self.app(scope, receive, send_unless_timed_out)

        work = asyncio.create_task(respond())
        try:
            await asyncio.wait({work}, timeout=self.seconds)
            if work.done() or started or state.get(_DEADLINE_LIFTED):
                await work
                return
            timed_out = True
            work.cancel()
            error = RequestTimeoutError(self.seconds)
            await problem_response(error, scope)(scope, receive, send)
            # Let the work unwind (roll back, give its connection back) before this request
            # ends; what it raises while doing so is no longer anyone's answer.
            await asyncio.wait({work})
            if not work.cancelled() and work.exception() is not None:
                log.warning("request.cancelled_work_failed", error=repr(work.exception()))
        finally:
            work.cancel()  # a no-op once done; stops the work if this request was cancelled


def without_request_deadline(request: Request) -> None:
    """A route dependency for work that takes longer than the request deadline by design
    (an administrator's live template check)."""
    request.scope.setdefault("state", {})[_DEADLINE_LIFTED] = True


def install_middleware(
    app: FastAPI, settings: AppSettings, metrics: Metrics, *, streamed_prefixes: Sequence[str] = ()
) -> None:
    """Stack the middlewares; `add_middleware` prepends, so the last added is outermost.
    Bodies under `streamed_prefixes` are left to their routes (see BodySizeLimitMiddleware).

    Order, outside in: proxy headers (the client address the rest sees), request context
    (request id, access log and metrics for everything below), CORS (so 413 and 503 answers
    are readable by browsers), body size limit, request deadline.
    """
    app.add_middleware(RequestDeadlineMiddleware, seconds=settings.request_timeout_seconds)
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_request_body_bytes,
        streamed_prefixes=streamed_prefixes,
    )
    if settings.cors_allow_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allow_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=["*"],
            # Auth is a bearer token, never a cookie.
            allow_credentials=False,
            # ETag: a browser uploading a multipart part reports it at completion.
            expose_headers=["X-Request-ID", "Retry-After", "X-Total-Count", "Link", "ETag"],
        )
    app.add_middleware(RequestContextMiddleware, debug_perf=settings.debug_perf, metrics=metrics)
    app.add_middleware(ProxyHeadersMiddleware, trusted=settings.trusted_proxy_cidrs)
