"""The application, assembled: the runtime services, every job type the workers run, which
domain handles which GitHub webhook event, and what a domain asks of the domains above it
(the candidate-session hooks, the candidate counts of the simulation list). `app.main`
(the API) and `app.commands` (`tenon worker`) build from here; the domains and `app.jobs`
know nothing of each other."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from app.ats import jobs as ats
from app.ats.jobs import SYNC_ORDER, SYNC_SWEEP
from app.candidate_sessions import service as candidate_sessions
from app.candidate_sessions.jobs import SEND_INVITE_EMAIL, expiry_sweep
from app.candidate_sessions.lifecycle import SessionHooks
from app.candidate_sessions.models import CandidateSession
from app.core.clock import Clock
from app.core.metrics import Metrics
from app.core.security import TokenCipher
from app.core.settings import Settings
from app.evaluation import notifications as evaluation_notifications
from app.evaluation.ai_drafts import AI_SCORECARD_DRAFT
from app.evaluation.fit_profile import FIT_PROFILE_SWEEP, GENERATE_FIT_PROFILE
from app.evaluation.notifications import SEND_OWNER_EMAIL
from app.evaluation.redaction import redact_transcript_quotes
from app.evaluation.scenario_drafts import SCENARIO_DRAFT
from app.grading import jobs as grading
from app.grading.jobs import COLLECT_GRADING, GRADE_SUBMISSION, POLL_GRADING
from app.integrations.ai.providers import build_ai_provider
from app.integrations.github.client import build_github_client
from app.integrations.github.template_catalog import catalog_from
from app.integrations.github.webhooks import (
    PROCESS_WEBHOOK_DELIVERY,
    WebhookEvent,
    WebhookHandler,
    log_installation,
)
from app.integrations.transcription.client import build_transcriber
from app.jobs.registry import JobContext, JobRegistry
from app.media.local import LocalMediaStore
from app.media.router import MEDIA_PATH
from app.media.s3 import S3MediaStore
from app.media.store import MediaStore
from app.notifications.email import CountedEmailSender, build_email_sender
from app.recordings.jobs import RETENTION_PURGE as MEDIA_RETENTION_PURGE
from app.recordings.jobs import TRANSCRIBE
from app.runs import jobs as runs
from app.runs.jobs import COLLECT_RUN, DISPATCH_RUN, POLL_RUN
from app.services import Services
from app.similarity.jobs import FINGERPRINT
from app.simulations.candidate_counts import CandidateCounts
from app.submissions.jobs import REVIEW_CODE, TAG_CUTOFF
from app.webhooks.jobs import DELIVER_WEBHOOK
from app.workspaces import service as workspaces
from app.workspaces.jobs import (
    PROVISION_WORKSPACE,
    RETENTION_SWEEP,
    RETIRE_REPOSITORY,
    REVOKE_ACCESS,
    track_push,
)


def build_services(settings: Settings, http: httpx.AsyncClient, metrics: Metrics) -> Services:
    return Services(
        settings=settings,
        http=http,
        email=CountedEmailSender(build_email_sender(settings.email, http), metrics),
        token_cipher=TokenCipher(settings.app.secret_key.get_secret_value()),
        metrics=metrics,
        media=build_media_store(settings),
        github=build_github_client(http, settings.github, metrics),
        ai=build_ai_provider(settings.ai),
        transcriber=build_transcriber(settings.transcription, http),
        webhook_handlers=webhook_handlers(),
        # Quotes of a deleted or purged transcript go with it (SPEC §11.3).
        media_removed=(redact_transcript_quotes,),
    )


def build_media_store(settings: Settings, clock: Clock | None = None) -> MediaStore:
    """S3 when TENON_STORAGE_URL names a bucket; otherwise files under the local folder,
    served through this API's own signed URLs (which expire by `clock`)."""
    storage = settings.storage
    if storage.url is not None:
        return S3MediaStore(storage)
    return LocalMediaStore(
        storage.local_dir or settings.db.data_dir / "media",
        secret_key=settings.app.secret_key.get_secret_value(),
        base_url=f"{settings.app.public_api_url}{settings.app.api_prefix}{MEDIA_PATH}",
        clock=clock,
    )


def session_hooks() -> SessionHooks:
    """A candidate session's repositories follow it: prepared at the invite (when
    configured), push access taken away when it expires, given back when it reopens; its
    simulation's owner hears when it is completed, and so does the ATS that ordered it."""
    return SessionHooks(
        invited=workspaces.prepare_for_invite,
        expired=workspaces.revoke_access_later,
        reopened=workspaces.restore_access,
        completed=candidate_completed,
    )


async def candidate_completed(session: AsyncSession, cs: CandidateSession) -> None:
    await evaluation_notifications.candidate_completed(session, cs)
    await ats.session_completed(session, cs)


def candidate_counts() -> CandidateCounts:
    return candidate_sessions.count_by_simulation


def job_registry() -> JobRegistry[Services]:
    return JobRegistry[Services].of(
        [
            PROCESS_WEBHOOK_DELIVERY,
            SEND_INVITE_EMAIL,
            PROVISION_WORKSPACE,
            DISPATCH_RUN,
            POLL_RUN,
            COLLECT_RUN,
            TAG_CUTOFF,
            REVIEW_CODE,
            GRADE_SUBMISSION,
            POLL_GRADING,
            COLLECT_GRADING,
            REVOKE_ACCESS,
            RETIRE_REPOSITORY,
            AI_SCORECARD_DRAFT,
            SCENARIO_DRAFT,
            SEND_OWNER_EMAIL,
            GENERATE_FIT_PROFILE,
            TRANSCRIBE,
            FINGERPRINT,
            SYNC_ORDER,
            DELIVER_WEBHOOK,
        ],
        periodic=[
            expiry_sweep(session_hooks()),
            RETENTION_SWEEP,
            FIT_PROFILE_SWEEP,
            MEDIA_RETENTION_PURGE,
            SYNC_SWEEP,
        ],
    )


def webhook_handlers() -> dict[str, WebhookHandler]:
    """The GitHub events Tenon processes; any other event is recorded and ignored."""
    return {
        "workflow_run": track_workflow_run,
        "push": track_push,
        "installation": log_installation,
    }


async def track_workflow_run(context: JobContext[Services], event: WebhookEvent) -> None:
    """A workflow run's progress reaches the domain that dispatched it: runs in grader
    repositories are gradings', the rest (candidates' repositories) test runs'."""
    full_name = (event.payload.get("repository") or {}).get("full_name") or ""
    if full_name.lower() in _grader_repos(context.services.settings):
        await grading.track_workflow_run(context, event)
    else:
        await runs.track_workflow_run(context, event)


def _grader_repos(settings: Settings) -> set[str]:
    catalog = catalog_from(settings.github)
    templates = [template for key in catalog.keys if (template := catalog.get(key))]
    return {
        repo.lower()
        for template in templates
        for repo in (template.grader_repo, template.debug_grader_repo)
        if repo
    }
