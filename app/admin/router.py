"""Operator routes, guarded by `X-Admin-Key`; mounted only when a key is configured."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, status

from app.admin import template_health
from app.admin.schemas import TemplateHealthReport, TemplateHealthRun
from app.auth.dependencies import require_admin_key
from app.companies import service as companies
from app.companies.schemas import CompanyCreate, CompanyOut, RecruiterCreate, RecruiterOut
from app.core.clock import CurrentClock
from app.core.db import DbSession
from app.core.errors import ConflictError, NotFoundError
from app.core.middleware import without_request_deadline
from app.core.openapi import raises
from app.core.pagination import DEFAULT_LIMIT, Limit, Page
from app.core.schemas import EntityId
from app.core.settings import CurrentSettings
from app.integrations.github.template_catalog import Catalog
from app.jobs import service as jobs
from app.jobs.models import JobState
from app.jobs.schemas import JobOut
from app.services import GitHub

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_admin_key)])


@router.post("/companies", response_model=CompanyOut, status_code=status.HTTP_201_CREATED)
@raises((ConflictError, "COMPANY_EXISTS"))
async def create_company(body: CompanyCreate, session: DbSession) -> CompanyOut:
    """Create a company."""
    company = await companies.create_company(session, body.name)
    return CompanyOut.model_validate(company)


@router.post("/recruiters", response_model=RecruiterOut, status_code=status.HTTP_201_CREATED)
@raises((NotFoundError, "COMPANY_NOT_FOUND"), (ConflictError, "RECRUITER_EXISTS"))
async def create_recruiter(body: RecruiterCreate, session: DbSession) -> RecruiterOut:
    """Register a recruiter in a company."""
    user = await companies.create_recruiter(
        session, company_id=body.company_id, email=str(body.email), name=body.name
    )
    return RecruiterOut.model_validate(user)


@router.get("/jobs", response_model=Page[JobOut])
async def list_jobs(
    session: DbSession,
    state: Annotated[list[JobState] | None, Query(description="Repeat to match several.")] = None,
    type: Annotated[str | None, Query(description="Job type, e.g. github.webhook.process.")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[
        EntityId | None, Query(description="nextCursor of the previous page.")
    ] = None,
) -> Page[JobOut]:
    """List jobs, newest first, optionally by state and type."""
    return await jobs.list_jobs(
        session, states=state or [], job_type=type, limit=limit, cursor=cursor
    )


@router.post("/jobs/{job_id}/retry", response_model=JobOut)
@raises(
    (NotFoundError, "JOB_NOT_FOUND"),
    (ConflictError, "JOB_NOT_RETRYABLE"),
    (ConflictError, "JOB_DUPLICATE_PENDING"),
)
async def retry_job(job_id: EntityId, session: DbSession, clock: CurrentClock) -> JobOut:
    """Run a failed or dead job again now."""
    return await jobs.retry_job(session, job_id, clock)


@router.get("/templates/health", response_model=TemplateHealthReport)
@raises(*template_health.CHECK_ERRORS)
async def check_template_health(
    github: GitHub,
    catalog: Catalog,
    mode: Annotated[Literal["static"], Query(description="Live checks: POST /run.")] = "static",
    template_keys: Annotated[
        list[str] | None,
        Query(
            alias="templateKeys",
            description="Repeat to check several; none: every catalog template.",
        ),
    ] = None,
) -> TemplateHealthReport:
    """Check the template repositories and their workflows without running them."""
    return await template_health.check_static(github, catalog, template_keys or [])


@router.post(
    "/templates/health/run",
    response_model=TemplateHealthReport,
    # Runs every template's workflow and waits for it: minutes, by design.
    dependencies=[Depends(without_request_deadline)],
)
@raises(*template_health.CHECK_ERRORS)
async def run_template_health(
    github: GitHub,
    catalog: Catalog,
    clock: CurrentClock,
    settings: CurrentSettings,
    body: TemplateHealthRun | None = None,
) -> TemplateHealthReport:
    """Run each template's workflow on the template itself and check the results it uploads."""
    request = body or TemplateHealthRun()
    return await template_health.check_live(
        github,
        catalog,
        clock,
        template_keys=request.template_keys or [],
        timeout_seconds=request.timeout_seconds,
        concurrency=request.concurrency,
        poll_seconds=settings.github.run_poll_seconds,
    )
