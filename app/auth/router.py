"""Who am I, and logging out."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Response, status

from app.auth.dependencies import CurrentPrincipal
from app.auth.recruiters import find_recruiter
from app.auth.schemas import CompanyRef, Me, RecruiterProfile
from app.core.db import DbSession

router = APIRouter(prefix="/auth", tags=["auth"])
log = structlog.get_logger(__name__)


@router.get("/me", response_model=Me)
async def get_me(principal: CurrentPrincipal, session: DbSession) -> Me:
    """The caller's identity, permissions, roles and (for recruiters) company."""
    recruiter = await find_recruiter(session, principal)
    profile = None
    if recruiter is not None:
        profile = RecruiterProfile(
            id=recruiter.user.id,
            email=recruiter.user.email,
            name=recruiter.user.name,
            company=CompanyRef(id=recruiter.company.id, name=recruiter.company.name),
        )
    roles = principal.roles
    main_role = next((role for role in ("recruiter", "candidate") if role in roles), None)
    return Me(
        id=profile.id if profile else None,
        name=profile.name if profile else None,
        role=main_role,
        subject=principal.subject,
        email=principal.email,
        email_verified=principal.email_verified,
        permissions=sorted(principal.permissions),
        roles=roles,
        recruiter=profile,
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, response_class=Response)
async def logout(principal: CurrentPrincipal) -> None:
    """Acknowledge a logout; tokens are stateless, so the client discards its own."""
    log.info("auth.logout", subject=principal.subject)
