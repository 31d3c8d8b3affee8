"""Queries for workspaces."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.workspaces.models import Workspace


async def get_or_create(
    session: AsyncSession, *, cs_id: uuid.UUID, template_repo: str, template_key: str
) -> Workspace:
    """The session's workspace for this template, created on first use. The unique
    constraint makes concurrent callers (and pre-provisioning) share one row."""
    await session.execute(
        insert(Workspace)
        .values(
            id=uuid.uuid4(),
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
    session: AsyncSession, cs_id: uuid.UUID, template_repo: str
) -> Workspace | None:
    statement = select(Workspace).where(
        Workspace.candidate_session_id == cs_id, Workspace.template_repo == template_repo
    )
    return (await session.scalars(statement)).one_or_none()


async def by_id(
    session: AsyncSession, workspace_id: uuid.UUID, *, for_update: bool = False
) -> Workspace | None:
    return await session.get(Workspace, workspace_id, with_for_update=for_update)


async def exists_for_session(session: AsyncSession, cs_id: uuid.UUID) -> bool:
    statement = select(Workspace.id).where(Workspace.candidate_session_id == cs_id).limit(1)
    return (await session.execute(statement)).first() is not None


async def of_session(session: AsyncSession, cs_id: uuid.UUID) -> Sequence[Workspace]:
    statement = select(Workspace).where(Workspace.candidate_session_id == cs_id)
    return (await session.scalars(statement)).all()
