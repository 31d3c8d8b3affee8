"""FastAPI dependencies for the callers of the API, as `Annotated` aliases."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from app.auth.jwks import AuthProviderUnavailableError
from app.auth.principals import CANDIDATE_ACCESS, Principal
from app.auth.providers import AuthProvider
from app.auth.recruiters import Recruiter, require_recruiter
from app.core.db import database_of
from app.core.errors import DatabaseUnavailableError, ForbiddenError, UnauthorizedError
from app.core.openapi import raises

# The security schemes of the OpenAPI document. Neither refuses a request itself
# (auto_error=False): the dependencies below answer with their own problems.
bearer_token = HTTPBearer(
    scheme_name="bearerAuth",
    bearerFormat="JWT",
    description="An Auth0 access token for the Tenon API audience.",
    auto_error=False,
)
admin_key = APIKeyHeader(
    name="X-Admin-Key",
    scheme_name="adminKey",
    description="The operator key (TENON_ADMIN_API_KEY).",
    auto_error=False,
)


@raises(
    (UnauthorizedError, "AUTH_TOKEN_MISSING"),
    (UnauthorizedError, "AUTH_TOKEN_INVALID"),
    (UnauthorizedError, "AUTH_TOKEN_EXPIRED"),
    AuthProviderUnavailableError,
)
async def current_principal(
    request: Request,
    # Declares the scheme; the provider reads the header itself (the local dev bypass also
    # accepts other forms).
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_token)],
) -> Principal:
    provider: AuthProvider = request.app.state.auth_provider
    return await provider.authenticate(request)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


@raises(
    (ForbiddenError, "PERMISSION_DENIED"),
    (ForbiddenError, "RECRUITER_NOT_REGISTERED"),
    DatabaseUnavailableError,
)
async def current_recruiter(principal: CurrentPrincipal, request: Request) -> Recruiter:
    # A short read of its own: its connection is back in the pool before the route takes
    # one, and a read-only route stays outside any transaction. The one write, binding the
    # subject at a first sign-in, is kept whatever the route does: it is authentication's.
    # (On the autocommit connection the commit is no round trip.)
    async with database_of(request).read_sessionmaker() as session:
        recruiter = await require_recruiter(session, principal)
        await session.commit()
        return recruiter


@raises((ForbiddenError, "PERMISSION_DENIED"))
async def current_candidate(principal: CurrentPrincipal) -> Principal:
    if not principal.has(CANDIDATE_ACCESS):
        raise ForbiddenError("This needs candidate access.", code="PERMISSION_DENIED")
    return principal


@raises((UnauthorizedError, "ADMIN_KEY_INVALID"))
async def require_admin_key(
    request: Request, supplied_key: Annotated[str | None, Security(admin_key)]
) -> None:
    expected = request.app.state.settings.app.admin_api_key
    supplied = (supplied_key or "").encode()
    if expected is None or not hmac.compare_digest(supplied, expected.get_secret_value().encode()):
        raise UnauthorizedError("A valid X-Admin-Key header is required.", code="ADMIN_KEY_INVALID")


async def require_metrics_token(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    expected = request.app.state.settings.app.metrics_token
    scheme, _, supplied = (authorization or "").partition(" ")
    supplied = supplied.strip()
    # An empty credential never passes, whatever the setting holds.
    if (
        expected is None
        or scheme.lower() != "bearer"
        or not supplied
        or not hmac.compare_digest(supplied.encode(), expected.get_secret_value().encode())
    ):
        raise UnauthorizedError(
            "A valid metrics token is required (Authorization: Bearer <token>).",
            code="METRICS_TOKEN_INVALID",
            headers={"WWW-Authenticate": "Bearer"},
        )


RecruiterUser = Annotated[Recruiter, Depends(current_recruiter)]
CandidateUser = Annotated[Principal, Depends(current_candidate)]
MetricsScraper = Annotated[None, Depends(require_metrics_token)]
