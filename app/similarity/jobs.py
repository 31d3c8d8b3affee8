"""The similarity job (SPEC §11.4): FINGERPRINT reads a code submission's cutoff tree and its
template's through the tarball endpoint, fingerprints both in a worker thread and takes the
template's code out; then, in one transaction holding its group's lock, stores the result
and compares it with every stored submission of the group by other candidates, keeping the
pairs at or above the threshold.

- The template is the candidate's repository at its base template commit: the tree as it
  was generated, before the candidate's first change.
- Both tarballs go to a scratch folder that is always removed, and are read under caps
  (TENON_SIMILARITY_*). A download over TENON_GITHUB_TARBALL_MAX_BYTES, a tree over a cap or
  holding no source a lexer knows is `skipped`, with the reason.
- GitHub failing is retried with the job's backoff; after the last attempt, or at once for
  what no retry mends (an unknown repository or commit), the row is `failed` with the
  error's code.
- Incremental: the n-th submission of a group costs n - 1 comparisons with stored bytes,
  never a new fingerprinting of the others. The group's advisory lock puts the stores of a
  group in a line, so two submissions finishing together still meet: the later one finds
  the earlier stored. A row no longer pending (an earlier attempt got there) is left alone.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

import structlog

from app.core.schemas import ApiModel
from app.core.settings import SimilaritySettings
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import DownloadTooLargeError, GitHubError
from app.integrations.github.tarball import TarballError, TarballLimits, read_text_files
from app.jobs.registry import JobContext, JobType, PermanentJobError
from app.runs.workflow import ending_when_given_up
from app.services import Services
from app.similarity import repository
from app.similarity.fingerprints import (
    MIN_SHARED,
    MatchedRegion,
    Span,
    TreeFingerprints,
    compare,
    fingerprint_tree,
)
from app.similarity.models import SubmissionFingerprints

log = structlog.get_logger(__name__)

# Why a row is `skipped` (besides TARBALL_TOO_LARGE, the download's own code): the archive
# is damaged or over the entry or text caps; the tree holds no source a lexer knows.
TARBALL_UNREADABLE = "TARBALL_UNREADABLE"
NO_SOURCE_FILES = "NO_SOURCE_FILES"
# Why a row is `failed` when the job gave up on anything but a GitHub error (which leaves
# its own code).
FINGERPRINT_FAILED = "FINGERPRINT_FAILED"


class FingerprintRef(ApiModel):
    submission_id: int


@dataclass(frozen=True)
class _Work:
    """What the job needs of its row, read before GitHub is called."""

    simulation_id: int
    candidate_session_id: int
    template_repo: str
    repo_full_name: str
    cutoff_sha: str
    base_template_sha: str

    @classmethod
    def of(cls, row: SubmissionFingerprints) -> _Work:
        return cls(
            row.simulation_id,
            row.candidate_session_id,
            row.template_repo,
            row.repo_full_name,
            row.cutoff_sha,
            row.base_template_sha,
        )


@dataclass(frozen=True)
class _Fingerprinted:
    tree: TreeFingerprints
    stored: bytes  # `tree.to_bytes()`


async def _fingerprint(context: JobContext[Services], ref: FingerprintRef) -> None:
    github = context.services.require_github()
    settings = context.services.settings.similarity
    async with context.database.session_scope() as session:
        row = await repository.by_submission(session, ref.submission_id)
        if row is None or row.status != "pending":
            return
        work = _Work.of(row)
    try:
        fingerprinted = await _read_and_fingerprint(github, work, _limits(settings))
    except DownloadTooLargeError as exc:
        await _end(context, ref.submission_id, "skipped", exc.code, str(exc))
        return
    except TarballError as exc:
        await _end(context, ref.submission_id, "skipped", TARBALL_UNREADABLE, str(exc))
        return
    except GitHubError as exc:
        if exc.retryable and context.attempt < context.max_attempts:
            raise
        await _end(context, ref.submission_id, "failed", exc.code, str(exc))
        raise PermanentJobError(f"{exc.code}: {exc}") from exc
    if not fingerprinted.tree.files:
        await _end(context, ref.submission_id, "skipped", NO_SOURCE_FILES, "no source files")
        return
    await _store_and_compare(context, ref.submission_id, work, fingerprinted, settings.threshold)


def _limits(settings: SimilaritySettings) -> TarballLimits:
    return TarballLimits(
        max_entries=settings.max_entries,
        max_file_bytes=settings.max_file_bytes,
        max_total_bytes=settings.max_text_bytes,
    )


async def _read_and_fingerprint(
    github: GitHubClient, work: _Work, limits: TarballLimits
) -> _Fingerprinted:
    with tempfile.TemporaryDirectory(prefix="tenon-similarity-") as scratch:
        cutoff, template = Path(scratch) / "cutoff.tar.gz", Path(scratch) / "template.tar.gz"
        await github.download_tarball(work.repo_full_name, work.cutoff_sha, cutoff)
        await github.download_tarball(work.repo_full_name, work.base_template_sha, template)
        return await asyncio.to_thread(_fingerprinted, cutoff, template, limits)


def _fingerprinted(cutoff: Path, template: Path, limits: TarballLimits) -> _Fingerprinted:
    """The cutoff tree's fingerprints, the template's taken out. Blocking: a worker thread."""
    submitted = _tree(cutoff, limits)
    if submitted.files:
        submitted = submitted.without(_tree(template, limits))
    return _Fingerprinted(submitted, submitted.to_bytes())


def _tree(archive: Path, limits: TarballLimits) -> TreeFingerprints:
    return fingerprint_tree((file.path, file.text) for file in read_text_files(archive, limits))


async def _store_and_compare(
    context: JobContext[Services],
    submission_id: int,
    work: _Work,
    fingerprinted: _Fingerprinted,
    threshold: float,
) -> None:
    tree = fingerprinted.tree
    async with context.database.session_scope() as session:
        await repository.hold_group_lock(session, work.simulation_id, work.template_repo)
        row = await repository.by_submission(session, submission_id, for_update=True)
        if row is None or row.status != "pending":
            return
        row.status = "ready"
        row.fingerprints = fingerprinted.stored
        row.fingerprint_count = len(tree)
        row.file_count = len(tree.files)
        row.fingerprinted_at = context.clock.now()
        # A tree that is all template shares nothing with anyone.
        others = (
            await repository.stored_in_group(
                session,
                work.simulation_id,
                work.template_repo,
                besides_session=work.candidate_session_id,
            )
            if len(tree)
            else []
        )
        pairs = await asyncio.to_thread(
            _pairs, work.simulation_id, submission_id, tree, others, threshold
        )
        added = await repository.add_pairs(session, pairs)
    log.info(
        "similarity.fingerprinted",
        submission_id=submission_id,
        files=len(tree.files),
        fingerprints=len(tree),
        compared=len(others),
        pairs=added,
    )


def _pairs(
    simulation_id: int,
    submission_id: int,
    tree: TreeFingerprints,
    others: Sequence[tuple[int, bytes]],
    threshold: float,
) -> list[dict[str, Any]]:
    """The pairs of the submission with each stored one that reach the threshold, as rows.
    Blocking: a worker thread."""
    pairs = []
    for other_id, stored in others:
        try:
            other = TreeFingerprints.from_bytes(stored)
            # `left` is the earlier submission (the lower id).
            if other_id < submission_id:
                left_id, right_id, match = other_id, submission_id, compare(other, tree)
            else:
                left_id, right_id, match = submission_id, other_id, compare(tree, other)
        except ValueError as exc:
            # Damaged, or made with other parameters: this pair cannot be scored.
            log.error("similarity.not_comparable", submission_id=other_id, error=str(exc))
            continue
        if match.score < threshold or match.shared < MIN_SHARED:
            continue
        pairs.append(
            {
                "simulation_id": simulation_id,
                "left_submission_id": left_id,
                "right_submission_id": right_id,
                "score": match.score,
                "left_fraction": match.left_fraction,
                "right_fraction": match.right_fraction,
                "shared_fingerprints": match.shared,
                "regions": [_region(region) for region in match.regions],
            }
        )
    return pairs


def _region(region: MatchedRegion) -> dict[str, Any]:
    return {
        "left": _span(region.left),
        "right": _span(region.right),
        "fingerprints": region.fingerprints,
    }


def _span(span: Span) -> dict[str, Any]:
    return {"file": span.file, "startLine": span.start_line, "endLine": span.end_line}


async def _end(
    context: JobContext[Services],
    submission_id: int,
    status: Literal["skipped", "failed"],
    reason: str,
    detail: str,
) -> None:
    """A pending row ends without fingerprints: `reason` is kept, `detail` goes to the log."""
    async with context.database.session_scope() as session:
        row = await repository.by_submission(session, submission_id, for_update=True)
        if row is None or row.status != "pending":
            return
        row.status = status
        row.skip_reason = reason
    event = "similarity.skipped" if status == "skipped" else "similarity.failed"
    log.warning(event, submission_id=submission_id, reason=reason, detail=detail)


async def _gave_up(context: JobContext[Services], ref: FingerprintRef, error: str) -> None:
    # GitHub's errors ended the row with their own code already; anything else ends it here.
    await _end(context, ref.submission_id, "failed", FINGERPRINT_FAILED, error)


FINGERPRINT = JobType(
    name="similarity.fingerprint",
    payload=FingerprintRef,
    handler=ending_when_given_up(_gave_up, _fingerprint),
    # About an hour of retries (30 s doubling): nobody waits for it, and a GitHub outage is
    # usually shorter.
    max_attempts=8,
    backoff_base=timedelta(seconds=30),
)
