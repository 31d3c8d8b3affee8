"""Operator routes, guarded by `X-Admin-Key`; mounted only when a key is configured."""

from __future__ import annotations

from fastapi import APIRouter, Depends, status

from app.auth.dependencies import require_admin_key
from app.companies import service as companies
from app.companies.schemas import CompanyCreate, CompanyOut, RecruiterCreate, RecruiterOut
from app.core.db import DbSession

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin_key)])


@router.post("/companies", response_model=CompanyOut, status_code=status.HTTP_201_CREATED)
async def create_company(body: CompanyCreate, session: DbSession) -> CompanyOut:
    """Create a company."""
    company = await companies.create_company(session, body.name)
    return CompanyOut.model_validate(company)


@router.post("/recruiters", response_model=RecruiterOut, status_code=status.HTTP_201_CREATED)
async def create_recruiter(body: RecruiterCreate, session: DbSession) -> RecruiterOut:
    """Register a recruiter in a company."""
    user = await companies.create_recruiter(
        session, company_id=body.company_id, email=str(body.email), name=body.name
    )
    return RecruiterOut.model_validate(user)
