"""The submissions' job: the background half of a code submission, which compares the base
template commit with the cutoff and stores the diff summary and the integrity findings
(`code_review`) on the submission. Per-key rules (`package.json#scripts`) read the file at
both commits through the contents API."""

from __future__ import annotations

import structlog

from app.core.schemas import ApiModel
from app.integrations.github.client import GitHubClient
from app.integrations.github.errors import GitHubNotFoundError
from app.integrations.github.template_catalog import WORKFLOWS_GLOB, catalog_from
from app.jobs.registry import JobContext, JobType, PermanentJobError
from app.services import Services
from app.submissions import repository
from app.submissions.code_review import ReadFile, diff_summary, integrity_findings
from app.workspaces import service as workspaces

log = structlog.get_logger(__name__)


class SubmissionRef(ApiModel):
    submission_id: int


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


REVIEW_CODE = JobType(
    name="submissions.review_code", payload=SubmissionRef, handler=_review, max_attempts=8
)
