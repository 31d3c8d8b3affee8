"""The submissions' jobs: the background half of a code submission.

- TAG_CUTOFF pins the cutoff with the tag `tenon-submission-<id>` and then queues the final
  test run on it (a workflow dispatch needs a ref). The submit only read the cutoff, so a
  GitHub failure delays the tag instead of failing the submit. Creating the tag again is
  harmless: a tag already at the cutoff is success (an earlier attempt whose answer was
  lost); a tag at another commit is a conflict no retry can fix, recorded as `failed`.
- REVIEW_CODE compares the base template commit with the cutoff and stores the diff summary
  and the integrity findings (`code_review`) on the submission. Per-key rules
  (`package.json#scripts`) read the file at both commits through the contents API.
"""

from __future__ import annotations

import structlog

from app.core.schemas import ApiModel
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubNotFoundError, GitHubValidationFailedError
from app.integrations.github.template_catalog import WORKFLOWS_GLOB, catalog_from
from app.jobs.registry import JobContext, JobType, PermanentJobError
from app.runs import service as runs
from app.runs.workflow import ending_when_given_up
from app.services import Services
from app.simulations.models import Task
from app.submissions import repository
from app.submissions.code_review import ReadFile, diff_summary, integrity_findings
from app.workspaces import service as workspaces

log = structlog.get_logger(__name__)


class SubmissionRef(ApiModel):
    submission_id: int


def cutoff_tag(submission_id: int) -> str:
    return f"tenon-submission-{submission_id}"


class CutoffTagConflictError(PermanentJobError):
    """The submission's tag exists at another commit than its cutoff."""


async def _create_tag_once(github: GitHubClient, full_name: str, tag: str, sha: str) -> None:
    """Create the tag; one already at `sha` counts as created."""
    try:
        await github.create_tag(full_name, tag, sha)
        return
    except GitHubValidationFailedError:
        # 422: the tag exists (or the commit does not: then reading the tag fails too).
        tagged = await github.list_commits(full_name, sha=tag, per_page=1, max_pages=1)
    if not tagged or tagged[0].sha != sha:
        found = tagged[0].sha if tagged else None
        raise CutoffTagConflictError(f"The tag {tag} in {full_name} is at {found}, not at {sha}.")
    log.info("submissions.cutoff_tag_existed", repo=full_name, tag=tag)


async def _tag_cutoff(context: JobContext[Services], ref: SubmissionRef) -> None:
    github = context.services.require_github()
    async with context.database.session_scope() as session:
        submission = await repository.by_id(session, ref.submission_id)
        if submission is None or submission.cutoff_sha is None or submission.workspace_id is None:
            raise PermanentJobError(f"Submission {ref.submission_id} has no cutoff to tag.")
        if submission.cutoff_tag_status != "pending":
            return
        workspace = await workspaces.by_id(session, submission.workspace_id)
        assert workspace is not None  # foreign key
        full_name, sha = workspace.repo_full_name, submission.cutoff_sha
    if full_name is None:
        raise PermanentJobError("The workspace has no repository.")
    tag = cutoff_tag(ref.submission_id)
    await _create_tag_once(github, full_name, tag, sha)
    async with context.database.session_scope() as session:
        submission = await repository.by_id(session, ref.submission_id, for_update=True)
        assert submission is not None
        assert submission.workspace_id is not None
        if submission.cutoff_tag_status != "pending":
            return
        workspace = await workspaces.by_id(session, submission.workspace_id)
        task = await session.get(Task, submission.task_id)
        assert workspace is not None  # foreign key
        assert task is not None  # foreign key
        final_run = await runs.queue_run(session, workspace, task, tag, now=context.clock.now())
        submission.test_run_id = final_run.id
        submission.cutoff_tag_status = "created"
    log.info("submissions.cutoff_tagged", submission_id=ref.submission_id, tag=tag)


async def _tagging_failed(context: JobContext[Services], ref: SubmissionRef, error: str) -> None:
    """No tag, so no final run: the review says so instead of waiting forever."""
    async with context.database.session_scope() as session:
        submission = await repository.by_id(session, ref.submission_id, for_update=True)
        if submission is None or submission.cutoff_tag_status != "pending":
            return
        submission.cutoff_tag_status = "failed"
    log.error("submissions.cutoff_tag_failed", submission_id=ref.submission_id, error=error)


def _protected_paths(context: JobContext[Services], template_repo: str) -> tuple[str, ...]:
    template = catalog_from(context.services.settings.github).for_repository(template_repo)
    return template.protected_paths if template else (WORKFLOWS_GLOB,)


def contents_reader(github: GitHubClient, full_name: str) -> ReadFile:
    async def read(path: str, sha: str) -> str | None:
        try:
            found = await github.get_file(full_name, path, ref=sha)
        except GitHubNotFoundError:
            return None
        try:
            return found.decoded().decode("utf-8", errors="replace")
        except ValueError:
            # Over 1 MB, GitHub sends no content: compared as an unreadable document.
            return ""

    return read


async def _review(context: JobContext[Services], ref: SubmissionRef) -> None:
    github = context.services.require_github()
    async with context.database.session_scope() as session:
        submission = await repository.by_id(session, ref.submission_id)
        if submission is None or submission.workspace_id is None or submission.cutoff_sha is None:
            raise PermanentJobError(f"Submission {ref.submission_id} has no code to review.")
        workspace = await workspaces.by_id(session, submission.workspace_id)
        assert workspace is not None  # foreign key
        full_name, base = workspace.repo_full_name, workspace.base_template_sha
        cutoff, template_repo = submission.cutoff_sha, workspace.template_repo
    if full_name is None or base is None:
        raise PermanentJobError("The workspace has no repository or base commit.")
    comparison = await github.compare(full_name, base, cutoff)
    summary = diff_summary(comparison)
    findings = await integrity_findings(
        comparison.files,
        _protected_paths(context, template_repo),
        read=contents_reader(github, full_name),
        base=base,
        cutoff=cutoff,
    )
    async with context.database.session_scope() as session:
        submission = await repository.by_id(session, ref.submission_id)
        assert submission is not None
        submission.diff_summary = summary.model_dump(mode="json", by_alias=True)
        submission.integrity_findings = [
            finding.model_dump(mode="json", by_alias=True) for finding in findings
        ]
    log.info("submissions.reviewed", submission_id=ref.submission_id, findings=len(findings))


TAG_CUTOFF = JobType(
    name="submissions.tag_cutoff",
    payload=SubmissionRef,
    handler=ending_when_given_up(_tagging_failed, _tag_cutoff),
    # About ten minutes of retries (5 s doubling): GitHub outages are usually shorter.
    max_attempts=8,
)
REVIEW_CODE = JobType(
    name="submissions.review_code", payload=SubmissionRef, handler=_review, max_attempts=8
)
