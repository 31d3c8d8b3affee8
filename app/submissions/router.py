"""Submitting tasks (candidates) and reviewing submissions (recruiters)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from app.auth.dependencies import CandidateUser, RecruiterUser
from app.candidate_sessions.dependencies import CandidateSessionHeader
from app.candidate_sessions.lifecycle import CurrentSessionHooks
from app.candidate_sessions.progress import CURRENT_TASK_ERRORS
from app.core.clock import CurrentClock
from app.core.db import DbReader, DbSession
from app.core.errors import NotFoundError, UnprocessableError
from app.core.openapi import raises
from app.core.pagination import DEFAULT_LIMIT, INVALID_CURSOR, Limit, Page
from app.core.rate_limit import Limiter
from app.core.schemas import EntityId
from app.core.settings import CurrentSettings
from app.integrations.github.errors import GITHUB_CALL_ERRORS
from app.integrations.github.template_catalog import Catalog
from app.media.store import STORAGE_UNAVAILABLE
from app.services import GITHUB_NOT_CONFIGURED, CurrentServices
from app.similarity.schemas import SubmissionSimilarity
from app.simulations.service import SIMULATION_NOT_FOUND
from app.submissions import export, review, submit
from app.submissions.schemas import SubmissionCreate, SubmissionDetail, SubmissionItem, SubmitResult
from app.workspaces.service import READY_WORKSPACE_ERRORS

router = APIRouter(tags=["submissions"])


@router.post(
    "/tasks/{task_id}/submit", response_model=SubmitResult, status_code=status.HTTP_201_CREATED
)
@raises(
    *CURRENT_TASK_ERRORS,
    *READY_WORKSPACE_ERRORS,
    (UnprocessableError, "CONTENT_REQUIRED"),
    (UnprocessableError, "CONTENT_AND_REFLECTION"),
    (UnprocessableError, "REFLECTION_NOT_EXPECTED"),
    GITHUB_NOT_CONFIGURED,
    *GITHUB_CALL_ERRORS,
)
async def submit_task(
    task_id: EntityId,
    body: SubmissionCreate,
    candidate: CandidateUser,
    cs_id: CandidateSessionHeader,
    session: DbSession,
    clock: CurrentClock,
    settings: CurrentSettings,
    services: CurrentServices,
    catalog: Catalog,
    limiter: Limiter,
    hooks: CurrentSessionHooks,
) -> SubmitResult:
    """Turn in the current task."""
    # Keyed by the caller too: naming someone else's session must not spend its allowance.
    await limiter.hit("submit", settings.rate_limit.submit, key=f"{candidate.subject}:{cs_id}")
    return await submit.submit(
        session,
        candidate,
        cs_id,
        task_id,
        body,
        now=clock.now(),
        github=services.github,
        catalog=catalog,
        hooks=hooks,
        similarity_settings=settings.similarity,
    )


@router.get("/submissions", response_model=Page[SubmissionItem])
@raises(INVALID_CURSOR)
async def list_submissions(
    recruiter: RecruiterUser,
    session: DbReader,
    simulation_id: Annotated[EntityId | None, Query(alias="simulationId")] = None,
    candidate_session_id: Annotated[EntityId | None, Query(alias="candidateSessionId")] = None,
    task_id: Annotated[EntityId | None, Query(alias="taskId")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(description="nextCursor of the previous page.")] = None,
) -> Page[SubmissionItem]:
    """The company's submissions, newest first, optionally filtered."""
    return await review.list_submissions(
        session,
        recruiter,
        simulation_id=simulation_id,
        cs_id=candidate_session_id,
        task_id=task_id,
        limit=limit,
        cursor=cursor,
    )


@router.get("/submissions/{submission_id}", response_model=SubmissionDetail)
@raises((NotFoundError, "SUBMISSION_NOT_FOUND"), STORAGE_UNAVAILABLE)
async def get_submission(
    submission_id: EntityId,
    recruiter: RecruiterUser,
    session: DbSession,
    services: CurrentServices,
) -> SubmissionDetail:
    """One submission with its task, content and the session's timeline."""
    return await review.get_submission(
        session,
        recruiter,
        submission_id,
        media=services.media,
        playback_ttl=timedelta(seconds=services.settings.storage.download_url_ttl_seconds),
    )


@router.get(
    "/submissions/{submission_id}/similarity",
    response_model=SubmissionSimilarity,
    tags=["similarity"],
)
@raises((NotFoundError, "SUBMISSION_NOT_FOUND"))
async def get_submission_similarity(
    submission_id: EntityId, recruiter: RecruiterUser, session: DbReader
) -> SubmissionSimilarity:
    """The submission's pairs with similar code, for review, never a verdict."""
    return await review.get_similarity(session, recruiter, submission_id)


@router.get(
    "/simulations/{simulation_id}/results.csv",
    response_class=Response,
    responses={
        200: {
            "content": {"text/csv": {"schema": {"type": "string"}}},
            "description": "One row per candidate session.",
        }
    },
)
@raises(SIMULATION_NOT_FOUND)
async def export_results_csv(
    simulation_id: EntityId, recruiter: RecruiterUser, session: DbSession
) -> Response:
    """Results of every candidate session as CSV."""
    body = await export.results_csv(session, recruiter, simulation_id)
    return Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="results-{simulation_id}.csv"'},
    )
