"""Queries for candidate sessions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    ScalarSelect,
    bindparam,
    exists,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import OPEN_SESSION_STATUSES, CandidateSession
from app.companies.models import Company
from app.core.db import execute_core, literal_predicate
from app.simulations.models import Simulation, Task
from app.submissions.models import Submission

_is_open = CandidateSession.status.in_(OPEN_SESSION_STATUSES)


async def insert_open_session(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert an invite; None when the simulation already has an open one for this email
    (any case). Concurrent inserts for one email wait on each other: one wins."""
    statement = (
        insert(CandidateSession)
        .values(**values)
        .on_conflict_do_nothing(
            index_elements=[
                CandidateSession.simulation_id,
                func.lower(CandidateSession.invite_email),
            ],
            index_where=literal_predicate(_is_open),
        )
        .returning(CandidateSession.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def by_email(
    session: AsyncSession, simulation_id: int, email: str
) -> Sequence[CandidateSession]:
    statement = (
        select(CandidateSession)
        .where(
            CandidateSession.simulation_id == simulation_id,
            func.lower(CandidateSession.invite_email) == email.lower(),
        )
        .order_by(CandidateSession.invited_at.desc())
    )
    return (await session.scalars(statement)).all()


async def by_id(
    session: AsyncSession, candidate_session_id: int, *, for_update: bool = False
) -> CandidateSession | None:
    # A locked read must see the row as it is now, even when this transaction read it
    # before without the lock (submit and init check the gate first, then lock).
    return await session.get(
        CandidateSession,
        candidate_session_id,
        with_for_update=for_update,
        populate_existing=for_update,
    )


def _submit_lock_key(candidate_session_id: int) -> ColumnElement[int]:
    # Advisory locks share one key space per database: the name keeps this one apart.
    return func.hashtextextended(f"candidate-session-submit:{candidate_session_id}", 0)


async def hold_submit_lock(session: AsyncSession, candidate_session_id: int) -> None:
    """Wait for the session's submit lock, then hold it until the transaction ends."""
    statement = select(func.pg_advisory_xact_lock(_submit_lock_key(candidate_session_id)))
    await session.execute(statement)


async def try_submit_lock(session: AsyncSession, candidate_session_id: int) -> bool:
    """Take the session's submit lock until the transaction ends, unless a submit holds it."""
    statement = select(func.pg_try_advisory_xact_lock(_submit_lock_key(candidate_session_id)))
    return bool((await session.execute(statement)).scalar_one())


async def lapsed_for_update(
    session: AsyncSession, *, now: datetime, limit: int
) -> Sequence[CandidateSession]:
    """Open sessions whose deadline is past, oldest deadline first, locked (rows another
    transaction has locked are skipped)."""
    statement = (
        select(CandidateSession)
        .where(_is_open, CandidateSession.expires_at <= now)
        .order_by(CandidateSession.expires_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.scalars(statement)).all()


async def in_simulation(
    session: AsyncSession, simulation_id: int, candidate_session_id: int
) -> CandidateSession | None:
    statement = select(CandidateSession).where(
        CandidateSession.id == candidate_session_id,
        CandidateSession.simulation_id == simulation_id,
    )
    return (await session.scalars(statement)).one_or_none()


async def _with_simulation(
    session: AsyncSession, where: ColumnElement[bool]
) -> tuple[CandidateSession, Simulation, Company] | None:
    statement = (
        select(CandidateSession, Simulation, Company)
        .join(Simulation, Simulation.id == CandidateSession.simulation_id)
        .join(Company, Company.id == Simulation.company_id)
        .where(where)
    )
    row = (await session.execute(statement)).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


async def with_simulation_by_token_hash(
    session: AsyncSession, token_hash: str
) -> tuple[CandidateSession, Simulation, Company] | None:
    return await _with_simulation(session, CandidateSession.token_hash == token_hash)


async def with_simulation_by_id(
    session: AsyncSession, candidate_session_id: int
) -> tuple[CandidateSession, Simulation, Company] | None:
    """The session with its simulation and the simulation's company."""
    return await _with_simulation(session, CandidateSession.id == candidate_session_id)


async def claim(
    session: AsyncSession, candidate_session_id: int, *, subject: str, now: datetime
) -> bool:
    """Bind an unclaimed session to `subject`; False if someone already holds it. Two
    concurrent claims serialise on the row: the second sees it bound and gets False."""
    statement = (
        update(CandidateSession)
        .where(CandidateSession.id == candidate_session_id, CandidateSession.auth0_sub.is_(None))
        .values(auth0_sub=subject, claimed_at=now, started_at=now, status="in_progress")
        .returning(CandidateSession.id)
    )
    return (await session.execute(statement)).scalar_one_or_none() is not None


@dataclass(frozen=True)
class InviteOfCandidate:
    session: CandidateSession
    simulation: Simulation
    company: Company
    submitted: int
    task_count: int


def _submitted_count() -> ScalarSelect[int]:
    """The number of submissions of the session in the enclosing query's row."""
    return (
        select(func.count())
        .select_from(Submission)
        .where(Submission.candidate_session_id == CandidateSession.id)
        .scalar_subquery()
    )


async def with_simulations_for_email(
    session: AsyncSession, email: str
) -> Sequence[InviteOfCandidate]:
    """Every session invited at this email, newest first, with its progress counts."""
    submitted = _submitted_count()
    task_count = (
        select(func.count())
        .select_from(Task)
        .where(Task.simulation_id == CandidateSession.simulation_id)
        .scalar_subquery()
    )
    statement = (
        select(CandidateSession, Simulation, Company, submitted, task_count)
        .join(Simulation, Simulation.id == CandidateSession.simulation_id)
        .join(Company, Company.id == Simulation.company_id)
        .where(func.lower(CandidateSession.invite_email) == email.lower())
        .order_by(CandidateSession.invited_at.desc())
    )
    return [
        InviteOfCandidate(row[0], row[1], row[2], int(row[3]), int(row[4]))
        for row in (await session.execute(statement)).all()
    ]


async def page_with_progress(
    session: AsyncSession,
    simulation_id: int,
    *,
    limit: int,
    after: tuple[datetime, int] | None,
) -> tuple[Sequence[tuple[CandidateSession, int]], int, int]:
    """Sessions in invitation order with their submission counts, the total number of
    sessions and the simulation's number of tasks."""
    in_simulation = CandidateSession.simulation_id == simulation_id
    total = (
        await session.execute(
            select(func.count()).select_from(CandidateSession).where(in_simulation)
        )
    ).scalar_one()
    task_count = (
        await session.execute(
            select(func.count()).select_from(Task).where(Task.simulation_id == simulation_id)
        )
    ).scalar_one()
    submitted = _submitted_count()
    statement = (
        select(CandidateSession, submitted)
        .where(in_simulation)
        .order_by(CandidateSession.invited_at, CandidateSession.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(
            tuple_(CandidateSession.invited_at, CandidateSession.id) > after
        )
    rows = [(row[0], int(row[1])) for row in (await session.execute(statement)).all()]
    return rows, total, task_count


async def count_by_simulation(
    session: AsyncSession, simulation_ids: Sequence[int]
) -> dict[int, int]:
    """The number of sessions of each of these simulations that has any."""
    if not simulation_ids:
        return {}
    statement = (
        select(CandidateSession.simulation_id, func.count())
        .where(CandidateSession.simulation_id.in_(simulation_ids))
        .group_by(CandidateSession.simulation_id)
    )
    return {row[0]: int(row[1]) for row in (await session.execute(statement)).all()}


async def all_of_simulation(
    session: AsyncSession, simulation_id: int
) -> Sequence[CandidateSession]:
    statement = (
        select(CandidateSession)
        .where(CandidateSession.simulation_id == simulation_id)
        .order_by(CandidateSession.invited_at, CandidateSession.id)
    )
    return (await session.scalars(statement)).all()


@dataclass(frozen=True)
class SubmittedTask:
    """A task the session has turned in: the session's progress is its submissions."""

    task_id: int
    submission_id: int
    submitted_at: datetime


async def submitted_tasks(session: AsyncSession, cs_id: int) -> dict[int, SubmittedTask]:
    """The session's submissions by task id."""
    statement = select(Submission.task_id, Submission.id, Submission.submitted_at).where(
        Submission.candidate_session_id == cs_id
    )
    return {
        row.task_id: SubmittedTask(row.task_id, row.id, row.submitted_at)
        for row in (await session.execute(statement)).all()
    }


async def of_submission(session: AsyncSession, submission_id: int) -> CandidateSession | None:
    statement = (
        select(CandidateSession)
        .join(Submission, Submission.candidate_session_id == CandidateSession.id)
        .where(Submission.id == submission_id)
    )
    return (await session.scalars(statement)).one_or_none()


async def progress_of(session: AsyncSession, cs: CandidateSession) -> tuple[int, int]:
    """(submitted tasks, all tasks) of one session."""
    submitted = (
        select(func.count()).select_from(Submission).where(Submission.candidate_session_id == cs.id)
    )
    tasks = select(func.count()).select_from(Task).where(Task.simulation_id == cs.simulation_id)
    return (
        (await session.execute(submitted)).scalar_one(),
        (await session.execute(tasks)).scalar_one(),
    )


# Built once: a read only binds the session and the caller.
_TASKS_WITH_PROGRESS = (
    select(
        CandidateSession.status,
        CandidateSession.started_at,
        Task.id.label("task_id"),
        Task.day_index,
        Task.title,
        Task.type,
        Task.description,
        exists()
        .where(
            Submission.candidate_session_id == CandidateSession.id, Submission.task_id == Task.id
        )
        .label("submitted"),
    )
    .outerjoin(Task, Task.simulation_id == CandidateSession.simulation_id)
    .where(
        CandidateSession.id == bindparam("cs_id"),
        CandidateSession.auth0_sub == bindparam("subject"),
    )
    .order_by(Task.day_index)
)


async def tasks_with_progress(
    session: AsyncSession, subject: str, cs_id: int
) -> Sequence[Row[*tuple[Any, ...]]]:
    """The caller's own session with each task of its simulation in day order and whether
    the session submitted it, in one statement: one row per task (one with no task when
    the simulation has none), none when the session is not the caller's."""
    values = {"cs_id": cs_id, "subject": subject}
    return (await execute_core(session, _TASKS_WITH_PROGRESS, values)).all()
