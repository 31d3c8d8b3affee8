"""Companies and the recruiters who belong to them; which recruiter a caller is, is decided
in `app.auth.recruiters`."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.companies import repository
from app.companies.models import Company, User
from app.core.errors import ConflictError, NotFoundError

log = structlog.get_logger(__name__)

DEMO_COMPANY = "Tenon Demo Co"
DEMO_RECRUITERS = (
    ("recruiter@example.com", "Riley Recruiter"),
    ("hiring.manager@example.com", "Harper Hiring-Manager"),
)


async def create_company(session: AsyncSession, name: str) -> Company:
    company = await repository.insert_company(session, name)
    if company is None:
        raise ConflictError(f"A company named {name!r} already exists.", code="COMPANY_EXISTS")
    log.info("companies.company.created", company_id=company.id)
    return company


async def create_recruiter(
    session: AsyncSession, *, company_id: int, email: str, name: str
) -> User:
    company = await repository.company_by_id(session, company_id)
    if company is None:
        raise NotFoundError("No such company.", code="COMPANY_NOT_FOUND")
    user = await repository.insert_recruiter(session, company_id=company.id, email=email, name=name)
    if user is None:
        raise ConflictError("A recruiter with this email already exists.", code="RECRUITER_EXISTS")
    log.info("companies.recruiter.created", user_id=user.id, company_id=company.id)
    return user


async def seed_demo_data(session: AsyncSession) -> tuple[Company, list[User]]:
    """The demo company and its recruiters; running it again changes nothing."""
    company = await repository.insert_company(session, DEMO_COMPANY)
    if company is None:
        company = await repository.company_by_name(session, DEMO_COMPANY)
        assert company is not None
    users = []
    for email, name in DEMO_RECRUITERS:
        user = await repository.insert_recruiter(
            session, company_id=company.id, email=email, name=name
        )
        if user is None:
            user = await repository.recruiter_by_email(session, email)
            assert user is not None
        users.append(user)
    return company, users


async def find_demo_data(session: AsyncSession) -> list[str]:
    """The demo company and recruiters `seed_demo_data` made that are still there, by name:
    their emails are public, so a deployed service must not have them."""
    found = []
    if await repository.company_by_name(session, DEMO_COMPANY) is not None:
        found.append(DEMO_COMPANY)
    for email, _ in DEMO_RECRUITERS:
        if await repository.recruiter_by_email(session, email) is not None:
            found.append(email)
    return found
