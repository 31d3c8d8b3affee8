"""The database keeps the promise of one live recording per session and task: a second
uploading or ready row is refused, while deleted and purged ones stay beside a live one."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.recordings.models import Recording, RecordingStatus
from tests.support.factories import (
    create_candidate_session,
    create_company,
    create_simulation,
    create_tasks,
)


async def _add(session: AsyncSession, cs_id: int, task_id: int, status: RecordingStatus) -> None:
    session.add(
        Recording(
            candidate_session_id=cs_id,
            task_id=task_id,
            storage_key=f"recordings/{cs_id}/{task_id}/{uuid.uuid4().hex}",
            filename="handoff.webm",
            declared_content_type="video/webm",
            declared_size_bytes=10,
            status=status,
        )
    )
    await session.flush()


@pytest.mark.parametrize("second", ["uploading", "ready"])
async def test_a_second_live_recording_of_a_task_is_refused(
    db_session: AsyncSession, second: RecordingStatus
) -> None:
    simulation = await create_simulation(db_session, await create_company(db_session))
    task = (await create_tasks(db_session, simulation))[3]
    cs = await create_candidate_session(db_session, simulation)
    for gone in ("deleted", "purged", "deleted"):
        await _add(db_session, cs.id, task.id, gone)
    await _add(db_session, cs.id, task.id, "uploading" if second == "ready" else "ready")
    with pytest.raises(IntegrityError, match="uq_recordings_live_session_task"):
        async with db_session.begin_nested():
            await _add(db_session, cs.id, task.id, second)
