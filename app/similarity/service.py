"""What other domains ask of similarity: a code submission's fingerprinting, queued in the
submit's own transaction with everything the job needs, so the job never reads the
submissions domain (which sits above this one)."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.settings import SimilaritySettings
from app.jobs.queue import enqueue
from app.similarity import repository
from app.similarity.jobs import FINGERPRINT, FingerprintRef

log = structlog.get_logger(__name__)


async def queue_fingerprints(
    session: AsyncSession,
    settings: SimilaritySettings,
    *,
    submission_id: int,
    simulation_id: int,
    candidate_session_id: int,
    task_id: int,
    template_repo: str,
    repo_full_name: str,
    cutoff_sha: str,
    base_template_sha: str,
) -> None:
    """A pending fingerprint row for the submission's cutoff and the job that fills it in
    and compares it with its group (the simulation's submissions of `template_repo`);
    nothing when similarity is turned off."""
    if not settings.enabled:
        return
    await repository.add_pending(
        session,
        {
            "submission_id": submission_id,
            "simulation_id": simulation_id,
            "candidate_session_id": candidate_session_id,
            "task_id": task_id,
            "template_repo": template_repo,
            "repo_full_name": repo_full_name,
            "cutoff_sha": cutoff_sha,
            "base_template_sha": base_template_sha,
        },
    )
    await enqueue(
        session,
        FINGERPRINT,
        FingerprintRef(submission_id=submission_id),
        dedupe_key=f"fingerprint:{submission_id}",
    )
    log.info("similarity.queued", submission_id=submission_id, simulation_id=simulation_id)
