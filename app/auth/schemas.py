"""Response models for the auth routes."""

from __future__ import annotations

from pydantic import Field

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
    id: int | None = Field(description="The recruiter's user id; null for others.")
    name: str | None = Field(description="The recruiter's name; null for others.")
    role: str | None = Field(
        description="The caller's main role: `recruiter` before `candidate`; null for neither."
    )
    subject: str
    email: str | None
    email_verified: bool
    permissions: list[str]
    roles: list[str]
    recruiter: RecruiterProfile | None
