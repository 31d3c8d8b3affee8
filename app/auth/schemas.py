"""Response models for the auth routes."""

from __future__ import annotations

from app.core.schemas import ApiModel


class CompanyRef(ApiModel):
    id: int
    name: str


class RecruiterProfile(ApiModel):
    id: int
    email: str
    name: str
    company: CompanyRef


class Me(ApiModel):
    subject: str
    email: str | None
    email_verified: bool
    permissions: list[str]
    roles: list[str]
    recruiter: RecruiterProfile | None
