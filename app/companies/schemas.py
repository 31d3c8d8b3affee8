"""Request and response models for companies and recruiters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import EmailStr, Field, StringConstraints

from app.core.schemas import ApiModel

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class CompanyCreate(ApiModel):
    name: Name = Field(examples=["Acme Robotics"])


class CompanyOut(ApiModel):
    id: uuid.UUID
    name: str
    created_at: datetime


class RecruiterCreate(ApiModel):
    company_id: uuid.UUID
    email: EmailStr = Field(examples=["jane@acme.example"])
    name: Name = Field(examples=["Jane Doe"])


class RecruiterOut(ApiModel):
    id: uuid.UUID
    company_id: uuid.UUID
    email: str
    name: str
    created_at: datetime
