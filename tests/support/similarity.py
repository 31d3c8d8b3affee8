"""Rows of the similarity tables as the fingerprint job leaves them, on top of real
submissions: a fingerprint row per code submission and pairs with their regions, for the
tests of what recruiters see (the job's own tests make them from real trees)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.candidate_sessions.models import CandidateSession
from app.similarity.models import FingerprintStatus, SimilarityPair, SubmissionFingerprints
from app.simulations.models import Task
from app.submissions.models import Submission
from app.workspaces.models import Workspace
from tests.support.factories import DEFAULT_TEMPLATE_REPO, create_submission, create_workspace

FINGERPRINTED_AT = datetime(2026, 12, 2, 16, 1, 30, tzinfo=UTC)


async def create_code_submission(
    session: AsyncSession,
    candidate_session: CandidateSession,
    task: Task,
    *,
    workspace: Workspace | None = None,
) -> Submission:
    """A code submission with its cutoff commit, in `workspace` or a new one."""
    if workspace is None:
        workspace = await create_workspace(session, candidate_session)
        workspace.repo_full_name = f"tenon-workspaces/repo-{candidate_session.id}"
    submission = await create_submission(
        session, candidate_session, task, content_text=None, workspace=workspace
    )
    submission.cutoff_sha = f"{submission.id:040x}"
    await session.flush()
    return submission


async def add_fingerprints(
    session: AsyncSession,
    submission: Submission,
    *,
    status: FingerprintStatus = "ready",
    skip_reason: str | None = None,
) -> SubmissionFingerprints:
    """The submission's fingerprint row; a `ready` one counts files and fingerprints."""
    candidate_session = await session.get_one(CandidateSession, submission.candidate_session_id)
    ready = status == "ready"
    row = SubmissionFingerprints(
        submission_id=submission.id,
        simulation_id=candidate_session.simulation_id,
        candidate_session_id=candidate_session.id,
        task_id=submission.task_id,
        template_repo=DEFAULT_TEMPLATE_REPO,
        repo_full_name=f"tenon-workspaces/repo-{candidate_session.id}",
        cutoff_sha=submission.cutoff_sha or "c" * 40,
        base_template_sha="b" * 40,
        status=status,
        skip_reason=skip_reason,
        fingerprints=b"\x01" if ready else None,
        fingerprint_count=300 if ready else None,
        file_count=12 if ready else None,
        fingerprinted_at=FINGERPRINTED_AT if status != "pending" else None,
    )
    session.add(row)
    await session.flush()
    return row


def region(
    left: tuple[str, int, int], right: tuple[str, int, int], fingerprints: int
) -> dict[str, Any]:
    """A matched region as stored: (file, start line, end line) on each side."""
    return {
        "left": {"file": left[0], "startLine": left[1], "endLine": left[2]},
        "right": {"file": right[0], "startLine": right[1], "endLine": right[2]},
        "fingerprints": fingerprints,
    }


async def add_pair(
    session: AsyncSession,
    left: Submission,
    right: Submission,
    *,
    score: float,
    left_fraction: float | None = None,
    regions: list[dict[str, Any]] | None = None,
) -> SimilarityPair:
    """A pair as stored: `left` is the earlier submission; `score` is the right side's
    fraction, `left_fraction` (at most the score; default, the score) the left's."""
    assert left.id < right.id, "the stored pair's left side is the lower submission id"
    left_fraction = score if left_fraction is None else left_fraction
    assert left_fraction <= score, "the score is the larger fraction"
    candidate_session = await session.get_one(CandidateSession, left.candidate_session_id)
    stored = regions if regions is not None else [region(("a.py", 1, 30), ("b.py", 5, 34), 25)]
    pair = SimilarityPair(
        simulation_id=candidate_session.simulation_id,
        left_submission_id=left.id,
        right_submission_id=right.id,
        score=score,
        left_fraction=left_fraction,
        right_fraction=score,
        shared_fingerprints=sum(r["fingerprints"] for r in stored),
        regions=stored,
    )
    session.add(pair)
    await session.flush()
    return pair
