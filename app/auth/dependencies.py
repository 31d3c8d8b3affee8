"""FastAPI dependencies for the callers of the API, as `Annotated` aliases."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, Request

from app.auth.principals import CANDIDATE_ACCESS, Principal
from app.auth.providers import AuthProvider
from app.companies import service as companies
from app.companies.service import Recruiter
from app.core.db import DbSession
from app.core.errors import ForbiddenError, UnauthorizedError


async def current_principal(request: Request) -> Principal:
    provider: AuthProvider = request.app.state.auth_provider
    return await provider.authenticate(request)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def current_recruiter(principal: CurrentPrincipal, session: DbSession) -> Recruiter:
    return await companies.require_recruiter(session, principal)


async def current_candidate(principal: CurrentPrincipal) -> Principal:
    if not principal.has(CANDIDATE_ACCESS):
        raise ForbiddenError("This needs candidate access.", code="PERMISSION_DENIED")
    return principal


async def require_admin_key(
    request: Request, x_admin_key: Annotated[str | None, Header()] = None
) -> None:
    expected = request.app.state.settings.app.admin_api_key
    supplied = (x_admin_key or "").encode()
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
AdminKey = Annotated[None, Depends(require_admin_key)]
MetricsScraper = Annotated[None, Depends(require_metrics_token)]
