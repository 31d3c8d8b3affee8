"""Test runs as the candidate sees them: request one (answered at once), read its state."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Protocol, cast

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.principals import Principal
from app.candidate_sessions.models import CandidateSession
from app.core.db import Database
from app.core.errors import NotFoundError
from app.core.openapi import ErrorSpec
from app.jobs.queue import enqueue
from app.runs import repository
from app.runs.jobs import DISPATCH_RUN, RunRef
from app.runs.live import RunEventHub, notify_run_changed
from app.runs.models import ACTIVE_TEST_RUN_STATUSES, TestCaseResult, TestRun
from app.runs.schemas import POLL_AFTER_MS, RunOut, TestOut, public_run_status
from app.simulations.models import Task
from app.workspaces import service as workspaces
from app.workspaces.models import TestRunStatus, Workspace

log = structlog.get_logger(__name__)

STREAM_RECHECK_SECONDS = 5.0
# How `get_run` answers for a run that is not the task's, for routes' `@raises`.
RUN_NOT_FOUND: ErrorSpec = (NotFoundError, "RUN_NOT_FOUND")


class RunCounts(Protocol):
    """What the list and the integrity flags read of a final run."""

    @property
    def status(self) -> TestRunStatus: ...
    @property
    def passed(self) -> int | None: ...
    @property
    def failed(self) -> int | None: ...
    @property
    def skipped(self) -> int | None: ...
    @property
    def total(self) -> int | None: ...
    @property
    def head_sha(self) -> str | None: ...
    @property
    def result_code(self) -> str | None: ...


class RunFields(RunCounts, Protocol):
    """What a run's response is made of: a TestRun, or a row of the poll's own query."""

    @property
    def id(self) -> int: ...
    @property
    def conclusion(self) -> str | None: ...
    @property
    def errors(self) -> int | None: ...
    @property
    def duration_ms(self) -> int | None: ...
    @property
    def stdout(self) -> str | None: ...
    @property
    def stderr(self) -> str | None: ...
    @property
    def stdout_truncated(self) -> bool: ...
    @property
    def stderr_truncated(self) -> bool: ...
    @property
    def github_run_id(self) -> int | None: ...
    @property
    def github_run_url(self) -> str | None: ...
    @property
    def artifact_name(self) -> str | None: ...


def present(run: TestRun, tests: Sequence[TestCaseResult]) -> RunOut:
    return _run_out(run, [TestOut.model_validate(test) for test in tests])


def _run_out(run: RunFields, tests: list[TestOut]) -> RunOut:
    active = run.status in ACTIVE_TEST_RUN_STATUSES
    return RunOut(
        run_id=run.id,
        status=public_run_status(run.status),
        phase=run.status,
        conclusion=run.conclusion,
        passed=run.passed,
        failed=run.failed,
        skipped=run.skipped,
        errors=run.errors,
        total=run.total,
        duration_ms=run.duration_ms,
        stdout=run.stdout,
        stderr=run.stderr,
        stdout_truncated=run.stdout_truncated,
        stderr_truncated=run.stderr_truncated,
        tests=tests,
        workflow_run_id=run.github_run_id,
        workflow_url=run.github_run_url,
        commit_sha=run.head_sha,
        artifact_name=run.artifact_name,
        result_code=run.result_code,
        poll_after_ms=POLL_AFTER_MS if active else None,
    )


async def candidate_poll(
    session: AsyncSession, candidate: Principal, cs_id: int, task_id: int, run_id: int
) -> RunOut | None:
    """The run as its candidate polls it, read in one statement; None when it is not
    theirs to see (or not there), for the caller to answer with the precise problem."""
    row = await repository.of_candidate(session, candidate.subject, cs_id, task_id, run_id)
    if row is None:
        return None
    tests = [
        TestOut(name=name, classname=classname, status=status, duration_ms=ms, message=message)
        for name, classname, status, ms, message in row.tests or ()
    ]
    return _run_out(cast(RunFields, row), tests)


async def queue_run(
    session: AsyncSession, workspace: Workspace, task: Task, ref: str | None, *, now: datetime
) -> TestRun:
    """A new run of the workspace's tests, dispatched by a job after the caller commits."""
    run = TestRun(
        workspace_id=workspace.id,
        task_id=task.id,
        requested_ref=ref or workspace.default_branch,
        status="queued",
        created_at=now,
    )
    session.add(run)
    await session.flush()
    await enqueue(session, DISPATCH_RUN, RunRef(run_id=run.id), dedupe_key=f"dispatch:{run.id}")
    await notify_run_changed(session, run.id)
    log.info("runs.requested", run_id=run.id, workspace_id=workspace.id)
    return run


async def request_run(
    session: AsyncSession, cs: CandidateSession, task: Task, ref: str | None, *, now: datetime
) -> RunOut:
    """Queue a test run of the task's workspace; the dispatch happens in a job."""
    workspace = await workspaces.ready_workspace(session, cs, task)
    return present(await queue_run(session, workspace, task, ref, now=now), tests=())


async def get_run(session: AsyncSession, cs: CandidateSession, task: Task, run_id: int) -> TestRun:
    workspace = await workspaces.ready_workspace(session, cs, task)
    run = await repository.in_workspace(session, workspace.id, run_id)
    if run is None or run.task_id != task.id:
        raise NotFoundError("No such test run.", code="RUN_NOT_FOUND")
    return run


async def run_stream(
    database: Database, hub: RunEventHub, workspace_id: int, run_id: int
) -> AsyncIterator[dict[str, str]]:
    """Server-Sent Events for one run: its state now and after every change, until final.

    Changes arrive through LISTEN/NOTIFY from whichever instance made them; a periodic
    re-read covers a lost notification."""
    last = None
    async with hub.watch(run_id) as changed:
        while True:
            changed.clear()
            async with database.sessionmaker() as session:
                run = await repository.in_workspace(session, workspace_id, run_id)
            if run is None:
                return
            data = present(run, run.tests).model_dump_json(by_alias=True)
            if data != last:
                yield {"event": "run", "data": data}
                last = data
            if run.status not in ACTIVE_TEST_RUN_STATUSES:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), STREAM_RECHECK_SECONDS)


async def tests_of(session: AsyncSession, run_id: int) -> Sequence[TestCaseResult]:
    run = await repository.with_tests(session, run_id)
    return run.tests if run else ()


async def runs_by_id(session: AsyncSession, run_ids: Sequence[int]) -> dict[int, TestRun]:
    return {run.id: run for run in await repository.by_ids(session, run_ids)}
