"""The automated signals of a candidate session (SPEC §11.2's fit profile): per day its
timings, the visible test runs, the hidden grader's results, the integrity flags, the
diff's size and the similarity with other candidates' code, computed from the rows the other
domains keep.

`load_inputs` reads exactly the columns the signals use (every other column of those rows
is left unloaded and raises if read; similarity is read as the standings it shows),
`fingerprint` hashes those values, and `compute` derives the signals from them: so the
fingerprint changes exactly when the signals could, a new pair with another candidate
included.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from pydantic import Field
from sqlalchemy import Boolean, Integer, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, load_only
from typing_extensions import TypeAliasType

from app.candidate_sessions.models import CandidateSession, SessionStatus
from app.core.schemas import ApiModel, example
from app.events.models import Event
from app.grading.models import Grading, GradingStatus
from app.runs.models import TestRun
from app.similarity import views as similarity_views
from app.similarity.schemas import SimilarityState
from app.simulations.models import CODE_TASK_TYPES, Task, TaskType
from app.submissions.models import Submission
from app.submissions.review import integrity_flags
from app.workspaces.models import TestRunStatus, Workspace

SubmissionKind = TypeAliasType("SubmissionKind", Literal["text", "code"])

# Runs that ended; one still under way says nothing yet.
FINISHED_RUN_STATUSES: tuple[TestRunStatus, ...] = ("passed", "failed", "error")
EXTENDED_EVENT = "session.extended"

_SESSION_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    CandidateSession.id,
    CandidateSession.simulation_id,
    CandidateSession.status,
    CandidateSession.started_at,
    CandidateSession.completed_at,
    CandidateSession.expires_at,
)
_TASK_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Task.id,
    Task.simulation_id,
    Task.day_index,
    Task.type,
)
_SUBMISSION_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Submission.id,
    Submission.candidate_session_id,
    Submission.task_id,
    Submission.workspace_id,
    Submission.cutoff_sha,
    Submission.test_run_id,
    Submission.integrity_findings,
    Submission.submitted_at,
    Submission.late,
)
_RUN_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    TestRun.id,
    TestRun.task_id,
    TestRun.status,
    TestRun.passed,
    TestRun.failed,
    TestRun.total,
    TestRun.head_sha,
    TestRun.result_code,
    TestRun.created_at,
    TestRun.completed_at,
)
_GRADING_COLUMNS: tuple[InstrumentedAttribute[Any], ...] = (
    Grading.id,
    Grading.submission_id,
    Grading.status,
    Grading.passed,
    Grading.failed,
    Grading.total,
    Grading.hidden_passed,
    Grading.hidden_total,
    Grading.visible_passed,
    Grading.visible_total,
    Grading.result_code,
    Grading.error_code,
)


# ---- the signals, as the API shows them ------------------------------------------------


class RunSignal(ApiModel):
    run_id: int
    status: TestRunStatus
    passed: int | None
    failed: int | None
    total: int | None
    requested_at: datetime
    completed_at: datetime | None


class VisibleTests(ApiModel):
    """The candidate's own runs of the visible tests during the day (the final run at the
    cutoff, started by the submit, is shown apart and not counted in the history)."""

    runs: int = Field(description="Finished runs the candidate requested.")
    passing_runs: int = Field(description="Of those, runs where every test passed.")
    latest_run: RunSignal | None
    best_run: RunSignal | None = Field(description="The most tests passed; the earliest such.")
    final_run: RunSignal | None = Field(description="The run at the submitted commit.")
    first_green_at: datetime | None = Field(
        description="When the first run with every test passing (and at least one) was requested."
    )
    time_to_first_green_seconds: float | None = Field(
        description="From the day's start to the first green run."
    )


class GraderSignal(ApiModel):
    """The hidden grader's run at the submitted commit."""

    status: GradingStatus
    passed: int | None
    failed: int | None
    total: int | None
    hidden_passed: int | None
    hidden_total: int | None
    visible_passed: int | None
    visible_total: int | None
    result_code: str | None
    error_code: str | None


class Churn(ApiModel):
    """What the submission changed since the template commit (null until the review job
    compared them)."""

    files_changed: int | None
    additions: int | None
    deletions: int | None
    commits: int | None
    truncated: bool | None = Field(description="GitHub listed its cap of 300 files.")


class ClosestMatch(ApiModel):
    score: float = Field(description="The larger of the pair's two shared fractions.")
    other_submission_id: int
    other_candidate_session_id: int
    region_count: int


class DaySimilarity(ApiModel):
    """The day's code compared with the simulation's other submissions of the same template
    (SPEC §11.4): a reason for a human to look at both, never a verdict. The pairs and
    their regions: `GET /api/submissions/{id}/similarity`."""

    status: SimilarityState
    skip_reason: str | None
    matches: int = Field(description="Pairs that reached the threshold.")
    closest: ClosestMatch | None = Field(description="The highest-scoring of them.")


class SessionSimilarity(ApiModel):
    """The highest-scoring pair over the session's code days: a reason to look, never a
    verdict."""

    highest_score: float
    day_index: int
    submission_id: int
    other_submission_id: int
    other_candidate_session_id: int


class DaySignals(ApiModel):
    day_index: int
    task_id: int
    task_type: TaskType
    started_at: datetime | None = Field(
        description="The session's start for day 1, else the previous day's submission "
        "(tasks are done in day order); null until then."
    )
    submitted_at: datetime | None
    duration_seconds: float | None
    late: bool | None
    submission_kind: SubmissionKind | None = Field(description="Null while not submitted.")
    visible_tests: VisibleTests | None = Field(description="Code and debug days only.")
    grader: GraderSignal | None = Field(description="Graded submissions only.")
    integrity_flags: list[str] = Field(
        description="Protected files touched (`change:path`), `run-not-at-cutoff`, "
        "`results-mismatch` (the final run and the grader disagree on the visible tests)."
    )
    churn: Churn | None = Field(description="Code submissions only.")
    similarity: DaySimilarity | None = Field(description="Code submissions only.")


SIGNALS_EXAMPLE: dict[str, Any] = {
    "sessionStatus": "completed",
    "startedAt": "2026-12-01T09:00:00Z",
    "completedAt": "2026-12-02T16:00:00Z",
    "expiresAt": "2026-12-08T09:00:00Z",
    "extensions": 0,
    "daysSubmitted": 1,
    "daysTotal": 1,
    "lateDays": 0,
    "integrityFlagCount": 0,
    "days": [
        {
            "dayIndex": 2,
            "taskId": 82,
            "taskType": "code",
            "startedAt": "2026-12-01T09:00:00Z",
            "submittedAt": "2026-12-02T16:00:00Z",
            "durationSeconds": 111600.0,
            "late": False,
            "submissionKind": "code",
            "visibleTests": {
                "runs": 3,
                "passingRuns": 1,
                "latestRun": {
                    "runId": 503,
                    "status": "passed",
                    "passed": 15,
                    "failed": 0,
                    "total": 15,
                    "requestedAt": "2026-12-02T15:40:00Z",
                    "completedAt": "2026-12-02T15:42:10Z",
                },
                "bestRun": {
                    "runId": 503,
                    "status": "passed",
                    "passed": 15,
                    "failed": 0,
                    "total": 15,
                    "requestedAt": "2026-12-02T15:40:00Z",
                    "completedAt": "2026-12-02T15:42:10Z",
                },
                "finalRun": None,
                "firstGreenAt": "2026-12-02T15:40:00Z",
                "timeToFirstGreenSeconds": 110400.0,
            },
            "grader": {
                "status": "completed",
                "passed": 19,
                "failed": 2,
                "total": 21,
                "hiddenPassed": 5,
                "hiddenTotal": 6,
                "visiblePassed": 14,
                "visibleTotal": 15,
                "resultCode": "OK",
                "errorCode": None,
            },
            "integrityFlags": [],
            "churn": {
                "filesChanged": 2,
                "additions": 41,
                "deletions": 6,
                "commits": 3,
                "truncated": False,
            },
            "similarity": {
                "status": "ready",
                "skipReason": None,
                "matches": 1,
                "closest": {
                    "score": 0.64,
                    "otherSubmissionId": 311,
                    "otherCandidateSessionId": 47,
                    "regionCount": 2,
                },
            },
        }
    ],
    "similarity": {
        "highestScore": 0.64,
        "dayIndex": 2,
        "submissionId": 305,
        "otherSubmissionId": 311,
        "otherCandidateSessionId": 47,
    },
}


class Signals(ApiModel):
    """A candidate session's automated signals, day by day."""

    model_config = example(SIGNALS_EXAMPLE)

    session_status: SessionStatus
    started_at: datetime | None
    completed_at: datetime | None
    expires_at: datetime
    extensions: int = Field(description="How many times a recruiter moved the deadline.")
    days_submitted: int
    days_total: int
    late_days: int
    integrity_flag_count: int
    days: list[DaySignals]
    similarity: SessionSimilarity | None = Field(description="Null while no code day is in a pair.")


# ---- the inputs ------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffStats:
    """The totals of a submission's diff summary (its per-file patches are not read)."""

    files_changed: int | None
    additions: int | None
    deletions: int | None
    commits: int | None
    truncated: bool | None


@dataclass
class SignalInputs:
    """Everything the signals of one candidate session are computed from."""

    candidate_session: CandidateSession
    tasks: list[Task] = field(default_factory=list)
    submissions: list[Submission] = field(default_factory=list)
    runs: list[TestRun] = field(default_factory=list)
    gradings: list[Grading] = field(default_factory=list)
    diffs: dict[int, DiffStats] = field(default_factory=dict)
    extension_event_ids: list[int] = field(default_factory=list)
    # Of the fingerprinted submissions, in submission order.
    standings: list[similarity_views.Standing] = field(default_factory=list)


def _only(columns: Sequence[InstrumentedAttribute[Any]]) -> Any:
    return load_only(*columns, raiseload=True)


async def load_inputs(session: AsyncSession, cs_ids: Iterable[int]) -> dict[int, SignalInputs]:
    """The inputs of each of these candidate sessions that exists, by its id."""
    ids = sorted(set(cs_ids))
    if not ids:
        return {}
    found = await session.scalars(
        select(CandidateSession)
        .where(CandidateSession.id.in_(ids))
        .options(_only(_SESSION_COLUMNS))
    )
    inputs = {cs.id: SignalInputs(cs) for cs in found}
    if not inputs:
        return {}
    ids = sorted(inputs)
    by_simulation: dict[int, list[SignalInputs]] = {}
    for one in inputs.values():
        by_simulation.setdefault(one.candidate_session.simulation_id, []).append(one)

    tasks = await session.scalars(
        select(Task)
        .where(Task.simulation_id.in_(by_simulation))
        .options(_only(_TASK_COLUMNS))
        .order_by(Task.day_index)
    )
    for task in tasks:
        for one in by_simulation[task.simulation_id]:
            one.tasks.append(task)

    submissions = await session.scalars(
        select(Submission)
        .where(Submission.candidate_session_id.in_(ids))
        .options(_only(_SUBMISSION_COLUMNS))
        .order_by(Submission.id)
    )
    session_of_submission: dict[int, int] = {}
    for submission in submissions:
        inputs[submission.candidate_session_id].submissions.append(submission)
        session_of_submission[submission.id] = submission.candidate_session_id

    runs = await session.execute(
        select(TestRun, Workspace.candidate_session_id)
        .join(Workspace, Workspace.id == TestRun.workspace_id)
        .where(
            Workspace.candidate_session_id.in_(ids),
            TestRun.status.in_(FINISHED_RUN_STATUSES),
        )
        .options(_only(_RUN_COLUMNS))
        .order_by(TestRun.created_at, TestRun.id)
    )
    for run, cs_id in runs.all():
        inputs[cs_id].runs.append(run)

    if session_of_submission:
        gradings = await session.scalars(
            select(Grading)
            .where(Grading.submission_id.in_(session_of_submission))
            .options(_only(_GRADING_COLUMNS))
            .order_by(Grading.id)
        )
        for grading in gradings:
            inputs[session_of_submission[grading.submission_id]].gradings.append(grading)
        await _load_diffs(session, inputs, session_of_submission)
        for standing in await similarity_views.standings(session, session_of_submission):
            inputs[standing.candidate_session_id].standings.append(standing)

    extensions = await session.execute(
        select(Event.id, Event.candidate_session_id)
        .where(Event.candidate_session_id.in_(ids), Event.type == EXTENDED_EVENT)
        .order_by(Event.id)
    )
    for event_id, extended in extensions.all():
        assert extended is not None  # selected by it
        inputs[extended].extension_event_ids.append(event_id)
    return inputs


async def _load_diffs(
    session: AsyncSession, inputs: dict[int, SignalInputs], session_of_submission: dict[int, int]
) -> None:
    summary = Submission.diff_summary
    rows = await session.execute(
        select(
            Submission.id,
            summary["filesChanged"].astext.cast(Integer),
            summary["additions"].astext.cast(Integer),
            summary["deletions"].astext.cast(Integer),
            summary["totalCommits"].astext.cast(Integer),
            summary["truncated"].astext.cast(Boolean),
        ).where(Submission.id.in_(session_of_submission), summary.is_not(None))
    )
    for submission_id, files, additions, deletions, commits, truncated in rows.all():
        cs_inputs = inputs[session_of_submission[submission_id]]
        cs_inputs.diffs[submission_id] = DiffStats(files, additions, deletions, commits, truncated)


# ---- the fingerprint -------------------------------------------------------------------


def _values(row: object, columns: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    return [getattr(row, column.key) for column in columns]


def fingerprint(inputs: SignalInputs) -> str:
    """A hash of every value the signals are computed from."""
    document = [
        _values(inputs.candidate_session, _SESSION_COLUMNS),
        [_values(task, _TASK_COLUMNS) for task in inputs.tasks],
        [_values(submission, _SUBMISSION_COLUMNS) for submission in inputs.submissions],
        [_values(run, _RUN_COLUMNS) for run in inputs.runs],
        [_values(grading, _GRADING_COLUMNS) for grading in inputs.gradings],
        sorted([key, list(vars(stats).values())] for key, stats in inputs.diffs.items()),
        inputs.extension_event_ids,
        [dataclasses.astuple(standing) for standing in inputs.standings],
    ]
    encoded = json.dumps(document, default=_encode, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(encoded.encode()).hexdigest()


def _encode(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"Cannot fingerprint {type(value).__name__}")


# ---- the signals -----------------------------------------------------------------------


def compute(inputs: SignalInputs) -> Signals:
    cs = inputs.candidate_session
    submissions = {submission.task_id: submission for submission in inputs.submissions}
    gradings = {grading.submission_id: grading for grading in inputs.gradings}
    runs_by_id = {run.id: run for run in inputs.runs}
    days = []
    day_start = cs.started_at
    for task in sorted(inputs.tasks, key=lambda t: t.day_index):
        submission = submissions.get(task.id)
        grading = gradings.get(submission.id) if submission else None
        task_runs = [run for run in inputs.runs if run.task_id == task.id]
        days.append(_day(task, day_start, submission, grading, task_runs, runs_by_id, inputs))
        day_start = submission.submitted_at if submission else None
    return Signals(
        session_status=cs.status,
        started_at=cs.started_at,
        completed_at=cs.completed_at,
        expires_at=cs.expires_at,
        extensions=len(inputs.extension_event_ids),
        days_submitted=sum(1 for day in days if day.submitted_at is not None),
        days_total=len(days),
        late_days=sum(1 for day in days if day.late),
        integrity_flag_count=sum(len(day.integrity_flags) for day in days),
        days=days,
        similarity=_session_similarity(inputs),
    )


def _day(
    task: Task,
    started_at: datetime | None,
    submission: Submission | None,
    grading: Grading | None,
    task_runs: list[TestRun],
    runs_by_id: dict[int, TestRun],
    inputs: SignalInputs,
) -> DaySignals:
    submitted_at = submission.submitted_at if submission else None
    is_code = task.type in CODE_TASK_TYPES
    final_run = (
        runs_by_id.get(submission.test_run_id) if submission and submission.test_run_id else None
    )
    return DaySignals(
        day_index=task.day_index,
        task_id=task.id,
        task_type=task.type,
        started_at=started_at,
        submitted_at=submitted_at,
        duration_seconds=_seconds(started_at, submitted_at),
        late=submission.late if submission else None,
        submission_kind=_kind(submission),
        visible_tests=_visible_tests(task_runs, final_run, started_at) if is_code else None,
        grader=_grader(grading) if grading else None,
        integrity_flags=integrity_flags(submission, final_run, grading) if submission else [],
        churn=_churn(inputs.diffs.get(submission.id)) if submission and is_code else None,
        similarity=_day_similarity(submission, inputs) if submission and is_code else None,
    )


def _kind(submission: Submission | None) -> SubmissionKind | None:
    if submission is None:
        return None
    return "code" if submission.workspace_id is not None or submission.cutoff_sha else "text"


def _seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def _is_green(run: TestRun) -> bool:
    return run.status == "passed" and (run.total or 0) > 0


def _visible_tests(
    task_runs: list[TestRun], final_run: TestRun | None, day_start: datetime | None
) -> VisibleTests:
    # `task_runs` come in the order they were requested.
    history = [run for run in task_runs if run is not final_run]
    first_green = next((run for run in history if _is_green(run)), None)
    # `max` keeps the first of equals: the earliest run with the most tests passed.
    best = max(history, key=lambda run: run.passed or 0, default=None)
    first_green_at = first_green.created_at if first_green else None
    return VisibleTests(
        runs=len(history),
        passing_runs=sum(1 for run in history if _is_green(run)),
        latest_run=_run(history[-1]) if history else None,
        best_run=_run(best) if best else None,
        final_run=_run(final_run) if final_run else None,
        first_green_at=first_green_at,
        time_to_first_green_seconds=_seconds(day_start, first_green_at),
    )


def _run(run: TestRun) -> RunSignal:
    return RunSignal(
        run_id=run.id,
        status=run.status,
        passed=run.passed,
        failed=run.failed,
        total=run.total,
        requested_at=run.created_at,
        completed_at=run.completed_at,
    )


def _grader(grading: Grading) -> GraderSignal:
    return GraderSignal(
        status=grading.status,
        passed=grading.passed,
        failed=grading.failed,
        total=grading.total,
        hidden_passed=grading.hidden_passed,
        hidden_total=grading.hidden_total,
        visible_passed=grading.visible_passed,
        visible_total=grading.visible_total,
        result_code=grading.result_code,
        error_code=grading.error_code,
    )


def _churn(stats: DiffStats | None) -> Churn | None:
    if stats is None:
        return None
    return Churn(
        files_changed=stats.files_changed,
        additions=stats.additions,
        deletions=stats.deletions,
        commits=stats.commits,
        truncated=stats.truncated,
    )


def _day_similarity(submission: Submission, inputs: SignalInputs) -> DaySimilarity:
    standing = next((s for s in inputs.standings if s.submission_id == submission.id), None)
    if standing is None:
        return DaySimilarity(status="not_fingerprinted", skip_reason=None, matches=0, closest=None)
    return DaySimilarity.model_validate(standing)


def session_similarity(
    standing: similarity_views.Standing | None, tasks: Iterable[Task]
) -> SessionSimilarity | None:
    """The session's highest pair (`similarity_views.highest_by_session`), with its day."""
    if standing is None or standing.closest is None:
        return None
    day_index = next(task.day_index for task in tasks if task.id == standing.task_id)
    return SessionSimilarity(
        highest_score=standing.closest.score,
        day_index=day_index,
        submission_id=standing.submission_id,
        other_submission_id=standing.closest.other_submission_id,
        other_candidate_session_id=standing.closest.other_candidate_session_id,
    )


def _session_similarity(inputs: SignalInputs) -> SessionSimilarity | None:
    cs_id = inputs.candidate_session.id
    highest = similarity_views.highest_by_session(inputs.standings).get(cs_id)
    return session_similarity(highest, inputs.tasks)
