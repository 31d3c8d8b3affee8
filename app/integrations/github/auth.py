"""How the client authenticates: a fixed token, or a GitHub App's installation token.

An App signs a short-lived RS256 JWT with its private key and exchanges it for an
installation token that lives one hour; the token is cached and refreshed shortly before
it expires, once even when many requests need it at the same moment.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Protocol

import httpx
import structlog
from jose import jwt
from pydantic import AwareDatetime, BaseModel, SecretStr, ValidationError

from app.core.clock import Clock, SystemClock
from app.core.settings import GitHubSettings
from app.integrations.github.errors import (
    GitHubError,
    GitHubUnavailableError,
    error_for_response,
)

log = structlog.get_logger(__name__)

API_VERSION = "2022-11-28"
USER_AGENT = "tenon"
# GitHub refuses a JWT that expires more than 10 minutes ahead, and its clock may be behind
# ours: back-date `iat` by a minute and keep `exp` within 9 minutes.
_JWT_BACKDATE = timedelta(seconds=60)
_JWT_LIFETIME = timedelta(seconds=540)
_REFRESH_MARGIN = timedelta(minutes=5)


def github_headers(authorization: str) -> dict[str, str]:
    return {
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
        "User-Agent": USER_AGENT,
        "Authorization": authorization,
    }


class GitHubAuth(Protocol):
    async def authorization(self) -> str:
        """The `Authorization` header value for the next request."""
        ...

    def invalidate(self) -> None:
        """Forget the current credential; GitHub rejected it."""
        ...


class TokenAuth:
    def __init__(self, token: SecretStr) -> None:
        self._token = token

    async def authorization(self) -> str:
        return f"Bearer {self._token.get_secret_value()}"

    def invalidate(self) -> None:
        """A fixed token cannot be refreshed; the retried request shows whether it works."""


class _InstallationToken(BaseModel):
    token: SecretStr
    expires_at: AwareDatetime


class AppAuth:
    def __init__(
        self, http: httpx.AsyncClient, settings: GitHubSettings, *, clock: Clock | None = None
    ) -> None:
        if (
            settings.app_id is None
            or settings.app_private_key is None
            or settings.app_installation_id is None
        ):
            raise ValueError("GitHub App auth needs an app id, a private key and an installation")
        self._http = http
        self._app_id = settings.app_id
        self._private_key = settings.app_private_key
        self._token_url = (
            f"{settings.api_base.rstrip('/')}/app/installations/"
            f"{settings.app_installation_id}/access_tokens"
        )
        self._timeout = settings.request_timeout_seconds
        self._clock = clock or SystemClock()
        self._lock = asyncio.Lock()
        self._token: _InstallationToken | None = None

    def app_jwt(self) -> str:
        """A fresh JWT identifying the App itself (for `/app/...` and repo installation)."""
        now = self._clock.now()
        claims = {
            "iat": int((now - _JWT_BACKDATE).timestamp()),
            "exp": int((now + _JWT_LIFETIME).timestamp()),
            "iss": self._app_id,
        }
        return jwt.encode(claims, self._private_key.get_secret_value(), algorithm="RS256")

    async def authorization(self) -> str:
        token = self._usable_token()
        if token is None:
            async with self._lock:
                # Whoever held the lock before us may have refreshed it already.
                token = self._usable_token()
                if token is None:
                    token = await self._fetch_installation_token()
                    self._token = token
        return f"Bearer {token.token.get_secret_value()}"

    def invalidate(self) -> None:
        self._token = None

    def _usable_token(self) -> _InstallationToken | None:
        token = self._token
        if token is None or self._clock.now() >= token.expires_at - _REFRESH_MARGIN:
            return None
        return token

    async def _fetch_installation_token(self) -> _InstallationToken:
        label = "POST /app/installations/{id}/access_tokens"
        try:
            response = await self._http.post(
                self._token_url,
                headers=github_headers(f"Bearer {self.app_jwt()}"),
                timeout=self._timeout,
            )
        except httpx.TransportError as exc:
            raise GitHubUnavailableError(
                f"GitHub could not be reached for {label} ({type(exc).__name__})"
            ) from exc
        if not response.is_success:
            raise error_for_response(response, label)
        try:
            token = _InstallationToken.model_validate_json(response.content)
        except ValidationError:
            # Not chained: the validation error would quote the body, token included.
            raise GitHubError(
                f"GitHub answered {label} without a token", github_status=response.status_code
            ) from None
        log.info("github.installation_token.refreshed", expires_at=token.expires_at.isoformat())
        return token


def build_auth(http: httpx.AsyncClient, settings: GitHubSettings) -> GitHubAuth | None:
    """The App when configured (higher quotas, short-lived tokens), else the token, else None."""
    if settings.app_id is not None:
        return AppAuth(http, settings)
    if settings.token is not None:
        return TokenAuth(settings.token)
    return None
