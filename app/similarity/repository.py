"""Queries of similarity_fingerprints and similarity_pairs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.similarity.models import SimilarityPair, SubmissionFingerprints


async def add_pending(session: AsyncSession, values: dict[str, Any]) -> SubmissionFingerprints:
    row = SubmissionFingerprints(status="pending", **values)
    session.add(row)
    await session.flush()
    return row


async def by_submission(
    session: AsyncSession, submission_id: int, *, for_update: bool = False
) -> SubmissionFingerprints | None:
    statement = select(SubmissionFingerprints).where(
        SubmissionFingerprints.submission_id == submission_id
    )
    if for_update:
        # A locked read sees the row as it is now, not as this session read it before.
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return (await session.scalars(statement)).one_or_none()


async def hold_group_lock(session: AsyncSession, simulation_id: int, template_repo: str) -> None:
    """Wait for the comparison group's lock, then hold it until the transaction ends: the
    submissions of a group are stored and compared one at a time, so two finishing together
    still see each other."""
    # Advisory locks share one key space per database: the name keeps this one apart.
    key = func.hashtextextended(f"similarity-group:{simulation_id}:{template_repo}", 0)
    await session.execute(select(func.pg_advisory_xact_lock(key)))


async def stored_in_group(
    session: AsyncSession, simulation_id: int, template_repo: str, *, besides_session: int
) -> Sequence[tuple[int, bytes]]:
    """(submission id, fingerprints) of the group's `ready` rows that hold any, but for those
    of the candidate session `besides_session` (two code tasks of one template share the
    candidate's repository, so the later cutoff holds the earlier one)."""
    statement = (
        select(SubmissionFingerprints.submission_id, SubmissionFingerprints.fingerprints)
        .where(
            SubmissionFingerprints.simulation_id == simulation_id,
            SubmissionFingerprints.template_repo == template_repo,
            SubmissionFingerprints.status == "ready",
            SubmissionFingerprints.fingerprint_count > 0,
            SubmissionFingerprints.candidate_session_id != besides_session,
        )
        .order_by(SubmissionFingerprints.submission_id)
    )
    rows = (await session.execute(statement)).all()
    return [(submission_id, data) for submission_id, data in rows if data is not None]


async def add_pairs(session: AsyncSession, pairs: Sequence[dict[str, Any]]) -> int:
    """Insert the pairs; one already stored (an earlier attempt) is left as it is. Returns how
    many were new."""
    if not pairs:
        return 0
    statement = (
        insert(SimilarityPair)
        .values(list(pairs))
        .on_conflict_do_nothing(
            index_elements=[SimilarityPair.left_submission_id, SimilarityPair.right_submission_id]
        )
        .returning(SimilarityPair.id)
    )
    return len((await session.scalars(statement)).all())
