"""Authentication providers: Auth0 bearer tokens, and the local-only dev bypass."""

from __future__ import annotations

from typing import ClassVar, Protocol

import httpx
from starlette.requests import Request

from app.auth.jwks import AuthProviderUnavailableError, JwksCache
from app.auth.principals import CANDIDATE_ACCESS, RECRUITER_ACCESS, Principal
from app.auth.tokens import TokenVerifier
from app.core.errors import UnauthorizedError
from app.core.settings import Settings

_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="tenon"'}


class AuthProvider(Protocol):
    async def authenticate(self, request: Request) -> Principal: ...


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class Auth0Provider:
    """Verifies Auth0 access tokens; without Auth0 settings every call is a 503."""

    def __init__(self, verifier: TokenVerifier | None) -> None:
        self._verifier = verifier

    async def authenticate(self, request: Request) -> Principal:
        token = _bearer_token(request)
        if token is None:
            raise UnauthorizedError(
                "A bearer token is required.", code="AUTH_TOKEN_MISSING", headers=_BEARER_CHALLENGE
            )
        if self._verifier is None:
            raise AuthProviderUnavailableError("Auth0 is not configured on this server.")
        return await self._verifier.verify(token)


class DevBypassProvider:
    """Local development only: `Bearer recruiter:<email>`, `Bearer candidate:<email>` or an
    `x-dev-user-email` header (a recruiter). Anything else goes to the real provider."""

    _ROLES: ClassVar[dict[str, str]] = {
        "recruiter": RECRUITER_ACCESS,
        "candidate": CANDIDATE_ACCESS,
    }

    def __init__(self, fallback: AuthProvider) -> None:
        self._fallback = fallback

    async def authenticate(self, request: Request) -> Principal:
        role, email = "recruiter", request.headers.get("x-dev-user-email", "").strip()
        if not email:
            role, _, email = (_bearer_token(request) or "").partition(":")
        if role not in self._ROLES or "@" not in email:
            return await self._fallback.authenticate(request)
        return Principal(
            subject=f"dev|{email.lower()}",
            email=email.lower(),
            email_verified=True,
            permissions=frozenset({self._ROLES[role]}),
            source="dev",
        )


def build_auth_provider(settings: Settings, http: httpx.AsyncClient) -> AuthProvider:
    auth = settings.auth
    verifier = None
    jwks_url = auth.effective_jwks_url
    if auth.configured and jwks_url:
        jwks = JwksCache(
            http,
            jwks_url,
            ttl_seconds=auth.jwks_cache_ttl_seconds,
            min_refetch_interval_seconds=auth.jwks_refetch_min_interval_seconds,
            timeout_seconds=auth.jwks_timeout_seconds,
        )
        verifier = TokenVerifier(jwks, auth)
    provider: AuthProvider = Auth0Provider(verifier)
    # Settings validation already refuses the bypass outside local; checked again here so
    # the provider can never be built in another environment.
    if settings.app.dev_auth_bypass and settings.app.env == "local":
        provider = DevBypassProvider(provider)
    return provider
