"""Typed factories that insert domain rows and flush, so database defaults are filled in.

Every argument has a sensible default; names and emails are unique per call so tests can
create several rows without clashing on unique indexes.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from app.ats.models import PartnerKey
from app.candidate_sessions.models import CandidateSession, SessionStatus
from app.companies.models import Company, User
from app.core.security import TokenCipher, hash_token, new_token
from app.core.settings import LOCAL_SECRET_KEY
from app.events.models import ActorType, Event
from app.integrations.github.models import WebhookDelivery
from app.jobs.models import Job, JobState
from app.recordings.models import Recording, RecordingStatus
from app.runs.models import TestCaseResult, TestCaseStatus, TestRun
from app.simulations.models import CODE_TASK_TYPES, Simulation, Task, TaskType
from app.submissions.models import Submission
from app.webhooks.models import EndpointDelivery, WebhookEndpoint
from app.workspaces.models import TestRunStatus, Workspace

T = TypeVar("T")

DEFAULT_TEMPLATE_REPO = "tenon-templates/python-fastapi"
# The default five-day plan (SPEC §2).
DEFAULT_PLAN: tuple[TaskType, ...] = ("design", "code", "debug", "handoff", "documentation")


def _suffix() -> str:
    return uuid.uuid4().hex[:8]


async def _add(session: AsyncSession, row: T) -> T:
    session.add(row)
    await session.flush()
    return row


async def create_company(session: AsyncSession, *, name: str | None = None) -> Company:
    return await _add(session, Company(name=name or f"Company {_suffix()}"))


async def create_partner_key(
    session: AsyncSession, company: Company, *, key: str | None = None
) -> PartnerKey:
    """A live Greenhouse partner key of `company` (`key`, or a random one)."""
    plain = key or f"tgh_{new_token()}"
    row = PartnerKey(
        company_id=company.id,
        system="greenhouse",
        key_hash=hash_token(plain),
        key_ciphertext=TokenCipher(LOCAL_SECRET_KEY).encrypt(plain),
        prefix=plain[:8],
        last4=plain[-4:],
    )
    return await _add(session, row)


async def create_recruiter(
    session: AsyncSession,
    company: Company,
    *,
    email: str | None = None,
    name: str = "Rita Recruiter",
    auth0_sub: str | None = None,
) -> User:
    user = User(
        company_id=company.id,
        email=email or f"recruiter-{_suffix()}@example.com",
        name=name,
        auth0_sub=auth0_sub,
    )
    return await _add(session, user)


async def create_simulation(
    session: AsyncSession,
    company: Company,
    *,
    created_by: User | None = None,
    title: str = "Backend engineer simulation",
    template_key: str = "python-fastapi",
) -> Simulation:
    simulation = Simulation(
        company_id=company.id,
        created_by_user_id=created_by.id if created_by else None,
        title=title,
        role="Backend Engineer",
        tech_stack="Python, FastAPI, PostgreSQL",
        seniority="mid",
        focus="API design",
        template_key=template_key,
    )
    return await _add(session, simulation)


async def create_task(
    session: AsyncSession,
    simulation: Simulation,
    *,
    day_index: int = 1,
    type: TaskType = "design",
    template_repo: str | None = None,
    max_score: int | None = 10,
) -> Task:
    if template_repo is None and type in CODE_TASK_TYPES:
        template_repo = DEFAULT_TEMPLATE_REPO
    task = Task(
        simulation_id=simulation.id,
        day_index=day_index,
        type=type,
        title=f"Day {day_index}: {type}",
        description=f"Do the {type} work.",
        max_score=max_score,
        template_repo=template_repo,
    )
    return await _add(session, task)


async def create_tasks(session: AsyncSession, simulation: Simulation) -> list[Task]:
    """The default five-day plan."""
    return [
        await create_task(session, simulation, day_index=day, type=task_type)
        for day, task_type in enumerate(DEFAULT_PLAN, start=1)
    ]


async def create_candidate_session(
    session: AsyncSession,
    simulation: Simulation,
    *,
    invite_email: str | None = None,
    candidate_name: str = "Casey Candidate",
    status: SessionStatus = "invited",
    expires_at: datetime | None = None,
    token: str | None = None,
) -> CandidateSession:
    token = token or new_token()
    candidate_session = CandidateSession(
        simulation_id=simulation.id,
        candidate_name=candidate_name,
        invite_email=invite_email or f"candidate-{_suffix()}@example.com",
        token_hash=hash_token(token),
        token_ciphertext=TokenCipher(LOCAL_SECRET_KEY).encrypt(token),
        status=status,
        expires_at=expires_at or datetime.now(UTC) + timedelta(days=14),
    )
    return await _add(session, candidate_session)


async def create_workspace(
    session: AsyncSession,
    candidate_session: CandidateSession,
    *,
    template_repo: str = DEFAULT_TEMPLATE_REPO,
    template_key: str = "python-fastapi",
) -> Workspace:
    workspace = Workspace(
        candidate_session_id=candidate_session.id,
        template_repo=template_repo,
        template_key=template_key,
    )
    return await _add(session, workspace)


async def create_test_run(
    session: AsyncSession,
    workspace: Workspace,
    task: Task,
    *,
    status: TestRunStatus = "queued",
    github_run_id: int | None = None,
) -> TestRun:
    run = TestRun(
        workspace_id=workspace.id, task_id=task.id, status=status, github_run_id=github_run_id
    )
    return await _add(session, run)


async def create_test_case_result(
    session: AsyncSession,
    run: TestRun,
    *,
    position: int = 0,
    name: str = "test_health",
    status: TestCaseStatus = "passed",
) -> TestCaseResult:
    result = TestCaseResult(test_run_id=run.id, position=position, name=name, status=status)
    return await _add(session, result)


async def create_submission(
    session: AsyncSession,
    candidate_session: CandidateSession,
    task: Task,
    *,
    content_text: str | None = "My answer.",
    workspace: Workspace | None = None,
    test_run: TestRun | None = None,
) -> Submission:
    submission = Submission(
        candidate_session_id=candidate_session.id,
        task_id=task.id,
        content_text=content_text,
        workspace_id=workspace.id if workspace else None,
        test_run_id=test_run.id if test_run else None,
    )
    return await _add(session, submission)


async def create_recording(
    session: AsyncSession,
    candidate_session: CandidateSession,
    task: Task,
    *,
    segments: list[tuple[float, float, str]] | None = None,
    status: RecordingStatus = "ready",
    completed_at: datetime | None = None,
) -> Recording:
    """A recording as `complete` leaves it (no object in any store), with a ready
    transcript of `segments` (start, end, text) when given."""
    recording = Recording(
        candidate_session_id=candidate_session.id,
        task_id=task.id,
        storage_key=f"recordings/{candidate_session.id}/{task.id}/{_suffix()}.webm",
        filename="handoff.webm",
        declared_content_type="video/webm",
        declared_size_bytes=1000,
        status=status,
        content_type="video/webm",
        size_bytes=1000,
        duration_seconds=60.0,
        completed_at=completed_at or datetime.now(UTC),
        transcript_status="ready" if segments is not None else "disabled",
        transcript_segments=(
            [{"start": start, "end": end, "text": text} for start, end, text in segments]
            if segments is not None
            else None
        ),
    )
    return await _add(session, recording)


async def create_event(
    session: AsyncSession,
    simulation: Simulation,
    *,
    candidate_session: CandidateSession | None = None,
    type: str = "candidate_session.invited",
    actor_type: ActorType = "recruiter",
    data: dict[str, Any] | None = None,
) -> Event:
    event = Event(
        simulation_id=simulation.id,
        candidate_session_id=candidate_session.id if candidate_session else None,
        type=type,
        actor_type=actor_type,
        data=data or {},
    )
    return await _add(session, event)


async def create_job(
    session: AsyncSession,
    *,
    type: str = "invite_email.send",
    state: JobState = "pending",
    dedupe_key: str | None = None,
    payload: dict[str, Any] | None = None,
) -> Job:
    job = Job(type=type, state=state, dedupe_key=dedupe_key, payload=payload or {})
    return await _add(session, job)


async def create_webhook_delivery(
    session: AsyncSession,
    *,
    delivery_id: str | None = None,
    event: str = "workflow_run",
    action: str | None = "completed",
) -> WebhookDelivery:
    delivery = WebhookDelivery(
        delivery_id=delivery_id or str(uuid.uuid4()),
        event=event,
        action=action,
        payload={"action": action},
    )
    return await _add(session, delivery)


async def create_webhook_endpoint(
    session: AsyncSession,
    company: Company,
    *,
    url: str = "https://hooks.example.com/tenon",
    event_types: list[str] | None = None,
    secret: str = "whsec_factory-secret",  # noqa: S107
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(
        company_id=company.id,
        url=url,
        event_types=event_types or ["candidate.invited"],
        secret_ciphertext=TokenCipher(LOCAL_SECRET_KEY).encrypt(secret),
    )
    return await _add(session, endpoint)


async def create_endpoint_delivery(
    session: AsyncSession, endpoint: WebhookEndpoint, *, event_type: str = "candidate.invited"
) -> EndpointDelivery:
    event_id = f"evt_{_suffix()}"
    delivery = EndpointDelivery(
        endpoint_id=endpoint.id,
        event_id=event_id,
        event_type=event_type,
        body=f'{{"id":"{event_id}","type":"{event_type}","data":{{}}}}',
        status="failed",
    )
    return await _add(session, delivery)


@dataclass(frozen=True)
class World:
    """One of every row, linked the way the product links them."""

    company: Company
    recruiter: User
    simulation: Simulation
    tasks: list[Task]
    candidate_session: CandidateSession
    workspace: Workspace
    test_run: TestRun
    test_case_result: TestCaseResult
    submission: Submission
    event: Event
    job: Job
    webhook_delivery: WebhookDelivery

    @property
    def code_task(self) -> Task:
        return next(task for task in self.tasks if task.type == "code")


async def create_world(session: AsyncSession) -> World:
    company = await create_company(session)
    recruiter = await create_recruiter(session, company)
    simulation = await create_simulation(session, company, created_by=recruiter)
    tasks = await create_tasks(session, simulation)
    candidate_session = await create_candidate_session(session, simulation)
    workspace = await create_workspace(session, candidate_session)
    code_task = next(task for task in tasks if task.type == "code")
    test_run = await create_test_run(session, workspace, code_task)
    return World(
        company=company,
        recruiter=recruiter,
        simulation=simulation,
        tasks=tasks,
        candidate_session=candidate_session,
        workspace=workspace,
        test_run=test_run,
        test_case_result=await create_test_case_result(session, test_run),
        submission=await create_submission(session, candidate_session, tasks[0]),
        event=await create_event(session, simulation, candidate_session=candidate_session),
        job=await create_job(session),
        webhook_delivery=await create_webhook_delivery(session),
    )
