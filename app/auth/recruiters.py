"""Recruiters as callers: which registered recruiter a principal is, if any.

Resolving a caller belongs to authentication; the recruiters themselves (the `users` rows
and their companies) are the companies domain's, read through its repository.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principals import RECRUITER_ACCESS, Principal
from app.companies import repository
from app.companies.models import Company, User
from app.core.errors import ForbiddenError


@dataclass(frozen=True)
class Recruiter:
    """A signed-in recruiter: the user row, their company and the token they came with."""

    user: User
    company: Company
    principal: Principal


async def find_recruiter(session: AsyncSession, principal: Principal) -> Recruiter | None:
    """The registered recruiter this principal is, matched by Auth0 subject (one indexed
    lookup, with the company) and else by verified email (binding the subject on that
    first sign-in)."""
    bound = await repository.recruiter_with_company_by_subject(session, principal.subject)
    if bound is not None:
        return Recruiter(user=bound[0], company=bound[1], principal=principal)
    if not principal.verified_email:
        return None
    user = await repository.recruiter_by_email(session, principal.verified_email)
    # A row already bound to another subject is not this principal's.
    if user is None or user.auth0_sub not in (None, principal.subject):
        return None
    # Dev-bypass identities are never bound, so a real sign-in can bind later.
    if principal.source == "auth0" and user.auth0_sub is None:
        user.auth0_sub = principal.subject
        await session.flush()
    company = await repository.company_by_id(session, user.company_id)
    assert company is not None  # guaranteed by the foreign key
    return Recruiter(user=user, company=company, principal=principal)


async def require_recruiter(session: AsyncSession, principal: Principal) -> Recruiter:
    if not principal.has(RECRUITER_ACCESS):
        raise ForbiddenError("This needs recruiter access.", code="PERMISSION_DENIED")
    recruiter = await find_recruiter(session, principal)
    if recruiter is None:
        raise ForbiddenError(
            "You are not registered as a recruiter.", code="RECRUITER_NOT_REGISTERED"
        )
    return recruiter
