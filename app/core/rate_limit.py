"""Rate limits for sensitive routes (invite, resend, claim…) on the `limits` library.

Storage is per process (`memory://`) or shared by every API instance (`redis://…`). Routes
call `await limiter.hit(bucket, limit, key=...)` with a key naming the caller.
"""

from __future__ import annotations

import math
import time
from functools import lru_cache
from typing import Annotated

import structlog
from fastapi import Depends, Request
from limits import RateLimitItem, parse
from limits.aio import strategies
from limits.aio.storage import MovingWindowSupport, RedisStorage, Storage
from limits.aio.storage.redis.coredis import CoredisBridge
from limits.errors import StorageError
from limits.storage import storage_from_string

from app.core.errors import RateLimitedError
from app.core.openapi import raises
from app.core.settings import RateLimitSettings

log = structlog.get_logger(__name__)

# Redis keys read `tenon:rate_limit:<bucket>/<key>/<amount>/<multiples>/<granularity>`.
_REDIS_KEY_PREFIX = "tenon:rate_limit"
# A slow or unreachable Redis must not stall the requests it guards for long.
_REDIS_TIMEOUT_SECONDS = 1.0


def _open_storage(uri: str) -> Storage:
    uri = "async+" + uri.removeprefix("async+")
    options: dict[str, float | str | bool] = (
        {}
        if uri.startswith("async+memory:")
        else {
            "key_prefix": _REDIS_KEY_PREFIX,
            "connect_timeout": _REDIS_TIMEOUT_SECONDS,
            "stream_timeout": _REDIS_TIMEOUT_SECONDS,
        }
    )
    storage = storage_from_string(uri, wrap_exceptions=True, **options)
    # The `async+` scheme always yields an async storage; this narrows the declared union.
    assert isinstance(storage, Storage)
    return storage


@lru_cache(maxsize=64)
def _limit_item(bucket: str, limit: str) -> RateLimitItem:
    item = parse(limit)
    return type(item)(item.amount, item.multiples, namespace=bucket)


class RateLimiter:
    def __init__(self, settings: RateLimitSettings) -> None:
        self._storage: Storage | None = None
        self._strategy: strategies.RateLimiter | None = None
        if not settings.enabled:
            return
        self._storage = storage = _open_storage(settings.storage_uri)
        # A moving window never lets twice the limit through around a window boundary, as a
        # fixed window does; memory and Redis both support it, other storages fall back.
        if isinstance(storage, MovingWindowSupport):
            self._strategy = strategies.MovingWindowRateLimiter(storage)
        else:
            self._strategy = strategies.FixedWindowRateLimiter(storage)

    async def hit(self, name: str, limit: str, key: str) -> None:
        """Count one request by `key` in bucket `name`; raise `RateLimitedError` past `limit`."""
        if self._strategy is None:
            return
        item = _limit_item(name, limit)
        try:
            if await self._strategy.hit(item, key):
                return
            stats = await self._strategy.get_window_stats(item, key)
        except StorageError as exc:
            # Availability over strictness: a Redis outage must not take invites and claims
            # down with it, so the request goes through unlimited and the outage is logged.
            log.warning("rate_limit.storage_unavailable", bucket=name, error=str(exc.storage_error))
            return
        # `limits` reads `time.time()` itself, so the app clock cannot be used here.
        seconds = max(1, math.ceil(stats.reset_time - time.time()))
        raise RateLimitedError(
            f"Too many requests; try again in {seconds} seconds.",
            headers={"Retry-After": str(seconds)},
            # The recruiter front end reads the wait from the body to show a cooldown.
            extensions={"retryAfterSeconds": seconds},
        )

    async def close(self) -> None:
        # `limits` has no way to close its Redis client, whose pooled sockets would
        # otherwise stay open until garbage collection.
        storage = self._storage
        if isinstance(storage, RedisStorage) and isinstance(storage.bridge, CoredisBridge):
            storage.bridge.storage.connection_pool.disconnect()


@raises(RateLimitedError)  # routes that take the limiter hit it
def rate_limiter_of(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.rate_limiter
    return limiter


Limiter = Annotated[RateLimiter, Depends(rate_limiter_of)]
