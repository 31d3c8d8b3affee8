"""Queries for companies and recruiters."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.companies.models import Company, User


async def insert_company(session: AsyncSession, name: str) -> Company | None:
    """Insert a company; None when one with that name (any case) exists."""
    statement = (
        insert(Company)
        .values(name=name)
        .on_conflict_do_nothing(index_elements=[func.lower(Company.name)])
        .returning(Company)
    )
    return (await session.scalars(statement)).one_or_none()


async def company_by_name(session: AsyncSession, name: str) -> Company | None:
    statement = select(Company).where(func.lower(Company.name) == name.lower())
    return (await session.scalars(statement)).one_or_none()


async def company_by_id(session: AsyncSession, company_id: int) -> Company | None:
    return await session.get(Company, company_id)


async def insert_recruiter(
    session: AsyncSession, *, company_id: int, email: str, name: str
) -> User | None:
    """Insert a recruiter; None when that email (any case) is already registered."""
    statement = (
        insert(User)
        .values(company_id=company_id, email=email, name=name)
        .on_conflict_do_nothing(index_elements=[func.lower(User.email)])
        .returning(User)
    )
    return (await session.scalars(statement)).one_or_none()


async def recruiter_with_company_by_subject(
    session: AsyncSession, subject: str
) -> tuple[User, Company] | None:
    """The recruiter bound to this Auth0 subject and their company, in one statement."""
    statement = (
        select(User, Company)
        .join(Company, Company.id == User.company_id)
        .where(User.auth0_sub == subject)
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1])


async def recruiter_by_email(session: AsyncSession, email: str) -> User | None:
    statement = select(User).where(func.lower(User.email) == email.lower())
    return (await session.scalars(statement)).one_or_none()
