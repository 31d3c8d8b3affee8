"""Request and response models for companies and recruiters."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints

from app.core.schemas import ApiModel, EntityId

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class CompanyCreate(ApiModel):
    name: Name = Field(examples=["Acme Robotics"])


class CompanyOut(ApiModel):
    id: int
    name: str
    created_at: datetime


class RecruiterCreate(ApiModel):
    company_id: EntityId
    email: EmailStr = Field(examples=["jane@acme.example"])
    name: Name = Field(examples=["Jane Doe"])


class RecruiterOut(ApiModel):
    id: int
    company_id: int
    email: str
    name: str
    created_at: datetime
