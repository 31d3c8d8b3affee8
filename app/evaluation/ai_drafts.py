"""AI draft scorecards: one job per submitted day of a candidate session asks the provider to
score the day's rubric criteria from the task, the candidate's work and the anchors, with
personal values replaced by placeholders. The answer is validated against the day's
criteria and its evidence verified; unverifiable evidence is dropped and counted. A draft
is a suggestion to reviewers: it is never a scorecard and never counts in aggregates."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.candidate_sessions.models import CandidateSession
from app.companies.models import Company
from app.core.schemas import ApiModel
from app.evaluation import ai_budget
from app.evaluation.access import reviewed_session
from app.evaluation.ai_calls import call_ai
from app.evaluation.ai_draft_inputs import (
    MAX_OUTPUT_TOKENS,
    SYSTEM,
    build_prompt,
    day_inputs,
    output_schema,
    placeholders_for,
    validated,
    verified,
)
from app.evaluation.ai_schemas import AiDraftContent, AiDraftOut, AiDraftsQueued, AiUsageOut
from app.evaluation.models import AiDraftStatus, AiScorecardDraft, AiUsage
from app.evaluation.redaction import redact_removed_citations
from app.integrations.ai.provider import AiRequest
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobType
from app.services import AiNotConfiguredError, Services
from app.simulations.models import Simulation, Task
from app.submissions.models import Submission

log = structlog.get_logger(__name__)

# A queued or running draft untouched for this long lost its job (it ended without
# recording why): asking again queues it anew. Five attempts with their backoff and
# provider timeouts take well under it.
STALE_AFTER = timedelta(minutes=30)


class DraftRef(ApiModel):
    candidate_session_id: int
    day_index: int


async def _draft_row(session: AsyncSession, ref: DraftRef) -> AiScorecardDraft | None:
    statement = (
        select(AiScorecardDraft)
        .where(
            AiScorecardDraft.candidate_session_id == ref.candidate_session_id,
            AiScorecardDraft.day_index == ref.day_index,
        )
        .with_for_update()
    )
    return (await session.scalars(statement)).one_or_none()


def _end(
    draft: AiScorecardDraft, status: AiDraftStatus, code: str, detail: str, now: datetime
) -> None:
    draft.status = status
    draft.error_code = code
    draft.error_detail = detail[:2000]
    draft.completed_at = now


async def _make_draft(context: JobContext[Services], ref: DraftRef) -> None:
    database, now = context.database, context.clock.now()
    async with database.session_scope() as session:
        draft = await _draft_row(session, ref)
        if draft is None or draft.status not in ("queued", "running"):
            return
        provider = context.services.ai
        if provider is None:
            error = AiNotConfiguredError()
            _end(draft, "failed", error.code, error.detail, now)
            return
        cs = await session.get(CandidateSession, ref.candidate_session_id)
        assert cs is not None  # the draft's foreign key
        simulation = await session.get(Simulation, cs.simulation_id)
        assert simulation is not None
        company = await session.get(Company, simulation.company_id)
        assert company is not None
        inputs = await day_inputs(session, cs, ref.day_index)
        if inputs is None:
            _end(draft, "failed", "AI_DRAFT_NO_INPUT", "The day has no submission to draft.", now)
            return
        placeholders = placeholders_for(cs, company)
        request = AiRequest(
            system=SYSTEM,
            prompt=placeholders.redact(build_prompt(inputs)),
            schema_name="scorecard_draft",
            json_schema=output_schema(inputs.criteria),
            max_output_tokens=MAX_OUTPUT_TOKENS,
        )
        fingerprint = inputs.fingerprint
        draft.status = "running"
        draft.input_fingerprint = fingerprint
        draft.rubric_version_id = inputs.rubric_version_id
        company_id, criteria = company.id, inputs.criteria

    async def link(session: AsyncSession, usage_id: int) -> None:
        draft = await _draft_row(session, ref)
        if draft is not None and draft.input_fingerprint == fingerprint:
            draft.ai_usage_id = usage_id

    result = await call_ai(
        database,
        provider,
        request,
        company_id=company_id,
        purpose="scorecard_draft",
        settings=context.services.settings.ai,
        clock=context.clock,
        last_attempt=context.attempt >= context.max_attempts,
        on_reserved=link,
    )

    content, dropped, malformed = None, 0, ""
    if result.response is not None:
        try:
            content = validated(placeholders.restore(result.response.data), criteria)
        except ValueError as exc:
            malformed = str(exc)
        else:
            # Before the draft's row is locked: checking a diff reads GitHub.
            async with database.session_scope() as session:
                content, dropped = await verified(
                    session, context.services.github, ref.candidate_session_id, content
                )

    async with database.session_scope() as session:
        if content is not None:
            # A recording removed since its evidence was verified: as if it went after.
            content = await redact_removed_citations(session, ref.candidate_session_id, content)
        draft = await _draft_row(session, ref)
        # Inputs that changed meanwhile were queued again: that job writes the draft.
        if draft is None or draft.input_fingerprint != fingerprint:
            return
        now = context.clock.now()
        if result.response is None:
            failure = result.failure or "failed"
            _end(draft, failure, result.error_code or "", result.error_detail or "", now)
            return
        if content is None:
            _end(draft, "failed", "AI_MALFORMED_OUTPUT", malformed, now)
            return
        draft.content = content.model_dump(mode="json", by_alias=True)
        draft.dropped_evidence = dropped
        draft.status = "ready"
        draft.error_code = draft.error_detail = None
        draft.completed_at = now
    log.info("evaluation.ai_draft_ready", **ref.model_dump(), dropped_evidence=dropped)


AI_SCORECARD_DRAFT = JobType(
    name="evaluation.ai_scorecard_draft", payload=DraftRef, handler=_make_draft, max_attempts=5
)


def _is_current(
    draft: AiScorecardDraft, fingerprint: str, now: datetime, *, retry_ended: bool
) -> bool:
    """The draft is (or is being) made from these inputs; with `retry_ended` false, a
    draft that ended without content (failed, refused, budget spent) also counts, so only a
    recruiter's request pays for another try of the same inputs."""
    if draft.input_fingerprint != fingerprint:
        return False
    if draft.status in ("queued", "running"):
        return now - draft.updated_at < STALE_AFTER
    return draft.status == "ready" or not retry_ended


async def queue_missing_drafts(
    session: AsyncSession, cs_id: int, *, retry_ended: bool = True
) -> list[int]:
    """Queue a draft job for each submitted day whose draft is missing, stuck, made from
    other inputs or (with `retry_ended`) ended without content; the days queued. The
    caller checks that AI drafts are enabled."""
    cs = await session.get(CandidateSession, cs_id)
    assert cs is not None
    days = (
        await session.scalars(
            select(Task.day_index)
            .join(Submission, Submission.task_id == Task.id)
            .where(Submission.candidate_session_id == cs_id)
            .order_by(Task.day_index)
        )
    ).all()
    existing = {
        draft.day_index: draft
        for draft in await session.scalars(
            select(AiScorecardDraft).where(AiScorecardDraft.candidate_session_id == cs_id)
        )
    }
    now = (await session.execute(select(func.now()))).scalar_one()
    queued = []
    for day in days:
        inputs = await day_inputs(session, cs, day)
        if inputs is None:
            continue
        draft = existing.get(day)
        if draft is not None and _is_current(
            draft, inputs.fingerprint, now, retry_ended=retry_ended
        ):
            continue
        reset = {
            "status": "queued",
            "input_fingerprint": inputs.fingerprint,
            "rubric_version_id": inputs.rubric_version_id,
            "error_code": None,
            "error_detail": None,
            "content": None,
            "dropped_evidence": 0,
            "ai_usage_id": None,
            "completed_at": None,
        }
        await session.execute(
            insert(AiScorecardDraft)
            .values(candidate_session_id=cs_id, day_index=day, **reset)
            .on_conflict_do_update(index_elements=["candidate_session_id", "day_index"], set_=reset)
        )
        await enqueue(
            session,
            AI_SCORECARD_DRAFT,
            DraftRef(candidate_session_id=cs_id, day_index=day),
            dedupe_key=f"{AI_SCORECARD_DRAFT.name}:{cs_id}:{day}",
        )
        queued.append(day)
    if queued:
        log.info("evaluation.ai_drafts_queued", candidate_session_id=cs_id, days=queued)
    return queued


async def request_drafts(
    session: AsyncSession, recruiter: Recruiter, cs_id: int, services: Services, now: datetime
) -> AiDraftsQueued:
    reviewed = await reviewed_session(session, recruiter, cs_id)
    services.require_ai()
    await ai_budget.ensure_budget_left(
        session, reviewed.simulation.company_id, services.settings.ai, now
    )
    return AiDraftsQueued(day_indexes=await queue_missing_drafts(session, cs_id))


def usage_out(usage: AiUsage | None) -> AiUsageOut | None:
    if usage is None:
        return None
    return AiUsageOut(
        provider=usage.provider,
        model=usage.model,
        prompt_hash=usage.prompt_hash,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cost_usd=float(usage.cost_usd),
    )


async def list_drafts(session: AsyncSession, recruiter: Recruiter, cs_id: int) -> list[AiDraftOut]:
    await reviewed_session(session, recruiter, cs_id)
    rows = (
        await session.execute(
            select(AiScorecardDraft, AiUsage)
            .outerjoin(AiUsage, AiUsage.id == AiScorecardDraft.ai_usage_id)
            .where(AiScorecardDraft.candidate_session_id == cs_id)
            .order_by(AiScorecardDraft.day_index)
        )
    ).all()
    return [
        AiDraftOut(
            day_index=draft.day_index,
            status=draft.status,
            rubric_version_id=draft.rubric_version_id,
            content=AiDraftContent.model_validate(draft.content) if draft.content else None,
            usage=usage_out(usage),
            dropped_evidence=draft.dropped_evidence,
            error_code=draft.error_code,
            error_detail=draft.error_detail,
            updated_at=draft.updated_at,
            completed_at=draft.completed_at,
        )
        for draft, usage in rows
    ]
