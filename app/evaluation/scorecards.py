"""Reviewers' scorecards of a candidate session, blind until the reader submits their own
(`app.evaluation.visibility`).

A reviewer has one scorecard per session: a draft saved as often as they like, then
submitted (version 1); an edit after that is complete and makes the next version at once.
A new scorecard takes the current rubric version; a draft moves to the newest version when
it is saved; a submitted one keeps its version. The scorecard's row lock orders concurrent
saves and submits of one reviewer; the session's review lock orders submits of different
reviewers, so the last one sees every other and the owner hears once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.recruiters import Recruiter
from app.companies.models import User
from app.core.errors import ConflictError, NotFoundError, UnprocessableError
from app.core.openapi import ErrorSpec
from app.evaluation import notifications, reviewers
from app.evaluation.access import reviewed_session
from app.evaluation.aggregates import review_view
from app.evaluation.evidence import raise_evidence_problems, verify_evidence
from app.evaluation.models import RubricVersion, Scorecard, ScorecardVersion
from app.evaluation.review_schemas import (
    ScorecardOut,
    ScorecardSave,
    ScorecardsOut,
    ScorecardVersionOut,
)
from app.evaluation.rubrics import criteria_of, current_rubric, hold_rubric
from app.evaluation.schemas import ScoreEntry
from app.evaluation.visibility import may_see_scores
from app.events import service as events
from app.integrations.github.client import GitHubClient
from app.webhooks import service as webhooks

SCORECARD_NOT_FOUND: ErrorSpec = (NotFoundError, "SCORECARD_NOT_FOUND")
SCORECARD_ENTRIES_INVALID: ErrorSpec = (UnprocessableError, "SCORECARD_ENTRIES_INVALID")
SCORECARD_INCOMPLETE: ErrorSpec = (UnprocessableError, "SCORECARD_INCOMPLETE")
SCORECARD_ALREADY_SUBMITTED: ErrorSpec = (ConflictError, "SCORECARD_ALREADY_SUBMITTED")


def _dump(entries: Sequence[ScoreEntry]) -> list[dict[str, Any]]:
    return [entry.model_dump(mode="json", by_alias=True) for entry in entries]


async def _rows(
    session: AsyncSession, *conditions: ColumnElement[bool]
) -> list[tuple[Scorecard, str, int]]:
    statement = (
        select(Scorecard, User.name, RubricVersion.version)
        .join(User, User.id == Scorecard.reviewer_user_id)
        .join(RubricVersion, RubricVersion.id == Scorecard.rubric_version_id)
        .where(*conditions)
        .order_by(Scorecard.submitted_at, Scorecard.id)
    )
    return [(card, name, version) for card, name, version in await session.execute(statement)]


def _out(scorecard: Scorecard, reviewer_name: str, rubric_version: int) -> ScorecardOut:
    return ScorecardOut(
        id=scorecard.id,
        reviewer_user_id=scorecard.reviewer_user_id,
        reviewer_name=reviewer_name,
        status=scorecard.status,
        rubric_version=rubric_version,
        recommendation=scorecard.recommendation,
        entries=[ScoreEntry.model_validate(entry) for entry in scorecard.entries],
        version=scorecard.version,
        submitted_at=scorecard.submitted_at,
        updated_at=scorecard.updated_at,
    )


async def _one_out(session: AsyncSession, scorecard: Scorecard) -> ScorecardOut:
    [(row, name, version)] = await _rows(session, Scorecard.id == scorecard.id)
    return _out(row, name, version)


async def list_scorecards(session: AsyncSession, recruiter: Recruiter, cs_id: int) -> ScorecardsOut:
    """The reader's own scorecard, and the others' submitted ones once theirs is submitted."""
    cs = (await reviewed_session(session, recruiter, cs_id)).candidate_session
    reader = recruiter.user.id
    view = await review_view(session, reader, cs.id)
    revealed = view.revealed
    rows = await _rows(session, Scorecard.candidate_session_id == cs.id)
    mine = next((_out(*row) for row in rows if row[0].reviewer_user_id == reader), None)
    others = [
        _out(*row)
        for row in rows
        if revealed and row[0].reviewer_user_id != reader and row[0].status == "submitted"
    ]
    rubric_version = (
        mine.rubric_version
        if mine is not None
        else (await current_rubric(session, cs.simulation_id)).version
    )
    return ScorecardsOut(
        rubric_version=rubric_version,
        submitted_count=sum(1 for row in rows if row[0].status == "submitted"),
        revealed=revealed,
        mine=mine,
        others=others,
        aggregate=view.aggregate,
    )


async def _verify(
    session: AsyncSession, github: GitHubClient | None, cs_id: int, entries: list[ScoreEntry]
) -> None:
    """Every evidence item must verify; one 422 naming each one that does not."""
    places = [
        ("body", "entries", str(entry_index), "evidence", str(item_index))
        for entry_index, entry in enumerate(entries)
        for item_index in range(len(entry.evidence))
    ]
    if not places:
        return
    items = [item for entry in entries for item in entry.evidence]
    results = await verify_evidence(session, github, cs_id, items)
    raise_evidence_problems(
        [(loc, problem) for loc, problem in zip(places, results, strict=True) if problem]
    )


def _entries_issues(entries: list[ScoreEntry], keys: set[str]) -> list[dict[str, Any]]:
    issues = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        loc = ["body", "entries", str(index), "criterionKey"]
        if entry.criterion_key not in keys:
            msg = f"no criterion {entry.criterion_key!r} in this scorecard's rubric version"
            issues.append({"loc": loc, "msg": msg, "type": "criterion_unknown"})
        elif entry.criterion_key in seen:
            msg = f"criterion {entry.criterion_key!r} is scored twice"
            issues.append({"loc": loc, "msg": msg, "type": "criterion_duplicate"})
        seen.add(entry.criterion_key)
    return issues


def _check_entries(entries: list[ScoreEntry], keys: set[str]) -> None:
    issues = _entries_issues(entries, keys)
    if issues:
        raise UnprocessableError(
            f"The scorecard's entries are invalid: {issues[0]['msg']}.",
            code="SCORECARD_ENTRIES_INVALID",
            errors=issues,
        )


def _check_complete(
    entries: Sequence[ScoreEntry], recommendation: str | None, keys: list[str]
) -> None:
    scored = {entry.criterion_key for entry in entries}
    issues: list[dict[str, Any]] = [
        {"loc": ["body", "entries"], "msg": f"criterion {key!r} is not scored", "type": "missing"}
        for key in keys
        if key not in scored
    ]
    if recommendation is None:
        issues.append(
            {
                "loc": ["body", "recommendation"],
                "msg": "a recommendation is required",
                "type": "missing",
            }
        )
    if issues:
        raise UnprocessableError(
            f"A submitted scorecard scores every criterion and recommends: {issues[0]['msg']}.",
            code="SCORECARD_INCOMPLETE",
            errors=issues,
        )


async def _lock_mine(session: AsyncSession, cs_id: int, reviewer_id: int) -> Scorecard | None:
    statement = (
        select(Scorecard)
        .where(Scorecard.candidate_session_id == cs_id, Scorecard.reviewer_user_id == reviewer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one_or_none()


async def _add_version(session: AsyncSession, scorecard: Scorecard, *, now: datetime) -> None:
    assert scorecard.recommendation is not None  # checked complete before
    session.add(
        ScorecardVersion(
            scorecard_id=scorecard.id,
            version=scorecard.version,
            rubric_version_id=scorecard.rubric_version_id,
            recommendation=scorecard.recommendation,
            entries=scorecard.entries,
            submitted_at=now,
        )
    )
    await session.flush()


async def save_mine(
    session: AsyncSession,
    recruiter: Recruiter,
    cs_id: int,
    body: ScorecardSave,
    *,
    github: GitHubClient | None,
    now: datetime,
) -> ScorecardOut:
    """Save the reader's draft, or edit their submitted scorecard into its next version."""
    cs = (await reviewed_session(session, recruiter, cs_id)).candidate_session
    # Evidence may be read from GitHub: checked before any lock is taken.
    await _verify(session, github, cs.id, body.entries)
    await hold_rubric(session, cs.simulation_id)
    current = await current_rubric(session, cs.simulation_id)
    await session.execute(
        insert(Scorecard)
        .values(
            candidate_session_id=cs.id,
            reviewer_user_id=recruiter.user.id,
            rubric_version_id=current.id,
        )
        .on_conflict_do_nothing(index_elements=["candidate_session_id", "reviewer_user_id"])
    )
    scorecard = await _lock_mine(session, cs.id, recruiter.user.id)
    assert scorecard is not None  # inserted above, or earlier
    entries = body.entries
    if scorecard.status == "draft" and scorecard.rubric_version_id != current.id:
        # Moving to the newest version: scores of criteria it no longer has are dropped.
        old = await session.get(RubricVersion, scorecard.rubric_version_id)
        assert old is not None  # RESTRICT keeps a used version
        gone = {c.key for c in criteria_of(old)} - {c.key for c in criteria_of(current)}
        entries = [entry for entry in entries if entry.criterion_key not in gone]
        scorecard.rubric_version_id = current.id
    version = (
        current
        if scorecard.rubric_version_id == current.id
        else await session.get(RubricVersion, scorecard.rubric_version_id)
    )
    assert version is not None
    keys = [criterion.key for criterion in criteria_of(version)]
    _check_entries(entries, set(keys))
    if scorecard.status == "submitted":
        _check_complete(entries, body.recommendation, keys)
    scorecard.entries = _dump(entries)
    scorecard.recommendation = body.recommendation
    await session.flush()
    if scorecard.status == "submitted":
        scorecard.version += 1
        await _add_version(session, scorecard, now=now)
        await events.record_for_session(
            session,
            cs,
            type="scorecard.revised",
            actor_type="recruiter",
            actor_id=str(recruiter.user.id),
            data={"reviewerUserId": recruiter.user.id, "version": scorecard.version},
            occurred_at=now,
        )
    return await _one_out(session, scorecard)


async def submit_mine(
    session: AsyncSession, recruiter: Recruiter, cs_id: int, *, now: datetime
) -> ScorecardOut:
    """Submit the reader's draft as version 1."""
    cs = (await reviewed_session(session, recruiter, cs_id)).candidate_session
    await reviewers.hold_review_lock(session, cs.id)
    scorecard = await _lock_mine(session, cs.id, recruiter.user.id)
    if scorecard is not None and scorecard.status == "submitted":
        raise ConflictError(
            "Your scorecard is already submitted; save it to make an edit.",
            code="SCORECARD_ALREADY_SUBMITTED",
        )
    if scorecard is None:  # nothing saved yet: incomplete against the current rubric
        current = await current_rubric(session, cs.simulation_id)
        _check_complete([], None, [criterion.key for criterion in criteria_of(current)])
    assert scorecard is not None  # an empty scorecard is never complete
    version = await session.get(RubricVersion, scorecard.rubric_version_id)
    assert version is not None
    entries = [ScoreEntry.model_validate(entry) for entry in scorecard.entries]
    _check_complete(
        entries, scorecard.recommendation, [criterion.key for criterion in criteria_of(version)]
    )
    scorecard.status = "submitted"
    scorecard.version = 1
    scorecard.submitted_at = now
    await session.flush()
    await _add_version(session, scorecard, now=now)
    await events.record_for_session(
        session,
        cs,
        type="scorecard.submitted",
        actor_type="recruiter",
        actor_id=str(recruiter.user.id),
        data={"reviewerUserId": recruiter.user.id, "version": 1},
        occurred_at=now,
    )
    await webhooks.publish(
        session,
        simulation_id=cs.simulation_id,
        event="scorecard.submitted",
        data={
            "scorecardId": scorecard.id,
            "candidateSessionId": cs.id,
            "simulationId": cs.simulation_id,
            "reviewerUserId": recruiter.user.id,
            "recommendation": scorecard.recommendation,
            "version": 1,
            "submittedAt": now,
        },
        occurred_at=now,
    )
    await notifications.reviews_maybe_completed(session, cs.id)
    return await _one_out(session, scorecard)


async def scorecard_versions(
    session: AsyncSession, recruiter: Recruiter, cs_id: int, scorecard_id: int
) -> list[ScorecardVersionOut]:
    """A scorecard's submitted versions, oldest first: the reader's own always, another
    reviewer's only once the reader's is submitted (else it is answered as missing)."""
    cs = (await reviewed_session(session, recruiter, cs_id)).candidate_session
    scorecard = await session.scalar(
        select(Scorecard).where(
            Scorecard.id == scorecard_id, Scorecard.candidate_session_id == cs.id
        )
    )
    visible = scorecard is not None and (
        scorecard.reviewer_user_id == recruiter.user.id
        or (
            scorecard.status == "submitted"
            and await may_see_scores(session, recruiter.user.id, cs.id)
        )
    )
    if scorecard is None or not visible:
        raise NotFoundError("No such scorecard.", code="SCORECARD_NOT_FOUND")
    statement = (
        select(ScorecardVersion, RubricVersion.version)
        .join(RubricVersion, RubricVersion.id == ScorecardVersion.rubric_version_id)
        .where(ScorecardVersion.scorecard_id == scorecard.id)
        .order_by(ScorecardVersion.version)
    )
    return [
        ScorecardVersionOut(
            version=row.version,
            rubric_version=rubric_version,
            recommendation=row.recommendation,
            entries=[ScoreEntry.model_validate(entry) for entry in row.entries],
            submitted_at=row.submitted_at,
        )
        for row, rubric_version in (await session.execute(statement)).all()
    ]
