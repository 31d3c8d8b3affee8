"""What recruiters see of similarity: a simulation's pairs with how complete they are, one
submission's pairs seen from it, and per submission its status and closest match (the fit
profile and the CSV exports show those). Reads only; the fingerprint job writes the tables.

A submission here is known by its fingerprint row (which names its session and task), so
this layer never reads the submissions domain: the route of one submission checks the
submission's tenancy there and calls `submission_matches`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select, union_all
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.candidate_sessions.models import CandidateSession
from app.core.db import execute_core
from app.core.pagination import decode_score_cursor, encode_score_cursor
from app.similarity.models import (
    FINGERPRINT_STATUSES,
    FingerprintStatus,
    SimilarityPair,
    SubmissionFingerprints,
)
from app.similarity.schemas import (
    Coverage,
    Lines,
    MatchRegion,
    PairRegion,
    SimilarPair,
    SimulationSimilarity,
    SubmissionMatch,
    SubmissionSide,
    SubmissionSimilarity,
)
from app.simulations import service as simulations
from app.simulations.models import Task


@dataclass(frozen=True)
class Closest:
    """A submission's highest-scoring pair, the lower pair id first among equal scores."""

    score: float
    other_submission_id: int
    other_candidate_session_id: int
    region_count: int


@dataclass(frozen=True)
class Standing:
    """One fingerprinted submission: its status, how many pairs it is in and the closest."""

    submission_id: int
    candidate_session_id: int
    task_id: int
    status: FingerprintStatus
    skip_reason: str | None
    matches: int
    closest: Closest | None


async def simulation_pairs(
    session: AsyncSession,
    recruiter: Recruiter,
    simulation_id: int,
    *,
    min_score: float | None,
    limit: int,
    cursor: str | None,
) -> SimulationSimilarity:
    """The simulation's pairs at or above `min_score` (all stored ones without it), highest
    score first, a page at a time, with the simulation's fingerprint coverage."""
    simulation = await simulations.simulation_for(session, recruiter, simulation_id)
    after = decode_score_cursor(cursor)
    where = [SimilarityPair.simulation_id == simulation.id]
    if min_score is not None:
        where.append(SimilarityPair.score >= min_score)
    statement = (
        select(SimilarityPair)
        .where(*where)
        .order_by(SimilarityPair.score.desc(), SimilarityPair.id)
        .limit(limit)
    )
    if after is not None:
        score, pair_id = after
        statement = statement.where(
            or_(
                SimilarityPair.score < score,
                and_(SimilarityPair.score == score, SimilarityPair.id > pair_id),
            )
        )
    pairs = (await session.scalars(statement)).all()
    total = await session.scalar(select(func.count()).select_from(SimilarityPair).where(*where))
    sides = await _sides(
        session, {i for pair in pairs for i in (pair.left_submission_id, pair.right_submission_id)}
    )
    return SimulationSimilarity(
        simulation_id=simulation.id,
        coverage=await _coverage(session, simulation.id),
        items=[
            SimilarPair(
                pair_id=pair.id,
                score=pair.score,
                left=sides[pair.left_submission_id],
                right=sides[pair.right_submission_id],
                left_fraction=pair.left_fraction,
                right_fraction=pair.right_fraction,
                shared_fingerprints=pair.shared_fingerprints,
                region_count=len(pair.regions),
                regions=[PairRegion.model_validate(region) for region in pair.regions],
                found_at=pair.created_at,
            )
            for pair in pairs
        ],
        total=total or 0,
        next_cursor=(
            encode_score_cursor((pairs[-1].score, pairs[-1].id)) if len(pairs) == limit else None
        ),
    )


async def submission_matches(session: AsyncSession, submission_id: int) -> SubmissionSimilarity:
    """The submission's status and every pair it is in, highest score first, each oriented
    so that `this` is the submission's side. The caller has checked the submission is the
    reader's company's."""
    row = (
        await execute_core(
            session,
            select(
                SubmissionFingerprints.status,
                SubmissionFingerprints.skip_reason,
                SubmissionFingerprints.fingerprinted_at,
                SubmissionFingerprints.file_count,
                SubmissionFingerprints.fingerprint_count,
            ).where(SubmissionFingerprints.submission_id == submission_id),
        )
    ).one_or_none()
    if row is None:
        return SubmissionSimilarity(
            submission_id=submission_id,
            status="not_fingerprinted",
            skip_reason=None,
            fingerprinted_at=None,
            file_count=None,
            fingerprint_count=None,
            matches=[],
        )
    pairs = (
        await session.scalars(
            select(SimilarityPair)
            .where(
                or_(
                    SimilarityPair.left_submission_id == submission_id,
                    SimilarityPair.right_submission_id == submission_id,
                )
            )
            .order_by(SimilarityPair.score.desc(), SimilarityPair.id)
        )
    ).all()
    sides = await _sides(session, {_other(pair, submission_id) for pair in pairs})
    return SubmissionSimilarity(
        submission_id=submission_id,
        status=row.status,
        skip_reason=row.skip_reason,
        fingerprinted_at=row.fingerprinted_at,
        file_count=row.file_count,
        fingerprint_count=row.fingerprint_count,
        matches=[_seen_from(pair, submission_id, sides) for pair in pairs],
    )


async def standings(session: AsyncSession, submission_ids: Collection[int]) -> list[Standing]:
    """The standing of each of these submissions that has a fingerprint row, by id."""
    if not submission_ids:
        return []
    return await _standings(
        session, SubmissionFingerprints.submission_id.in_(sorted(submission_ids))
    )


async def standings_in_simulation(session: AsyncSession, simulation_id: int) -> list[Standing]:
    """The standing of each of the simulation's fingerprinted submissions, by id."""
    return await _standings(session, SubmissionFingerprints.simulation_id == simulation_id)


def highest_by_session(found: Iterable[Standing]) -> dict[int, Standing]:
    """Per candidate session, its submission with the highest closest match (the first of
    equal scores); a session none of whose submissions is in a pair is left out."""
    highest: dict[int, Standing] = {}
    for standing in found:
        best = highest.get(standing.candidate_session_id)
        if standing.closest and (best is None or _score(standing) > _score(best)):
            highest[standing.candidate_session_id] = standing
    return highest


def _score(standing: Standing) -> float:
    return standing.closest.score if standing.closest else 0.0


async def _standings(session: AsyncSession, where: ColumnElement[bool]) -> list[Standing]:
    rows = (
        await execute_core(
            session,
            select(
                SubmissionFingerprints.submission_id,
                SubmissionFingerprints.candidate_session_id,
                SubmissionFingerprints.task_id,
                SubmissionFingerprints.status,
                SubmissionFingerprints.skip_reason,
            )
            .where(where)
            .order_by(SubmissionFingerprints.submission_id),
        )
    ).all()
    if not rows:
        return []
    ids = [row.submission_id for row in rows]
    pair = SimilarityPair
    region_count = func.jsonb_array_length(pair.regions).label("region_count")
    oriented = union_all(
        select(
            pair.left_submission_id.label("this"),
            pair.right_submission_id.label("other"),
            pair.score,
            pair.id,
            region_count,
        ).where(pair.left_submission_id.in_(ids)),
        select(
            pair.right_submission_id, pair.left_submission_id, pair.score, pair.id, region_count
        ).where(pair.right_submission_id.in_(ids)),
    ).subquery()
    # The count is taken over all of a submission's pairs, before DISTINCT ON keeps the first.
    closest_rows = await execute_core(
        session,
        select(
            oriented.c.this,
            oriented.c.other,
            oriented.c.score,
            oriented.c.region_count,
            func.count().over(partition_by=oriented.c.this).label("matches"),
            SubmissionFingerprints.candidate_session_id,
        )
        .join(SubmissionFingerprints, SubmissionFingerprints.submission_id == oriented.c.other)
        .ext(distinct_on(oriented.c.this))
        .order_by(oriented.c.this, oriented.c.score.desc(), oriented.c.id),
    )
    closest = {
        row.this: (
            row.matches,
            Closest(row.score, row.other, row.candidate_session_id, row.region_count),
        )
        for row in closest_rows
    }
    return [
        Standing(
            submission_id=row.submission_id,
            candidate_session_id=row.candidate_session_id,
            task_id=row.task_id,
            status=row.status,
            skip_reason=row.skip_reason,
            matches=closest[row.submission_id][0] if row.submission_id in closest else 0,
            closest=closest[row.submission_id][1] if row.submission_id in closest else None,
        )
        for row in rows
    ]


async def _coverage(session: AsyncSession, simulation_id: int) -> Coverage:
    counts = await execute_core(
        session,
        select(SubmissionFingerprints.status, func.count().label("count"))
        .where(SubmissionFingerprints.simulation_id == simulation_id)
        .group_by(SubmissionFingerprints.status),
    )
    none = dict.fromkeys(FINGERPRINT_STATUSES, 0)
    return Coverage.model_validate(none | {row.status: row.count for row in counts})


async def _sides(session: AsyncSession, submission_ids: set[int]) -> dict[int, SubmissionSide]:
    """Each submission with its candidate and task, read through its fingerprint row."""
    if not submission_ids:
        return {}
    rows = await execute_core(
        session,
        select(
            SubmissionFingerprints.submission_id,
            SubmissionFingerprints.candidate_session_id,
            CandidateSession.candidate_name,
            CandidateSession.invite_email,
            SubmissionFingerprints.task_id,
            Task.day_index,
        )
        .join(CandidateSession, CandidateSession.id == SubmissionFingerprints.candidate_session_id)
        .join(Task, Task.id == SubmissionFingerprints.task_id)
        .where(SubmissionFingerprints.submission_id.in_(submission_ids)),
    )
    return {row.submission_id: SubmissionSide.model_validate(row._mapping) for row in rows}


def _other(pair: SimilarityPair, submission_id: int) -> int:
    left = pair.left_submission_id == submission_id
    return pair.right_submission_id if left else pair.left_submission_id


def _seen_from(
    pair: SimilarityPair, submission_id: int, sides: dict[int, SubmissionSide]
) -> SubmissionMatch:
    left = pair.left_submission_id == submission_id
    this, other = ("left", "right") if left else ("right", "left")
    return SubmissionMatch(
        pair_id=pair.id,
        score=pair.score,
        this_fraction=pair.left_fraction if left else pair.right_fraction,
        other_fraction=pair.right_fraction if left else pair.left_fraction,
        other=sides[_other(pair, submission_id)],
        shared_fingerprints=pair.shared_fingerprints,
        region_count=len(pair.regions),
        regions=[_oriented(region, this, other) for region in pair.regions],
        found_at=pair.created_at,
    )


def _oriented(region: dict[str, Any], this: str, other: str) -> MatchRegion:
    return MatchRegion(
        this=Lines.model_validate(region[this]),
        other=Lines.model_validate(region[other]),
        fingerprints=region["fingerprints"],
    )
