"""A cached copy of the Auth0 tenant's JSON Web Key Set.

Keys are kept for a TTL, as key objects built once per fetch (building one from its JWK costs
more than verifying a signature with it). A token signed with a `kid` we don't know triggers
a refetch, at most once per `min_refetch_interval` so a flood of forged `kid`s can't hammer
Auth0. When Auth0 can't be reached we keep using keys we already have; with none, callers
get 503.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import structlog
from jose import jwk
from jose.backends.base import Key
from jose.exceptions import JWKError

from app.core.errors import ServiceUnavailableError, UnauthorizedError

log = structlog.get_logger(__name__)

JsonWebKey = dict[str, Any]

# The only algorithm Auth0 access tokens are accepted with.
ALGORITHM = "RS256"


class AuthProviderUnavailableError(ServiceUnavailableError):
    code = "AUTH_PROVIDER_UNAVAILABLE"


class JwksCache:
    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        *,
        ttl_seconds: float,
        min_refetch_interval_seconds: float,
        timeout_seconds: float,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._url = url
        self._ttl = ttl_seconds
        self._min_refetch_interval = min_refetch_interval_seconds
        self._timeout = timeout_seconds
        self._monotonic = monotonic
        self._keys: dict[str, Key] = {}
        self._fetched_at: float | None = None
        self._unknown_kid_refetch_at: float | None = None
        self._refreshes_finished = 0
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str) -> Key:
        if self._is_stale():
            await self._refresh(reason="expired")
        key = self._keys.get(kid)
        if key is None and self._may_refetch_for_unknown_kid():
            self._unknown_kid_refetch_at = self._monotonic()
            await self._refresh(reason="unknown_kid")
            key = self._keys.get(kid)
        if key is None:
            raise UnauthorizedError(
                "The token's signing key is unknown.", code="AUTH_TOKEN_INVALID"
            )
        return key

    def _is_stale(self) -> bool:
        return self._fetched_at is None or self._monotonic() - self._fetched_at >= self._ttl

    def _may_refetch_for_unknown_kid(self) -> bool:
        last = self._unknown_kid_refetch_at
        return last is None or self._monotonic() - last >= self._min_refetch_interval

    async def _refresh(self, *, reason: str) -> None:
        finished_before = self._refreshes_finished
        async with self._lock:
            # Another request refreshed while this one waited for the lock.
            if self._refreshes_finished != finished_before:
                return
            try:
                self._keys = await self._fetch()
                self._fetched_at = self._monotonic()
                log.info("auth.jwks.fetched", reason=reason, keys=len(self._keys))
            except AuthProviderUnavailableError:
                if not self._keys:
                    raise
                # Keep serving the cached keys and try again in a minute, not on every request.
                self._fetched_at = self._monotonic() - self._ttl + self._min_refetch_interval
                log.warning("auth.jwks.refresh_failed_using_cached", reason=reason)
            finally:
                self._refreshes_finished += 1

    async def _fetch(self) -> dict[str, Key]:
        try:
            response = await self._http.get(self._url, timeout=self._timeout)
        except httpx.HTTPError as exc:
            log.warning("auth.jwks.unreachable", error=type(exc).__name__)
            raise AuthProviderUnavailableError("The identity provider is unreachable.") from exc
        if response.status_code != 200:
            log.warning("auth.jwks.bad_status", status=response.status_code)
            raise AuthProviderUnavailableError("The identity provider answered with an error.")
        try:
            document = response.json()
            entries = document["keys"]
            if not isinstance(entries, list):
                raise TypeError("keys is not a list")
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthProviderUnavailableError("The identity provider sent a bad key set.") from exc
        return {
            entry["kid"]: key
            for entry in entries
            if isinstance(entry, dict)
            and isinstance(entry.get("kid"), str)
            and entry.get("kty") == "RSA"
            and entry.get("use", "sig") == "sig"
            and (key := _rsa_key(entry)) is not None
        }


def _rsa_key(entry: JsonWebKey) -> Key | None:
    try:
        return jwk.construct(entry, ALGORITHM)
    except (JWKError, ValueError, TypeError):
        log.warning("auth.jwks.unusable_key", kid=entry["kid"])
        return None
