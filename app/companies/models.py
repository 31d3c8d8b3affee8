"""Companies (tenants) and the recruiters who belong to them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Index, Numeric, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, IdPrimaryKey, TimestampMixin


class Company(Base):
    __tablename__ = "companies"

    id: Mapped[IdPrimaryKey]
    name: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    # The company's monthly AI spending limit; None means TENON_AI_MONTHLY_BUDGET_USD.
    ai_monthly_budget_usd: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))


Index("uq_companies_lower_name", func.lower(Company.name), unique=True)


class User(TimestampMixin, Base):
    """A recruiter."""

    __tablename__ = "users"

    id: Mapped[IdPrimaryKey]
    company_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("companies.id", ondelete="RESTRICT"), index=True
    )
    email: Mapped[str] = mapped_column(Text)
    name: Mapped[str] = mapped_column(Text)
    auth0_sub: Mapped[str | None] = mapped_column(Text, unique=True)


Index("uq_users_lower_email", func.lower(User.email), unique=True)
