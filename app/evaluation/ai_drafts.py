"""AI draft scorecards: one job per submitted day of a candidate session asks the provider to
score the day's rubric criteria from the task, the candidate's work and the anchors, with
personal values replaced by placeholders. The answer is validated against the day's
criteria and its evidence verified; unverifiable evidence is dropped and counted. A draft
is a suggestion to reviewers: it is never a scorecard and never counts in aggregates."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from pydantic import ValidationError
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
from app.evaluation.ai_schemas import AiDraftContent, AiDraftOut, AiDraftsQueued, AiUsageOut
from app.evaluation.evidence import verify_evidence
from app.evaluation.models import MAX_LEVEL, MIN_LEVEL, AiDraftStatus, AiScorecardDraft, AiUsage
from app.evaluation.rubrics import criteria_of, current_rubric
from app.evaluation.schemas import Criterion, Evidence, EvidenceKind
from app.integrations.ai.pii import Placeholders
from app.integrations.ai.provider import AiError, AiRequest
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubError
from app.jobs.queue import enqueue
from app.jobs.registry import JobContext, JobType
from app.runs.models import TestCaseResult, TestRun
from app.services import AiNotConfiguredError, GitHubNotConfiguredError, Services
from app.simulations.models import Simulation, Task
from app.submissions.models import Submission

log = structlog.get_logger(__name__)

# Bounds on what one prompt carries of the candidate's work (characters).
MAX_TEXT_ANSWER = 20_000
MAX_PATCHES = 30_000
MAX_PATCH_PER_FILE = 6_000
MAX_TESTS_LISTED = 100
MAX_TEST_MESSAGE = 500
MAX_OUTPUT_TOKENS = 4_000

# A queued or running draft untouched for this long lost its job (it ended without
# recording why): asking again queues it anew. Five attempts with their backoff and
# provider timeouts take well under it.
STALE_AFTER = timedelta(minutes=30)

SYSTEM = (
    "You help human reviewers assess one day of a candidate's work simulation. Score each "
    "rubric criterion of the day on its 1-4 scale, choosing the level whose anchor fits the "
    "work best, with a short note saying why. Cite evidence only from the work shown: each "
    "evidence item has a kind, a ref in the grammar given and, optionally, a quote copied "
    "verbatim from the referenced source; evidence that cannot be found is discarded. "
    "Personal details appear as placeholders such as [CANDIDATE_NAME]: use them as they "
    "are. Your scores are a draft for reviewers, who decide."
)


class DraftRef(ApiModel):
    candidate_session_id: int
    day_index: int


@dataclass(frozen=True)
class DayInputs:
    """What a day's draft is made from, and their fingerprint."""

    task: Task
    submission: Submission
    test_run: TestRun | None
    tests: list[TestCaseResult]
    rubric_version_id: int
    criteria: list[Criterion]

    @property
    def fingerprint(self) -> str:
        run = self.test_run
        facts = {
            "submission": [self.submission.id, self.submission.content_text],
            "cutoff": self.submission.cutoff_sha,
            "diff": self.submission.diff_summary,
            "run": [run.id, run.status, run.passed, run.failed, run.total] if run else None,
            "tests": [[t.name, t.status] for t in self.tests],
            "task": [self.task.type, self.task.title, self.task.description],
            "rubric": [self.rubric_version_id, *(c.model_dump(mode="json") for c in self.criteria)],
        }
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


async def day_inputs(
    session: AsyncSession, cs: CandidateSession, day_index: int
) -> DayInputs | None:
    """The day's inputs, or None when the day has no submission (or no criteria)."""
    found = (
        await session.execute(
            select(Task, Submission)
            .join(Submission, Submission.task_id == Task.id)
            .where(
                Task.simulation_id == cs.simulation_id,
                Task.day_index == day_index,
                Submission.candidate_session_id == cs.id,
            )
        )
    ).one_or_none()
    if found is None:
        return None
    task, submission = found
    rubric = await current_rubric(session, cs.simulation_id)
    criteria = [c for c in criteria_of(rubric) if c.day_index == day_index]
    if not criteria:
        return None
    run = await session.get(TestRun, submission.test_run_id) if submission.test_run_id else None
    tests: list[TestCaseResult] = []
    if run is not None:
        statement = (
            select(TestCaseResult)
            .where(TestCaseResult.test_run_id == run.id)
            .order_by(TestCaseResult.position)
            .limit(MAX_TESTS_LISTED)
        )
        tests = list((await session.scalars(statement)).all())
    return DayInputs(task, submission, run, tests, rubric.id, criteria)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n[... cut at {limit} characters]"


def _work_section(inputs: DayInputs) -> str:
    submission = inputs.submission
    parts = [f"Submission id: {submission.id}"]
    if submission.content_text:
        parts.append("Text answer:\n" + _cut(submission.content_text, MAX_TEXT_ANSWER))
    diff = submission.diff_summary
    if diff:
        parts.append(
            f"Code changes up to the cutoff commit {submission.cutoff_sha}: "
            f"{diff.get('filesChanged')} files, +{diff.get('additions')} "
            f"-{diff.get('deletions')}, {diff.get('totalCommits')} commits."
        )
        left = MAX_PATCHES
        for file in diff.get("files", []):
            shown = (
                f"--- {file.get('filename')} ({file.get('status')}, "
                f"+{file.get('additions')} -{file.get('deletions')})"
            )
            patch = file.get("patch") or ""
            if patch and left > 0:
                cut = _cut(patch, min(MAX_PATCH_PER_FILE, left))
                left -= len(cut)
                shown += "\n" + cut
            parts.append(shown)
    run = inputs.test_run
    if run is not None:
        parts.append(
            f"Final test run id {run.id}: {run.status}, passed {run.passed}, failed "
            f"{run.failed}, total {run.total}."
        )
        for test in inputs.tests:
            message = f": {_cut(test.message, MAX_TEST_MESSAGE)}" if test.message else ""
            parts.append(f"- test {test.name}: {test.status}{message}")
    return "\n\n".join(parts)


def _criteria_section(criteria: list[Criterion]) -> str:
    lines = []
    for c in criteria:
        anchors = c.anchors
        lines.append(
            f"- key {c.key}: {c.title} (weight {c.weight:g}). {c.description}\n"
            f"  1: {anchors.level1}\n  2: {anchors.level2}\n"
            f"  3: {anchors.level3}\n  4: {anchors.level4}"
        )
    return "\n".join(lines)


def build_prompt(inputs: DayInputs) -> str:
    task = inputs.task
    return "\n\n".join(
        [
            f"Day {task.day_index} task ({task.type}): {task.title}\n{task.description}",
            "The candidate's work:\n" + _work_section(inputs),
            "Rubric criteria of the day:\n" + _criteria_section(inputs.criteria),
            "Evidence refs:\n" + (Evidence.__doc__ or ""),
        ]
    )


_EVIDENCE_KINDS: list[EvidenceKind] = ["diff", "test", "text", "transcript", "commit", "run"]


def output_schema(criteria: list[Criterion]) -> dict[str, Any]:
    """The answer's JSON Schema: one entry per criterion key of the day."""
    evidence = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "ref", "quote"],
        "properties": {
            "kind": {"type": "string", "enum": _EVIDENCE_KINDS},
            "ref": {"type": "string"},
            "quote": {"type": ["string", "null"]},
        },
    }
    entry = {
        "type": "object",
        "additionalProperties": False,
        "required": ["criterionKey", "level", "note", "evidence"],
        "properties": {
            "criterionKey": {"type": "string", "enum": [c.key for c in criteria]},
            "level": {"type": "integer", "enum": list(range(MIN_LEVEL, MAX_LEVEL + 1))},
            "note": {"type": "string"},
            "evidence": {"type": "array", "items": evidence},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["summary", "entries"],
        "properties": {"summary": {"type": "string"}, "entries": {"type": "array", "items": entry}},
    }


def validated(data: dict[str, Any], criteria: list[Criterion]) -> AiDraftContent:
    """The answer as draft content; ValueError naming the problem when it does not fit the
    day's rubric (exactly its criterion keys, once each, levels 1-4)."""
    try:
        content = AiDraftContent.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise ValueError(f"The answer does not match the draft schema: {problems}") from exc
    keys = [entry.criterion_key for entry in content.entries]
    expected = sorted(c.key for c in criteria)
    if sorted(keys) != expected:
        raise ValueError(f"The answer scored {sorted(keys)}; the day's criteria are {expected}.")
    return content


async def verified(
    session: AsyncSession, github: GitHubClient | None, cs_id: int, content: AiDraftContent
) -> tuple[AiDraftContent, int]:
    """The content with only the evidence that verified, and how many items were dropped."""
    items = [item for entry in content.entries for item in entry.evidence]
    if not items:
        return content, 0
    verified_items = iter(await _verify_each(session, github, cs_id, items))
    entries = [
        entry.model_copy(
            update={"evidence": [item for item in entry.evidence if next(verified_items)]}
        )
        for entry in content.entries
    ]
    kept = sum(len(entry.evidence) for entry in entries)
    return content.model_copy(update={"entries": entries}), len(items) - kept


async def _verify_each(
    session: AsyncSession, github: GitHubClient | None, cs_id: int, items: list[Evidence]
) -> list[bool]:
    """Whether each item verified. The answer is paid for, so a GitHub failure (or no
    GitHub) costs only the items that needed it: they count as unverified."""
    try:
        return [problem is None for problem in await verify_evidence(session, github, cs_id, items)]
    except (GitHubError, GitHubNotConfiguredError) as exc:
        log.warning("evaluation.ai_evidence_unverifiable", error=type(exc).__name__)
    results = []
    for item in items:
        try:
            (problem,) = await verify_evidence(session, github, cs_id, [item])
        except (GitHubError, GitHubNotConfiguredError):
            results.append(False)
        else:
            results.append(problem is None)
    return results


def placeholders_for(cs: CandidateSession, company: Company) -> Placeholders:
    return Placeholders(
        {
            "CANDIDATE_NAME": cs.candidate_name,
            "CANDIDATE_EMAIL": cs.invite_email,
            "GITHUB_LOGIN": cs.github_username,
            "COMPANY_NAME": company.name,
        }
    )


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

    try:
        result = await call_ai(
            database,
            provider,
            request,
            company_id=company_id,
            purpose="scorecard_draft",
            settings=context.services.settings.ai,
            clock=context.clock,
            on_reserved=link,
        )
    except AiError as exc:
        if context.attempt < context.max_attempts:
            raise
        async with database.session_scope() as session:
            draft = await _draft_row(session, ref)
            if draft is not None and draft.input_fingerprint == fingerprint:
                _end(draft, "failed", exc.code, exc.message, context.clock.now())
        return

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


def _is_current(draft: AiScorecardDraft, fingerprint: str, now: datetime) -> bool:
    """The draft is (or is being) made from these inputs."""
    if draft.input_fingerprint != fingerprint:
        return False
    if draft.status == "ready":
        return True
    return draft.status in ("queued", "running") and now - draft.updated_at < STALE_AFTER


async def queue_missing_drafts(session: AsyncSession, cs_id: int) -> list[int]:
    """Queue a draft job for each submitted day whose draft is missing, failed, stale or
    made from other inputs; the days queued. The caller checks that AI drafts are enabled."""
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
        if draft is not None and _is_current(draft, inputs.fingerprint, now):
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
