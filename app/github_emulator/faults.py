"""Injected faults and latency, and the per-token hourly request budget.

Fault rules match a regex against "METHOD /path". Rules are tried in order; each matching
rule fires with probability `error_rate` (and at most `times` times when set): it adds its
latency, then answers with its error, if it has one, instead of the real handler. A
`lose_response` rule lets the real handler do its work and then loses the answer: the
server starts it and hangs up, so the client sees the connection drop (a dispatch GitHub
accepted whose answer never arrived).
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal, Self

import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from app.github_emulator.responses import GitHubError

log = structlog.get_logger(__name__)

RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SECONDARY_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID {id}."
)
ANONYMOUS_LIMIT = 60
_HOUR = 3600


class FaultRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    route: str = ".*"
    error_rate: float = Field(default=1.0, ge=0, le=1)
    # 5xx for server errors; 403 (default) or 429 for rate limits; None with neither
    # `timeout` nor `rate_limit` makes a latency-only rule.
    status: Literal[403, 429, 500, 502, 503] | None = None
    timeout: bool = False
    latency_ms: int = Field(default=0, ge=0)
    rate_limit: Literal["primary", "secondary"] | None = None
    retry_after: int = Field(default=60, ge=0)
    # Do the work, then drop the connection without answering.
    lose_response: bool = False
    times: int | None = Field(default=None, ge=1)

    @field_validator("route")
    @classmethod
    def _route_is_a_regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"invalid regex: {exc}") from exc
        return value

    @model_validator(mode="after")
    def _status_fits_the_kind(self) -> Self:
        limit_status = self.status in (403, 429)
        if self.rate_limit is None and limit_status:
            raise ValueError("status 403/429 is for rate_limit faults")
        if self.rate_limit is not None and self.status is not None and not limit_status:
            raise ValueError("a rate_limit fault answers 403 or 429")
        if self.timeout and (self.rate_limit is not None or self.status is not None):
            raise ValueError("a timeout fault has no status or rate_limit")
        if self.lose_response and (self.timeout or self.rate_limit or self.status is not None):
            raise ValueError("a lose_response fault has no status, timeout or rate_limit")
        return self


@dataclass(frozen=True)
class Verdict:
    """What the matching rules decided for one request."""

    # Answered instead of the real handler.
    error: GitHubError | None = None
    # The real handler runs; its answer is lost.
    lose_response: bool = False


class LostResponse(Response):
    """An answer that starts and never ends: its headers promise a body that is not sent,
    and the server, seeing the app return without finishing, closes the connection. The
    client gets no usable answer (httpx raises `RemoteProtocolError`)."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": [(b"content-type", b"application/json"), (b"content-length", b"1")],
            }
        )


@dataclass
class _ActiveRule:
    rule: FaultRule
    pattern: re.Pattern[str]
    remaining: int | None


class FaultInjector:
    def __init__(
        self, rules: tuple[FaultRule, ...], *, seed: int | None, timeout_seconds: float
    ) -> None:
        self._random = random.Random(seed)  # noqa: S311 - fault sampling, not security
        self._timeout_seconds = timeout_seconds
        self._rules: list[_ActiveRule] = []
        self.injected: Counter[str] = Counter()
        self.replace(rules)

    def replace(self, rules: tuple[FaultRule, ...] | list[FaultRule]) -> None:
        self._rules = [_ActiveRule(rule, re.compile(rule.route), rule.times) for rule in rules]

    def clear(self) -> None:
        self._rules = []

    @property
    def rules(self) -> list[FaultRule]:
        return [active.rule for active in self._rules]

    async def intercept(self, method: str, path: str, request_id: str) -> Verdict:
        """Apply the matching rules: sleep their latency; the first error wins, else the
        answer is lost when a matching rule loses it."""
        target = f"{method} {path}"
        lose_response = False
        for active in self._rules:
            if active.remaining == 0 or not active.pattern.search(target):
                continue
            if self._random.random() >= active.rule.error_rate:
                continue
            if active.remaining is not None:
                active.remaining -= 1
            error = await self._fire(active.rule, request_id)
            log.info("emulator.fault.injected", target=target, kind=_kind(active.rule))
            self.injected[_kind(active.rule)] += 1
            if error is not None:
                return Verdict(error=error)
            lose_response = lose_response or active.rule.lose_response
        return Verdict(lose_response=lose_response)

    async def _fire(self, rule: FaultRule, request_id: str) -> GitHubError | None:
        if rule.latency_ms:
            await asyncio.sleep(rule.latency_ms / 1000)
        if rule.timeout:
            await asyncio.sleep(self._timeout_seconds)
            return GitHubError(
                504, "We couldn't respond to your request in time. Sorry about that."
            )
        if rule.rate_limit == "primary":
            return primary_limit_error(status=rule.status or 403, reset=_next_reset())
        if rule.rate_limit == "secondary":
            return GitHubError(
                rule.status or 403,
                SECONDARY_LIMIT_MESSAGE.format(id=request_id),
                headers={"retry-after": str(rule.retry_after)},
                documentation_url=f"{RATE_LIMIT_DOCS}#about-secondary-rate-limits",
            )
        if rule.status is not None:
            message = "Service Unavailable" if rule.status == 503 else "Server Error"
            return GitHubError(rule.status, message)
        return None


def _kind(rule: FaultRule) -> str:
    if rule.timeout:
        return "timeout"
    if rule.lose_response:
        return "lost_response"
    if rule.rate_limit is not None:
        return f"rate_limit_{rule.rate_limit}"
    if rule.status is not None:
        return str(rule.status)
    return "latency"


def _next_reset() -> int:
    return int(time.time()) + _HOUR


def primary_limit_error(*, status: int, reset: int, limit: int | None = None) -> GitHubError:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(reset)}
    if limit is not None:
        headers |= {"x-ratelimit-limit": str(limit), "x-ratelimit-used": str(limit)}
    return GitHubError(
        status,
        "API rate limit exceeded. If you reach out to GitHub Support for help, please "
        "include the request ID.",
        headers=headers | {"x-ratelimit-resource": "core"},
        documentation_url=f"{RATE_LIMIT_DOCS}#about-the-primary-rate-limit",
    )


@dataclass
class Quota:
    limit: int
    used: int
    reset: int

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(self.reset),
            "x-ratelimit-resource": "core",
        }


@dataclass
class RateBudget:
    """Hourly fixed windows per key (a token, an installation, or an anonymous client)."""

    limit: int
    _quotas: dict[str, Quota] = field(default_factory=dict)

    def take(self, key: str, *, limit: int | None = None) -> tuple[bool, Quota]:
        """Count one request; False when the window's budget was already spent."""
        now = int(time.time())
        quota = self._quotas.get(key)
        if quota is None or quota.reset <= now:
            quota = Quota(limit=limit or self.limit, used=0, reset=now + _HOUR)
            self._quotas[key] = quota
        if quota.remaining == 0:
            return False, quota
        quota.used += 1
        return True, quota

    def refund(self, quota: Quota) -> None:
        """Conditional requests answered 304 do not count against the limit."""
        quota.used = max(quota.used - 1, 0)
