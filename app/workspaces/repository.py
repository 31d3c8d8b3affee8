"""Queries for workspaces."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.workspaces.models import Workspace


async def by_id(
    session: AsyncSession, workspace_id: int, *, for_update: bool = False
) -> Workspace | None:
    return await session.get(Workspace, workspace_id, with_for_update=for_update)


async def get_or_create(
    session: AsyncSession, *, cs_id: int, template_repo: str, template_key: str
) -> Workspace:
    """The session's workspace for this template, created on first use. The unique
    constraint makes concurrent callers (and pre-provisioning) share one row."""
    await session.execute(
        insert(Workspace)
        .values(
            candidate_session_id=cs_id,
            template_repo=template_repo,
            template_key=template_key,
        )
        .on_conflict_do_nothing(
            index_elements=[Workspace.candidate_session_id, Workspace.template_repo]
        )
    )
    found = await for_session_and_template(session, cs_id, template_repo)
    assert found is not None
    return found


async def for_session_and_template(
    session: AsyncSession, cs_id: int, template_repo: str
) -> Workspace | None:
    statement = (
        select(Workspace)
        .where(Workspace.candidate_session_id == cs_id, Workspace.template_repo == template_repo)
        # The row as it is now, even when this transaction read it before (a submit checks
        # the workspace before it reads GitHub and again under the session's lock).
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def exists_for_session(session: AsyncSession, cs_id: int) -> bool:
    statement = select(Workspace.id).where(Workspace.candidate_session_id == cs_id).limit(1)
    return (await session.execute(statement)).first() is not None


async def of_session(session: AsyncSession, cs_id: int) -> Sequence[Workspace]:
    statement = select(Workspace).where(Workspace.candidate_session_id == cs_id)
    return (await session.scalars(statement)).all()


async def with_access_of_session(session: AsyncSession, cs_id: int) -> Sequence[Workspace]:
    """The session's workspaces whose repository the candidate can push to."""
    statement = select(Workspace).where(
        Workspace.candidate_session_id == cs_id, Workspace.collaborator_login.is_not(None)
    )
    return (await session.scalars(statement)).all()


async def due_for_retirement(
    session: AsyncSession, *, ended_before: datetime, limit: int
) -> list[int]:
    """Workspaces with a repository not retired yet whose session ended (completed, else
    expired) before `ended_before`, the longest-ended first."""
    ended_at = func.coalesce(CandidateSession.completed_at, CandidateSession.expires_at)
    statement = (
        select(Workspace.id)
        .join(CandidateSession, CandidateSession.id == Workspace.candidate_session_id)
        .where(
            Workspace.repo_full_name.is_not(None),
            Workspace.retired_at.is_(None),
            CandidateSession.status.in_(("completed", "expired")),
            ended_at < ended_before,
        )
        .order_by(ended_at)
        .limit(limit)
    )
    return list(await session.scalars(statement))


async def by_repo_full_name(session: AsyncSession, full_name: str) -> Workspace | None:
    statement = select(Workspace).where(Workspace.repo_full_name == full_name)
    return (await session.scalars(statement)).one_or_none()


async def record_latest_commit(
    session: AsyncSession, workspace_id: int, sha: str, *, observed_at: datetime
) -> bool:
    """Store the branch head read at `observed_at`, unless a read that started later is
    stored already; whether it was stored. Concurrent writers queue on the row and each
    re-checks the condition, so the newest read wins whatever the order of arrival."""
    statement = (
        update(Workspace)
        .where(
            Workspace.id == workspace_id,
            or_(
                Workspace.latest_commit_observed_at.is_(None),
                Workspace.latest_commit_observed_at <= observed_at,
            ),
        )
        .values(latest_commit_sha=sha, latest_commit_observed_at=observed_at)
        .returning(Workspace.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).first() is not None
